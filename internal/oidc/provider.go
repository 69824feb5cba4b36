// Package oidc owns TNO's OpenID Connect provider: discovery, JWKS, the
// authorization endpoint (which hands each request to the sign-in
// engine, internal/authflow, and turns its result into a code), the token
// endpoint and userinfo, and (until the portal exists) the person's page
// of consents. OAuth error codes live here only.
//
// It imports storage, apps, territory, session, authflow, logout and web;
// never server, portal, admin or another protocol package.
package oidc

import (
	"context"
	"errors"
	"github.com/territoires-ouverts/tno/internal/audit"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/authflow"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// Signer signs tokens and publishes the public keys (internal/keys).
type Signer interface {
	Sign(ctx context.Context, payload []byte, typ string) (string, error)
	SigningAlgorithm(ctx context.Context) (string, error)
	JWKS(ctx context.Context) ([]byte, error)
}

// Renderer renders browser pages (internal/web).
type Renderer interface {
	Render(w http.ResponseWriter, r *http.Request, status int, page any)
	Error(w http.ResponseWriter, r *http.Request, status int, titleKey, messageKey string, cause error)
}

// Store is what the provider needs from storage.
type Store interface {
	storage.Applications
	storage.Organizations
	storage.People
	storage.Memberships
	storage.Mandates
	storage.AuthRequests
	storage.AuthCodes
	storage.Tokens
	storage.SessionClients
	storage.ClientRequests
	storage.DeploymentSecrets
	storage.Consents
}

// Options configures a Provider.
type Options struct {
	Issuer   string // absolute URL, no trailing slash
	Store    Store
	Signer   Signer
	Sessions *session.Manager
	// Flow is the sign-in engine the authorization endpoint hands its
	// requests to; New registers the provider as its "oidc" front end.
	Flow     *authflow.Engine
	Renderer Renderer
	Logout   SessionEnder // single logout; nil ends sessions without notifying applications
	Logger   *slog.Logger
	// Audit records security events (nil: none).
	Audit audit.Recorder
	Now   func() time.Time

	CodeLifetime        time.Duration // default 60s
	AccessTokenLifetime time.Duration // default 10m
	IDTokenLifetime     time.Duration // default 10m
	RequestLifetime     time.Duration // pending authorization requests, default 30m

	// RefreshTokenLifetime is how long each refresh token may be used
	// (default 30 days); every use rotates it. RefreshFamilyLifetime caps a
	// chain of refresh tokens, counted from the sign-in (auth_time),
	// after which the person signs in again (default 30 days).
	RefreshTokenLifetime  time.Duration
	RefreshFamilyLifetime time.Duration
}

// Provider serves the OpenID Connect endpoints.
type Provider struct {
	audit    audit.Recorder
	issuer   string
	basePath string // issuer's path, "" at the root
	store    Store
	signer   Signer
	sessions *session.Manager
	flow     *authflow.Engine
	web      Renderer
	logout   SessionEnder
	log      *slog.Logger
	now      func() time.Time

	codeTTL, accessTTL, idTTL, requestTTL time.Duration
	refreshTTL, familyTTL                 time.Duration
	discovery                             []byte
	pairwise                              pairwiseKey // subject.go
	userinfoAlgWarned                     onceSet     // userinfo.go

	clientKeys  *clientKeySource // applications' public keys, clientjwt.go
	flood       floodLimits      // pending requests per address, flood.go
	floodCounts floodCounts
}

// Endpoint paths, relative to the issuer.
const (
	pathDiscovery = "/.well-known/openid-configuration"
	pathJWKS      = "/jwks"
	pathAuthorize = "/authorize"
	pathToken     = "/token"
	pathUserinfo  = "/userinfo"
	pathLogout    = "/logout"         // end_session_endpoint
	pathLogoutOK  = "/logout/confirm" // the confirmation form posts here
)

// New returns a Provider.
func New(opts Options) (*Provider, error) {
	switch {
	case opts.Store == nil, opts.Signer == nil, opts.Sessions == nil, opts.Flow == nil, opts.Renderer == nil:
		return nil, errors.New("oidc: missing dependency")
	}
	u, err := url.Parse(opts.Issuer)
	if err != nil || !u.IsAbs() {
		return nil, errors.New("oidc: issuer must be an absolute URL")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.CodeLifetime, 60*time.Second)
	def(&opts.AccessTokenLifetime, 10*time.Minute)
	def(&opts.IDTokenLifetime, 10*time.Minute)
	def(&opts.RequestLifetime, 30*time.Minute)
	def(&opts.RefreshTokenLifetime, 30*24*time.Hour)
	def(&opts.RefreshFamilyLifetime, 30*24*time.Hour)
	p := &Provider{
		issuer: strings.TrimSuffix(opts.Issuer, "/"), basePath: strings.TrimSuffix(u.Path, "/"),
		store: opts.Store, signer: opts.Signer, sessions: opts.Sessions, flow: opts.Flow,
		web: opts.Renderer, log: opts.Logger, now: opts.Now, audit: opts.Audit,
		codeTTL: opts.CodeLifetime, accessTTL: opts.AccessTokenLifetime,
		idTTL: opts.IDTokenLifetime, requestTTL: opts.RequestLifetime,
	}
	p.refreshTTL, p.familyTTL = opts.RefreshTokenLifetime, opts.RefreshFamilyLifetime
	p.flood = defaultFloodLimits()
	p.logout = opts.Logout
	p.clientKeys = newClientKeySource(func() time.Time { return p.now() }, p.log)
	p.discovery, err = p.discoveryDocument()
	if err != nil {
		return nil, err
	}
	p.flow.Register(protocol, frontend{p})
	return p, nil
}

// RegisterBrowser mounts the pages a person's browser reaches: they get
// cross-origin protection and the strict security headers.
func (p *Provider) RegisterBrowser(mux *http.ServeMux) {
	mux.HandleFunc("GET "+p.basePath+pathAuthorize, p.handleAuthorize)
	mux.HandleFunc("POST "+p.basePath+pathAuthorize, p.handleAuthorize)
	mux.HandleFunc("GET "+p.basePath+pathLogout, p.handleEndSession)
	mux.HandleFunc("POST "+p.basePath+pathLogout, p.handleEndSession)
	mux.HandleFunc("POST "+p.basePath+pathLogoutOK, p.handleEndSessionConfirm)
	mux.HandleFunc("GET "+p.basePath+pathAccount, p.handleAccount)
	mux.HandleFunc("GET "+p.basePath+pathAccountConsents, p.handleAccountConsents)
	mux.HandleFunc("POST "+p.basePath+pathAccountRevoke, p.handleAccountRevoke)
}

// RegisterProtocol mounts the endpoints relying parties call directly
// (cross-site POSTs are legitimate there).
func (p *Provider) RegisterProtocol(mux *http.ServeMux) {
	mux.HandleFunc("GET "+p.basePath+pathDiscovery, p.handleDiscovery)
	mux.HandleFunc("GET "+p.basePath+pathJWKS, p.handleJWKS)
	mux.HandleFunc("POST "+p.basePath+pathToken, p.handleToken)
	mux.HandleFunc("GET "+p.basePath+pathUserinfo, p.handleUserinfo)
	mux.HandleFunc("POST "+p.basePath+pathUserinfo, p.handleUserinfo)
	mux.HandleFunc("POST "+p.basePath+pathRevoke, p.handleRevoke)
	mux.HandleFunc("POST "+p.basePath+pathIntrospect, p.handleIntrospect)
	mux.HandleFunc("POST "+p.basePath+pathPAR, p.handlePAR)
}

// ProtocolPaths lists the paths RegisterProtocol mounts, for the server's
// routing between the browser and protocol muxes.
func (p *Provider) ProtocolPaths() []string {
	var out []string
	for _, s := range []string{pathDiscovery, pathJWKS, pathToken, pathUserinfo, pathRevoke, pathIntrospect, pathPAR} {
		out = append(out, p.basePath+s)
	}
	return out
}

func (p *Provider) url(path string) string { return p.issuer + path }

// record writes a security event to the audit log, if there is one. A
// failure to record is logged and does not fail the request: the event is
// also in the logs.
func (p *Provider) record(ctx context.Context, e audit.Event) {
	if p.audit == nil {
		return
	}
	if err := p.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		p.log.ErrorContext(ctx, "audit", "event", e.Type, "err", err)
	}
}
