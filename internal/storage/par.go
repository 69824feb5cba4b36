package storage

import (
	"context"
	"time"
)

// PushedRequest is an authorization request a client pushed to the
// pushed authorization request endpoint (RFC 9126), waiting for the
// browser to bring its request_uri to the authorization endpoint.
type PushedRequest struct {
	// ID is the hex SHA-256 of the random part of the request_uri: the
	// request_uri itself is not stored.
	ID       string
	ClientID string
	// Params are the authorization request parameters, form-encoded
	// (url.Values.Encode), as validated when pushed.
	Params    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ClientRequests stores what clients send ahead of, or along with, their
// requests: pushed authorization requests, and the IDs (jti) of the
// client assertions already used (private_key_jwt, RFC 7523), which are
// single-use.
type ClientRequests interface {
	// CreatePushedRequest inserts r, setting CreatedAt if zero;
	// ErrConflict on a duplicate ID.
	CreatePushedRequest(ctx context.Context, r *PushedRequest) error
	// ConsumePushedRequest deletes and returns the pushed request id of
	// clientID, atomically: of concurrent callers exactly one gets it. An
	// unknown ID, one already consumed, or one pushed by another client
	// is ErrNotFound (and another client's request stays in place).
	// Expiry is the caller's check.
	ConsumePushedRequest(ctx context.Context, id, clientID string) (PushedRequest, error)
	// UseClientAssertion records that clientID used the assertion jti,
	// which stays acceptable until expiresAt. It returns an error wrapping
	// ErrAlreadyUsed if the pair is recorded with an expiresAt after now
	// (a replay); a record expired at now is replaced. Of concurrent
	// callers with the same pair, exactly one succeeds.
	UseClientAssertion(ctx context.Context, clientID, jti string, expiresAt, now time.Time) error
	// DeleteExpiredClientRequests deletes the pushed requests and the
	// assertion records with ExpiresAt strictly before before, and
	// returns how many.
	DeleteExpiredClientRequests(ctx context.Context, before time.Time) (int, error)
}
