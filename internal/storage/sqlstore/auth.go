package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const codeColumns = `hash, client_id, person_id, membership_id, session_id, redirect_uri, scope, nonce,
	code_challenge, code_challenge_method, claims, auth_time, amr, acr, created_at, expires_at, used_at`

func scanCode(r rowScanner) (storage.AuthCode, error) {
	var c storage.AuthCode
	err := r.Scan(&c.Hash, &c.ClientID, &c.PersonID, &c.MembershipID, &c.SessionID, &c.RedirectURI,
		&c.Scope, &c.Nonce, &c.CodeChallenge, &c.CodeChallengeMethod, &c.Claims, ts(&c.AuthTime),
		lst(&c.AMR), &c.ACR, ts(&c.CreatedAt), ts(&c.ExpiresAt), nts(&c.UsedAt))
	return c, err
}

// CreateAuthCode inserts c, setting CreatedAt if zero; ErrConflict on a
// duplicate hash.
func (s *Store) CreateAuthCode(ctx context.Context, c *storage.AuthCode) error {
	const op = "create auth code"
	if c.Hash == "" {
		return fmt.Errorf("%s: empty hash", op)
	}
	v := *c
	v.CreatedAt = norm(s.orNow(v.CreatedAt))
	v.AuthTime, v.ExpiresAt, v.UsedAt = norm(v.AuthTime), norm(v.ExpiresAt), normp(v.UsedAt)
	_, err := s.exec(ctx, op,
		`INSERT INTO auth_codes (`+codeColumns+`)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		v.Hash, v.ClientID, v.PersonID, v.MembershipID, v.SessionID, v.RedirectURI, v.Scope, v.Nonce,
		v.CodeChallenge, v.CodeChallengeMethod, v.Claims, micros(v.AuthTime), list(v.AMR), v.ACR,
		micros(v.CreatedAt), micros(v.ExpiresAt), nullMicros(v.UsedAt))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ConsumeAuthCode marks a code used at now, in one conditional UPDATE: of
// concurrent callers, exactly one wins. The others get the code (with the
// winner's UsedAt) and an error wrapping ErrAlreadyUsed.
func (s *Store) ConsumeAuthCode(ctx context.Context, hash string, now time.Time) (storage.AuthCode, error) {
	const op = "consume auth code"
	var c storage.AuthCode
	err := s.write(ctx, func() error {
		var err error
		c, err = scanCode(s.q.QueryRowContext(ctx,
			`UPDATE auth_codes SET used_at = $2 WHERE hash = $1 AND used_at IS NULL
			 RETURNING `+codeColumns, hash, micros(now)))
		return err
	})
	if err == nil {
		return c, nil
	}
	if err = s.wrap(op, err); !errors.Is(err, storage.ErrNotFound) {
		return storage.AuthCode{}, err
	}
	c, err = queryOne(ctx, s, op, scanCode, `SELECT `+codeColumns+` FROM auth_codes WHERE hash = $1`, hash)
	if err != nil {
		return storage.AuthCode{}, err
	}
	return c, fmt.Errorf("%s: %w", op, storage.ErrAlreadyUsed)
}

// DeleteExpiredAuthCodes deletes the codes with ExpiresAt strictly before
// before, and returns how many.
func (s *Store) DeleteExpiredAuthCodes(ctx context.Context, before time.Time) (int, error) {
	return s.exec(ctx, "delete expired auth codes",
		`DELETE FROM auth_codes WHERE expires_at < $1`, micros(before))
}

// MarkAuthCodeReplayed sets replayed_at once (the first replay's time).
func (s *Store) MarkAuthCodeReplayed(ctx context.Context, hash string, at time.Time) error {
	n, err := s.exec(ctx, "mark auth code replayed",
		`UPDATE auth_codes SET replayed_at = COALESCE(replayed_at, $2) WHERE hash = $1`, hash, micros(at))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("mark auth code replayed: %w", storage.ErrNotFound)
	}
	return nil
}

// AuthCodeReplayed reports whether the code was presented again after use.
func (s *Store) AuthCodeReplayed(ctx context.Context, hash string) (bool, error) {
	return queryOne(ctx, s, "auth code replayed", func(r rowScanner) (bool, error) {
		var at sql.NullInt64
		err := r.Scan(&at)
		return at.Valid, err
	}, `SELECT replayed_at FROM auth_codes WHERE hash = $1`, hash)
}
