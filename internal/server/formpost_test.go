package server_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/territoires-ouverts/tno/internal/storage"
)

var (
	formActionRE = regexp.MustCompile(`<form method="post" action="([^"]+)" id="form-post">`)
	hiddenRE     = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	scriptRE     = regexp.MustCompile(`<script src="([^"]+)" defer></script>`)
)

// formPost checks that resp is TNO's form_post page posting to want, and
// returns the fields it would post.
func (h *harness) formPost(resp *http.Response, body, want string) url.Values {
	h.t.Helper()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" {
		h.t.Fatalf("got %d %q, want the form_post page", resp.StatusCode, resp.Header.Get("Location"))
	}
	m := formActionRE.FindStringSubmatch(body)
	if m == nil || html.UnescapeString(m[1]) != want {
		h.t.Fatalf("form action %v, want %s:\n%s", m, want, body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "; script-src 'self'") || !strings.Contains(csp, "form-action 'self' https: http:") || strings.Contains(csp, "unsafe-inline") {
		h.t.Errorf("CSP = %q", csp)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		h.t.Errorf("Cache-Control = %q", cc)
	}
	// The one script, same-origin: it submits the form.
	src := scriptRE.FindStringSubmatch(body)
	if src == nil || strings.Count(body, "<script") != 1 {
		h.t.Fatalf("want one external script:\n%s", body)
	}
	sresp, js := get(h.t, h.srv.Client(), h.issuer+html.UnescapeString(src[1]))
	if sresp.StatusCode != http.StatusOK || !strings.HasPrefix(sresp.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(js, `getElementById("form-post")`) || !strings.Contains(js, "submit()") {
		h.t.Errorf("script %s: %d %q", src[1], sresp.StatusCode, sresp.Header.Get("Content-Type"))
	}
	// Without JavaScript: a visible button.
	if !strings.Contains(body, `<button type="submit" class="button">Continuer</button>`) || !strings.Contains(body, "<noscript>") {
		h.t.Errorf("no Continuer button for browsers without JavaScript:\n%s", body)
	}
	v := url.Values{}
	for _, f := range hiddenRE.FindAllStringSubmatch(body, -1) {
		v.Add(html.UnescapeString(f[1]), html.UnescapeString(f[2]))
	}
	if v.Get("iss") != h.issuer {
		h.t.Errorf("iss = %q", v.Get("iss"))
	}
	return v
}

// TestFormPostResponseMode: the authorization response, code or error,
// posted by the browser (OAuth 2.0 Form Post Response Mode), with a
// golang.org/x/oauth2 client exchanging the code.
func TestFormPostResponseMode(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	ctx, provider := h.rp()
	rp := h.rpConfig(provider, "intranet", rpCallback, "profile")
	formPost := oauth2.SetAuthURLParam("response_mode", "form_post")
	b := h.browser()

	// prompt=none without a session: the error, posted.
	resp, body := get(t, b, rp.AuthCodeURL("st&te\"1", formPost, oauth2.SetAuthURLParam("prompt", "none")))
	if v := h.formPost(resp, body, rpCallback); v.Get("error") != "login_required" || v.Get("state") != "st&te\"1" || v.Has("code") {
		t.Errorf("prompt=none: %v", v)
	}

	// A sign-in: the code, posted; the client exchanges it.
	verifier := oauth2.GenerateVerifier()
	resp, body = get(t, b, rp.AuthCodeURL("s2", formPost, oauth2.S256ChallengeOption(verifier)))
	wantLoginPage(t, resp)
	resp, body = h.login(b, body, "jdupont", password)
	v := h.formPost(resp, body, rpCallback)
	if v.Get("state") != "s2" || v.Get("code") == "" || v.Has("error") {
		t.Fatalf("form_post after sign-in: %v", v)
	}
	tok, err := rp.Exchange(ctx, v.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if _, c := h.verifyAuth(provider, "intranet", tok.Extra("id_token").(string)); c.ACR != "eidas1" {
		t.Errorf("acr = %q", c.ACR)
	}

	// Single sign-on: the page at once. A refused request: the error, posted.
	resp, body = get(t, b, rp.AuthCodeURL("s3", formPost))
	if v := h.formPost(resp, body, rpCallback); v.Get("code") == "" {
		t.Errorf("single sign-on: %v", v)
	}
	resp, body = get(t, b, h.authorizeURL("intranet", rpCallback, url.Values{"response_mode": {"form_post"}, "scope": {"profile"}}))
	if v := h.formPost(resp, body, rpCallback); v.Get("error") != "invalid_scope" || v.Get("error_description") == "" {
		t.Errorf("refused scope: %v", v)
	}
	// response_mode=query is explicit; others are refused in the query.
	resp, _ = get(t, b, h.authorizeURL("intranet", rpCallback, url.Values{"response_mode": {"query"}}))
	if q := callback(t, resp, rpCallback); q.Get("code") == "" {
		t.Errorf("response_mode=query: %v", q)
	}
	resp, _ = get(t, b, h.authorizeURL("intranet", rpCallback, url.Values{"response_mode": {"fragment"}}))
	if q := callback(t, resp, rpCallback); q.Get("error") != "invalid_request" {
		t.Errorf("response_mode=fragment: %v", q)
	}
	// An unregistered redirect URI is never posted to.
	resp, body = get(t, b, h.authorizeURL("intranet", "https://evil.example/cb", url.Values{"response_mode": {"form_post"}}))
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(body, `id="form-post"`) || strings.Contains(body, "<script") {
		t.Errorf("unregistered redirect URI: %d", resp.StatusCode)
	}
}

// TestFormPostPushed: a pushed authorization request may ask for
// form_post, its errors too.
func TestFormPostPushed(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	b := h.browser()

	uri := h.mustPush("intranet", authorizeParams("response_mode", "form_post"))
	resp, body := h.authorizeWith(b, "intranet", uri, nil)
	v := h.formPost(resp, body, rpCallback)
	if v.Get("code") == "" || v.Get("state") != "pushed-state" {
		t.Fatalf("pushed form_post: %v", v)
	}
	h.okCall("/token", "intranet", url.Values{"grant_type": {"authorization_code"}, "code": {v.Get("code")}, "redirect_uri": {rpCallback}})

	uri = h.mustPush("intranet", authorizeParams("response_mode", "form_post", "prompt", "none"))
	resp, body = get(t, h.browser(), h.issuer+"/authorize?"+url.Values{"client_id": {"intranet"}, "request_uri": {uri}}.Encode())
	if v := h.formPost(resp, body, rpCallback); v.Get("error") != "login_required" {
		t.Errorf("pushed prompt=none: %v", v)
	}
	// An unsupported mode is refused at the push.
	resp, body = h.pushRequest("intranet", authorizeParams("response_mode", "fragment"))
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request")
}
