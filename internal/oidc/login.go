package oidc

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"github.com/territoires-ouverts/tno/internal/audit"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/directory"
	"github.com/territoires-ouverts/tno/internal/logout"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

func messagePage(status int, title, msg, detail string) web.MessagePage {
	return web.MessagePage{Status: status, TitleKey: title, MessageKey: msg, Detail: detail}
}

// loadRequest returns a pending authorization request and its
// application, or renders the "expired" page and returns ok=false.
func (p *Provider) loadRequest(w http.ResponseWriter, r *http.Request, id string) (storage.Application, storage.AuthRequest, bool) {
	if id == "" || len(id) > 64 {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.expired", ""))
		return storage.Application{}, storage.AuthRequest{}, false
	}
	req, err := p.store.GetAuthRequest(r.Context(), id)
	if err == nil && !p.now().Before(req.ExpiresAt) {
		err = storage.ErrNotFound
	}
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		} else {
			p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.expired", ""))
		}
		return storage.Application{}, storage.AuthRequest{}, false
	}
	if !p.sessions.Bound(r, req.BrowserHash) {
		// A link to someone's pending sign-in, opened in another browser:
		// continuing it would sign this browser in and send the code to
		// the application with the other person's state. The request stays
		// for the browser that started it.
		p.log.InfoContext(r.Context(), "sign-in request from another browser", "client_id", req.ClientID)
		p.record(r.Context(), audit.Event{Type: audit.SignInOtherBrowser, ClientID: req.ClientID})
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.other_browser", ""))
		return storage.Application{}, storage.AuthRequest{}, false
	}
	app, err := p.store.GetApplicationByClientID(r.Context(), req.ClientID)
	if err != nil || app.Disabled {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.invalid_client", ""))
		return storage.Application{}, storage.AuthRequest{}, false
	}
	return app, req, true
}

// needsLogin reports whether the request demands a fresh sign-in given
// the session's authentication time.
func needsLogin(req storage.AuthRequest, s storage.Session, now time.Time) bool {
	freshSinceRequest := !s.AuthTime.Before(req.CreatedAt)
	if hasPrompt(req.Prompt, "login") && !freshSinceRequest {
		return true
	}
	if req.MaxAge != nil {
		if *req.MaxAge == 0 {
			return !freshSinceRequest
		}
		if int64(*req.MaxAge) > math.MaxInt64/int64(time.Second) {
			return false // longer than any session can live
		}
		return now.Sub(s.AuthTime) > time.Duration(*req.MaxAge)*time.Second
	}
	return false
}

// resume carries an authorization request forward: sign-in, then
// membership choice, then consent, then the code.
func (p *Provider) resume(w http.ResponseWriter, r *http.Request, app storage.Application, req storage.AuthRequest) {
	ctx := r.Context()
	now := p.now()
	sess, ok, err := p.sessions.Current(ctx, r)
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if ok {
		person, err := p.store.GetPerson(ctx, sess.PersonID)
		if err != nil || person.Disabled {
			p.endCurrentSession(ctx, w, r, logout.ReasonPersonDisabled)
			ok = false
		}
	}
	if !ok || needsLogin(req, sess, now) {
		if hasPrompt(req.Prompt, "none") {
			p.finishWithError(w, r, req, errLoginRequired("the person must sign in"))
			return
		}
		http.Redirect(w, r, p.basePath+pathLogin+"?request="+url.QueryEscape(req.ID), http.StatusSeeOther)
		return
	}
	p.chooseMembership(w, r, app, req, sess)
}

// chooseMembership goes on once the person is signed in: the request's
// authentication level requirement is checked first, then the membership
// is chosen: silently when only one is eligible (unless
// prompt=select_account), on the chooser page otherwise.
func (p *Provider) chooseMembership(w http.ResponseWriter, r *http.Request, app storage.Application, req storage.AuthRequest, sess storage.Session) {
	ctx := r.Context()
	if _, ok := releasedACR(req, sess); !ok {
		p.finishWithError(w, r, req, errUnmetAuthentication("the sign-in does not reach the acr level required"))
		return
	}
	eligible, err := p.eligible(r, app, sess.PersonID)
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if m, ok, err := p.hintedMembership(r, req, eligible); err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	} else if ok {
		p.consentOrCode(w, r, app, req, sess, m)
		return
	}
	switch {
	case len(eligible) == 0:
		p.log.InfoContext(ctx, "authorize: no eligible membership", "client_id", app.ClientID, "person_id", sess.PersonID)
		if hasPrompt(req.Prompt, "none") {
			p.finishWithError(w, r, req, errAccessDenied("no membership grants access to this application"))
			return
		}
		_ = p.store.DeleteAuthRequest(ctx, req.ID)
		p.web.Render(w, r, http.StatusForbidden, messagePage(http.StatusForbidden, "refused.title", "refused.message", ""))
	case len(eligible) == 1 && !hasPrompt(req.Prompt, "select_account"):
		p.consentOrCode(w, r, app, req, sess, eligible[0])
	case hasPrompt(req.Prompt, "none"):
		p.finishWithError(w, r, req, &oauthError{"account_selection_required", "the person must choose an organization"})
	default:
		http.Redirect(w, r, p.basePath+pathSelect+"?request="+url.QueryEscape(req.ID), http.StatusSeeOther)
	}
}

// hintedMembership returns the one eligible membership in the
// organization whose SIRET the request's siret_hint names (ProConnect):
// the person acts for it without the chooser. ok=false without a hint,
// with prompt=select_account, or when no (or more than one) eligible
// membership is there.
func (p *Provider) hintedMembership(r *http.Request, req storage.AuthRequest, eligible []storage.Membership) (storage.Membership, bool, error) {
	if req.SiretHint == "" || hasPrompt(req.Prompt, "select_account") || len(eligible) == 0 {
		return storage.Membership{}, false, nil
	}
	var found []storage.Membership
	for _, m := range eligible {
		org, err := p.store.GetOrganization(r.Context(), m.OrgID)
		if err != nil {
			return storage.Membership{}, false, err
		}
		if org.SIRET == req.SiretHint {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		return storage.Membership{}, false, nil
	}
	return found[0], true, nil
}

// releasedACR returns the acr claim a sign-in at the session's level
// releases for req, ok=false if req requires a level it does not reach.
func releasedACR(req storage.AuthRequest, sess storage.Session) (string, bool) {
	claims, _ := parseClaimsRequest(req.Claims) // validated at the authorization endpoint
	return acrRequirementOf(req.ACRValues, claims).release(session.Level(sess.ACR, sess.AMR))
}

func (p *Provider) finishWithError(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, e *oauthError) {
	_ = p.store.DeleteAuthRequest(r.Context(), req.ID)
	p.redirectError(w, r, req, e)
}

func (p *Provider) eligible(r *http.Request, app storage.Application, personID string) ([]storage.Membership, error) {
	ms, err := p.store.ListPersonMemberships(r.Context(), personID)
	if err != nil {
		return nil, err
	}
	return apps.Eligible(app, ms, p.now()), nil
}

func (p *Provider) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	app, req, ok := p.loadRequest(w, r, r.URL.Query().Get("request"))
	if !ok {
		return
	}
	p.web.Render(w, r, http.StatusOK, web.LoginPage{
		AppName: app.Name, ServiceName: req.SPName, Action: p.basePath + pathLogin, RequestID: req.ID, Identifier: req.LoginHint,
	})
}

func (p *Provider) handleLoginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", ""))
		return
	}
	app, req, ok := p.loadRequest(w, r, r.PostForm.Get("request"))
	if !ok {
		return
	}
	retry := web.LoginPage{AppName: app.Name, ServiceName: req.SPName, Action: p.basePath + pathLogin, RequestID: req.ID}
	sess, ok := p.signIn(w, r, app.ClientID, retry)
	if !ok {
		return
	}
	// Continue with the session just created (the request does not carry
	// its cookie yet).
	p.chooseMembership(w, r, app, req, sess)
}

// signIn checks the identifier and password posted and opens a new
// session at level eidas1 (a password). On failure it renders retry
// again, with the identifier and an error (or an error page), and returns
// ok=false. A person who must first choose a new password gets the
// password change page instead, and no session. clientID, if any, is
// logged.
func (p *Provider) signIn(w http.ResponseWriter, r *http.Request, clientID string, retry web.LoginPage) (storage.Session, bool) {
	identifier := strings.TrimSpace(r.PostForm.Get(web.FieldIdentifier))
	password := r.PostForm.Get(web.FieldPassword)
	person, ok := p.checkPassword(w, r, clientID, identifier, password, func() {
		retry.Identifier, retry.ErrorKey = identifier, "login.invalid"
		p.web.Render(w, r, http.StatusUnauthorized, retry)
	})
	if !ok {
		return storage.Session{}, false
	}
	if ch, isChanger := p.pw.(directory.PasswordChanger); isChanger {
		required, err := ch.PasswordChangeRequired(r.Context(), person.ID)
		if err != nil {
			p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return storage.Session{}, false
		}
		if required {
			p.log.InfoContext(r.Context(), "login: password change required", "client_id", clientID, "person_id", person.ID)
			p.web.Render(w, r, http.StatusOK, p.passwordChangePage(retry.RequestID, identifier, ""))
			return storage.Session{}, false
		}
	}
	return p.openSession(w, r, clientID, person)
}

// checkPassword authenticates identifier and password. On a refused
// sign-in it logs, audits (with the identifier typed, never the password)
// and calls refused, which renders the page; on a failure it renders an
// error page.
func (p *Provider) checkPassword(w http.ResponseWriter, r *http.Request, clientID, identifier, password string, refused func()) (storage.Person, bool) {
	person, err := p.pw.Authenticate(r.Context(), identifier, password)
	if err != nil {
		if !errors.Is(err, directory.ErrInvalidCredentials) {
			p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return storage.Person{}, false
		}
		p.log.InfoContext(r.Context(), "login failed", "client_id", clientID)
		// The identifier typed is kept (an administrator needs it to see an
		// attack on an account); the password never is.
		p.record(r.Context(), audit.Event{Type: audit.LoginFailed, ClientID: clientID,
			Details: map[string]string{"identifier": truncate(identifier, 128)}})
		refused()
		return storage.Person{}, false
	}
	return person, true
}

// openSession opens a new session for a person who just proved who they
// are with a password.
func (p *Provider) openSession(w http.ResponseWriter, r *http.Request, clientID string, person storage.Person) (storage.Session, bool) {
	// A new sign-in always gets a new session (no fixation); the
	// applications the previous one signed into are told it ended.
	p.endCurrentSession(r.Context(), w, r, logout.ReasonNewSignIn)
	sess, err := p.sessions.Create(r.Context(), w, person.ID, []string{"pwd"}, session.ACREidas1)
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return storage.Session{}, false
	}
	p.log.InfoContext(r.Context(), "login", "client_id", clientID, "person_id", person.ID)
	p.record(r.Context(), audit.Event{Type: audit.LoginSucceeded, PersonID: person.ID, ClientID: clientID, SessionID: sess.ID})
	return sess, true
}

func (p *Provider) chooserPage(r *http.Request, app storage.Application, req storage.AuthRequest, sess storage.Session, eligible []storage.Membership, errKey string) (web.ChooserPage, error) {
	page := web.ChooserPage{AppName: app.Name, Action: p.basePath + pathSelect, RequestID: req.ID, ErrorKey: errKey}
	who, err := p.signedInAs(r, sess, req)
	if err != nil {
		return page, err
	}
	page.Who = who
	for _, m := range eligible {
		org, err := p.store.GetOrganization(r.Context(), m.OrgID)
		if err != nil {
			return page, err
		}
		opt := web.ChooserOption{ID: m.ID, OrgName: org.Name, Kind: m.Kind, Service: m.Service, Title: m.Title}
		if m.Kind == storage.KindElu {
			mds, err := p.store.ListMandates(r.Context(), m.OrgID, m.ID)
			if err != nil {
				return page, err
			}
			var fns []string
			for _, md := range mds {
				if md.ActiveAt(p.now()) {
					fns = append(fns, md.Function)
				}
			}
			opt.Mandate = strings.Join(fns, ", ")
		}
		page.Options = append(page.Options, opt)
	}
	return page, nil
}

// sessionForChooser loads what the chooser needs, or redirects to login.
func (p *Provider) sessionForChooser(w http.ResponseWriter, r *http.Request, id string) (storage.Application, storage.AuthRequest, storage.Session, []storage.Membership, bool) {
	app, req, ok := p.loadRequest(w, r, id)
	if !ok {
		return app, req, storage.Session{}, nil, false
	}
	sess, ok, err := p.sessions.Current(r.Context(), r)
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return app, req, sess, nil, false
	}
	if !ok || needsLogin(req, sess, p.now()) {
		http.Redirect(w, r, p.basePath+pathLogin+"?request="+url.QueryEscape(req.ID), http.StatusSeeOther)
		return app, req, sess, nil, false
	}
	eligible, err := p.eligible(r, app, sess.PersonID)
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return app, req, sess, nil, false
	}
	if len(eligible) == 0 {
		_ = p.store.DeleteAuthRequest(r.Context(), req.ID)
		p.web.Render(w, r, http.StatusForbidden, messagePage(http.StatusForbidden, "refused.title", "refused.message", ""))
		return app, req, sess, nil, false
	}
	return app, req, sess, eligible, true
}

func (p *Provider) handleSelectPage(w http.ResponseWriter, r *http.Request) {
	app, req, sess, eligible, ok := p.sessionForChooser(w, r, r.URL.Query().Get("request"))
	if !ok {
		return
	}
	page, err := p.chooserPage(r, app, req, sess, eligible, "")
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	p.web.Render(w, r, http.StatusOK, page)
}

func (p *Provider) handleSelectSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", ""))
		return
	}
	app, req, sess, eligible, ok := p.sessionForChooser(w, r, r.PostForm.Get("request"))
	if !ok {
		return
	}
	choice := r.PostForm.Get("membership")
	for _, m := range eligible {
		if m.ID == choice {
			p.consentOrCode(w, r, app, req, sess, m)
			return
		}
	}
	page, err := p.chooserPage(r, app, req, sess, eligible, "chooser.required")
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	p.web.Render(w, r, http.StatusBadRequest, page)
}

// randomToken returns a 256-bit random value, base64url, and its stored
// hash (hex SHA-256).
func randomToken() (value, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	value = base64.RawURLEncoding.EncodeToString(b[:])
	return value, hashToken(value), nil
}

func hashToken(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// issueCode creates the authorization code and sends the browser back to
// the application.
func (p *Provider) issueCode(w http.ResponseWriter, r *http.Request, app storage.Application, req storage.AuthRequest, sess storage.Session, m storage.Membership) {
	code, hash, err := randomToken()
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	acr, ok := releasedACR(req, sess)
	if !ok { // chooseMembership checked it: cannot happen
		p.finishWithError(w, r, req, errUnmetAuthentication("the sign-in does not reach the acr level required"))
		return
	}
	now := p.now().UTC()
	c := storage.AuthCode{
		Hash: hash, ClientID: req.ClientID, PersonID: sess.PersonID, MembershipID: m.ID, SessionID: sess.ID,
		RedirectURI: req.RedirectURI, Scope: req.Scope, Nonce: req.Nonce,
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: req.CodeChallengeMethod, Claims: req.Claims,
		AuthTime: sess.AuthTime, AMR: sess.AMR, ACR: acr, CreatedAt: now, ExpiresAt: now.Add(p.codeTTL),
	}
	// Remember that the session signed into the application, for single
	// logout: its logout token will carry the sid and sub of the ID token.
	// A failure would leave the application out of the notifications:
	// refuse the sign-in instead.
	sub, err := p.subject(r.Context(), app, sess.PersonID)
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	sc := storage.SessionClient{SessionID: sess.ID, ClientID: req.ClientID, SID: sessionSID(sess.ID), Subject: sub, LastAt: now}
	if err := p.store.RecordSessionClient(r.Context(), &sc); err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if err := p.store.CreateAuthCode(r.Context(), &c); err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if err := p.store.DeleteAuthRequest(r.Context(), req.ID); err != nil {
		p.log.WarnContext(r.Context(), "delete authorization request", "err", err)
	}
	p.redirectWith(w, r, req, url.Values{"code": {code}})
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
