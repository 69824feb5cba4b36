package storage

import (
	"context"
	"time"
)

// ThrottleState is the failure counter of one throttle key (an account,
// an address, an account's device), as internal/throttle hashes it.
type ThrottleState struct {
	Key string
	// Failures counts the failures since WindowStart.
	Failures int
	// WindowStart is the first failure of the current window;
	// LastFailure the latest failure.
	WindowStart, LastFailure time.Time
	// NextAt is when the next attempt is allowed: LastFailure plus the
	// delay the caller's schedule gives for Failures.
	NextAt time.Time
}

// Refuses reports whether the state refuses an attempt at now to a
// schedule whose first free failures cost nothing: NextAt is after now,
// and at least free failures are counted. (With fewer, NextAt is after
// now only when another instance's clock runs ahead.)
func (s ThrottleState) Refuses(now time.Time, free int) bool {
	return s.NextAt.After(now) && s.Failures >= free
}

// ThrottleLimit is the schedule ReserveThrottles applies to one key.
type ThrottleLimit struct {
	Key string
	// Window is how long a count lasts from its first failure (see
	// RecordThrottleFailure).
	Window time.Duration
	// Free is how many failures are counted before an attempt may be
	// refused (see ThrottleState.Refuses).
	Free int
	// Delay gives NextAt: LastFailure + Delay(Failures). It must not be
	// nil.
	Delay func(failures int) time.Duration
}

// Throttles stores brute-force counters and known devices, shared by
// every instance through the database. Keys, accounts and devices are
// opaque strings: the caller hashes what attackers type.
type Throttles interface {
	// ReserveThrottles decides whether an attempt at now may go ahead
	// on every key of limits and, if it may, counts it right away as a
	// failure of each key, as RecordThrottleFailure does: the caller
	// takes the failure back if the attempt succeeds (ResetThrottle,
	// RefundThrottle). It is all or nothing: a key refuses when its
	// state as it was before the call refuses now (Refuses, with the
	// key's Free); if one refuses, none is counted and allowed is false.
	// states has one entry per limit, in the order of limits: the new
	// state if allowed, else the state as it is (Failures 0 and zero
	// times for a key without one).
	//
	// It is atomic and serializes concurrent callers on a key, on any
	// instance: of attempts made together, exactly as many go ahead as
	// if they had been made one after the other. (It locks the keys in
	// their sort order, so that callers holding several keys never
	// wait for each other in a circle.) Keys must be distinct and not
	// empty.
	ReserveThrottles(ctx context.Context, now time.Time, limits []ThrottleLimit) (allowed bool, states []ThrottleState, err error)
	// RecordThrottleFailure counts one failure of key at now and returns
	// the key's new state. The count starts again at 1 when the window
	// (which starts at the first failure and lasts window) has ended and
	// NextAt has passed, so that a wait overlapping the window's end is
	// never cut short. NextAt is set to LastFailure + delay(Failures).
	// LastFailure never moves backwards (instances with skewed clocks).
	//
	// It is atomic: of concurrent callers, on any instance, none loses
	// an increment, and each gets a distinct Failures.
	RecordThrottleFailure(ctx context.Context, key string, now time.Time, window time.Duration, delay func(failures int) time.Duration) (ThrottleState, error)
	// RefundThrottle takes back one failure of key, counted for an
	// attempt that turned out to succeed: Failures decreases by one
	// (the state is deleted when none is left) and NextAt becomes
	// LastFailure + delay(Failures); the window and LastFailure stay.
	// An unknown key is not an error. It is atomic like
	// RecordThrottleFailure.
	RefundThrottle(ctx context.Context, key string, delay func(failures int) time.Duration) error
	// ThrottleStates returns the states of keys, sorted by key; keys
	// without a state are absent.
	ThrottleStates(ctx context.Context, keys []string) ([]ThrottleState, error)
	// ResetThrottle deletes key's state; an unknown key is not an error.
	ResetThrottle(ctx context.Context, key string) error
	// DeleteThrottlesBefore deletes the states whose window ended and
	// whose NextAt passed strictly before t, and the known devices that
	// expired strictly before t; it returns how many rows it deleted.
	// On PostgreSQL it may deadlock with a concurrent ReserveThrottles
	// holding several of those keys (its rows are locked in no
	// particular order); the server then aborts one of the two, which
	// returns an error and may simply be tried again.
	DeleteThrottlesBefore(ctx context.Context, t time.Time) (int64, error)

	// RememberDevice records that account signed in from device, which
	// stays known until until (replacing an earlier record of the pair).
	RememberDevice(ctx context.Context, account, deviceHash string, until time.Time) error
	// DeviceKnown reports whether device is known for account at now
	// (remembered with an until after now).
	DeviceKnown(ctx context.Context, account, deviceHash string, now time.Time) (bool, error)
}
