package oidc

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// pkceRE matches a code challenge or verifier: 43-128 unreserved
// characters (RFC 7636 section 4.1).
var pkceRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// siretRE matches a SIRET as ProConnect sends it in siret_hint.
var siretRE = regexp.MustCompile(`^[0-9]{14}$`)

// authorizeParams is the set of parameters we read; each may appear once.
var authorizeParams = []string{
	"client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "response_mode", "prompt",
	"max_age", "login_hint", "ui_locales", "claims", "acr_values", "request", "request_uri",
	"display", "id_token_hint", "sp_name", "siret_hint", "idp_hint",
}

// parsedAuthorize is a validated authorization request, or the reason it
// is not: pageErr (shown, never redirected) or redirectErr (sent back to
// the validated redirect URI).
type parsedAuthorize struct {
	app         storage.Application
	req         storage.AuthRequest
	hintSubject string // sub of a verified id_token_hint, "" if none
	pageTitle   string
	pageMessage string
	pageDetail  string
	redirectErr *oauthError
}

// Response modes (OAuth 2.0 Multiple Response Type Encoding Practices,
// OAuth 2.0 Form Post Response Mode).
const (
	modeQuery    = "query"
	modeFormPost = "form_post"
)

// responseModes lists the response modes supported, for discovery.
func responseModes() []string { return []string{modeQuery, modeFormPost} }

// maxACRValuesLength bounds acr_values.
const maxACRValuesLength = 512

// parseAuthorize validates an authorization request (RFC 6749 section
// 4.1.1, OpenID Connect Core section 3.1.2.1). The client and redirect URI
// are checked first: until both are known-good, nothing is redirected.
// The response mode is read next, so that errors are delivered the way
// the application asked (form_post included) whenever it asked for a
// mode TNO supports.
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
		ResponseMode: responseMode(form, redirectURI), Prompt: form.Get("prompt"),
		LoginHint: form.Get("login_hint"), Claims: form.Get("claims"), ACRValues: form.Get("acr_values"),
		SPName: strings.TrimSpace(form.Get("sp_name")),
	}
	// siret_hint is a hint: a value that is not a SIRET is ignored. So is
	// idp_hint (ProConnect's choice of provider: this one).
	if h := form.Get("siret_hint"); siretRE.MatchString(h) {
		out.req.SiretHint = h
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
	switch rm := form.Get("response_mode"); rm {
	case "", modeQuery:
	case modeFormPost:
		if out.req.ResponseMode != modeFormPost {
			return fail(errInvalidRequest("response_mode=form_post needs an http or https redirect_uri"))
		}
	default:
		return fail(errInvalidRequest("unsupported response_mode '" + rm + "'"))
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
	// Scopes TNO does not know, or does not release to this application,
	// are ignored, never refused (OpenID Connect Core section 3.1.2.1;
	// RFC 6749 section 3.3 lets the grant be narrower than asked): a
	// federation such as ProConnect asks every identity provider for the
	// same list. The token response says what was granted.
	granted := scopes[:0:0]
	for _, s := range dedupe(scopes) {
		if apps.ScopeAllowed(app, s) {
			granted = append(granted, s)
		}
	}
	out.req.Scope = strings.Join(granted, " ")
	if e := checkPKCE(app, out.req.CodeChallenge, out.req.CodeChallengeMethod); e != nil {
		return fail(e)
	}
	if e := checkPrompt(out.req.Prompt); e != nil {
		return fail(e)
	}
	if ma := form.Get("max_age"); ma != "" {
		n, err := strconv.Atoi(ma)
		if err != nil || n < 0 {
			return fail(errInvalidRequest("max_age must be a non-negative integer"))
		}
		out.req.MaxAge = &n
	}
	if len(out.req.State) > 2048 || len(out.req.Nonce) > 2048 || len(out.req.LoginHint) > 256 || len(out.req.ACRValues) > maxACRValuesLength {
		return fail(errInvalidRequest("state, nonce, login_hint or acr_values is too long"))
	}
	if len(out.req.SPName) > 256 || !utf8.ValidString(out.req.SPName) {
		return fail(errInvalidRequest("sp_name must be valid UTF-8 of at most 256 bytes"))
	}
	if storedSize(out.req) > maxStoredRequest {
		return fail(errInvalidRequest("the request is too large: state, nonce and claims together must stay under 4 KiB"))
	}
	claims, err := parseClaimsRequest(out.req.Claims)
	if err != nil {
		return fail(errInvalidRequest("the claims parameter is invalid: " + err.Error()))
	}
	if !acrRequirementOf(out.req.ACRValues, claims).reachable() {
		return fail(errUnmetAuthentication("no acr value required (essential) can be met; supported: " + strings.Join(session.SupportedACRs(), " ")))
	}
	if raw := form.Get("id_token_hint"); raw != "" {
		h, err := p.verifyIDTokenHint(r.Context(), raw)
		switch {
		case errors.Is(err, errInvalidHint):
			p.log.InfoContext(r.Context(), "authorize: id_token_hint refused", "client_id", clientID, "err", err)
			return fail(errInvalidRequest("id_token_hint is not a valid ID token from this provider"))
		case err != nil:
			p.log.ErrorContext(r.Context(), "authorize: verify id_token_hint", "client_id", clientID, "err", err)
			return fail(errServerError("try again later"))
		case h.ClientID != clientID:
			return fail(errInvalidRequest("id_token_hint was issued to another client"))
		}
		out.hintSubject = h.Subject
	}
	return out
}

// responseMode is the mode in which to answer a request whose client
// and redirect URI are valid, even if the request is refused: form_post
// when asked for once and the redirect URI is a web address (a form
// cannot post to a native application's private-use scheme), else query.
func responseMode(form url.Values, redirectURI string) string {
	if len(form["response_mode"]) != 1 || form.Get("response_mode") != modeFormPost {
		return modeQuery
	}
	if u, err := url.Parse(redirectURI); err != nil || u.Scheme != "https" && u.Scheme != "http" {
		return modeQuery
	}
	return modeFormPost
}

// promptValues lists the prompt values supported (OpenID Connect Core
// section 3.1.2.1), for discovery.
func promptValues() []string { return []string{"none", "login", "consent", "select_account"} }

// checkPrompt validates the prompt parameter: known values, and none
// alone.
func checkPrompt(prompt string) *oauthError {
	for _, v := range strings.Fields(prompt) {
		if !slices.Contains(promptValues(), v) {
			return errInvalidRequest("unsupported prompt value '" + v + "'")
		}
	}
	if hasPrompt(prompt, "none") && len(strings.Fields(prompt)) > 1 {
		return errInvalidRequest("prompt=none cannot be combined with other values")
	}
	return nil
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

// redirectWith delivers the authorization response params to the
// validated redirect URI, with state and iss (RFC 9207): in the query of
// a redirect, or, for response_mode=form_post, posted by the browser from
// a page of TNO (formPost).
func (p *Provider) redirectWith(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, params url.Values) {
	if req.State != "" {
		params.Set("state", req.State)
	}
	params.Set("iss", p.issuer)
	w.Header().Set("Cache-Control", "no-store")
	if req.ResponseMode == modeFormPost {
		p.formPost(w, r, req, params)
		return
	}
	u, err := url.Parse(req.RedirectURI)
	if err != nil { // cannot happen: registered URIs are validated
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// formPost answers with a page whose form posts params to the redirect
// URI (OAuth 2.0 Form Post Response Mode): a script served by TNO submits
// it at once, and a button does without JavaScript. That page alone may
// run TNO's scripts, and its form may post to the redirect URI.
func (p *Provider) formPost(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, params url.Values) {
	page := web.FormPostPage{Action: req.RedirectURI}
	if app, err := p.store.GetApplicationByClientID(r.Context(), req.ClientID); err == nil {
		page.AppName = app.Name
	}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		for _, v := range params[k] {
			page.Fields = append(page.Fields, web.FormField{Name: k, Value: v})
		}
	}
	web.AllowScripts(w.Header())
	web.AllowFormAction(w.Header(), req.RedirectURI)
	p.web.Render(w, r, http.StatusOK, page)
}

func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, e *oauthError) {
	v := url.Values{"error": {e.Code}}
	if e.Description != "" {
		v.Set("error_description", safeDescription(e.Description))
	}
	p.redirectWith(w, r, req, v)
}

func (p *Provider) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		// Like every other form: an authorization request is a few
		// hundred bytes, not Go's default 10 MB.
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
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
		// Shown to the person, never sent to the application: the
		// operator needs it in the log to fix the application's settings.
		p.log.InfoContext(r.Context(), "authorization request refused on a page", "reason", pa.pageMessage,
			"client_id", truncateLog(form.Get("client_id")), "redirect_uri", truncateLog(form.Get("redirect_uri")), "detail", pa.pageDetail)
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
	if e := p.applyHints(r, &pa); e != nil {
		p.redirectError(w, r, pa.req, e)
		return
	}
	now := p.now().UTC()
	pa.req.Source = clientAddress(r)
	if e := p.slowFlood(r, pa.req.Source, now); e != nil {
		p.redirectError(w, r, pa.req, e)
		return
	}
	hash, err := p.sessions.Bind(w, r)
	if err != nil {
		p.log.ErrorContext(r.Context(), "authorize: bind browser", "client_id", pa.app.ClientID, "err", err)
		p.redirectError(w, r, pa.req, errServerError("try again later"))
		return
	}
	pa.req.BrowserHash = hash
	pa.req.CreatedAt, pa.req.ExpiresAt = now, now.Add(p.requestTTL)
	if err := p.store.CreateAuthRequest(r.Context(), &pa.req); err != nil {
		p.log.ErrorContext(r.Context(), "authorize: store request", "client_id", pa.app.ClientID, "err", err)
		p.redirectError(w, r, pa.req, errServerError("try again later"))
		return
	}
	p.flow.Start(w, r, signInRequest(pa.req))
}

// truncateLog bounds a value a caller chose before it reaches the log.
func truncateLog(s string) string {
	const max = 256
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
