package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/logout"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// SessionEnder ends a session and notifies the applications it signed
// into (internal/logout.Service): back-channel notifications are its
// business; the front-channel ones it returns are rendered here.
type SessionEnder interface {
	EndSession(ctx context.Context, sessionID, reason string) (logout.Ended, error)
}

// logoutParams are the end_session parameters read (OpenID Connect
// RP-Initiated Logout 1.0 section 2); each may appear once. logout_hint
// is accepted and unused: only the browser's own session is ended.
var logoutParams = []string{"id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales", "logout_hint"}

// logoutRequest is a validated sign-out request.
type logoutRequest struct {
	app       storage.Application // the requesting application, zero if none named
	hint      *idTokenHint        // verified id_token_hint, nil if none
	redirect  string              // registered post_logout_redirect_uri, "" if none
	state     string
	uiLocales string
}

// logoutError is why a sign-out request is refused: an error page, never
// a redirect, and the session is not ended.
type logoutError struct {
	messageKey string
	detail     string // safe, for the page
	cause      error  // internal, logged; set for server errors only
}

// parseLogout validates an RP-Initiated Logout request. The application is
// the id_token_hint's audience or client_id (they must agree); a
// post_logout_redirect_uri must exactly match one that application
// registered.
func (p *Provider) parseLogout(ctx context.Context, form url.Values) (logoutRequest, *logoutError) {
	for _, k := range logoutParams {
		if len(form[k]) > 1 {
			return logoutRequest{}, &logoutError{messageKey: "error.bad_request", detail: k + " is repeated"}
		}
	}
	req := logoutRequest{
		redirect: form.Get("post_logout_redirect_uri"), state: form.Get("state"),
		uiLocales: form.Get("ui_locales"),
	}
	if len(req.state) > 2048 || len(form.Get("logout_hint")) > 256 {
		return req, &logoutError{messageKey: "error.bad_request", detail: "state or logout_hint is too long"}
	}
	clientID := form.Get("client_id")
	if raw := form.Get("id_token_hint"); raw != "" {
		h, err := p.verifyIDTokenHint(ctx, raw)
		if err != nil {
			if errors.Is(err, errInvalidHint) {
				p.log.InfoContext(ctx, "logout: id_token_hint refused", "err", err)
				return req, &logoutError{messageKey: "error.invalid_logout_request", detail: "id_token_hint is not a valid ID token from this provider"}
			}
			return req, &logoutError{messageKey: "error.generic", cause: err}
		}
		if clientID != "" && clientID != h.ClientID {
			return req, &logoutError{messageKey: "error.invalid_logout_request", detail: "client_id does not match the id_token_hint"}
		}
		clientID, req.hint = h.ClientID, &h
	}
	if clientID != "" {
		app, err := p.store.GetApplicationByClientID(ctx, clientID)
		switch {
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			return req, &logoutError{messageKey: "error.generic", cause: err}
		case err != nil || app.Disabled:
			return req, &logoutError{messageKey: "error.invalid_client"}
		}
		req.app = app
	}
	if req.redirect != "" {
		switch {
		case req.app.ClientID == "":
			return req, &logoutError{messageKey: "error.invalid_logout_request", detail: "post_logout_redirect_uri needs client_id or id_token_hint"}
		case !apps.PostLogoutRedirectURIAllowed(req.app, req.redirect):
			return req, &logoutError{messageKey: "error.invalid_post_logout_redirect_uri"}
		}
	}
	return req, nil
}

// logoutForm reads the request's parameters: the query for GET, the
// body for POST. It renders the error page and returns false on failure.
func (p *Provider) logoutForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", "malformed request"))
		return nil, false
	}
	if r.Method == http.MethodPost {
		return r.PostForm, true
	}
	return r.Form, true
}

func (p *Provider) logoutRefused(w http.ResponseWriter, r *http.Request, e *logoutError) {
	if e.cause != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", e.messageKey, e.cause)
		return
	}
	p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", e.messageKey, e.detail))
}

// handleEndSession is the end_session endpoint: GET, or POST from a
// relying party's page (cross-site, so it is answered with the same
// request as a GET). It never ends a session on the request alone unless
// it carries an id_token_hint issued in that very session: otherwise any
// site could sign the person out (logout CSRF), so the person confirms on
// a page whose form posts, same-origin only, to handleEndSessionConfirm.
func (p *Provider) handleEndSession(w http.ResponseWriter, r *http.Request) {
	form, ok := p.logoutForm(w, r)
	if !ok {
		return
	}
	r = withUILocales(r, form.Get("ui_locales"))
	req, lerr := p.parseLogout(r.Context(), form)
	if lerr != nil {
		p.logoutRefused(w, r, lerr)
		return
	}
	if r.Method == http.MethodPost {
		// Browsers do not send the SameSite=Lax session cookie with a
		// cross-site POST; they do with a top-level GET.
		q := url.Values{}
		for _, k := range logoutParams {
			if v := form.Get(k); v != "" {
				q.Set(k, v)
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, p.basePath+pathLogout+"?"+q.Encode(), http.StatusSeeOther)
		return
	}
	sess, ok, err := p.sessions.Current(r.Context(), r)
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if !ok {
		p.endNoSession(w, r, req)
		return
	}
	if req.hint != nil && req.hint.SID != "" && req.hint.SID == sessionSID(sess.ID) {
		p.endSession(w, r, req, sess)
		return
	}
	p.web.Render(w, r, http.StatusOK, web.LogoutConfirmPage{
		AppName: req.app.Name, Action: p.basePath + pathLogoutOK, ClientID: req.app.ClientID,
		PostLogoutRedirectURI: req.redirect, State: req.state, UILocales: req.uiLocales,
	})
}

// handleEndSessionConfirm receives the confirmation form. It is on the
// browser mux, behind cross-origin protection: another site cannot post
// it. The request is validated again.
func (p *Provider) handleEndSessionConfirm(w http.ResponseWriter, r *http.Request) {
	form, ok := p.logoutForm(w, r)
	if !ok {
		return
	}
	r = withUILocales(r, form.Get("ui_locales"))
	req, lerr := p.parseLogout(r.Context(), form)
	if lerr != nil {
		p.logoutRefused(w, r, lerr)
		return
	}
	sess, ok, err := p.sessions.Current(r.Context(), r)
	switch {
	case err != nil:
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
	case !ok: // already signed out, in another tab for instance
		p.endNoSession(w, r, req)
	default:
		p.endSession(w, r, req, sess)
	}
}

// endSession ends the person's session, notifying the applications, and
// shows the result.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request, req logoutRequest, sess storage.Session) {
	ctx := r.Context()
	var frames []logout.Frontchannel
	if p.logout != nil {
		ended, err := p.logout.EndSession(ctx, sess.ID, logout.ReasonRPInitiated)
		if err != nil {
			p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		frames = ended.Frontchannel
	}
	// Clear the cookie; revoke the session too, unless p.logout just did.
	if err := p.sessions.End(ctx, w, r); err != nil {
		if p.logout == nil {
			p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		p.log.WarnContext(ctx, "logout: clear session", "err", err)
	}
	p.log.InfoContext(ctx, "logout", "client_id", req.app.ClientID, "person_id", sess.PersonID, "frontchannel", len(frames))
	p.logoutDone(w, r, req, frames)
}

// endNoSession answers a sign-out request from a browser without a live
// session: nothing to end but a stale cookie.
func (p *Provider) endNoSession(w http.ResponseWriter, r *http.Request, req logoutRequest) {
	if err := p.sessions.End(r.Context(), w, r); err != nil {
		p.log.WarnContext(r.Context(), "logout: clear stale session", "err", err)
	}
	p.logoutDone(w, r, req, nil)
}

// endCurrentSession ends the browser's live session, if any, outside
// the end_session endpoint (a new sign-in, a deactivated account): the
// applications it signed into are notified through the back channel (no
// page is shown for the front channel), and the cookie is cleared.
// Failures are logged: the caller goes on without the session.
func (p *Provider) endCurrentSession(ctx context.Context, w http.ResponseWriter, r *http.Request, reason string) {
	if p.logout != nil {
		sess, ok, err := p.sessions.Current(ctx, r)
		if err == nil && ok {
			_, err = p.logout.EndSession(ctx, sess.ID, reason)
		}
		if err != nil {
			p.log.WarnContext(ctx, "end previous session", "reason", reason, "err", err)
		}
	}
	if err := p.sessions.End(ctx, w, r); err != nil {
		p.log.WarnContext(ctx, "end previous session", "reason", reason, "err", err)
	}
}

// logoutDone sends the browser back to the application (with state)
// when nothing else must load in it; otherwise it shows the logged-out
// page, which loads each front-channel logout URI in an iframe and links
// to the application. Without JavaScript the page cannot tell when the
// iframes have loaded, so it does not redirect by itself.
func (p *Provider) logoutDone(w http.ResponseWriter, r *http.Request, req logoutRequest, frames []logout.Frontchannel) {
	next := ""
	if req.redirect != "" {
		u, err := url.Parse(req.redirect)
		if err != nil { // cannot happen: registered URIs are validated
			p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		if req.state != "" {
			q := u.Query()
			q.Set("state", req.state)
			u.RawQuery = q.Encode()
		}
		next = u.String()
	}
	if next != "" && len(frames) == 0 {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	page := web.LoggedOutPage{ContinueURL: next}
	if next != "" {
		page.ContinueApp = req.app.Name
	}
	urls := make([]string, 0, len(frames))
	for _, f := range frames {
		page.Frames = append(page.Frames, web.LogoutFrame{AppName: f.AppName, URL: f.URL})
		urls = append(urls, f.URL)
	}
	web.AllowFrames(w.Header(), urls...)
	p.web.Render(w, r, http.StatusOK, page)
}

// withUILocales makes the pages of this request follow ui_locales (the
// relying party's view of the person's languages) before their browser's
// Accept-Language; an explicit ?lang= or the language cookie still wins.
func withUILocales(r *http.Request, uiLocales string) *http.Request {
	tags := strings.Fields(uiLocales)
	if len(tags) == 0 {
		return r
	}
	if len(tags) > 8 {
		tags = tags[:8]
	}
	for i, t := range tags {
		tags[i] = strings.Map(func(c rune) rune {
			if c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
				return c
			}
			return -1
		}, t)
	}
	r2 := r.Clone(r.Context())
	al := strings.Join(tags, ", ")
	if prev := r.Header.Get("Accept-Language"); prev != "" {
		al += ", " + prev
	}
	r2.Header.Set("Accept-Language", al)
	return r2
}
