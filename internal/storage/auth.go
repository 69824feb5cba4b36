package storage

import (
	"context"
	"time"
)

// SigningKey is a private signing key, stored as a JWK (JSON).
type SigningKey struct {
	ID         string // kid
	Algorithm  string // "RS256", "ES256"
	PrivateJWK []byte
	CreatedAt  time.Time
	// ActiveAt: the key is published from CreatedAt and used to sign
	// from ActiveAt.
	ActiveAt time.Time
	// RetiredAt: no longer used to sign; still published until ExpiresAt.
	RetiredAt *time.Time
	ExpiresAt *time.Time
}

// SigningKeys stores signing keys.
type SigningKeys interface {
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	ListSigningKeys(ctx context.Context) ([]SigningKey, error) // by CreatedAt
	UpdateSigningKey(ctx context.Context, k *SigningKey) error // RetiredAt, ExpiresAt
}

// Session is a server-side single sign-on session. The cookie holds a
// random secret; only its SHA-256 hash (ID) is stored.
type Session struct {
	// ID names the session for its whole life (tokens, the applications'
	// logout channel): the hex SHA-256 of its first cookie secret.
	ID string
	// CookieHash is the hex SHA-256 of the cookie secret the browser holds
	// now; it changes at every step-up (no fixation). "" on create means
	// ID.
	CookieHash string
	PersonID   string
	AuthTime   time.Time
	AMR        []string // "pwd", later "otp", "hwk"…
	ACR        string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
}

// Sessions stores SSO sessions.
type Sessions interface {
	CreateSession(ctx context.Context, s *Session) error
	GetSession(ctx context.Context, id string) (Session, error)
	// GetSessionByCookie returns the session whose cookie secret hashes to
	// cookieHash, revoked and expired ones included.
	GetSessionByCookie(ctx context.Context, cookieHash string) (Session, error)
	// UpgradeSession records a step-up: the session's new cookie hash,
	// methods, level and authentication time, only if its cookie hash is
	// still oldCookieHash (ErrNotFound otherwise: another step-up won).
	UpgradeSession(ctx context.Context, id, oldCookieHash, newCookieHash string, amr []string, acr string, authTime time.Time) error
	TouchSession(ctx context.Context, id string, seen time.Time) error
	RevokeSession(ctx context.Context, id string, at time.Time) error
	ListPersonSessions(ctx context.Context, personID string) ([]Session, error)
	DeleteExpiredSessions(ctx context.Context, before time.Time) (int, error)
}

// AuthRequest is a pending authorization request while the person signs in
// and chooses a membership. Held in the database so any instance can
// continue it.
type AuthRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	Scope               string // space-separated
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	ResponseMode        string
	Prompt              string
	MaxAge              *int
	LoginHint           string
	Claims              string // raw "claims" parameter (JSON), optional
	ACRValues           string
	// BrowserHash is the hex SHA-256 of the binding cookie of the browser
	// that started the request: only that browser may continue it.
	BrowserHash string
	// Source is the network address the request came from (an IP
	// address), to slow one address that opens thousands.
	Source string
	// SPName is the service a federation (ProConnect's sp_name) signs
	// the person into, shown on the login page; "" if none.
	SPName string
	// SiretHint is the SIRET of the organization the person acts for
	// (ProConnect's siret_hint), 14 digits or "".
	SiretHint string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuthRequests stores pending authorization requests.
type AuthRequests interface {
	CreateAuthRequest(ctx context.Context, r *AuthRequest) error
	GetAuthRequest(ctx context.Context, id string) (AuthRequest, error)
	DeleteAuthRequest(ctx context.Context, id string) error
	// CountPendingAuthRequests returns how many requests from source have
	// not expired at now (ExpiresAt at or after now).
	CountPendingAuthRequests(ctx context.Context, source string, now time.Time) (int, error)
	DeleteExpiredAuthRequests(ctx context.Context, before time.Time) (int, error)
}

// AuthCode is an issued authorization code; only its hash is stored.
type AuthCode struct {
	Hash                string // hex SHA-256 of the code
	ClientID            string
	PersonID            string
	MembershipID        string
	SessionID           string
	RedirectURI         string
	Scope               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Claims              string
	AuthTime            time.Time
	AMR                 []string
	ACR                 string
	CreatedAt           time.Time
	ExpiresAt           time.Time
	UsedAt              *time.Time
}

// AuthCodes stores authorization codes.
type AuthCodes interface {
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	// ConsumeAuthCode marks the code used at now and returns it. If it was
	// already used it returns the code and an error wrapping
	// ErrAlreadyUsed, and the caller must revoke what it issued. Expiry is
	// the caller's check.
	ConsumeAuthCode(ctx context.Context, hash string, now time.Time) (AuthCode, error)
	// MarkAuthCodeReplayed records that a used code was presented again,
	// and AuthCodeReplayed tells whether it was: an exchange still storing
	// the code's tokens when a replay revokes them checks it afterwards and
	// revokes what it stored. ErrNotFound for an unknown code.
	MarkAuthCodeReplayed(ctx context.Context, hash string, at time.Time) error
	AuthCodeReplayed(ctx context.Context, hash string) (bool, error)
	DeleteExpiredAuthCodes(ctx context.Context, before time.Time) (int, error)
}

// Token kinds.
const (
	TokenAccess  = "access"
	TokenRefresh = "refresh"
)

// Token is an issued opaque token; only its hash is stored.
//
// Refresh tokens rotate: each use marks the token used (UseRefreshToken)
// and issues a new one in the same family. Every token issued from one
// authorization code shares its FamilyID, access tokens included, so
// that revoking the family (reuse of a refresh token, revocation, reuse
// of the code) revokes them all.
type Token struct {
	Hash         string // hex SHA-256 of the token
	Kind         string // TokenAccess or TokenRefresh
	ClientID     string
	PersonID     string // empty for a token issued to the client itself (client_credentials)
	MembershipID string
	SessionID    string
	Scope        string
	CodeHash     string // authorization code the token descends from, if any
	FamilyID     string // refresh-token family; empty when no refresh token was issued
	AuthTime     time.Time
	AMR          []string // authentication methods, repeated in refreshed ID tokens
	ACR          string   // authentication level (acr), repeated in refreshed ID tokens
	// Claims is the authorization request's claims parameter (JSON, OpenID
	// Connect Core section 5.5), "" if none: userinfo honours its
	// "userinfo" member.
	Claims    string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
	UsedAt    *time.Time // refresh tokens: when it was exchanged (rotated)
}

// Tokens stores issued tokens.
type Tokens interface {
	CreateToken(ctx context.Context, t *Token) error
	GetToken(ctx context.Context, hash string) (Token, error)
	RevokeToken(ctx context.Context, hash string, at time.Time) error
	// RevokeTokensByCode revokes every token issued from an authorization
	// code, and every token of the refresh-token families those started,
	// and returns how many it revoked.
	RevokeTokensByCode(ctx context.Context, codeHash string, at time.Time) (int, error)
	// UseRefreshToken marks a refresh token used at now and returns it,
	// atomically: of concurrent callers exactly one wins. If it was already
	// used it returns the token and an error wrapping ErrAlreadyUsed, and
	// the caller must revoke its family. An unknown hash, the hash of an
	// access token, or a revoked refresh token not used yet is
	// ErrNotFound. Expiry is the caller's check.
	UseRefreshToken(ctx context.Context, hash string, now time.Time) (Token, error)
	// RotateRefreshToken is UseRefreshToken and CreateToken of each of
	// next (the tokens issued in exchange) in one transaction: either the
	// token is spent and next stored, or neither. A family revocation
	// running at the same time revokes next too (see RevokeTokenFamily).
	RotateRefreshToken(ctx context.Context, hash string, now time.Time, next ...*Token) (Token, error)
	// RevokeTokenFamily revokes every token of a family not yet revoked
	// (refresh and access tokens) and returns how many. An empty familyID
	// revokes nothing. Tokens that a concurrent RotateRefreshToken adds to
	// the family are revoked too: rotation needs an unrevoked refresh
	// token, and the revocation repeats until it finds nothing left.
	RevokeTokenFamily(ctx context.Context, familyID string, at time.Time) (int, error)
	// RevokeSessionTokens revokes the tokens bound to a sign-in session
	// when it ends, and returns how many: every token issued in that
	// session, but for the families granted offline_access, which outlive
	// the session (OpenID Connect Core section 11).
	RevokeSessionTokens(ctx context.Context, sessionID string, at time.Time) (int, error)
	// RevokePersonClientTokens revokes every token of personID issued to
	// clientID not yet revoked, refresh and access tokens, offline_access
	// included (the person withdrew their consent), and returns how many.
	// Tokens that a concurrent RotateRefreshToken adds are revoked too,
	// as for RevokeTokenFamily. An empty personID or clientID revokes
	// nothing.
	RevokePersonClientTokens(ctx context.Context, personID, clientID string, at time.Time) (int, error)
	// RevokeClientTokens revokes every token issued to clientID not yet
	// revoked (the application is removed: its client_id may be given
	// again, its tokens must not come back with it), and returns how many.
	RevokeClientTokens(ctx context.Context, clientID string, at time.Time) (int, error)
	// DeleteExpiredTokens deletes the tokens with ExpiresAt strictly before
	// before and returns how many, but keeps the refresh tokens of a family
	// that still has a token expiring at or after before: a used refresh
	// token must be recognized as reused while its family lives.
	DeleteExpiredTokens(ctx context.Context, before time.Time) (int, error)
}
