package oidc

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/territoires-ouverts/tno/internal/authflow"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

func messagePage(status int, title, msg, detail string) web.MessagePage {
	return web.MessagePage{Status: status, TitleKey: title, MessageKey: msg, Detail: detail}
}

// protocol is the name of the OpenID Connect front end of the sign-in
// engine.
const protocol = "oidc"

// signInRequest is what the sign-in engine needs from an authorization
// request.
func signInRequest(req storage.AuthRequest) authflow.Request {
	claims, _ := parseClaimsRequest(req.Claims) // validated at the authorization endpoint
	acr := acrRequirementOf(req.ACRValues, claims)
	return authflow.Request{
		Protocol: protocol, ProtocolRef: req.ID, ClientID: req.ClientID,
		Prompt: strings.Fields(req.Prompt), MaxAge: req.MaxAge,
		Essential: acr.essential, Preferred: acr.preferred, Scopes: strings.Fields(req.Scope),
		LoginHint: req.LoginHint, SiretHint: req.SiretHint, SPName: req.SPName,
	}
}

// pendingRequest returns the authorization request a sign-in was started
// for and its application, or renders the "expired" page.
func (p *Provider) pendingRequest(w http.ResponseWriter, r *http.Request, id string) (storage.Application, storage.AuthRequest, bool) {
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
	app, err := p.store.GetApplicationByClientID(r.Context(), req.ClientID)
	if err != nil || app.Disabled {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.invalid_client", ""))
		return storage.Application{}, storage.AuthRequest{}, false
	}
	return app, req, true
}

// frontend is the provider's side of the sign-in engine: a finished
// sign-in becomes an authorization code, a failed one an error response
// to the redirect URI.
type frontend struct{ p *Provider }

func (f frontend) Complete(w http.ResponseWriter, r *http.Request, res authflow.Result) {
	app, req, ok := f.p.pendingRequest(w, r, res.SignIn.ProtocolRef)
	if !ok {
		return
	}
	f.p.issueCode(w, r, app, req, res.Session, res.Membership)
}

func (f frontend) Fail(w http.ResponseWriter, r *http.Request, s storage.SignIn, fl authflow.Failure) {
	_, req, ok := f.p.pendingRequest(w, r, s.ProtocolRef)
	if !ok {
		return
	}
	f.p.finishWithError(w, r, req, failureError(fl))
}

// failureError is the OAuth error response of a failed sign-in.
func failureError(fl authflow.Failure) *oauthError {
	switch fl.Code {
	case authflow.FailLoginRequired:
		return errLoginRequired(fl.Description)
	case authflow.FailConsentRequired:
		return errConsentRequired(fl.Description)
	case authflow.FailAccessDenied:
		return errAccessDenied(fl.Description)
	case authflow.FailUnmetAuthnRequired:
		return errUnmetAuthentication(fl.Description)
	}
	// account_selection_required and any code a later step adds: the
	// engine names them as OpenID Connect does.
	return &oauthError{fl.Code, fl.Description}
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
