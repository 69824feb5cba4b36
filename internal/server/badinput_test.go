package server_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// TestAuthorizeNeverRedirectsToUnknown: an unknown client or an
// unregistered redirect URI gets an error page, never a redirect.
func TestAuthorizeNeverRedirectsToUnknown(t *testing.T) {
	h := newHarness(t)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	tests := []struct {
		name   string
		params url.Values
	}{
		{"unknown client", url.Values{"client_id": {"nobody"}, "redirect_uri": {rpCallback}}},
		{"missing client", url.Values{"client_id": {""}, "redirect_uri": {rpCallback}}},
		{"unregistered redirect", url.Values{"redirect_uri": {"https://evil.example/cb"}}},
		{"redirect with extra path", url.Values{"redirect_uri": {rpCallback + "/x"}}},
		{"redirect with trailing slash", url.Values{"redirect_uri": {rpCallback + "/"}}},
		{"redirect with query added", url.Values{"redirect_uri": {rpCallback + "?a=b"}}},
		{"redirect upper-case host", url.Values{"redirect_uri": {strings.Replace(rpCallback, "127.0.0.1", "127.0.0.1.", 1)}}},
		{"missing redirect", url.Values{"redirect_uri": {""}}},
		{"repeated client_id", url.Values{"client_id": {"intranet", "intranet"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, h.browser(), h.authorizeURL("intranet", rpCallback, tt.params))
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("redirected to %s", loc)
			}
			if !strings.Contains(body, "<h1") || strings.Contains(body, "code=") {
				t.Errorf("expected an error page, got:\n%s", body)
			}
		})
	}
}

// TestAuthorizeErrorsRedirect: once client and redirect URI are valid,
// other problems go back to the application with the RFC's error code.
func TestAuthorizeErrorsRedirect(t *testing.T) {
	h := newHarness(t)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	h.app("agenda", storage.ClientPublic, rpCallback2)
	_, challenge := pkcePair()
	tests := []struct {
		name, client, redirect string
		params                 url.Values
		wantErr                string
	}{
		{"response_type token", "intranet", rpCallback, url.Values{"response_type": {"token"}}, "unsupported_response_type"},
		{"response_type missing", "intranet", rpCallback, url.Values{"response_type": {""}}, "invalid_request"},
		{"no openid scope", "intranet", rpCallback, url.Values{"scope": {"profile"}}, "invalid_scope"},
		{"PKCE plain", "intranet", rpCallback, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"plain"}}, "invalid_request"},
		{"PKCE no method", "intranet", rpCallback, url.Values{"code_challenge": {challenge}}, "invalid_request"},
		{"PKCE short challenge", "intranet", rpCallback, url.Values{"code_challenge": {"abc"}, "code_challenge_method": {"S256"}}, "invalid_request"},
		{"public without PKCE", "agenda", rpCallback2, nil, "invalid_request"},
		{"repeated state", "intranet", rpCallback, url.Values{"state": {"a", "b"}}, "invalid_request"},
		{"request object", "intranet", rpCallback, url.Values{"request": {"eyJ"}}, "request_not_supported"},
		{"bad max_age", "intranet", rpCallback, url.Values{"max_age": {"-1"}}, "invalid_request"},
		{"bad prompt", "intranet", rpCallback, url.Values{"prompt": {"maybe"}}, "invalid_request"},
		{"prompt none without session", "intranet", rpCallback, url.Values{"prompt": {"none"}}, "login_required"},
		{"response_mode fragment", "intranet", rpCallback, url.Values{"response_mode": {"fragment"}}, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := get(t, h.browser(), h.authorizeURL(tt.client, tt.redirect, tt.params))
			q := callback(t, resp, tt.redirect)
			if q.Get("error") != tt.wantErr {
				t.Errorf("error = %q (%s), want %q", q.Get("error"), q.Get("error_description"), tt.wantErr)
			}
			if q.Get("code") != "" {
				t.Errorf("a code was issued")
			}
			if q.Get("iss") != h.issuer {
				t.Errorf("iss = %q", q.Get("iss"))
			}
			if tt.wantErr != "login_required" && tt.params.Get("state") == "" && q.Get("state") != "st4te" {
				t.Errorf("state = %q, want it echoed", q.Get("state"))
			}
		})
	}
}

// TestTokenErrors covers the token endpoint's answers to bad grants.
func TestTokenErrors(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	h.app("other", storage.ClientConfidential, rpCallback2)
	h.app("agenda", storage.ClientPublic, rpCallback2)
	b := h.browser()
	secret := h.secrets["intranet"]
	exchange := func(code string, extra url.Values) (*http.Response, string) {
		v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}}
		for k, vs := range extra {
			v[k] = vs
		}
		return h.tokenRequest(v, "intranet", secret)
	}
	wantErr := func(t *testing.T, resp *http.Response, body string, status int, code string) {
		t.Helper()
		if resp.StatusCode != status || jsonField(t, body, "error") != code {
			t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, status, code)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
		}
	}

	t.Run("reused code revokes its tokens", func(t *testing.T) {
		code := h.code(b, "intranet", rpCallback, "jdupont", nil)
		resp, body := exchange(code, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("first exchange: %d %s", resp.StatusCode, body)
		}
		at := jsonField(t, body, "access_token")
		h.userinfo(at) // valid before the replay
		resp, body = exchange(code, nil)
		wantErr(t, resp, body, http.StatusBadRequest, "invalid_grant")
		if r, b := h.userinfoRaw(at); r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("access token still valid after code reuse: %d %s", r.StatusCode, b)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		code := h.code(b, "intranet", rpCallback, "jdupont", nil)
		h.clock.advance(61 * time.Second)
		resp, body := exchange(code, nil)
		wantErr(t, resp, body, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("code of another client", func(t *testing.T) {
		code := h.code(b, "intranet", rpCallback, "jdupont", nil)
		resp, body := h.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}}, "other", h.secrets["other"])
		wantErr(t, resp, body, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("redirect_uri mismatch", func(t *testing.T) {
		code := h.code(b, "intranet", rpCallback, "jdupont", nil)
		resp, body := exchange(code, url.Values{"redirect_uri": {rpCallback2}})
		wantErr(t, resp, body, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("wrong PKCE verifier", func(t *testing.T) {
		_, challenge := pkcePair()
		code := h.code(b, "intranet", rpCallback, "jdupont", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
		other, _ := pkcePair()
		other = strings.Repeat("x", 50) + other[50:]
		resp, body := exchange(code, url.Values{"code_verifier": {other}})
		wantErr(t, resp, body, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("missing PKCE verifier", func(t *testing.T) {
		_, challenge := pkcePair()
		code := h.code(b, "intranet", rpCallback, "jdupont", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
		resp, body := exchange(code, nil)
		wantErr(t, resp, body, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("verifier without challenge", func(t *testing.T) {
		code := h.code(b, "intranet", rpCallback, "jdupont", nil)
		v, _ := pkcePair()
		resp, body := exchange(code, url.Values{"code_verifier": {v}})
		wantErr(t, resp, body, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("unknown code", func(t *testing.T) {
		resp, body := exchange("not-a-code", nil)
		wantErr(t, resp, body, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("wrong secret", func(t *testing.T) {
		resp, body := h.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {rpCallback}}, "intranet", "wrong")
		wantErr(t, resp, body, http.StatusUnauthorized, "invalid_client")
		if resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		resp, body := h.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {rpCallback}}, "nobody", "x")
		wantErr(t, resp, body, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("confidential client without secret", func(t *testing.T) {
		resp, body := h.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {rpCallback}, "client_id": {"intranet"}}, "", "")
		wantErr(t, resp, body, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("public client with PKCE and none", func(t *testing.T) {
		v, challenge := pkcePair()
		code := h.code(b, "agenda", rpCallback2, "jdupont", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
		resp, body := h.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback2}, "client_id": {"agenda"}, "code_verifier": {v}}, "", "")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("public exchange: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("client_secret_post", func(t *testing.T) {
		code := h.code(b, "intranet", rpCallback, "jdupont", nil)
		resp, body := h.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}, "client_id": {"intranet"}, "client_secret": {secret}}, "", "")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("client_secret_post: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("two authentication methods", func(t *testing.T) {
		resp, body := h.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {rpCallback}, "client_secret": {secret}}, "intranet", secret)
		wantErr(t, resp, body, http.StatusBadRequest, "invalid_request")
	})
	malformed := []struct {
		name string
		form url.Values
		code string
	}{
		{"missing grant_type", url.Values{"code": {"x"}}, "invalid_request"},
		{"unsupported grant_type", url.Values{"grant_type": {"password"}}, "unsupported_grant_type"},
		{"missing code", url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {rpCallback}}, "invalid_request"},
		{"missing redirect_uri", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, "invalid_request"},
		{"repeated code", url.Values{"grant_type": {"authorization_code"}, "code": {"x", "y"}, "redirect_uri": {rpCallback}}, "invalid_request"},
		{"malformed verifier", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {rpCallback}, "code_verifier": {"short"}}, "invalid_request"},
	}
	for _, tt := range malformed {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.tokenRequest(tt.form, "intranet", secret)
			wantErr(t, resp, body, http.StatusBadRequest, tt.code)
			if jsonField(t, body, "error_description") == "" {
				t.Errorf("no error_description")
			}
		})
	}
	t.Run("JSON body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, h.issuer+"/token", strings.NewReader(`{"grant_type":"authorization_code"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
}

// TestBasicAuthFormDecoding: RFC 6749 section 2.3.1 — the client ID and
// secret are form-urlencoded inside Basic (a strict client sends
// "tno%2Dpeer" for "tno-peer").
func TestBasicAuthFormDecoding(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("tno-peer", storage.ClientConfidential, rpCallback)
	code := h.code(h.browser(), "tno-peer", rpCallback, "jdupont", nil)
	req, _ := http.NewRequest(http.MethodPost, h.issuer+"/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("tno%2Dpeer:"+url.QueryEscape(h.secrets["tno-peer"]))))
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want 200", resp.StatusCode)
	}
}

// TestLoginFailureLooksTheSame: a wrong password and an unknown account
// get the same status and the same message.
func TestLoginFailureLooksTheSame(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	var bodies []string
	for _, who := range []string{"jdupont", "personne"} {
		b := h.browser()
		_, body := get(t, b, h.authorizeURL("intranet", rpCallback, nil))
		id := requestID(t, body)
		resp, body := h.login(b, body, who, "wrong password!!")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", who, resp.StatusCode)
		}
		body = strings.ReplaceAll(body, id, "REQ")
		body = strings.ReplaceAll(body, who, "WHO")
		bodies = append(bodies, body)
	}
	if bodies[0] != bodies[1] {
		t.Errorf("failure pages differ:\n%s\n---\n%s", bodies[0], bodies[1])
	}
	if !strings.Contains(bodies[0], `role="alert"`) {
		t.Errorf("no alert on the failure page")
	}
}

// TestCrossSiteLoginRefused: the login form does not accept a cross-site
// POST.
func TestCrossSiteLoginRefused(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	b := h.browser()
	_, body := get(t, b, h.authorizeURL("intranet", rpCallback, nil))
	req, _ := http.NewRequest(http.MethodPost, h.issuer+"/login", strings.NewReader(url.Values{"request": {requestID(t, body)}, "identifier": {"jdupont"}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("status %d, want 403", resp.StatusCode)
	}
}

// TestSecurityHeaders: every page carries the defences.
func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	for _, path := range []string{"/authorize?" + url.Values{"client_id": {"intranet"}, "redirect_uri": {rpCallback}, "response_type": {"code"}, "scope": {"openid"}}.Encode(), "/", "/nowhere", "/.well-known/openid-configuration", "/jwks"} {
		resp, _ := get(t, h.browser(), h.issuer+path)
		for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
			if resp.Header.Get(k) == "" {
				t.Errorf("%s: no %s", path, k)
			}
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q lacks frame-ancestors", path, resp.Header.Get("Content-Security-Policy"))
		}
	}
}

// TestUserinfoErrors: RFC 6750 challenges.
func TestUserinfoErrors(t *testing.T) {
	h := newHarness(t)
	resp, _ := h.userinfoRaw("")
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	resp, _ = h.userinfoRaw("forged")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("bad token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// TestAuthorizePostCrossSite: an authorization request may arrive as a
// cross-site form POST (OpenID Connect Core 3.1.2.1), unlike the login form.
func TestAuthorizePostCrossSite(t *testing.T) {
	h := newHarness(t)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	form := url.Values{"client_id": {"intranet"}, "redirect_uri": {rpCallback}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
	req, _ := http.NewRequest(http.MethodPost, h.issuer+"/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://rp.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := h.browser().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" {
		t.Errorf("cross-site authorization POST: %d %s, want the login page", resp.StatusCode, resp.Request.URL)
	}
}
