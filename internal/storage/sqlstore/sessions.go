package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const sessionColumns = `id, person_id, auth_time, amr, acr, created_at, last_seen_at, expires_at, revoked_at, cookie_hash`

func scanSession(r rowScanner) (storage.Session, error) {
	var v storage.Session
	err := r.Scan(&v.ID, &v.PersonID, ts(&v.AuthTime), lst(&v.AMR), &v.ACR, ts(&v.CreatedAt),
		ts(&v.LastSeenAt), ts(&v.ExpiresAt), nts(&v.RevokedAt), &v.CookieHash)
	return v, err
}

// CreateSession inserts a session, setting ID if empty, CreatedAt if zero
// and LastSeenAt (if zero) to CreatedAt; ErrConflict on a duplicate ID.
func (s *Store) CreateSession(ctx context.Context, x *storage.Session) error {
	v := *x
	if v.ID == "" {
		v.ID = storage.NewID()
	}
	v.CreatedAt = norm(s.orNow(v.CreatedAt))
	v.AuthTime, v.LastSeenAt, v.ExpiresAt = norm(v.AuthTime), norm(v.LastSeenAt), norm(v.ExpiresAt)
	v.RevokedAt = normp(v.RevokedAt)
	if v.LastSeenAt.IsZero() {
		v.LastSeenAt = v.CreatedAt
	}
	if v.CookieHash == "" {
		v.CookieHash = v.ID
	}
	_, err := s.exec(ctx, "create session",
		`INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		v.ID, v.PersonID, micros(v.AuthTime), list(v.AMR), v.ACR, micros(v.CreatedAt),
		micros(v.LastSeenAt), micros(v.ExpiresAt), nullMicros(v.RevokedAt), v.CookieHash)
	if err != nil {
		return err
	}
	*x = v
	return nil
}

// GetSession returns a session, revoked and expired ones included: the
// caller checks RevokedAt and ExpiresAt.
func (s *Store) GetSession(ctx context.Context, id string) (storage.Session, error) {
	return queryOne(ctx, s, "get session", scanSession,
		`SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id)
}

// GetSessionByCookie returns the session whose current cookie secret
// hashes to cookieHash.
func (s *Store) GetSessionByCookie(ctx context.Context, cookieHash string) (storage.Session, error) {
	return queryOne(ctx, s, "get session by cookie", scanSession,
		`SELECT `+sessionColumns+` FROM sessions WHERE cookie_hash = $1`, cookieHash)
}

// UpgradeSession records a step-up, compare-and-swap on the cookie hash.
func (s *Store) UpgradeSession(ctx context.Context, id, oldCookieHash, newCookieHash string, amr []string, acr string, authTime time.Time) error {
	return s.execOne(ctx, "upgrade session",
		`UPDATE sessions SET cookie_hash = $3, amr = $4, acr = $5, auth_time = $6
		 WHERE id = $1 AND cookie_hash = $2`,
		id, oldCookieHash, newCookieHash, list(amr), acr, micros(norm(authTime)))
}

// TouchSession records activity at seen; LastSeenAt never goes back.
func (s *Store) TouchSession(ctx context.Context, id string, seen time.Time) error {
	return s.execOne(ctx, "touch session",
		`UPDATE sessions SET last_seen_at = CASE WHEN last_seen_at < $2 THEN $2 ELSE last_seen_at END
		 WHERE id = $1`, id, micros(seen))
}

// RevokeSession revokes a session at at; revoking it again keeps the first
// RevokedAt.
func (s *Store) RevokeSession(ctx context.Context, id string, at time.Time) error {
	return s.execOne(ctx, "revoke session",
		`UPDATE sessions SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, micros(at))
}

// ListPersonSessions returns every session of a person (revoked and expired
// ones included), oldest first.
func (s *Store) ListPersonSessions(ctx context.Context, personID string) ([]storage.Session, error) {
	return queryList(ctx, s, "list person sessions", scanSession,
		`SELECT `+sessionColumns+` FROM sessions WHERE person_id = $1 ORDER BY created_at, id`, personID)
}

// DeleteExpiredSessions deletes the sessions with ExpiresAt strictly
// before before, and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, before time.Time) (int, error) {
	return s.exec(ctx, "delete expired sessions",
		`DELETE FROM sessions WHERE expires_at < $1`, micros(before))
}

const authRequestColumns = `id, client_id, redirect_uri, scope, state, nonce, code_challenge,
	code_challenge_method, response_mode, prompt, max_age, login_hint, claims, acr_values,
	created_at, expires_at, browser_hash, source, sp_name, siret_hint`

func scanAuthRequest(r rowScanner) (storage.AuthRequest, error) {
	var (
		v      storage.AuthRequest
		maxAge sql.NullInt64
	)
	err := r.Scan(&v.ID, &v.ClientID, &v.RedirectURI, &v.Scope, &v.State, &v.Nonce, &v.CodeChallenge,
		&v.CodeChallengeMethod, &v.ResponseMode, &v.Prompt, &maxAge, &v.LoginHint, &v.Claims, &v.ACRValues,
		ts(&v.CreatedAt), ts(&v.ExpiresAt), &v.BrowserHash, &v.Source, &v.SPName, &v.SiretHint)
	if maxAge.Valid {
		n := int(maxAge.Int64)
		v.MaxAge = &n
	}
	return v, err
}

// CreateAuthRequest inserts r, setting ID if empty and CreatedAt if zero.
func (s *Store) CreateAuthRequest(ctx context.Context, r *storage.AuthRequest) error {
	v := *r
	if v.ID == "" {
		v.ID = storage.NewID()
	}
	v.CreatedAt = norm(s.orNow(v.CreatedAt))
	v.ExpiresAt = norm(v.ExpiresAt)
	var maxAge any
	if v.MaxAge != nil {
		maxAge = int64(*v.MaxAge)
	}
	_, err := s.exec(ctx, "create auth request",
		`INSERT INTO auth_requests (`+authRequestColumns+`)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		v.ID, v.ClientID, v.RedirectURI, v.Scope, v.State, v.Nonce, v.CodeChallenge,
		v.CodeChallengeMethod, v.ResponseMode, v.Prompt, maxAge, v.LoginHint, v.Claims, v.ACRValues,
		micros(v.CreatedAt), micros(v.ExpiresAt), v.BrowserHash, v.Source, v.SPName, v.SiretHint)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// GetAuthRequest returns a pending authorization request, expired or not.
func (s *Store) GetAuthRequest(ctx context.Context, id string) (storage.AuthRequest, error) {
	return queryOne(ctx, s, "get auth request", scanAuthRequest,
		`SELECT `+authRequestColumns+` FROM auth_requests WHERE id = $1`, id)
}

// DeleteAuthRequest deletes a pending authorization request.
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete auth request", `DELETE FROM auth_requests WHERE id = $1`, id)
}

// CountPendingAuthRequests returns how many requests from source have
// not expired at now.
func (s *Store) CountPendingAuthRequests(ctx context.Context, source string, now time.Time) (int, error) {
	return queryOne(ctx, s, "count pending auth requests", func(r rowScanner) (int, error) {
		var n int
		err := r.Scan(&n)
		return n, err
	}, `SELECT COUNT(*) FROM auth_requests WHERE source = $1 AND expires_at >= $2`, source, micros(now))
}

// DeleteExpiredAuthRequests deletes the requests with ExpiresAt strictly
// before before, and returns how many.
func (s *Store) DeleteExpiredAuthRequests(ctx context.Context, before time.Time) (int, error) {
	return s.exec(ctx, "delete expired auth requests",
		`DELETE FROM auth_requests WHERE expires_at < $1`, micros(before))
}
