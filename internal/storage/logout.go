package storage

import (
	"context"
	"time"
)

// SessionClient records that a single sign-on session signed into an
// application (OpenID Connect Front-Channel and Back-Channel Logout): one
// row per session and client, written each time a code is issued.
type SessionClient struct {
	SessionID string
	ClientID  string
	SID       string // the "sid" claim of the ID tokens issued in this session
	Subject   string // the "sub" claim those ID tokens carry for this client
	FirstAt   time.Time
	LastAt    time.Time
}

// SessionClients stores which applications each session signed into.
// Rows go when their session is deleted.
type SessionClients interface {
	// RecordSessionClient inserts c or, if the session already signed into
	// the client, updates SID, Subject and LastAt (which never goes back).
	// It writes the stored FirstAt and LastAt back into c. ErrNotFound if
	// the session does not exist.
	RecordSessionClient(ctx context.Context, c *SessionClient) error
	// ListSessionClients returns the session's clients, by FirstAt.
	ListSessionClients(ctx context.Context, sessionID string) ([]SessionClient, error)
	// TakeSessionClients deletes and returns the session's clients, by
	// FirstAt, atomically: of concurrent callers, each row goes to one
	// only, so that an application is notified of a logout once.
	TakeSessionClients(ctx context.Context, sessionID string) ([]SessionClient, error)
}

// LogoutDelivery is a back-channel logout token waiting to be, or already,
// POSTed to an application's backchannel_logout_uri: a durable queue, so
// that deliveries survive a restart and any instance may send them.
type LogoutDelivery struct {
	ID       string
	ClientID string
	URI      string // the application's backchannel_logout_uri
	// Token is the signed logout token minted when the session ended; the
	// sender mints a fresh one (same sub and sid) once it is too old.
	Token   string
	Subject string
	SID     string
	// Attempts counts the claims (delivery attempts started).
	Attempts      int
	NextAttemptAt time.Time
	// ClaimedUntil is the lease of the sender that claimed the delivery;
	// zero when unclaimed.
	ClaimedUntil time.Time
	CreatedAt    time.Time
	DeliveredAt  *time.Time
	FailedAt     *time.Time // given up
	LastError    string
}

// LogoutDeliveries is the back-channel logout queue.
type LogoutDeliveries interface {
	// EnqueueLogoutDelivery inserts d, setting ID if empty, CreatedAt if
	// zero and NextAttemptAt (if zero) to CreatedAt.
	EnqueueLogoutDelivery(ctx context.Context, d *LogoutDelivery) error
	// ClaimLogoutDeliveries claims up to limit deliveries due at now
	// (pending, NextAttemptAt <= now, lease expired) until leaseUntil,
	// counts an attempt for each and returns them by NextAttemptAt. Of
	// concurrent callers (on any instance), each delivery goes to one.
	ClaimLogoutDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]LogoutDelivery, error)
	// CompleteLogoutDelivery marks a delivery delivered at at (keeping the
	// first time) and releases its lease.
	CompleteLogoutDelivery(ctx context.Context, id string, at time.Time) error
	// RetryLogoutDelivery schedules a pending delivery's next attempt,
	// records the error and releases the lease; ErrNotFound if it is not
	// pending (unknown, delivered or given up).
	RetryLogoutDelivery(ctx context.Context, id string, next time.Time, lastError string) error
	// FailLogoutDelivery gives a pending delivery up at at; ErrNotFound
	// if it is not pending.
	FailLogoutDelivery(ctx context.Context, id string, at time.Time, lastError string) error
	GetLogoutDelivery(ctx context.Context, id string) (LogoutDelivery, error)
	// ListLogoutDeliveries returns a client's deliveries, oldest first.
	ListLogoutDeliveries(ctx context.Context, clientID string) ([]LogoutDelivery, error)
	// DeleteFinishedLogoutDeliveries deletes the deliveries delivered or
	// given up strictly before before, and returns how many.
	DeleteFinishedLogoutDeliveries(ctx context.Context, before time.Time) (int, error)
}

// Logout is what single logout stores: the applications each session
// signed into and the back-channel delivery queue.
type Logout interface {
	SessionClients
	LogoutDeliveries
}
