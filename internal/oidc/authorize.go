package oidc

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// pkceRE matches a code challenge or verifier: 43-128 unreserved
// characters (RFC 7636 section 4.1).
var pkceRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// authorizeParams is the set of parameters we read; each may appear once.
var authorizeParams = []string{
	"client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "response_mode", "prompt",
	"max_age", "login_hint", "ui_locales", "claims", "acr_values", "request", "request_uri",
	"display", "id_token_hint",
}

// parsedAuthorize is a validated authorization request, or the reason it
// is not: pageErr (shown, never redirected) or redirectErr (sent back to
// the validated redirect URI).
type parsedAuthorize struct {
	app         storage.Application
	req         storage.AuthRequest
	pageTitle   string
	pageMessage string
	pageDetail  string
	redirectErr *oauthError
}

// parseAuthorize validates an authorization request (RFC 6749 section
// 4.1.1, OpenID Connect Core section 3.1.2.1). The client and redirect URI
// are checked first: until both are known-good, nothing is redirected.
func (p *Provider) parseAuthorize(r *http.Request, form url.Values) parsedAuthorize {
	var out parsedAuthorize
	page := func(title, msg, detail string) parsedAuthorize {
		out.pageTitle, out.pageMessage, out.pageDetail = title, msg, detail
		return out
	}
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(form[k]) > 1 {
			return page("error.title", "error.bad_request", k+" is repeated")
		}
	}
	clientID := form.Get("client_id")
	if clientID == "" {
		return page("error.title", "error.invalid_client", "client_id is missing")
	}
	app, err := p.store.GetApplicationByClientID(r.Context(), clientID)
	if err != nil || app.Disabled {
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			p.log.ErrorContext(r.Context(), "authorize: load client", "client_id", clientID, "err", err)
			return page("error.title", "error.generic", "")
		}
		return page("error.title", "error.invalid_client", "")
	}
	redirectURI := form.Get("redirect_uri")
	if redirectURI == "" || !apps.RedirectURIAllowed(app, redirectURI) {
		return page("error.title", "error.invalid_redirect_uri", "")
	}
	out.app = app
	out.req = storage.AuthRequest{
		ClientID: clientID, RedirectURI: redirectURI,
		State: form.Get("state"), Nonce: form.Get("nonce"),
		CodeChallenge: form.Get("code_challenge"), CodeChallengeMethod: form.Get("code_challenge_method"),
		ResponseMode: form.Get("response_mode"), Prompt: form.Get("prompt"),
		LoginHint: form.Get("login_hint"), Claims: form.Get("claims"), ACRValues: form.Get("acr_values"),
	}
	fail := func(e *oauthError) parsedAuthorize {
		out.redirectErr = e
		return out
	}
	for _, k := range authorizeParams {
		if len(form[k]) > 1 {
			return fail(errInvalidRequest(k + " must not be repeated"))
		}
	}
	if form.Has("request") {
		return fail(errRequestNotSupported("request objects are not supported"))
	}
	if form.Has("request_uri") {
		// handleAuthorize takes request_uri apart (pushedAuthorize), and
		// handlePAR refuses it.
		return fail(errInvalidRequest("request_uri comes alone, with client_id only"))
	}
	switch rm := out.req.ResponseMode; rm {
	case "", "query":
		out.req.ResponseMode = "query"
	default:
		return fail(errInvalidRequest("unsupported response_mode " + strconv.Quote(rm)))
	}
	switch rt := form.Get("response_type"); rt {
	case "code":
	case "":
		return fail(errInvalidRequest("response_type is missing"))
	default:
		return fail(errUnsupportedResponse("only response_type=code is supported"))
	}
	scopes := strings.Fields(form.Get("scope"))
	if !slices.Contains(scopes, "openid") {
		return fail(errInvalidScope("the openid scope is required"))
	}
	for _, s := range scopes {
		if !apps.ScopeAllowed(app, s) {
			return fail(errInvalidScope("scope " + strconv.Quote(s) + " is unknown or not allowed for this application"))
		}
	}
	out.req.Scope = strings.Join(dedupe(scopes), " ")
	if e := checkPKCE(app, out.req.CodeChallenge, out.req.CodeChallengeMethod); e != nil {
		return fail(e)
	}
	for _, v := range strings.Fields(out.req.Prompt) {
		switch v {
		case "none", "login":
		case "consent", "select_account":
			// Accepted: first-party applications need no consent; the
			// chooser shows whenever several memberships are eligible.
		default:
			return fail(errInvalidRequest("unsupported prompt value " + strconv.Quote(v)))
		}
	}
	if hasPrompt(out.req.Prompt, "none") && len(strings.Fields(out.req.Prompt)) > 1 {
		return fail(errInvalidRequest("prompt=none cannot be combined with other values"))
	}
	if ma := form.Get("max_age"); ma != "" {
		n, err := strconv.Atoi(ma)
		if err != nil || n < 0 {
			return fail(errInvalidRequest("max_age must be a non-negative integer"))
		}
		out.req.MaxAge = &n
	}
	if len(out.req.State) > 2048 || len(out.req.Nonce) > 2048 || len(out.req.LoginHint) > 256 {
		return fail(errInvalidRequest("state, nonce or login_hint is too long"))
	}
	return out
}

// checkPKCE applies RFC 7636 with S256 only: mandatory for public
// clients, optional for confidential ones.
func checkPKCE(app storage.Application, challenge, method string) *oauthError {
	switch {
	case challenge == "" && method != "":
		return errInvalidRequest("code_challenge_method without code_challenge")
	case challenge == "" && app.ClientType == storage.ClientPublic:
		return errInvalidRequest("PKCE is required for public clients: send code_challenge with code_challenge_method=S256")
	case challenge == "":
		return nil
	case method != "S256":
		return errInvalidRequest("code_challenge_method must be S256 (plain is not allowed)")
	case !pkceRE.MatchString(challenge):
		return errInvalidRequest("code_challenge must be 43-128 characters of [A-Za-z0-9._~-]")
	}
	return nil
}

func hasPrompt(prompt, v string) bool { return slices.Contains(strings.Fields(prompt), v) }

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// redirectWith sends the browser to the validated redirect URI with the
// given parameters, plus state and iss (RFC 9207).
func (p *Provider) redirectWith(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, params url.Values) {
	u, err := url.Parse(req.RedirectURI)
	if err != nil { // cannot happen: registered URIs are validated
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if req.State != "" {
		q.Set("state", req.State)
	}
	q.Set("iss", p.issuer)
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, e *oauthError) {
	v := url.Values{"error": {e.Code}}
	if e.Description != "" {
		v.Set("error_description", e.Description)
	}
	p.redirectWith(w, r, req, v)
}

func (p *Provider) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", "malformed request"))
		return
	}
	form := r.Form
	if r.Method == http.MethodPost {
		form = r.PostForm
	}
	if form.Has("request_uri") {
		p.pushedAuthorize(w, r, form)
		return
	}
	p.authorize(w, r, form, false)
}

// authorize validates an authorization request, sent directly or pushed
// first (RFC 9126), stores it and carries it forward.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request, form url.Values, pushed bool) {
	pa := p.parseAuthorize(r, form)
	if pa.pageMessage != "" {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, pa.pageTitle, pa.pageMessage, pa.pageDetail))
		return
	}
	if !pushed && pa.app.Settings.RequirePAR {
		p.redirectError(w, r, pa.req, errInvalidRequest("pushed authorization request required"))
		return
	}
	if pa.redirectErr != nil {
		p.redirectError(w, r, pa.req, pa.redirectErr)
		return
	}
	now := p.now().UTC()
	pa.req.CreatedAt, pa.req.ExpiresAt = now, now.Add(p.requestTTL)
	if err := p.store.CreateAuthRequest(r.Context(), &pa.req); err != nil {
		p.log.ErrorContext(r.Context(), "authorize: store request", "client_id", pa.app.ClientID, "err", err)
		p.redirectError(w, r, pa.req, errServerError("try again later"))
		return
	}
	p.resume(w, r, pa.app, pa.req)
}
