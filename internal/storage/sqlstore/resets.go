package sqlstore

import (
	"context"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const resetColumns = `token_hash, person_id, created_at, expires_at, used_at, purpose`

func scanReset(r rowScanner) (storage.PasswordReset, error) {
	var v storage.PasswordReset
	err := r.Scan(&v.TokenHash, &v.PersonID, ts(&v.CreatedAt), ts(&v.ExpiresAt), nts(&v.UsedAt), &v.Purpose)
	return v, err
}

// CreatePasswordReset inserts a reset link, setting CreatedAt if zero.
func (s *Store) CreatePasswordReset(ctx context.Context, r *storage.PasswordReset) error {
	v := *r
	v.CreatedAt = norm(s.orNow(v.CreatedAt))
	v.ExpiresAt = norm(v.ExpiresAt)
	v.UsedAt = normp(v.UsedAt)
	_, err := s.exec(ctx, "create password reset",
		`INSERT INTO password_resets (`+resetColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		v.TokenHash, v.PersonID, micros(v.CreatedAt), micros(v.ExpiresAt), nullMicros(v.UsedAt), v.Purpose)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// GetPasswordReset returns a reset link, used, expired or not.
func (s *Store) GetPasswordReset(ctx context.Context, tokenHash string) (storage.PasswordReset, error) {
	return queryOne(ctx, s, "get password reset", scanReset,
		`SELECT `+resetColumns+` FROM password_resets WHERE token_hash = $1`, tokenHash)
}

// ConsumePasswordReset marks a live link used, in one conditional
// UPDATE: of concurrent callers, exactly one gets the row.
func (s *Store) ConsumePasswordReset(ctx context.Context, tokenHash string, now time.Time) (storage.PasswordReset, error) {
	var r storage.PasswordReset
	err := s.write(ctx, func() error {
		var err error
		r, err = scanReset(s.q.QueryRowContext(ctx,
			`UPDATE password_resets SET used_at = $2
			 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
			 RETURNING `+resetColumns, tokenHash, micros(norm(now))))
		return err
	})
	if err != nil {
		return storage.PasswordReset{}, s.wrap("consume password reset", err)
	}
	return r, nil
}

// DeletePersonPasswordResets deletes every reset link of a person.
func (s *Store) DeletePersonPasswordResets(ctx context.Context, personID string) (int, error) {
	return s.exec(ctx, "delete person password resets",
		`DELETE FROM password_resets WHERE person_id = $1`, personID)
}

// DeleteExpiredPasswordResets deletes the links that expired before
// before.
func (s *Store) DeleteExpiredPasswordResets(ctx context.Context, before time.Time) (int, error) {
	return s.exec(ctx, "delete expired password resets",
		`DELETE FROM password_resets WHERE expires_at < $1`, micros(before))
}
