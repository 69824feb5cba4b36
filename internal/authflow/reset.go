package authflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/directory"
	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/mail"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/throttle"
	"github.com/territoires-ouverts/tno/internal/web"
)

// « Mot de passe oublié ». A person with a local password asks for a
// link on PathForgot (linked from the password page) by typing their
// username or e-mail address; the link, sent to the account's address,
// opens PathReset, where they choose a new password under the same policy
// as everywhere else. Then the link and every other link of the person
// stop working, every session of the person ends (the applications are
// told through back-channel logout), and a notice goes to the same
// address.
//
// Nothing tells whether an account exists: PathForgot gives one answer
// to every request, at once. All the work that depends on the account
// (looking it up, creating the link, sending the message) is done after
// the answer, by the engine's mail queue (resetQueue), so that neither
// the page nor its timing differ between known, unknown, disabled and
// throttled identifiers (padding the answer to a fixed time instead
// would have to outlast the slowest SMTP exchange). What the request
// itself does is the same for everyone: read the form, count the attempt
// (throttle keys of the identifier typed, known or not, and of the
// address), queue the job.
//
// A link holds a 256-bit random token; only its SHA-256 is stored.
// Opening it (GET) shows the form without using it, so that mail
// scanners that follow links do not spend it; posting the form consumes
// it atomically (of two submissions, one wins).

// Paths of the reset pages, relative to the issuer.
const (
	PathForgot = "/login/forgot"
	PathReset  = "/login/reset"
)

// ResetLifetime is how long a reset link works, by default.
const ResetLifetime = 30 * time.Minute

const (
	// reasonPasswordReset is the logout reason of the sessions a reset
	// ends.
	reasonPasswordReset = "password_reset"
	// resetAccountPrefix keeps the reset requests' throttle count apart
	// from the same identifier's passwords.
	resetAccountPrefix = "reset:"
	// resetQueue bounds the jobs waiting for the mail queue; past it a
	// request is dropped (and logged): a flood must not grow memory.
	resetQueue = 256
	// resetJobTimeout bounds one job (lookups and one SMTP exchange).
	resetJobTimeout = time.Minute
)

// PersonSessionEnder ends every session of a person and tells their
// applications (internal/logout.Service).
type PersonSessionEnder interface {
	EndPersonSessions(ctx context.Context, personID, reason string) (int, error)
}

// ResetStore is what password reset needs from storage besides the
// engine's Store.
type ResetStore interface {
	storage.PasswordResets
	// GetPasswordHash tells who has a local password: only they get a
	// link.
	GetPasswordHash(ctx context.Context, personID string) (string, error)
}

// ResetOptions configures « Mot de passe oublié » (Engine.EnableReset).
type ResetOptions struct {
	// Issuer is the absolute URL the links in the messages start with
	// (never taken from the request's Host, which a client chooses).
	Issuer string
	// Mail sends the links and the notices. nil offers no form: the page
	// tells people to contact the support.
	Mail     mail.Sender
	Store    ResetStore
	Sessions PersonSessionEnder
	// Territory names the platform in the messages (territory.name).
	Territory string
	// Support tells how to reach help (territory.support), quoted in the
	// messages; may be empty.
	Support string
	// Lifetime of a link; ResetLifetime if 0.
	Lifetime time.Duration
}

// resetConfig is what EnableReset set up.
type resetConfig struct {
	issuer    string
	mail      mail.Sender // nil: no form
	store     ResetStore
	sessions  PersonSessionEnder
	changer   directory.PasswordChanger
	territory string
	support   string
	ttl       time.Duration
	zone      *time.Location // of the times in the messages
	jobs      chan resetJob
}

// resetJob is work done after the answer: ctx carries the request's
// values, not its cancellation.
type resetJob struct {
	ctx context.Context
	run func(ctx context.Context)
}

// EnableReset turns « Mot de passe oublié » on. Call it once, before the
// engine serves requests. Without it (or with opts.Mail nil) PathForgot
// tells people to contact the support.
func (e *Engine) EnableReset(opts ResetOptions) error {
	if opts.Store == nil || opts.Sessions == nil {
		return errors.New("authflow: password reset needs Store and Sessions")
	}
	changer, ok := e.pw.(directory.PasswordChanger)
	if !ok {
		return errors.New("authflow: password reset needs a source that changes passwords")
	}
	u, err := url.Parse(opts.Issuer)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return errors.New("authflow: password reset: issuer must be an absolute URL")
	}
	if opts.Lifetime <= 0 {
		opts.Lifetime = ResetLifetime
	}
	if opts.Territory == "" {
		opts.Territory = "TNO"
	}
	zone, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		zone = time.UTC
	}
	rc := &resetConfig{
		issuer: strings.TrimSuffix(opts.Issuer, "/"), mail: opts.Mail, store: opts.Store, sessions: opts.Sessions,
		changer: changer, territory: opts.Territory, support: opts.Support, ttl: opts.Lifetime, zone: zone,
	}
	if opts.Mail != nil {
		rc.jobs = make(chan resetJob, resetQueue)
		go rc.work()
	}
	e.reset = rc
	return nil
}

// work runs the queued jobs one after the other, in order, for the
// engine's lifetime. One worker is enough for a territory's resets, and
// order keeps a person's messages in the order of their requests.
func (rc *resetConfig) work() {
	for job := range rc.jobs {
		ctx, cancel := context.WithTimeout(job.ctx, resetJobTimeout)
		job.run(ctx)
		cancel()
	}
}

// later queues run for after the answer (nothing without mail); a full
// queue drops it, logged.
func (e *Engine) later(ctx context.Context, run func(ctx context.Context)) {
	if e.reset == nil || e.reset.jobs == nil {
		return
	}
	select {
	case e.reset.jobs <- resetJob{ctx: context.WithoutCancel(ctx), run: run}:
	default:
		e.log.WarnContext(ctx, "password reset: mail queue full, job dropped")
	}
}

func (e *Engine) registerReset(mux *http.ServeMux) {
	mux.HandleFunc("GET "+e.basePath+PathForgot, e.handleForgotPage)
	mux.HandleFunc("POST "+e.basePath+PathForgot, e.handleForgotSubmit)
	mux.HandleFunc("GET "+e.basePath+PathReset, e.handleResetPage)
	mux.HandleFunc("POST "+e.basePath+PathReset, e.handleResetSubmit)
}

func (e *Engine) resetMinutes() int {
	ttl := ResetLifetime
	if e.reset != nil {
		ttl = e.reset.ttl
	}
	return int(math.Ceil(ttl.Minutes()))
}

// boundSignIn returns this browser's pending sign-in id, quietly: ok is
// false for an unknown, expired or other browser's one (the reset pages
// then offer no way back to it).
func (e *Engine) boundSignIn(r *http.Request, id string) (*txn, bool) {
	if id == "" || len(id) > 64 {
		return nil, false
	}
	s, err := e.store.GetSignIn(r.Context(), id)
	if err != nil || !e.now().Before(s.ExpiresAt) || !e.sessions.Bound(r, s.BrowserHash) {
		return nil, false
	}
	t := &txn{SignIn: s}
	if json.Unmarshal(s.Data, &t.st) != nil {
		return nil, false
	}
	return t, true
}

// forgotPage is the request page, tied to the sign-in requestID when it
// is this browser's.
func (e *Engine) forgotPage(r *http.Request, requestID string) web.ForgotPage {
	page := web.ForgotPage{Action: e.basePath + PathForgot, Minutes: e.resetMinutes()}
	if e.reset == nil || e.reset.mail == nil {
		page.Unavailable = true
	}
	if t, ok := e.boundSignIn(r, requestID); ok {
		page.RequestID, page.BackURL = t.ID, e.basePath+PathLogin+"?"+url.Values{web.FieldRequest: {t.ID}}.Encode()
		page.Identifier = t.st.Identifier
		if page.Identifier == "" {
			page.Identifier = t.st.Req.LoginHint
		}
	}
	return page
}

func (e *Engine) handleForgotPage(w http.ResponseWriter, r *http.Request) {
	e.web.Render(w, r, http.StatusOK, e.forgotPage(r, r.URL.Query().Get(web.FieldRequest)))
}

// handleForgotSubmit takes a request for a link: the same answer, at
// once, whoever the identifier names. The lookup and the message are
// queued (sendResetLink).
func (e *Engine) handleForgotSubmit(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	page := e.forgotPage(r, r.PostForm.Get(web.FieldRequest))
	if page.Unavailable {
		e.web.Render(w, r, http.StatusOK, page)
		return
	}
	identifier := strings.TrimSpace(r.PostForm.Get(web.FieldIdentifier))
	page.Identifier = identifier
	if identifier == "" || len(identifier) > 256 || !utf8.ValidString(identifier) {
		page.ErrorKey = "forgot.identifier_required"
		e.web.Render(w, r, http.StatusBadRequest, page)
		return
	}
	ctx := r.Context()
	a := throttle.Attempt{Account: resetAccountPrefix + local.NormalizeIdentifier(identifier), Address: remoteHost(r)}
	dec, err := e.reserve(ctx, a)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if dec.Allowed {
		lang, requestID := web.Lang(r), page.RequestID
		e.later(ctx, func(ctx context.Context) { e.sendResetLink(ctx, identifier, lang, requestID) })
	} else {
		// The same answer: a refusal tells nothing either.
		e.log.InfoContext(ctx, "password reset throttled", "reason", dec.Reason, "wait", dec.Wait.Round(time.Second))
		e.record(ctx, audit.Event{Type: audit.SignInThrottled, Details: map[string]string{
			"reason": dec.Reason, "what": "reset", "wait_seconds": strconv.Itoa(int(math.Ceil(dec.Wait.Seconds()))),
			"identifier": truncate(identifier, 128),
		}})
	}
	page.Sent = true
	e.web.Render(w, r, http.StatusOK, page)
}

// resetPerson finds the account an identifier names, as sign-in does: a
// username, or the e-mail address of exactly one person.
func (e *Engine) resetPerson(ctx context.Context, identifier string) (storage.Person, error) {
	id := local.NormalizeIdentifier(identifier)
	p, err := e.store.GetPersonByUsername(ctx, id)
	if errors.Is(err, storage.ErrNotFound) && strings.Contains(id, "@") {
		p, err = e.store.GetPersonByEmail(ctx, id)
	}
	return p, err
}

// hasLocalPassword tells whether TNO keeps the person's password.
func (e *Engine) hasLocalPassword(ctx context.Context, personID string) (bool, error) {
	phc, err := e.reset.store.GetPasswordHash(ctx, personID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil && phc != "", err
}

// sendResetLink is the queued part of a request: it sends a link if the
// identifier names an active person with a local password and an e-mail
// address, and audits what came of it.
func (e *Engine) sendResetLink(ctx context.Context, identifier, lang, requestID string) {
	details := map[string]string{"identifier": truncate(identifier, 128)}
	ev := audit.Event{Type: audit.PasswordResetRequested, Details: details}
	defer func() { e.record(ctx, ev) }()
	person, err := e.resetPerson(ctx, identifier)
	if errors.Is(err, storage.ErrNotFound) {
		details["outcome"] = "unknown"
		return
	}
	if err != nil {
		details["outcome"] = "error"
		e.log.ErrorContext(ctx, "password reset: look up person", "err", err)
		return
	}
	ev.PersonID = person.ID
	switch has, err := e.hasLocalPassword(ctx, person.ID); {
	case err != nil:
		details["outcome"] = "error"
		e.log.ErrorContext(ctx, "password reset: password", "person_id", person.ID, "err", err)
		return
	case person.Disabled:
		details["outcome"] = "disabled"
		return
	case !has:
		details["outcome"] = "no_local_password"
		return
	case person.Email == "":
		details["outcome"] = "no_email"
		return
	}
	token, hash, err := newResetToken()
	if err != nil {
		details["outcome"] = "error"
		e.log.ErrorContext(ctx, "password reset: token", "err", err)
		return
	}
	now := e.now().UTC()
	if err := e.reset.store.CreatePasswordReset(ctx, &storage.PasswordReset{
		TokenHash: hash, PersonID: person.ID, CreatedAt: now, ExpiresAt: now.Add(e.reset.ttl),
	}); err != nil {
		details["outcome"] = "error"
		e.log.ErrorContext(ctx, "password reset: store link", "person_id", person.ID, "err", err)
		return
	}
	q := url.Values{web.FieldToken: {token}}
	if requestID != "" {
		q.Set(web.FieldRequest, requestID)
	}
	link := e.reset.issuer + PathReset + "?" + q.Encode()
	if err := e.reset.mail.Send(ctx, e.resetLinkMessage(lang, person, link)); err != nil {
		details["outcome"] = "send_failed"
		e.log.WarnContext(ctx, "password reset: send link", "person_id", person.ID, "err", err)
		return
	}
	details["outcome"] = "sent"
	e.log.InfoContext(ctx, "password reset link sent", "person_id", person.ID)
}

// The links' tokens: storage.NewLinkToken, shared with the invitations.
func newResetToken() (token, hash string, err error) {
	token, hash = storage.NewLinkToken()
	return token, hash, nil
}

func hashResetToken(token string) string { return storage.HashLinkToken(token) }

func validToken(token string) bool { return storage.ValidLinkToken(token) }

// resetLink returns the live link token opens and its person, or renders
// the page that says the link no longer works and returns ok=false.
func (e *Engine) resetLink(w http.ResponseWriter, r *http.Request, token string) (storage.PasswordReset, storage.Person, bool) {
	invalid := func() (storage.PasswordReset, storage.Person, bool) {
		e.web.Render(w, r, http.StatusBadRequest, web.ResetPage{Invalid: true, ForgotURL: e.basePath + PathForgot})
		return storage.PasswordReset{}, storage.Person{}, false
	}
	failed := func(err error) (storage.PasswordReset, storage.Person, bool) {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return storage.PasswordReset{}, storage.Person{}, false
	}
	if e.reset == nil || !validToken(token) {
		return invalid()
	}
	ctx := r.Context()
	rs, err := e.reset.store.GetPasswordReset(ctx, hashResetToken(token))
	if errors.Is(err, storage.ErrNotFound) {
		return invalid()
	}
	if err != nil {
		return failed(err)
	}
	if !rs.Usable(e.now()) {
		return invalid()
	}
	person, err := e.store.GetPerson(ctx, rs.PersonID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && person.Disabled) {
		return invalid()
	}
	if err != nil {
		return failed(err)
	}
	if rs.Purpose == storage.ResetInvitation {
		return rs, person, true // a new person chooses their first password
	}
	has, err := e.hasLocalPassword(ctx, person.ID)
	if err != nil {
		return failed(err)
	}
	if !has {
		return invalid()
	}
	return rs, person, true
}

func (e *Engine) resetPage(rs storage.PasswordReset, token, requestID string, person storage.Person, errKey string) web.ResetPage {
	return web.ResetPage{
		Action: e.basePath + PathReset, Token: token, RequestID: requestID, Identifier: person.Username,
		MinLength: local.MinPasswordRunes, ErrorKey: errKey, Invitation: rs.Purpose == storage.ResetInvitation,
	}
}

// resetRequestID is the sign-in a link carries, if it has the shape of
// one (it is checked again, against the browser, at the end).
func resetRequestID(id string) string {
	if len(id) > 64 || strings.ContainsFunc(id, func(c rune) bool {
		return !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || c == '-' || c == '_')
	}) {
		return ""
	}
	return id
}

// handleResetPage shows the form of a live link, without using it.
func (e *Engine) handleResetPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := q.Get(web.FieldToken)
	rs, person, ok := e.resetLink(w, r, token)
	if !ok {
		return
	}
	e.web.Render(w, r, http.StatusOK, e.resetPage(rs, token, resetRequestID(q.Get(web.FieldRequest)), person, ""))
}

// handleResetSubmit sets the new password of a live link: it checks the
// policy first (a refused password leaves the link usable), then
// consumes the link, stores the password, deletes the person's other
// links, ends every session of the person and sends the notice.
func (e *Engine) handleResetSubmit(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	token, requestID := r.PostForm.Get(web.FieldToken), resetRequestID(r.PostForm.Get(web.FieldRequest))
	rs, person, ok := e.resetLink(w, r, token)
	if !ok {
		return
	}
	next, confirm := r.PostForm.Get(web.FieldNewPassword), r.PostForm.Get(web.FieldConfirmPassword)
	if next != confirm {
		e.web.Render(w, r, http.StatusBadRequest, e.resetPage(rs, token, requestID, person, "password.mismatch"))
		return
	}
	if err := local.ValidatePassword(next, person.Username, person.Email); err != nil {
		var pe *local.PolicyError
		if errors.As(err, &pe) {
			e.web.Render(w, r, http.StatusBadRequest, e.resetPage(rs, token, requestID, person, pe.Code))
			return
		}
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	ctx := r.Context()
	if _, err := e.reset.store.ConsumePasswordReset(ctx, hashResetToken(token), e.now().UTC()); err != nil {
		if errors.Is(err, storage.ErrNotFound) { // used by a concurrent submission, or just expired
			e.web.Render(w, r, http.StatusBadRequest, web.ResetPage{Invalid: true, ForgotURL: e.basePath + PathForgot})
			return
		}
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if err := e.reset.changer.SetPassword(ctx, person.ID, next); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", fmt.Errorf("password reset: %w", err))
		return
	}
	details := map[string]string{}
	if _, err := e.reset.store.DeletePersonPasswordResets(ctx, person.ID); err != nil {
		e.log.ErrorContext(ctx, "password reset: delete other links", "person_id", person.ID, "err", err)
		details["links_error"] = "true"
	}
	// The sessions end after the password changed: a session opened in
	// between with the old password ends too.
	n, err := e.reset.sessions.EndPersonSessions(ctx, person.ID, reasonPasswordReset)
	details["sessions_ended"] = strconv.Itoa(n)
	if err != nil {
		e.log.ErrorContext(ctx, "password reset: end sessions", "person_id", person.ID, "err", err)
		details["sessions_error"] = "true"
	}
	e.log.InfoContext(ctx, "password reset", "person_id", person.ID, "sessions_ended", n)
	if rs.Purpose == storage.ResetInvitation {
		details["invitation"] = "true"
	}
	e.record(ctx, audit.Event{Type: audit.PasswordReset, PersonID: person.ID, Details: details})
	lang, at := web.Lang(r), e.now()
	if person.Email != "" && rs.Purpose != storage.ResetInvitation {
		e.later(ctx, func(ctx context.Context) {
			if err := e.reset.mail.Send(ctx, e.resetNoticeMessage(lang, person, at)); err != nil {
				e.log.WarnContext(ctx, "password reset: send notice", "person_id", person.ID, "err", err)
			}
		})
	}
	signIn := e.basePath + PathSecurity
	if t, ok := e.boundSignIn(r, requestID); ok {
		signIn = e.basePath + PathLogin + "?" + url.Values{web.FieldRequest: {t.ID}}.Encode()
	}
	e.web.Render(w, r, http.StatusOK, web.ResetDonePage{SignInURL: signIn})
}
