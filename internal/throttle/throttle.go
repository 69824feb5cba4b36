// Package throttle slows down password guessing, across every TNO
// instance, through counters kept in the database (storage.Throttles).
// It is protocol-neutral: a sign-in step asks Reserve before it verifies
// a secret, and calls Succeeded if the secret was right.
//
// Three kinds of key count failures, each with its Policy: the client
// address (an IPv6 /64), which always applies and stops one address from
// trying many accounts (credential stuffing); the account, which stops
// many addresses from trying one account; and the account from one
// browser that signed in to it before (OWASP's "device cookie"), whose
// limit replaces the account's there, so that an attack on an account
// never locks its owner out of a browser they used. Keys are hashed (see
// Key).
//
// Reserve counts first: it decides and counts the attempt as a failure
// in one atomic storage operation over its keys (storage.ReserveThrottles),
// so that attempts started together take turns on each key and, of any
// number of them, exactly as many go ahead as if they had been made one
// after the other. Succeeded then takes the count back. Check (a
// read-only preview, to show a wait without counting anything) and
// Failed (counting afterwards) remain, but they are not a sign-in flow:
// attempts that start together all pass Check before Failed counts any
// of them.
//
// It may import internal/storage only.
package throttle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// Reasons for a refusal, in Decision.Reason.
const (
	ReasonAccount = "account"
	ReasonAddress = "address"
	ReasonDevice  = "device"
)

// An Attempt describes one try at a secret. Empty fields are not
// counted: an Attempt without Account (the identifier is not known yet)
// is limited by its address only.
type Attempt struct {
	// Account is the identifier typed, as is (Account normalizes it).
	Account string
	// Address is the client's IP address.
	Address string
	// DeviceHash identifies the browser: a hash of its device cookie, a
	// random value the browser keeps. The Limiter hashes it again.
	DeviceHash string
	// KnownDevice says the caller has itself established that the
	// browser signed in to Account before (for example from a device
	// cookie whose signature it checked), sparing the Limiter's lookup.
	// Leave it false otherwise: the Limiter then asks the store whether
	// DeviceHash is known for Account. It needs DeviceHash.
	KnownDevice bool
}

// A Decision is the answer of Reserve and Check.
type Decision struct {
	Allowed bool
	// Wait is how long until the attempt would be allowed; 0 if allowed.
	Wait time.Duration
	// Reason names the key with the longest wait (ReasonAccount,
	// ReasonAddress, ReasonDevice); empty if allowed.
	Reason string
}

// A Limiter applies the policies on top of a store. Its fields may be
// changed before its first use.
type Limiter struct {
	// AccountPolicy limits an account from browsers it does not know,
	// AddressPolicy a client address, DevicePolicy an account from one
	// of its known browsers.
	AccountPolicy, AddressPolicy, DevicePolicy Policy

	store storage.Throttles
	now   func() time.Time
}

// New returns a Limiter with the default policies. now is its clock (nil
// is time.Now).
func New(store storage.Throttles, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{
		AccountPolicy: DefaultAccountPolicy(),
		AddressPolicy: DefaultAddressPolicy(),
		DevicePolicy:  DefaultDevicePolicy(),
		store:         store,
		now:           now,
	}
}

// knownFor is the account column of storage's known devices: the
// account's hashed key.
func knownFor(account string) string { return string(Account(account)) }

// A limit is a key that decides on an attempt, with its policy and the
// reason it refuses for.
type limit struct {
	key    string
	policy Policy
	reason string
}

// limits returns the keys that decide on a: the address's, always; then,
// if a names an account, the device's when the browser is a known device
// of the account, else the account's.
func (l *Limiter) limits(ctx context.Context, a Attempt, now time.Time) ([]limit, error) {
	var ls []limit
	if a.Address != "" {
		ls = append(ls, limit{string(Address(a.Address)), l.AddressPolicy, ReasonAddress})
	}
	if a.Account != "" {
		known, err := l.known(ctx, a, now)
		if err != nil {
			return nil, err
		}
		if known {
			ls = append(ls, limit{string(Device(a.Account, a.DeviceHash)), l.DevicePolicy, ReasonDevice})
		} else {
			ls = append(ls, limit{string(Account(a.Account)), l.AccountPolicy, ReasonAccount})
		}
	}
	return ls, nil
}

// decide is the Decision of the states of ls at now: refused, if any
// state refuses (storage.ThrottleState.Refuses), for the longest wait.
func decide(now time.Time, ls []limit, states []storage.ThrottleState) Decision {
	byKey := make(map[string]storage.ThrottleState, len(states))
	for _, s := range states {
		byKey[s.Key] = s
	}
	d := Decision{Allowed: true}
	for _, lim := range ls {
		s, ok := byKey[lim.key]
		if !ok || !s.Refuses(now, lim.policy.Free) {
			continue
		}
		if wait := s.NextAt.Sub(now); wait > d.Wait {
			d = Decision{Wait: wait, Reason: lim.reason}
		}
	}
	return d
}

// clock returns the Limiter's time at the microsecond the store keeps,
// so that its decisions and the store's agree.
func (l *Limiter) clock() time.Time { return l.now().UTC().Truncate(time.Microsecond) }

// Reserve decides whether attempt a may go ahead now and, if it may,
// counts it right away as a failure, before the secret is verified. The
// keys are those of Check: the address's always; the account's, or the
// device's instead when the browser is a known device of the account.
// Each key decides from its state before this attempt: it refuses while
// its wait runs (once its Policy's free failures are spent). Deciding
// and counting are one atomic operation over all the keys: concurrent
// attempts, on any instance, take turns, and a refused attempt is
// counted against none of its keys. A refused Decision gives the longest
// wait and its key, as Check does.
//
// Sign-in code uses Reserve and, if the secret was right, Succeeded; a
// wrong secret needs no further call (Failed would count it twice).
func (l *Limiter) Reserve(ctx context.Context, a Attempt) (Decision, error) {
	now := l.clock()
	ls, err := l.limits(ctx, a, now)
	if err != nil || len(ls) == 0 {
		return Decision{Allowed: err == nil}, err
	}
	reqs := make([]storage.ThrottleLimit, len(ls))
	for i, lim := range ls {
		reqs[i] = storage.ThrottleLimit{Key: lim.key, Window: lim.policy.Window, Free: lim.policy.Free, Delay: lim.policy.Delay}
	}
	allowed, states, err := l.store.ReserveThrottles(ctx, now, reqs)
	if err != nil {
		return Decision{}, fmt.Errorf("throttle: reserve: %w", err)
	}
	if allowed {
		return Decision{Allowed: true}, nil
	}
	d := decide(now, ls, states)
	if d.Allowed { // the store refused on a rule that is not decide's
		return Decision{}, errors.New("throttle: reserve: refused without a refusing key")
	}
	return d, nil
}

// Check says whether attempt a would go ahead now, without counting it:
// a preview (to show a wait, say) that concurrent attempts all pass
// together. Sign-in code uses Reserve. The address's limit always
// applies; the account's too, unless the browser is a known device of
// the account, where the device's limit applies instead.
func (l *Limiter) Check(ctx context.Context, a Attempt) (Decision, error) {
	now := l.clock()
	ls, err := l.limits(ctx, a, now)
	if err != nil {
		return Decision{}, err
	}
	keys := make([]string, len(ls))
	for i, lim := range ls {
		keys[i] = lim.key
	}
	states, err := l.store.ThrottleStates(ctx, keys)
	if err != nil {
		return Decision{}, fmt.Errorf("throttle: check: %w", err)
	}
	return decide(now, ls, states), nil
}

// known reports whether a comes from a known device of its account.
func (l *Limiter) known(ctx context.Context, a Attempt, now time.Time) (bool, error) {
	if a.DeviceHash == "" {
		return false, nil
	}
	if a.KnownDevice {
		return true, nil
	}
	known, err := l.store.DeviceKnown(ctx, knownFor(a.Account), string(Device(a.Account, a.DeviceHash)), now)
	if err != nil {
		return false, fmt.Errorf("throttle: check device: %w", err)
	}
	return known, nil
}

// Failed counts a failed attempt against its address, its account, and
// its device when DeviceHash is set (known or not). It goes with Check,
// not with Reserve, which has counted the attempt already.
func (l *Limiter) Failed(ctx context.Context, a Attempt) error {
	now := l.now()
	var errs []error
	record := func(k Key, p Policy) {
		if _, err := l.store.RecordThrottleFailure(ctx, string(k), now, p.Window, p.Delay); err != nil {
			errs = append(errs, err)
		}
	}
	// One key at a time, each in its own transaction: concurrent
	// attempts never hold one key while waiting for another.
	if a.Address != "" {
		record(Address(a.Address), l.AddressPolicy)
	}
	if a.Account != "" {
		record(Account(a.Account), l.AccountPolicy)
		if a.DeviceHash != "" {
			record(Device(a.Account, a.DeviceHash), l.DevicePolicy)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("throttle: record failure: %w", err)
	}
	return nil
}

// Succeeded ends a sign-in attempt that Reserve allowed and whose secret
// was right. It takes the attempt back from the address's count (one
// failure less: one success from an address trying many accounts does
// not clear it), then ends the count of the key the attempt went through:
// the device's, when the browser is a known device of the account (the
// account's count stays, so that the owner signing in during an attack
// does not give the attacker fresh free guesses), else the account's
// (and the device's, if DeviceHash is set). If DeviceHash is set and
// rememberFor positive, it then makes the browser a known device of the
// account for rememberFor.
//
// After Check and not Reserve, the address has no reservation to take
// back: Succeeded then takes back a real failure.
func (l *Limiter) Succeeded(ctx context.Context, a Attempt, rememberFor time.Duration) error {
	if a.Address != "" {
		if err := l.store.RefundThrottle(ctx, string(Address(a.Address)), l.AddressPolicy.Delay); err != nil {
			return fmt.Errorf("throttle: refund address: %w", err)
		}
	}
	if a.Account == "" {
		return nil
	}
	now := l.clock()
	known, err := l.known(ctx, a, now)
	if err != nil {
		return err
	}
	if !known {
		if err := l.store.ResetThrottle(ctx, string(Account(a.Account))); err != nil {
			return fmt.Errorf("throttle: reset account: %w", err)
		}
	}
	if a.DeviceHash == "" {
		return nil
	}
	device := string(Device(a.Account, a.DeviceHash))
	if err := l.store.ResetThrottle(ctx, device); err != nil {
		return fmt.Errorf("throttle: reset device: %w", err)
	}
	if rememberFor > 0 {
		if err := l.store.RememberDevice(ctx, knownFor(a.Account), device, now.Add(rememberFor)); err != nil {
			return fmt.Errorf("throttle: remember device: %w", err)
		}
	}
	return nil
}
