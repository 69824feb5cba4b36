// Package logout owns single logout: ending a single sign-on session and
// notifying every application the session signed into, as OpenID Connect
// Front-Channel Logout 1.0 (the URLs the browser must load in iframes) and
// Back-Channel Logout 1.0 (logout tokens queued in the database and POSTed
// to each application by a background sender, with retries).
//
// It imports internal/storage only; signing goes through Signer
// (internal/keys). The protocol package that shows pages (oidc) calls
// EndSession; administration (CLI, console) calls EndPersonSessions.
package logout

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/territoires-ouverts/tno/internal/audit"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// Store is what logout needs from storage.
type Store interface {
	storage.Sessions
	storage.Applications
	storage.Logout
	WithTx(ctx context.Context, fn func(tx storage.Store) error) error
}

// Signer signs logout tokens (internal/keys.Manager).
type Signer interface {
	Sign(ctx context.Context, payload []byte, typ string) (string, error)
}

// Why a session ended, logged as "reason".
const (
	ReasonRPInitiated    = "rp_initiated"    // end_session endpoint
	ReasonPersonDisabled = "person_disabled" // account deactivated
	ReasonNewSignIn      = "new_sign_in"     // replaced by a new sign-in in the same browser
	ReasonAdmin          = "admin"           // ended by an administrator
)

// Back-Channel Logout 1.0 constants.
const (
	// TokenType is the JWT "typ" header of logout tokens (section 2.4).
	TokenType = "logout+jwt"
	// EventBackchannelLogout is the member of the "events" claim.
	EventBackchannelLogout = "http://schemas.openid.net/event/backchannel-logout"
	// TokenLifetime bounds a logout token's validity ("exp" − "iat"); the
	// spec recommends at most two minutes.
	TokenLifetime = 2 * time.Minute
)

// Options configures a Service.
type Options struct {
	Issuer string // absolute URL, no trailing slash
	Store  Store
	Signer Signer
	Logger *slog.Logger     // nil discards
	Now    func() time.Time // default time.Now
	// Client sends back-channel notifications. Default: NewHTTPClient().
	// Whatever is given, redirects are never followed and a request
	// without Timeout gets RequestTimeout.
	Client *http.Client
	// Audit records each ended session; nil records nothing.
	Audit audit.Recorder
	// RequestTimeout bounds one POST (default 5s).
	RequestTimeout time.Duration
	// PollInterval: how often Run looks for due deliveries besides being
	// woken (default 10s), so that deliveries queued by other instances
	// and retries are sent.
	PollInterval time.Duration
	// Backoff lists the delays after the first, second… failed attempt;
	// the last one repeats (default 10s, 30s, 2m, 10m, 1h).
	Backoff []time.Duration
	// GiveUpAfter: a delivery whose next attempt would fall later than
	// this after it was queued is abandoned (default 24h).
	GiveUpAfter time.Duration
	// Lease: how long a sender owns the deliveries it claims before
	// another may take them (default 1m, well above RequestTimeout).
	Lease time.Duration
	// BatchSize: deliveries claimed, and sent concurrently, at once
	// (default 16).
	BatchSize int
}

// Service ends sessions and delivers logout notifications. Safe for
// concurrent use.
type Service struct {
	issuer  string
	store   Store
	signer  Signer
	log     *slog.Logger
	now     func() time.Time
	client  *http.Client
	timeout time.Duration
	poll    time.Duration
	backoff []time.Duration
	giveUp  time.Duration
	lease   time.Duration
	batch   int
	wake    chan struct{}
	audit   audit.Recorder // nil: no audit log
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Signer == nil {
		return nil, errors.New("logout: Store and Signer are required")
	}
	u, err := url.Parse(opts.Issuer)
	if err != nil || !u.IsAbs() {
		return nil, errors.New("logout: issuer must be an absolute URL")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.RequestTimeout, 5*time.Second)
	def(&opts.PollInterval, 10*time.Second)
	def(&opts.GiveUpAfter, 24*time.Hour)
	def(&opts.Lease, time.Minute)
	if len(opts.Backoff) == 0 {
		opts.Backoff = []time.Duration{10 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour}
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 16
	}
	client := NewHTTPClient(opts.RequestTimeout)
	if opts.Client != nil {
		c := *opts.Client
		client = &c
		if client.Timeout <= 0 {
			client.Timeout = opts.RequestTimeout
		}
	}
	client.CheckRedirect = noRedirect
	return &Service{
		issuer: strings.TrimSuffix(opts.Issuer, "/"), store: opts.Store, signer: opts.Signer,
		log: opts.Logger, now: opts.Now, client: client, timeout: opts.RequestTimeout,
		poll: opts.PollInterval, backoff: opts.Backoff, giveUp: opts.GiveUpAfter,
		lease: opts.Lease, batch: opts.BatchSize, wake: make(chan struct{}, 1),
		audit: opts.Audit,
	}, nil
}

// Frontchannel is an application to notify through the browser: the
// logged-out page loads URL in an iframe.
type Frontchannel struct {
	ClientID string
	AppName  string
	URL      string // frontchannel_logout_uri, with iss and sid when the application requires them
}

// Ended tells what EndSession did.
type Ended struct {
	// Frontchannel lists the applications to notify through the browser,
	// in the order the session signed into them.
	Frontchannel []Frontchannel
	// Backchannel is the number of logout tokens queued.
	Backchannel int
}

// EndSession revokes a session and notifies the applications it signed
// into: it queues a back-channel logout token for each application with a
// backchannel_logout_uri, in the transaction that revokes the session, and
// wakes the sender; it returns the front-channel URLs for the caller to
// render. Applications are notified once: ending an already ended session
// revokes nothing new and notifies nobody. An unknown session is
// ErrNotFound. reason is logged.
func (s *Service) EndSession(ctx context.Context, sessionID, reason string) (Ended, error) {
	var out Ended
	var personID string
	var wasLive bool
	now := s.now().UTC()
	err := s.store.WithTx(ctx, func(tx storage.Store) error {
		out = Ended{}
		sess, err := tx.GetSession(ctx, sessionID)
		if err != nil {
			return err
		}
		personID = sess.PersonID
		wasLive = sess.RevokedAt == nil
		if err := tx.RevokeSession(ctx, sessionID, now); err != nil {
			return err
		}
		// Tokens issued in the session end with it (offline_access ones
		// excepted, OpenID Connect Core section 11).
		if _, err := tx.RevokeSessionTokens(ctx, sessionID, now); err != nil {
			return err
		}
		clients, err := tx.TakeSessionClients(ctx, sessionID)
		if err != nil {
			return err
		}
		for _, c := range clients {
			app, err := tx.GetApplicationByClientID(ctx, c.ClientID)
			if errors.Is(err, storage.ErrNotFound) {
				continue // deleted since: nobody to notify
			}
			if err != nil {
				return err
			}
			if u := app.Settings.FrontchannelLogoutURI; u != "" {
				out.Frontchannel = append(out.Frontchannel, Frontchannel{
					ClientID: app.ClientID, AppName: app.Name,
					URL: s.frontchannelURL(u, app.Settings.FrontchannelLogoutSessionRequired, c.SID),
				})
			}
			if u := app.Settings.BackchannelLogoutURI; u != "" {
				tok, err := s.mint(ctx, c.ClientID, c.Subject, c.SID, now)
				if err != nil {
					return err
				}
				d := storage.LogoutDelivery{
					ClientID: c.ClientID, URI: u, Token: tok, Subject: c.Subject, SID: c.SID,
					NextAttemptAt: now, CreatedAt: now,
				}
				if err := tx.EnqueueLogoutDelivery(ctx, &d); err != nil {
					return err
				}
				out.Backchannel++
			}
		}
		return nil
	})
	if err != nil {
		return Ended{}, fmt.Errorf("logout: end session: %w", err)
	}
	s.log.InfoContext(ctx, "session ended", "reason", reason, "person_id", personID,
		"frontchannel", len(out.Frontchannel), "backchannel", out.Backchannel)
	if s.audit != nil && wasLive {
		err := s.audit.Record(ctx, audit.Event{
			Type: audit.SessionEnded, PersonID: personID, SessionID: sessionID,
			Details: map[string]string{"reason": reason, "backchannel": fmt.Sprint(out.Backchannel)},
		})
		if err != nil {
			s.log.ErrorContext(ctx, "audit session end", "err", err)
		}
	}
	if out.Backchannel > 0 {
		s.Wake()
	}
	return out, nil
}

// EndPersonSessions ends every session of a person (account deactivation,
// password reset…) as EndSession does, and returns how many were live.
// Sessions revoked by other means but not yet notified (their
// applications not yet told) are notified too, so calling it after a
// plain RevokeSession still reaches the applications; expired sessions
// are left alone. Front-channel notifications need the person's browser:
// only back-channel ones are sent.
func (s *Service) EndPersonSessions(ctx context.Context, personID, reason string) (int, error) {
	sessions, err := s.store.ListPersonSessions(ctx, personID)
	if err != nil {
		return 0, fmt.Errorf("logout: list sessions: %w", err)
	}
	now := s.now()
	n := 0
	for _, sess := range sessions {
		if !now.Before(sess.ExpiresAt) {
			continue
		}
		if _, err := s.EndSession(ctx, sess.ID, reason); err != nil {
			return n, err
		}
		if sess.RevokedAt == nil {
			n++
		}
	}
	return n, nil
}

// frontchannelURL adds iss and sid to an application's
// frontchannel_logout_uri when it requires them (Front-Channel Logout 1.0
// section 2), keeping its own query parameters.
func (s *Service) frontchannelURL(raw string, withSession bool, sid string) string {
	if !withSession {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw // validated at registration: cannot happen
	}
	q := u.Query()
	q.Set("iss", s.issuer)
	q.Set("sid", sid)
	u.RawQuery = q.Encode()
	return u.String()
}

// logoutClaims is a logout token's claim set (Back-Channel Logout 1.0
// section 2.4): never a nonce, so that it cannot pass for an ID token.
type logoutClaims struct {
	Issuer   string              `json:"iss"`
	Subject  string              `json:"sub,omitempty"`
	Audience string              `json:"aud"`
	IssuedAt int64               `json:"iat"`
	Expiry   int64               `json:"exp"`
	JTI      string              `json:"jti"`
	SID      string              `json:"sid,omitempty"`
	Events   map[string]struct{} `json:"events"`
}

// mint signs a logout token for clientID about the session sid of sub.
func (s *Service) mint(ctx context.Context, clientID, sub, sid string, now time.Time) (string, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	payload, err := json.Marshal(logoutClaims{
		Issuer: s.issuer, Subject: sub, Audience: clientID,
		IssuedAt: now.Unix(), Expiry: now.Add(TokenLifetime).Unix(),
		JTI: base64.RawURLEncoding.EncodeToString(jti[:]), SID: sid,
		Events: map[string]struct{}{EventBackchannelLogout: {}},
	})
	if err != nil {
		return "", err
	}
	tok, err := s.signer.Sign(ctx, payload, TokenType)
	if err != nil {
		return "", fmt.Errorf("sign logout token: %w", err)
	}
	return tok, nil
}
