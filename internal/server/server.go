// Package server is TNO's composition root: it opens the store, builds
// every service from the configuration, mounts the browser and protocol
// muxes with their defences, and bootstraps a fresh installation.
//
// It may import every internal package; nothing imports it but cmd/tno.
package server

import (
	"context"

	"errors"
	"fmt"
	"github.com/territoires-ouverts/tno/internal/admin"
	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authflow"
	"github.com/territoires-ouverts/tno/internal/mail"
	"github.com/territoires-ouverts/tno/internal/throttle"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/keys"
	"github.com/territoires-ouverts/tno/internal/logout"
	"github.com/territoires-ouverts/tno/internal/oidc"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/postgres"
	"github.com/territoires-ouverts/tno/internal/storage/sqlite"
	"github.com/territoires-ouverts/tno/internal/web"
)

// OpenStore opens the configured database and applies its migrations.
func OpenStore(ctx context.Context, db config.Database) (storage.Store, error) {
	switch db.Driver {
	case config.DriverSQLite:
		return sqlite.Open(ctx, db.DSN)
	case config.DriverPostgres:
		return postgres.Open(ctx, db.DSN)
	default:
		return nil, fmt.Errorf("unknown database driver %q", db.Driver)
	}
}

// Options configures a Server.
type Options struct {
	Config config.Config
	Store  storage.Store
	Logger *slog.Logger
	Now    func() time.Time
	// PasswordParams overrides the argon2id parameters from Config (tests).
	PasswordParams *local.Params
	// Mail overrides the sender built from Config.Mail (tests pass a
	// *mail.Recorder); nil builds one when mail.host is set.
	Mail mail.Sender
}

// Server is a running TNO's services and HTTP handler.
type Server struct {
	cfg      config.Config
	store    storage.Store
	log      *slog.Logger
	now      func() time.Time
	Keys     *keys.Manager
	Audit    *audit.Log
	Local    *local.Local
	Hasher   *local.Hasher
	Logout   *logout.Service // ends sessions, notifies applications (EndPersonSessions)
	Core     *Core           // the administration use cases and what they need
	handler  http.Handler
	flow     *authflow.Engine
	provider *oidc.Provider
	console  *admin.Console
}

// ConsolePatterns lists the administration console's routes (tests).
func (s *Server) ConsolePatterns() []string { return s.console.Patterns() }

// New builds the services. It does not create keys or accounts: call
// Bootstrap for that.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("server: nil store")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cfg := opts.Config
	s := &Server{cfg: cfg, store: opts.Store, log: opts.Logger, now: opts.Now}
	core, err := NewCore(CoreOptions{Config: cfg, Store: opts.Store, Logger: opts.Logger, Now: opts.Now, PasswordParams: opts.PasswordParams})
	if err != nil {
		return nil, err
	}
	s.Core = core
	s.Keys, s.Audit, s.Local, s.Hasher, s.Logout = core.Keys, core.Audit, core.Local, core.Hasher, core.Logout
	issuer, err := url.Parse(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	sessions, err := session.New(session.Options{
		Store: opts.Store, Now: opts.Now, Lifetime: cfg.Session.Lifetime.Std(),
		IdleTimeout: cfg.Session.IdleTimeout.Std(), Secure: issuer.Scheme == "https",
	})
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(issuer.Path, "/")
	logo, logoType, err := cfg.Territory.ReadLogo()
	if err != nil {
		return nil, err
	}
	t := cfg.Territory
	renderer, err := web.New(web.Options{Logger: opts.Logger, BasePath: base, ProductName: t.Name, Brand: web.Brand{
		Logo: logo, LogoType: logoType, Support: t.Support, SupportURL: t.SupportURL,
		LegalNoticeURL: t.LegalNoticeURL, PersonalDataURL: t.PersonalDataURL,
		AccessibilityURL: t.AccessibilityURL, AccessibilityStatus: t.AccessibilityStatus,
	}})
	if err != nil {
		return nil, err
	}
	s.flow, err = authflow.New(authflow.Options{
		Issuer: cfg.Issuer, Store: opts.Store, Sessions: sessions, Passwords: s.Local, Renderer: renderer,
		Logout: s.Logout, Audit: s.Audit, Logger: opts.Logger, Now: opts.Now, TOTPIssuer: t.Name,
		Eligible: apps.Eligible, Throttle: throttle.New(opts.Store, opts.Now),
	})
	if err != nil {
		return nil, err
	}
	sender := opts.Mail
	if sender == nil && cfg.Mail.Enabled() {
		sender, err = mail.New(mail.Config{
			Host: cfg.Mail.Host, Port: cfg.Mail.Port, Security: cfg.Mail.Security,
			Username: cfg.Mail.Username, Password: string(cfg.Mail.Password),
			From: cfg.Mail.From, HeloName: cfg.Mail.HeloName,
		})
		if err != nil {
			return nil, err
		}
	}
	if err := s.flow.EnableReset(authflow.ResetOptions{
		Issuer: cfg.Issuer, Mail: sender, Store: opts.Store, Sessions: s.Logout,
		Territory: t.Name, Support: t.Support,
	}); err != nil {
		return nil, err
	}
	s.provider, err = oidc.New(oidc.Options{
		Issuer: cfg.Issuer, Store: opts.Store, Signer: s.Keys, Sessions: sessions,
		Flow: s.flow, Renderer: renderer, Logger: opts.Logger, Now: opts.Now, Logout: s.Logout, Audit: s.Audit,
		CodeLifetime: cfg.Tokens.AuthorizationCode.Std(), AccessTokenLifetime: cfg.Tokens.AccessToken.Std(),
		RefreshTokenLifetime: cfg.Tokens.RefreshToken.Std(), RefreshFamilyLifetime: cfg.Tokens.RefreshFamily.Std(),
		IDTokenLifetime: cfg.Tokens.IDToken.Std(),
	})
	if err != nil {
		return nil, err
	}
	s.console, err = admin.New(admin.Options{
		BasePath: base, Renderer: renderer, Auth: s.flow, Store: opts.Store,
		Territory: core.Territory, Apps: core.Apps, Keys: core.Keys, Invites: s.flow, Settings: settings(cfg),
		Logger: opts.Logger, Now: opts.Now,
	})
	if err != nil {
		return nil, err
	}
	s.handler = s.routes(renderer, base)
	return s, nil
}

// Handler returns the HTTP handler serving every endpoint.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes(renderer *web.Renderer, base string) http.Handler {
	browser := http.NewServeMux()
	s.flow.RegisterBrowser(browser)
	s.provider.RegisterBrowser(browser)
	s.console.Register(browser)
	browser.Handle("GET "+base+"/static/", http.StripPrefix(base, web.Static()))
	browser.Handle("GET "+base+web.LogoPath, renderer.LogoHandler())
	browser.HandleFunc("GET "+base+"/{$}", func(w http.ResponseWriter, r *http.Request) {
		renderer.Render(w, r, http.StatusOK, web.MessagePage{Status: http.StatusOK, TitleKey: "home.title", MessageKey: "home.message"})
	})
	browser.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		renderer.Render(w, r, http.StatusNotFound, web.MessagePage{Status: http.StatusNotFound, TitleKey: "error.title", MessageKey: "error.not_found"})
	})
	cop := http.NewCrossOriginProtection()
	// OpenID Connect lets a relying party send the authorization request
	// as a cross-site form POST (Core section 3.1.2.1): it changes nothing
	// a GET could not, so it is exempt.
	cop.AddInsecureBypassPattern("POST " + base + "/authorize")
	// Likewise the end_session request (RP-Initiated Logout section 2):
	// a POST is answered with a redirect to the same request as a GET;
	// the confirmation form posts to /logout/confirm, which stays
	// protected.
	cop.AddInsecureBypassPattern("POST " + base + "/logout")
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.InfoContext(r.Context(), "cross-origin request refused", "path", r.URL.Path)
		renderer.Render(w, r, http.StatusForbidden, web.MessagePage{Status: http.StatusForbidden, TitleKey: "error.title", MessageKey: "error.forbidden"})
	}))
	browserHandler := cop.Handler(browser)

	protocol := http.NewServeMux()
	s.provider.RegisterProtocol(protocol)
	s.console.RegisterAPI(protocol) // bearer tokens only: every path under base+"/api/"
	protocol.HandleFunc("GET "+base+"/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.store.Ping(ctx); err != nil {
			s.log.ErrorContext(r.Context(), "health: database", "err", err)
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	protocolPaths := map[string]bool{base + "/healthz": true}
	for _, p := range s.provider.ProtocolPaths() {
		protocolPaths[p] = true
	}
	trusted, _ := config.ParseTrustedProxies(s.cfg.TrustedProxies) // validated with the configuration
	return behindProxies(trusted, web.SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if protocolPaths[r.URL.Path] || strings.HasPrefix(r.URL.Path, base+"/api/") {
			protocol.ServeHTTP(w, r)
			return
		}
		browserHandler.ServeHTTP(w, r)
	})))
}
