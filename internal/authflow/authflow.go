package authflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/directory"
	"github.com/territoires-ouverts/tno/internal/factor/passkey"
	"github.com/territoires-ouverts/tno/internal/logout"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/throttle"
	"github.com/territoires-ouverts/tno/internal/web"
)

// Paths of the engine's pages, relative to the issuer.
const (
	PathLogin    = "/login"
	PathFactor   = "/login/factor"
	PathSelect   = "/select"
	PathConsent  = "/consent"
	PathPassword = "/password"
)

// Prompt values (OpenID Connect Core §3.1.2.1), which every protocol's
// front end maps its own onto.
const (
	PromptNone          = "none"
	PromptLogin         = "login"
	PromptConsent       = "consent"
	PromptSelectAccount = "select_account"
)

// Failure codes, as OpenID Connect names them; other protocols map them.
const (
	FailLoginRequired      = "login_required"
	FailConsentRequired    = "consent_required"
	FailAccountSelection   = "account_selection_required"
	FailAccessDenied       = "access_denied"
	FailUnmetAuthnRequired = "unmet_authentication_requirements"
)

// Request is what a protocol front end needs from a sign-in.
type Request struct {
	// Protocol names the registered Frontend that receives the outcome;
	// ProtocolRef is that front end's own pending request.
	Protocol    string `json:"protocol"`
	ProtocolRef string `json:"ref,omitempty"`
	// ClientID is the application signed into; "" signs into TNO itself
	// (the person's own pages): no membership, no consent.
	ClientID string `json:"client_id,omitempty"`
	// Prompt holds Prompt* values.
	Prompt []string `json:"prompt,omitempty"`
	// MaxAge, if set, is the longest time in seconds since the person
	// last proved who they are.
	MaxAge *int `json:"max_age,omitempty"`
	// Levels asked: Essential ones must be met (else the sign-in fails
	// with unmet_authentication_requirements), Preferred ones are reached
	// if the person can.
	Essential []string `json:"essential,omitempty"`
	Preferred []string `json:"preferred,omitempty"`
	// Scopes is what the consent covers.
	Scopes []string `json:"scopes,omitempty"`
	// Hints: the identifier to pre-fill (login_hint), the SIRET of the
	// organization to act for (siret_hint), the service a federation
	// signs the person into (sp_name).
	LoginHint string `json:"login_hint,omitempty"`
	SiretHint string `json:"siret_hint,omitempty"`
	SPName    string `json:"sp_name,omitempty"`
}

func (q Request) has(prompt string) bool { return slices.Contains(q.Prompt, prompt) }

// Result is a successful sign-in, handed to the front end.
type Result struct {
	Session    storage.Session // its ACR, AMR and AuthTime are the sign-in's
	Membership storage.Membership
	// SignIn is the finished transaction (already deleted).
	SignIn storage.SignIn
}

// Failure is a sign-in that cannot go on without the person (prompt=none)
// or that the person refused. Code is a Fail* value.
type Failure struct {
	Code        string
	Description string
}

// Frontend is a protocol's side of the engine.
type Frontend interface {
	// Complete answers the protocol's request with a sign-in.
	Complete(w http.ResponseWriter, r *http.Request, res Result)
	// Fail answers it with an error.
	Fail(w http.ResponseWriter, r *http.Request, s storage.SignIn, f Failure)
}

// Store is what the engine needs from storage.
type Store interface {
	storage.Applications
	storage.Organizations
	storage.People
	storage.Memberships
	storage.Mandates
	storage.AdminRoles
	storage.SignIns
	storage.Factors
	storage.Consents
}

// Renderer renders browser pages (internal/web).
type Renderer interface {
	Render(w http.ResponseWriter, r *http.Request, status int, page any)
	Error(w http.ResponseWriter, r *http.Request, status int, titleKey, messageKey string, cause error)
}

// SessionEnder ends a session and tells its applications (internal/logout).
type SessionEnder interface {
	EndSession(ctx context.Context, sessionID, reason string) (logout.Ended, error)
}

// Options configures an Engine.
type Options struct {
	Issuer    string
	Store     Store
	Sessions  *session.Manager
	Passwords directory.PasswordAuthenticator
	Renderer  Renderer
	Logout    SessionEnder // nil ends sessions without notifying applications
	Audit     audit.Recorder
	Logger    *slog.Logger
	Now       func() time.Time
	// Lifetime of a pending sign-in, default 30 minutes.
	Lifetime time.Duration
	// TOTPIssuer names the deployment in authenticator apps (the
	// territory's name).
	TOTPIssuer string
	// Throttle limits password and code guessing (nil: no limit, for
	// tests of other things).
	Throttle *throttle.Limiter
	// Eligible returns the memberships of ms that may use app at now.
	Eligible func(app storage.Application, ms []storage.Membership, now time.Time) []storage.Membership
}

// Engine runs sign-ins.
type Engine struct {
	store      Store
	sessions   *session.Manager
	pw         directory.PasswordAuthenticator
	web        Renderer
	logout     SessionEnder
	audit      audit.Recorder
	log        *slog.Logger
	now        func() time.Time
	ttl        time.Duration
	basePath   string
	totpIssuer string
	eligible   func(storage.Application, []storage.Membership, time.Time) []storage.Membership
	limiter    *throttle.Limiter
	passkeys   *passkey.Service // nil: passkeys off (an issuer on an IP address, or plain http outside localhost)
	frontends  map[string]Frontend
	reset      *resetConfig // « Mot de passe oublié » (EnableReset), nil if off
}

// New returns an Engine with the built-in "local" front end (sign-ins to
// TNO's own pages, StartLocal).
func New(opts Options) (*Engine, error) {
	if opts.Store == nil || opts.Sessions == nil || opts.Passwords == nil || opts.Renderer == nil || opts.Eligible == nil {
		return nil, errors.New("authflow: missing dependency")
	}
	u, err := url.Parse(opts.Issuer)
	if err != nil || !u.IsAbs() {
		return nil, errors.New("authflow: issuer must be an absolute URL")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Lifetime <= 0 {
		opts.Lifetime = 30 * time.Minute
	}
	if opts.TOTPIssuer == "" {
		opts.TOTPIssuer = "TNO"
	}
	e := &Engine{
		store: opts.Store, sessions: opts.Sessions, pw: opts.Passwords, web: opts.Renderer,
		logout: opts.Logout, audit: opts.Audit, log: opts.Logger, now: opts.Now, ttl: opts.Lifetime,
		basePath: strings.TrimSuffix(u.Path, "/"), totpIssuer: strings.ReplaceAll(opts.TOTPIssuer, ":", " "),
		eligible: opts.Eligible, limiter: opts.Throttle, frontends: map[string]Frontend{},
	}
	e.frontends[protocolLocal] = localFrontend{e}
	if rpID, origin, ok := passkeysFor(u.Host, u.Scheme); ok {
		svc, err := passkey.New(passkey.Config{RPID: rpID, RPName: e.totpIssuer, Origins: []string{origin}, Now: opts.Now})
		if err != nil {
			e.log.Info("passkeys off", "issuer", opts.Issuer, "reason", err)
		} else {
			e.passkeys = svc
		}
	} else {
		e.log.Info("passkeys off: the issuer's host is an IP address (use a host name, such as localhost)", "issuer", opts.Issuer)
	}
	return e, nil
}

// Register makes f receive the outcome of the sign-ins started with
// Request.Protocol = protocol.
func (e *Engine) Register(protocol string, f Frontend) { e.frontends[protocol] = f }

// RegisterBrowser mounts the engine's pages.
func (e *Engine) RegisterBrowser(mux *http.ServeMux) {
	mux.HandleFunc("GET "+e.basePath+PathLogin, e.handleLoginPage)
	mux.HandleFunc("POST "+e.basePath+PathLogin, e.handleLoginSubmit)
	mux.HandleFunc("POST "+e.basePath+PathFactor, e.handleFactorSubmit)
	mux.HandleFunc("POST "+e.basePath+PathPasskey, e.handlePasskey)
	mux.HandleFunc("POST "+e.basePath+PathEnrol, e.handleSignInEnrol)
	mux.HandleFunc("POST "+e.basePath+PathEnrolPasskey, e.handleSignInPasskeyEnrol)
	mux.HandleFunc("POST "+e.basePath+PathPassword, e.handlePasswordChange)
	mux.HandleFunc("GET "+e.basePath+PathSelect, e.handleSelectPage)
	mux.HandleFunc("POST "+e.basePath+PathSelect, e.handleSelectSubmit)
	mux.HandleFunc("GET "+e.basePath+PathConsent, e.handleConsentPage)
	mux.HandleFunc("POST "+e.basePath+PathConsent, e.handleConsentSubmit)
	e.registerSecurity(mux)
	e.registerReset(mux)
}

// proof is one factor proven during the sign-in.
type proof struct {
	Method string    `json:"m"` // session.AMR* value
	At     time.Time `json:"at"`
}

// state is a transaction's data (storage.SignIn.Data).
type state struct {
	Req Request `json:"req"`
	// Identifier is what the person typed on the first page.
	Identifier string `json:"identifier,omitempty"`
	// PersonID is set once a first factor is proven (Proofs) and until
	// the session opens or is upgraded; StepUp means the proofs add to
	// the browser's session (of that person) instead of opening one.
	PersonID string  `json:"person,omitempty"`
	Proofs   []proof `json:"proofs,omitempty"`
	StepUp   bool    `json:"step_up,omitempty"`
	// MustChange: the password proven was set by someone else; a new one
	// is chosen before any session opens.
	MustChange bool `json:"must_change,omitempty"`
	// Passkey is the state of the passkey ceremony the last page started
	// (used once).
	Passkey []byte `json:"passkey,omitempty"`
	// Failures counts the wrong second-factor codes of this sign-in.
	Failures int `json:"failures,omitempty"`
	// Enrol holds the TOTP secret being enrolled (base32) when a policy
	// requires a second factor the person does not have yet; Recovery
	// holds the recovery codes to show once after enrolment.
	Enrol    string   `json:"enrol,omitempty"`
	Recovery []string `json:"recovery,omitempty"`
	// MembershipID is the membership chosen, Consented the consent given.
	MembershipID string `json:"membership,omitempty"`
	Consented    bool   `json:"consented,omitempty"`
}

// txn is a loaded transaction. A sign-in that Start finishes at once
// (single sign-on) is never stored: stored is false until a page needs
// it (save, redirect).
type txn struct {
	storage.SignIn
	st     state
	stored bool
}

// maxState bounds what one transaction stores: a request is a few
// hundred bytes; the front end already bounds its own parameters.
const maxState = 8 << 10

// Start begins a sign-in for req in this browser (binding the
// transaction to it) and carries it as far as it goes without the person:
// an open session that meets req goes straight to the front end.
func (e *Engine) Start(w http.ResponseWriter, r *http.Request, req Request) {
	if _, ok := e.frontends[req.Protocol]; !ok {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", fmt.Errorf("authflow: no front end %q", req.Protocol))
		return
	}
	hash, err := e.sessions.Bind(w, r)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	t := &txn{st: state{Req: req}}
	data, err := json.Marshal(t.st)
	if err != nil || len(data) > maxState {
		e.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", "request too large"))
		return
	}
	now := e.now().UTC()
	t.SignIn = storage.SignIn{
		ID: storage.NewID(), BrowserHash: hash, Source: remoteHost(r), Protocol: req.Protocol, ProtocolRef: req.ProtocolRef,
		ClientID: req.ClientID, Data: data, CreatedAt: now, ExpiresAt: now.Add(e.ttl),
	}
	e.next(w, r, t)
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func messagePage(status int, title, msg, detail string) web.MessagePage {
	return web.MessagePage{Status: status, TitleKey: title, MessageKey: msg, Detail: detail}
}

// load returns the pending sign-in id of this browser, or renders the
// page that says why not and returns ok=false.
func (e *Engine) load(w http.ResponseWriter, r *http.Request, id string) (*txn, bool) {
	if id == "" || len(id) > 64 {
		e.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.expired", ""))
		return nil, false
	}
	s, err := e.store.GetSignIn(r.Context(), id)
	if err == nil && !e.now().Before(s.ExpiresAt) {
		err = storage.ErrNotFound
	}
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		} else {
			e.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.expired", ""))
		}
		return nil, false
	}
	if !e.sessions.Bound(r, s.BrowserHash) {
		// A link to someone's pending sign-in, opened in another browser:
		// continuing it would sign this browser in and send the result to
		// the application with the other person's state. The transaction
		// stays for the browser that started it.
		e.log.InfoContext(r.Context(), "sign-in from another browser", "client_id", s.ClientID)
		e.record(r.Context(), audit.Event{Type: audit.SignInOtherBrowser, ClientID: s.ClientID})
		e.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.other_browser", ""))
		return nil, false
	}
	t := &txn{SignIn: s, stored: true}
	if err := json.Unmarshal(s.Data, &t.st); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", fmt.Errorf("authflow: sign-in %s: %w", s.ID, err))
		return nil, false
	}
	return t, true
}

// save stores the transaction's state.
func (e *Engine) save(ctx context.Context, t *txn) error {
	data, err := json.Marshal(t.st)
	if err != nil {
		return err
	}
	if len(data) > maxState {
		return fmt.Errorf("authflow: sign-in state of %d bytes", len(data))
	}
	t.Data = data
	if !t.stored {
		if err := e.store.CreateSignIn(ctx, &t.SignIn); err != nil {
			return err
		}
		t.stored = true
		return nil
	}
	return e.store.UpdateSignIn(ctx, t.ID, data)
}

// forget deletes the transaction, if it was stored.
func (e *Engine) forget(ctx context.Context, t *txn) {
	if !t.stored {
		return
	}
	if err := e.store.DeleteSignIn(ctx, t.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		e.log.WarnContext(ctx, "delete sign-in", "err", err)
	}
	t.stored = false
}

// application returns the transaction's application (ok=false with an
// error page when it is gone or disabled), the zero value for a sign-in
// to TNO itself.
func (e *Engine) application(w http.ResponseWriter, r *http.Request, t *txn) (storage.Application, bool) {
	if t.ClientID == "" {
		return storage.Application{}, true
	}
	app, err := e.store.GetApplicationByClientID(r.Context(), t.ClientID)
	if err != nil || app.Disabled {
		e.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.invalid_client", ""))
		return app, false
	}
	return app, true
}

// appName is what the pages call the application signed into ("" for
// TNO itself: the page names the product).
func appName(app storage.Application) string { return app.Name }

// record writes a security event to the audit log, if there is one.
func (e *Engine) record(ctx context.Context, ev audit.Event) {
	if e.audit == nil {
		return
	}
	if err := e.audit.Record(context.WithoutCancel(ctx), ev); err != nil {
		e.log.ErrorContext(ctx, "audit", "event", ev.Type, "err", err)
	}
}

// fail ends the transaction and hands the failure to its front end.
func (e *Engine) fail(w http.ResponseWriter, r *http.Request, t *txn, code, description string) {
	e.forget(r.Context(), t)
	e.frontends[t.Protocol].Fail(w, r, t.SignIn, Failure{Code: code, Description: description})
}

// redirect sends the browser to one of the engine's pages for t.
func (e *Engine) redirect(w http.ResponseWriter, r *http.Request, path string, t *txn, extra ...string) {
	if !t.stored {
		if err := e.save(r.Context(), t); err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
	}
	q := url.Values{web.FieldRequest: {t.ID}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	http.Redirect(w, r, e.basePath+path+"?"+q.Encode(), http.StatusSeeOther)
}

// Session returns the browser's session if it is valid and its person
// may sign in (TNO's own pages: the console, the portal).
func (e *Engine) Session(w http.ResponseWriter, r *http.Request) (storage.Session, bool, error) {
	return e.currentSession(w, r)
}

// currentSession returns the browser's session if it is valid and its
// person still active (a disabled person's session ends here).
func (e *Engine) currentSession(w http.ResponseWriter, r *http.Request) (storage.Session, bool, error) {
	ctx := r.Context()
	sess, ok, err := e.sessions.Current(ctx, r)
	if err != nil || !ok {
		return sess, false, err
	}
	person, err := e.store.GetPerson(ctx, sess.PersonID)
	if err != nil || person.Disabled {
		e.endCurrentSession(ctx, w, r, logout.ReasonPersonDisabled)
		return storage.Session{}, false, nil
	}
	return sess, true, nil
}

// endCurrentSession ends the browser's session, if any, telling its
// applications.
func (e *Engine) endCurrentSession(ctx context.Context, w http.ResponseWriter, r *http.Request, reason string) {
	if e.logout != nil {
		sess, ok, err := e.sessions.Current(ctx, r)
		if err == nil && ok {
			_, err = e.logout.EndSession(ctx, sess.ID, reason)
		}
		if err != nil {
			e.log.WarnContext(ctx, "end previous session", "reason", reason, "err", err)
		}
	}
	if err := e.sessions.End(ctx, w, r); err != nil {
		e.log.WarnContext(ctx, "end previous session", "reason", reason, "err", err)
	}
}

// needsLogin reports whether the request demands a fresh sign-in given
// the session's authentication time.
func needsLogin(t *txn, s storage.Session, now time.Time) bool {
	freshSinceRequest := !s.AuthTime.Before(t.CreatedAt)
	if t.st.Req.has(PromptLogin) && !freshSinceRequest {
		return true
	}
	if m := t.st.Req.MaxAge; m != nil {
		if *m == 0 {
			return !freshSinceRequest
		}
		if int64(*m) > int64((1<<63-1)/time.Second) {
			return false // longer than any session can live
		}
		return now.Sub(s.AuthTime) > time.Duration(*m)*time.Second
	}
	return false
}

// next carries a transaction forward to its next step: the page it needs,
// or the front end when it is done.
func (e *Engine) next(w http.ResponseWriter, r *http.Request, t *txn) {
	if t.st.PersonID != "" {
		// Part-way through proving who they are (a password proven, a
		// second factor or a new password due).
		e.continueAuthentication(w, r, t)
		return
	}
	sess, ok, err := e.currentSession(w, r)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if !ok || needsLogin(t, sess, e.now()) {
		if t.st.Req.has(PromptNone) {
			e.fail(w, r, t, FailLoginRequired, "the person must sign in")
			return
		}
		e.redirect(w, r, PathLogin, t)
		return
	}
	e.proceed(w, r, t, sess)
}

// done ends the transaction and hands the sign-in to its front end.
func (e *Engine) done(w http.ResponseWriter, r *http.Request, t *txn, sess storage.Session, m storage.Membership) {
	e.forget(r.Context(), t)
	e.frontends[t.Protocol].Complete(w, r, Result{Session: sess, Membership: m, SignIn: t.SignIn})
}

// personName is how pages name a person: given name and usual name (or
// family name), else the username.
func personName(p storage.Person) string {
	family := p.UsualName
	if family == "" {
		family = p.FamilyName
	}
	if n := strings.TrimSpace(p.GivenName + " " + family); n != "" {
		return n
	}
	return p.Username
}
