package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// authClaims are the authentication claims of an ID token.
type authClaims struct {
	ACR      string   `json:"acr"`
	AMR      []string `json:"amr"`
	AuthTime int64    `json:"auth_time"`
}

// verifyAuth verifies an ID token for clientID with coreos/go-oidc and
// returns its subject and authentication claims.
func (h *harness) verifyAuth(provider *oidc.Provider, clientID, raw string) (string, authClaims) {
	h.t.Helper()
	ctx := oidc.ClientContext(h.t.Context(), h.srv.Client())
	idt, err := provider.Verifier(&oidc.Config{ClientID: clientID, Now: h.clock.now}).Verify(ctx, raw)
	if err != nil {
		h.t.Fatalf("ID token for %s: %v", clientID, err)
	}
	var c authClaims
	if err := idt.Claims(&c); err != nil {
		h.t.Fatal(err)
	}
	return idt.Subject, c
}

// wantLoginPage checks that the browser landed on the login page.
func wantLoginPage(t testing.TB, resp *http.Response) {
	t.Helper()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" {
		t.Fatalf("got %d %s, want the login page", resp.StatusCode, resp.Request.URL)
	}
}

// regexpValue returns the first submatch of expr in body, or fails.
func regexpValue(t testing.TB, body, expr string) string {
	t.Helper()
	m := regexp.MustCompile(expr).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in:\n%s", expr, body)
	}
	return m[1]
}

// rpConfig is a golang.org/x/oauth2 client for a confidential application
// of the harness.
func (h *harness) rpConfig(provider *oidc.Provider, clientID, redirect string, scopes ...string) oauth2.Config {
	return oauth2.Config{
		ClientID: clientID, ClientSecret: h.secrets[clientID], RedirectURL: redirect,
		Endpoint: provider.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, scopes...),
	}
}

// TestPromptAndMaxAge: prompt=none, login and select_account, and
// max_age with auth_time, acr and amr checked by go-oidc.
func TestPromptAndMaxAge(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	ctx, provider := h.rp()
	rp := h.rpConfig(provider, "intranet", rpCallback, "profile")
	b := h.browser()

	// prompt=none without a session: login_required, no page.
	resp, _ := get(t, b, rp.AuthCodeURL("s0", oauth2.SetAuthURLParam("prompt", "none")))
	if q := callback(t, resp, rpCallback); q.Get("error") != "login_required" || q.Get("state") != "s0" {
		t.Fatalf("prompt=none without session: %v", q)
	}

	// Sign in, with max_age: auth_time, acr and amr in the ID token.
	signInAt := h.clock.now()
	resp, body := get(t, b, rp.AuthCodeURL("s1", oauth2.SetAuthURLParam("max_age", "600")))
	wantLoginPage(t, resp)
	resp, _ = h.login(b, body, "jdupont", password)
	tok, err := rp.Exchange(ctx, callback(t, resp, rpCallback).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	_, c := h.verifyAuth(provider, "intranet", tok.Extra("id_token").(string))
	if c.AuthTime != signInAt.Unix() || c.ACR != "eidas1" || !slices.Equal(c.AMR, []string{"pwd"}) {
		t.Errorf("auth claims = %+v, want auth_time %d, acr eidas1, amr [pwd]", c, signInAt.Unix())
	}

	// prompt=none with the session: a code, no page.
	h.clock.advance(time.Minute)
	resp, _ = get(t, b, rp.AuthCodeURL("s2", oauth2.SetAuthURLParam("prompt", "none")))
	if q := callback(t, resp, rpCallback); q.Get("code") == "" {
		t.Fatalf("prompt=none with session: %v", q)
	}

	// max_age elapsed: the login page again; with prompt=none, login_required.
	h.clock.advance(10 * time.Minute)
	resp, _ = get(t, b, rp.AuthCodeURL("s3", oauth2.SetAuthURLParam("max_age", "300"), oauth2.SetAuthURLParam("prompt", "none")))
	if q := callback(t, resp, rpCallback); q.Get("error") != "login_required" {
		t.Errorf("max_age elapsed, prompt=none: %v", q)
	}
	resp, body = get(t, b, rp.AuthCodeURL("s4", oauth2.SetAuthURLParam("max_age", "300")))
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("max_age elapsed: %d %s, want the login page", resp.StatusCode, resp.Request.URL)
	}
	reauth := h.clock.now()
	resp, _ = h.login(b, body, "jdupont", password)
	tok, err = rp.Exchange(ctx, callback(t, resp, rpCallback).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if _, c = h.verifyAuth(provider, "intranet", tok.Extra("id_token").(string)); c.AuthTime != reauth.Unix() {
		t.Errorf("auth_time = %d, want the new sign-in %d", c.AuthTime, reauth.Unix())
	}

	// prompt=login: the login page even with a fresh session.
	h.clock.advance(time.Second)
	resp, _ = get(t, b, rp.AuthCodeURL("s5", oauth2.SetAuthURLParam("prompt", "login")))
	if resp.Request.URL.Path != "/login" {
		t.Errorf("prompt=login: %d %s, want the login page", resp.StatusCode, resp.Request.URL)
	}

	// prompt=select_account: the chooser, even with one membership.
	resp, body = get(t, b, rp.AuthCodeURL("s6", oauth2.SetAuthURLParam("prompt", "select_account")))
	if resp.Request.URL.Path != "/select" || !strings.Contains(body, h.metropole.Name) || strings.Count(body, `type="radio"`) != 1 {
		t.Fatalf("select_account: %d %s, want the chooser with one choice", resp.StatusCode, resp.Request.URL)
	}
	m := regexpValue(t, body, `name="membership" value="([^"]+)"`)
	resp, _ = postForm(t, b, h.issuer+"/select", url.Values{"request": {requestID(t, body)}, "membership": {m}}, h.issuer)
	if q := callback(t, resp, rpCallback); q.Get("code") == "" || q.Get("state") != "s6" {
		t.Errorf("after the chooser: %v", q)
	}
}

// TestLoginHint: login_hint pre-fills the identifier, and naming another
// account than the one signed in asks for a sign-in.
func TestLoginHint(t *testing.T) {
	h := newHarness(t)
	jeanne := h.person("jdupont", h.metropole)
	marie := h.person("mmartin", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	ctx, provider := h.rp()
	rp := h.rpConfig(provider, "intranet", rpCallback)
	b := h.browser()

	resp, body := get(t, b, rp.AuthCodeURL("s", oauth2.SetAuthURLParam("login_hint", "jdupont")))
	if resp.Request.URL.Path != "/login" || !strings.Contains(body, `name="identifier" value="jdupont"`) {
		t.Fatalf("login page not pre-filled: %s", resp.Request.URL)
	}
	resp, _ = h.login(b, body, "jdupont", password)
	callback(t, resp, rpCallback)

	// Signed in as jdupont; the hint names her (by e-mail): no page.
	h.clock.advance(time.Second)
	resp, _ = get(t, b, rp.AuthCodeURL("s", oauth2.SetAuthURLParam("login_hint", "JDUPONT@exemple.fr")))
	if q := callback(t, resp, rpCallback); q.Get("code") == "" {
		t.Fatalf("hint of the person signed in: %v", q)
	}
	// The hint names mmartin: prompt=none fails, otherwise the login page
	// with her identifier, and the code is hers.
	resp, _ = get(t, b, rp.AuthCodeURL("s", oauth2.SetAuthURLParam("login_hint", "mmartin"), oauth2.SetAuthURLParam("prompt", "none")))
	if q := callback(t, resp, rpCallback); q.Get("error") != "login_required" {
		t.Fatalf("hint of another person, prompt=none: %v", q)
	}
	resp, body = get(t, b, rp.AuthCodeURL("s", oauth2.SetAuthURLParam("login_hint", "mmartin")))
	if resp.Request.URL.Path != "/login" || !strings.Contains(body, `name="identifier" value="mmartin"`) {
		t.Fatalf("hint of another person: %d %s, want the pre-filled login page", resp.StatusCode, resp.Request.URL)
	}
	resp, _ = h.login(b, body, "mmartin", password)
	tok, err := rp.Exchange(ctx, callback(t, resp, rpCallback).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if sub, _ := h.verifyAuth(provider, "intranet", tok.Extra("id_token").(string)); sub != marie.ID || sub == jeanne.ID {
		t.Errorf("sub = %q, want mmartin's %q", sub, marie.ID)
	}
}

// TestIDTokenHint: an ID token TNO issued names the person expected.
func TestIDTokenHint(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.person("mmartin", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	h.app("agenda", storage.ClientConfidential, rpCallback2)
	b := h.browser()
	jeanneID := h.signIn(b, "intranet", "jdupont", "openid").id
	agendaID := h.signInAt(b, "agenda", rpCallback2, "jdupont", "openid").id

	hinted := func(hint string, extra ...string) url.Values {
		v := url.Values{"id_token_hint": {hint}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	for _, tc := range []struct {
		name      string
		params    url.Values
		wantError string
	}{
		{"her own ID token, prompt=none", hinted(jeanneID, "prompt", "none"), ""},
		{"her own ID token, expired", hinted(jeanneID), ""},
		{"an ID token of another application", hinted(agendaID), "invalid_request"},
		{"not a JWT", hinted("x.y.z"), "invalid_request"},
		{"a forged token", hinted(strings.Join(append(strings.Split(jeanneID, ".")[:2], "c2lnbmF0dXJl"), ".")), "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.clock.advance(11 * time.Minute) // the ID tokens have expired: a hint still
			resp, _ := get(t, b, h.authorizeURL("intranet", rpCallback, tc.params))
			q := callback(t, resp, rpCallback)
			if q.Get("error") != tc.wantError || tc.wantError == "" && q.Get("code") == "" {
				t.Errorf("got %v, want error %q", q, tc.wantError)
			}
		})
	}

	// Signed in as mmartin, jdupont's hint: login_required with
	// prompt=none, the login page otherwise.
	h.clock.advance(time.Second)
	resp, body := get(t, b, h.authorizeURL("agenda", rpCallback2, url.Values{"prompt": {"login"}}))
	wantLoginPage(t, resp)
	resp, _ = h.login(b, body, "mmartin", password)
	callback(t, resp, rpCallback2)
	h.clock.advance(time.Second)
	resp, _ = get(t, b, h.authorizeURL("intranet", rpCallback, hinted(jeanneID, "prompt", "none")))
	if q := callback(t, resp, rpCallback); q.Get("error") != "login_required" {
		t.Fatalf("another person's hint, prompt=none: %v", q)
	}
	resp, body = get(t, b, h.authorizeURL("intranet", rpCallback, hinted(jeanneID)))
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("another person's hint: %d %s, want the login page", resp.StatusCode, resp.Request.URL)
	}
	resp, _ = h.login(b, body, "jdupont", password)
	if q := callback(t, resp, rpCallback); q.Get("code") == "" {
		t.Errorf("after signing in again: %v", q)
	}
}

// TestACRAndClaimsParameter: acr_values and the claims parameter.
func TestACRAndClaimsParameter(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Settings.GrantTypes = []string{"refresh_token"}
		a.Settings.RefreshTokens = true
	})
	ctx, provider := h.rp()
	rp := h.rpConfig(provider, "intranet", rpCallback, "profile")
	b := h.browser()

	// acr_values that no sign-in reaches is voluntary: issued at eidas1.
	// The claims parameter asks for acr and amr at userinfo.
	claims := `{"userinfo":{"acr":null,"amr":{"essential":true}},"id_token":{"amr":{"essential":true},"acr":{"values":["eidas2","eidas1"]}}}`
	resp, body := get(t, b, rp.AuthCodeURL("s", oauth2.SetAuthURLParam("acr_values", "eidas2 eidas3"), oauth2.SetAuthURLParam("claims", claims)))
	wantLoginPage(t, resp)
	resp, _ = h.login(b, body, "jdupont", password)
	tok, err := rp.Exchange(ctx, callback(t, resp, rpCallback).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if _, c := h.verifyAuth(provider, "intranet", tok.Extra("id_token").(string)); c.ACR != "eidas1" || !slices.Equal(c.AMR, []string{"pwd"}) {
		t.Errorf("ID token acr %q amr %v", c.ACR, c.AMR)
	}
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var uc authClaims
	if err := ui.Claims(&uc); err != nil || uc.ACR != "eidas1" || !slices.Equal(uc.AMR, []string{"pwd"}) {
		t.Errorf("userinfo acr %q amr %v (%v)", uc.ACR, uc.AMR, err)
	}
	// The refreshed tokens keep acr, and the claims request.
	refreshed, err := rp.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if _, c := h.verifyAuth(provider, "intranet", refreshed.Extra("id_token").(string)); c.ACR != "eidas1" || !slices.Equal(c.AMR, []string{"pwd"}) {
		t.Errorf("refreshed ID token acr %q amr %v", c.ACR, c.AMR)
	}
	if m := h.userinfo(refreshed.AccessToken); m["acr"] != "eidas1" {
		t.Errorf("userinfo after refresh: %v", m)
	}
	// Without the claims parameter, userinfo has neither.
	plain := h.signIn(b, "intranet", "jdupont", "openid")
	if m := h.userinfo(plain.access); m["acr"] != nil || m["amr"] != nil {
		t.Errorf("userinfo without a claims request: %v", m)
	}

	for _, tc := range []struct {
		name, claims, wantErr string
	}{
		{"essential acr met", `{"id_token":{"acr":{"essential":true,"values":["eidas1"]}}}`, ""},
		{"essential acr no sign-in reaches", `{"id_token":{"acr":{"essential":true,"values":["eidas2"]}}}`, "unmet_authentication_requirements"},
		{"malformed claims", `{"id_token":{"acr":`, "invalid_request"},
		{"claims not an object", `"acr"`, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := get(t, b, rp.AuthCodeURL("s", oauth2.SetAuthURLParam("claims", tc.claims)))
			q := callback(t, resp, rpCallback)
			if q.Get("error") != tc.wantErr || tc.wantErr == "" && q.Get("code") == "" {
				t.Errorf("got %v, want error %q", q, tc.wantErr)
			}
		})
	}
}
