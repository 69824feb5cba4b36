package storage

import (
	"context"
	"time"
)

// PasswordReset is a « Mot de passe oublié » link sent to a person with
// a local password: only the hex SHA-256 of its random token is stored.
type PasswordReset struct {
	TokenHash string
	PersonID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is when the link was used (it is single-use), nil before.
	UsedAt *time.Time
	// Purpose is ResetPassword ("") or ResetInvitation.
	Purpose string
}

// Purposes of a one-time link.
const (
	ResetPassword   = ""           // « Mot de passe oublié »
	ResetInvitation = "invitation" // an administrator invites a new person
)

// Usable reports whether the link may still be used at now: not used,
// not expired.
func (r PasswordReset) Usable(now time.Time) bool {
	return r.UsedAt == nil && now.Before(r.ExpiresAt)
}

// PasswordResets stores password reset links.
type PasswordResets interface {
	// CreatePasswordReset inserts r, setting CreatedAt if zero;
	// ErrConflict if the hash exists, ErrNotFound if the person does not.
	CreatePasswordReset(ctx context.Context, r *PasswordReset) error
	// GetPasswordReset returns a link, used, expired or not (to show its
	// form without consuming it).
	GetPasswordReset(ctx context.Context, tokenHash string) (PasswordReset, error)
	// ConsumePasswordReset marks the link used at now and returns it, if
	// it is unused and ExpiresAt is after now: of concurrent callers
	// exactly one wins. An unknown, used or expired link is ErrNotFound.
	ConsumePasswordReset(ctx context.Context, tokenHash string, now time.Time) (PasswordReset, error)
	// DeletePersonPasswordResets deletes every link of a person (once one
	// was used, the others must not work) and returns how many.
	DeletePersonPasswordResets(ctx context.Context, personID string) (int, error)
	// DeleteExpiredPasswordResets deletes the links with ExpiresAt
	// strictly before before, used or not, and returns how many.
	DeleteExpiredPasswordResets(ctx context.Context, before time.Time) (int, error)
}
