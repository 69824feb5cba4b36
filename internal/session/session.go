// Package session owns single sign-on sessions: the cookie, the
// server-side record (so any instance can read it and an administrator can
// end it), lifetime and idle timeout, and the authentication level.
//
// It imports internal/storage only. The cookie holds a random 256-bit
// secret; the database holds only its SHA-256 hash.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// Options configures a Manager.
type Options struct {
	Store       storage.Sessions
	Now         func() time.Time
	Lifetime    time.Duration // absolute lifetime, default 10h
	IdleTimeout time.Duration // default 2h
	// Secure marks the cookie Secure and names it with the __Host- prefix
	// (set when the issuer is https).
	Secure bool
}

// Manager creates, reads and ends sessions.
type Manager struct {
	store       storage.Sessions
	now         func() time.Time
	lifetime    time.Duration
	idleTimeout time.Duration
	secure      bool
	cookieName  string
	browserName string // the browser-binding cookie (Bind)
	deviceName  string // the device cookie (Device)
}

// New returns a Manager.
func New(opts Options) (*Manager, error) {
	if opts.Store == nil {
		return nil, errors.New("session: nil store")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Lifetime <= 0 {
		opts.Lifetime = 10 * time.Hour
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 2 * time.Hour
	}
	name, browser, device := "tno_session", "tno_browser", "tno_device"
	if opts.Secure {
		name, browser, device = "__Host-tno_session", "__Host-tno_browser", "__Host-tno_device"
	}
	return &Manager{
		store: opts.Store, now: opts.Now, lifetime: opts.Lifetime,
		idleTimeout: opts.IdleTimeout, secure: opts.Secure, cookieName: name, browserName: browser,
		deviceName: device,
	}, nil
}

// CookieName returns the name of the session cookie.
func (m *Manager) CookieName() string { return m.cookieName }

// BrowserCookieName returns the name of the browser-binding cookie (Bind).
func (m *Manager) BrowserCookieName() string { return m.browserName }

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create starts a session for personID, sets the cookie and returns the
// stored record.
func (m *Manager) Create(ctx context.Context, w http.ResponseWriter, personID string, amr []string, acr string) (storage.Session, error) {
	secret, err := newSecret()
	if err != nil {
		return storage.Session{}, err
	}
	now := m.now().UTC()
	s := storage.Session{
		ID: hashSecret(secret), CookieHash: hashSecret(secret), PersonID: personID, AuthTime: now,
		AMR: amr, ACR: acr, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(m.lifetime),
	}
	if err := m.store.CreateSession(ctx, &s); err != nil {
		return storage.Session{}, fmt.Errorf("create session: %w", err)
	}
	m.setCookie(w, secret, s.ExpiresAt)
	return s, nil
}

// Upgrade records a step-up on s: the methods and level it now reaches,
// a new authentication time, and a new cookie secret (no fixation: the
// value the browser held before the step-up no longer opens the
// session). The session keeps its ID, so the applications it signed into
// and their tokens stay attached to it. It returns the upgraded record,
// or an error wrapping storage.ErrNotFound if another request upgraded
// or replaced the cookie first.
func (m *Manager) Upgrade(ctx context.Context, w http.ResponseWriter, s storage.Session, amr []string, acr string) (storage.Session, error) {
	secret, err := newSecret()
	if err != nil {
		return storage.Session{}, err
	}
	now := m.now().UTC()
	newHash := hashSecret(secret)
	if err := m.store.UpgradeSession(ctx, s.ID, s.CookieHash, newHash, amr, acr, now); err != nil {
		return storage.Session{}, fmt.Errorf("upgrade session: %w", err)
	}
	s.CookieHash, s.AMR, s.ACR, s.AuthTime = newHash, amr, acr, now
	m.setCookie(w, secret, s.ExpiresAt)
	return s, nil
}

func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("session secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func (m *Manager) setCookie(w http.ResponseWriter, secret string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: m.cookieName, Value: secret, Path: "/", Expires: expires,
		HttpOnly: true, Secure: m.secure, SameSite: http.SameSiteLaxMode,
	})
}

// Current returns the request's valid session, or ok=false if there is
// none (no cookie, unknown, revoked, expired or idle too long).
func (m *Manager) Current(ctx context.Context, r *http.Request) (s storage.Session, ok bool, err error) {
	c, err := r.Cookie(m.cookieName)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return storage.Session{}, false, nil
	}
	s, err = m.store.GetSessionByCookie(ctx, hashSecret(c.Value))
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Session{}, false, nil
	}
	if err != nil {
		return storage.Session{}, false, fmt.Errorf("read session: %w", err)
	}
	now := m.now()
	if s.RevokedAt != nil || !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) > m.idleTimeout {
		return storage.Session{}, false, nil
	}
	// Write the last-seen time at most once a minute: reads stay cheap.
	if now.Sub(s.LastSeenAt) > time.Minute {
		if err := m.store.TouchSession(ctx, s.ID, now.UTC()); err != nil {
			return storage.Session{}, false, fmt.Errorf("touch session: %w", err)
		}
		s.LastSeenAt = now.UTC()
	}
	return s, true, nil
}

// Valid reports whether the stored session id is still usable now (used
// at the token, refresh and introspection endpoints, where there is no
// cookie): not revoked, not expired, and not idle longer than the idle
// timeout, exactly as Current judges the browser's session. An
// application using the tokens is not the person being active: it does
// not keep the session alive.
func (m *Manager) Valid(ctx context.Context, id string) (bool, error) {
	s, err := m.store.GetSession(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	now := m.now()
	return s.RevokedAt == nil && now.Before(s.ExpiresAt) && now.Sub(s.LastSeenAt) <= m.idleTimeout, nil
}

// Bind returns the hash of the browser-binding cookie, setting a new
// cookie first if the request has none. A sign-in transaction records the
// hash, and only a request that carries the same cookie (Bound) may
// continue it: a link to a pending sign-in handed to someone else leads
// nowhere. The cookie is a random 256-bit secret, kept for the browser
// session (no expiry), HttpOnly and SameSite=Lax like the session cookie.
func (m *Manager) Bind(w http.ResponseWriter, r *http.Request) (string, error) {
	for _, c := range r.CookiesNamed(m.browserName) {
		if validCookieValue(c.Value) {
			return hashSecret(c.Value), nil
		}
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("browser binding secret: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{
		Name: m.browserName, Value: secret, Path: "/",
		HttpOnly: true, Secure: m.secure, SameSite: http.SameSiteLaxMode,
	})
	// Later handlers of this same response (the login form that follows
	// at once) see the cookie as the browser will send it.
	r.AddCookie(&http.Cookie{Name: m.browserName, Value: secret})
	return hashSecret(secret), nil
}

// deviceLifetime is how long a browser keeps its device cookie.
const deviceLifetime = 400 * 24 * time.Hour // the longest browsers keep a cookie

// Device returns the hash of the browser's device cookie, setting a new
// one (kept 400 days) if the request has none. Brute-force throttling
// remembers the devices a person signed in from, so that an attack on
// their account from elsewhere never locks them out of their own
// browser (OWASP's "device cookie"). The cookie is a random 256-bit
// secret, HttpOnly and SameSite=Lax, and names no one.
func (m *Manager) Device(w http.ResponseWriter, r *http.Request) (string, error) {
	for _, c := range r.CookiesNamed(m.deviceName) {
		if validCookieValue(c.Value) {
			return hashSecret(c.Value), nil
		}
	}
	secret, err := newSecret()
	if err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{
		Name: m.deviceName, Value: secret, Path: "/", MaxAge: int(deviceLifetime / time.Second),
		HttpOnly: true, Secure: m.secure, SameSite: http.SameSiteLaxMode,
	})
	r.AddCookie(&http.Cookie{Name: m.deviceName, Value: secret})
	return hashSecret(secret), nil
}

// Bound reports whether the request carries the browser-binding cookie
// whose hash is want (constant time). An empty want (a transaction stored
// before binding existed) is never bound.
func (m *Manager) Bound(r *http.Request, want string) bool {
	if want == "" {
		return false
	}
	bound := false
	for _, c := range r.CookiesNamed(m.browserName) {
		if validCookieValue(c.Value) && subtle.ConstantTimeCompare([]byte(hashSecret(c.Value)), []byte(want)) == 1 {
			bound = true
		}
	}
	return bound
}

// validCookieValue accepts what Bind sets: 43 base64url characters.
func validCookieValue(v string) bool {
	if len(v) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

// End revokes the request's session, if any, and clears the cookie.
func (m *Manager) End(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	m.clearCookie(w)
	c, err := r.Cookie(m.cookieName)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil
	}
	s, err := m.store.GetSessionByCookie(ctx, hashSecret(c.Value))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read session: %w", err)
	}
	err = m.store.RevokeSession(ctx, s.ID, m.now().UTC())
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

func (m *Manager) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: m.cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: m.secure, SameSite: http.SameSiteLaxMode,
	})
}
