package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const tokenColumns = `hash, kind, client_id, person_id, membership_id, session_id, scope, code_hash,
	family_id, auth_time, amr, acr, claims, created_at, expires_at, revoked_at, used_at`

func scanToken(r rowScanner) (storage.Token, error) {
	var t storage.Token
	err := r.Scan(&t.Hash, &t.Kind, &t.ClientID, &t.PersonID, &t.MembershipID, &t.SessionID, &t.Scope,
		&t.CodeHash, &t.FamilyID, ts(&t.AuthTime), lst(&t.AMR), &t.ACR, &t.Claims, ts(&t.CreatedAt), ts(&t.ExpiresAt),
		nts(&t.RevokedAt), nts(&t.UsedAt))
	return t, err
}

// CreateToken inserts t, setting CreatedAt if zero; ErrConflict on a
// duplicate hash.
func (s *Store) CreateToken(ctx context.Context, t *storage.Token) error {
	const op = "create token"
	if t.Hash == "" {
		return fmt.Errorf("%s: empty hash", op)
	}
	v := *t
	v.CreatedAt = norm(s.orNow(v.CreatedAt))
	v.AuthTime, v.ExpiresAt = norm(v.AuthTime), norm(v.ExpiresAt)
	v.RevokedAt, v.UsedAt = normp(v.RevokedAt), normp(v.UsedAt)
	_, err := s.exec(ctx, op,
		`INSERT INTO tokens (`+tokenColumns+`)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		v.Hash, v.Kind, v.ClientID, v.PersonID, v.MembershipID, v.SessionID, v.Scope,
		v.CodeHash, v.FamilyID, micros(v.AuthTime), list(v.AMR), v.ACR, v.Claims, micros(v.CreatedAt), micros(v.ExpiresAt),
		nullMicros(v.RevokedAt), nullMicros(v.UsedAt))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// GetToken returns a token, revoked, used and expired ones included: the
// caller checks RevokedAt, UsedAt and ExpiresAt.
func (s *Store) GetToken(ctx context.Context, hash string) (storage.Token, error) {
	return queryOne(ctx, s, "get token", scanToken,
		`SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash)
}

// RevokeToken revokes a token at at; revoking it again keeps the first
// RevokedAt.
func (s *Store) RevokeToken(ctx context.Context, hash string, at time.Time) error {
	return s.execOne(ctx, "revoke token",
		`UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE hash = $1`, hash, micros(at))
}

// RevokeTokensByCode revokes the tokens issued from an authorization code,
// and the tokens of the families they belong to (refresh tokens rotated
// since, and the access tokens issued with them), not yet revoked, and
// returns how many. An empty codeHash (tokens not issued from a code)
// revokes nothing.
func (s *Store) RevokeTokensByCode(ctx context.Context, codeHash string, at time.Time) (int, error) {
	if codeHash == "" {
		return 0, nil
	}
	return s.revokeAll(ctx, "revoke tokens by code",
		`UPDATE tokens SET revoked_at = $2
		 WHERE revoked_at IS NULL
		   AND (code_hash = $1
		        OR family_id IN (SELECT family_id FROM tokens
		                         WHERE code_hash = $1 AND family_id <> ''))`,
		codeHash, micros(at))
}

// UseRefreshToken marks a refresh token used at now, in one conditional
// UPDATE: of concurrent callers, exactly one wins. The others get the
// token (with the winner's UsedAt) and an error wrapping ErrAlreadyUsed.
// A revoked token is never marked: on PostgreSQL the UPDATE waits for a
// concurrent revocation holding the row and then finds it revoked.
func (s *Store) UseRefreshToken(ctx context.Context, hash string, now time.Time) (storage.Token, error) {
	const op = "use refresh token"
	var t storage.Token
	err := s.write(ctx, func() error {
		var err error
		t, err = scanToken(s.q.QueryRowContext(ctx,
			`UPDATE tokens SET used_at = $3
			 WHERE hash = $1 AND kind = $2 AND used_at IS NULL AND revoked_at IS NULL
			 RETURNING `+tokenColumns, hash, storage.TokenRefresh, micros(now)))
		return err
	})
	if err == nil {
		return t, nil
	}
	if err = s.wrap(op, err); !errors.Is(err, storage.ErrNotFound) {
		return storage.Token{}, err
	}
	t, err = queryOne(ctx, s, op, scanToken,
		`SELECT `+tokenColumns+` FROM tokens WHERE hash = $1 AND kind = $2`, hash, storage.TokenRefresh)
	if err != nil {
		return storage.Token{}, err
	}
	if t.UsedAt == nil { // revoked, never used
		return storage.Token{}, fmt.Errorf("%s: revoked: %w", op, storage.ErrNotFound)
	}
	return t, fmt.Errorf("%s: %w", op, storage.ErrAlreadyUsed)
}

// RotateRefreshToken spends a refresh token and stores the tokens issued
// in exchange, in one transaction. On PostgreSQL the spent token's row
// stays locked until the new tokens are committed, so that a family
// revocation reaching that row waits for them (and its next pass revokes
// them); on SQLite writers take turns anyway.
func (s *Store) RotateRefreshToken(ctx context.Context, hash string, now time.Time, next ...*storage.Token) (storage.Token, error) {
	var used storage.Token
	err := s.atomic(ctx, func(tx *Store) error {
		var err error
		if used, err = tx.UseRefreshToken(ctx, hash, now); err != nil {
			return err
		}
		for _, t := range next {
			if err := tx.CreateToken(ctx, t); err != nil {
				return err
			}
		}
		return nil
	})
	return used, err
}

// RevokeSessionTokens revokes the session's tokens not yet revoked, but
// for the families whose scope includes offline_access. An empty sessionID
// revokes nothing.
func (s *Store) RevokeSessionTokens(ctx context.Context, sessionID string, at time.Time) (int, error) {
	if sessionID == "" {
		return 0, nil
	}
	return s.revokeAll(ctx, "revoke session tokens",
		`UPDATE tokens SET revoked_at = $2
		 WHERE revoked_at IS NULL AND session_id = $1
		   AND (' ' || scope || ' ') NOT LIKE '% offline_access %'`,
		sessionID, micros(at))
}

// RevokePersonClientTokens revokes the tokens of personID issued to
// clientID not yet revoked, whatever their scope, and returns how many.
// An empty personID or clientID revokes nothing.
func (s *Store) RevokePersonClientTokens(ctx context.Context, personID, clientID string, at time.Time) (int, error) {
	if personID == "" || clientID == "" {
		return 0, nil
	}
	return s.revokeAll(ctx, "revoke person client tokens",
		`UPDATE tokens SET revoked_at = $3
		 WHERE revoked_at IS NULL AND person_id = $1 AND client_id = $2`,
		personID, clientID, micros(at))
}

// RevokeClientTokens revokes every token of clientID not yet revoked.
func (s *Store) RevokeClientTokens(ctx context.Context, clientID string, at time.Time) (int, error) {
	if clientID == "" {
		return 0, nil
	}
	return s.revokeAll(ctx, "revoke client tokens",
		`UPDATE tokens SET revoked_at = $2 WHERE revoked_at IS NULL AND client_id = $1`, clientID, micros(at))
}

// RevokeTokenFamily revokes the tokens of a family not yet revoked and
// returns how many; an empty familyID revokes nothing.
func (s *Store) RevokeTokenFamily(ctx context.Context, familyID string, at time.Time) (int, error) {
	if familyID == "" {
		return 0, nil
	}
	return s.revokeAll(ctx, "revoke token family",
		`UPDATE tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`,
		familyID, micros(at))
}

// maxRevokePasses bounds revokeAll. Each pass after the first only finds
// the tokens of rotations already under way when the previous pass
// started: two or three passes end it.
const maxRevokePasses = 16

// revokeAll runs a revoking UPDATE until it affects no row, and returns
// the total. On PostgreSQL (READ COMMITTED) an UPDATE does not see rows
// committed after it started: when it waits for a RotateRefreshToken
// holding a token of the family, the tokens that rotation adds are
// revoked by the next pass.
func (s *Store) revokeAll(ctx context.Context, op, query string, args ...any) (int, error) {
	total := 0
	for range maxRevokePasses {
		n, err := s.exec(ctx, op, query, args...)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, fmt.Errorf("%s: still revoking after %d passes", op, maxRevokePasses)
}

// DeleteExpiredTokens deletes the tokens with ExpiresAt strictly before
// before, and returns how many. Refresh tokens of a family with a token
// still alive at before are kept, so that reuse of a rotated token is
// still detected (and revokes the family) until the family ends.
func (s *Store) DeleteExpiredTokens(ctx context.Context, before time.Time) (int, error) {
	return s.exec(ctx, "delete expired tokens",
		`DELETE FROM tokens WHERE expires_at < $1
		 AND NOT (kind = $2 AND family_id <> '' AND EXISTS (
		     SELECT 1 FROM tokens AS live
		     WHERE live.family_id = tokens.family_id AND live.expires_at >= $1))`,
		micros(before), storage.TokenRefresh)
}
