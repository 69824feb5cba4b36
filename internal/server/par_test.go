package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const requestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// pushRequest pushes an authorization request for clientID to /par,
// authenticating as h.call does, and returns the answer.
func (h *harness) pushRequest(clientID string, params url.Values) (*http.Response, string) {
	h.t.Helper()
	return h.call("/par", clientID, params)
}

// mustPush pushes params for clientID and returns the request_uri.
func (h *harness) mustPush(clientID string, params url.Values) string {
	h.t.Helper()
	resp, body := h.pushRequest(clientID, params)
	if resp.StatusCode != http.StatusCreated {
		h.t.Fatalf("push: %d %s", resp.StatusCode, body)
	}
	var got struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		h.t.Fatal(err)
	}
	if !strings.HasPrefix(got.RequestURI, requestURIPrefix) || got.ExpiresIn != 60 {
		h.t.Fatalf("push answered %s", body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		h.t.Errorf("push Cache-Control = %q", resp.Header.Get("Cache-Control"))
	}
	return got.RequestURI
}

// authorizeParams are the parameters of a sign-in to clientID.
func authorizeParams(extra ...string) url.Values {
	v := url.Values{"redirect_uri": {rpCallback}, "response_type": {"code"}, "scope": {"openid profile"}, "state": {"pushed-state"}, "nonce": {"pushed-nonce"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

// authorizeWith sends browser b to the authorization endpoint with
// request_uri (and the extra query), signs in if asked, and returns the
// final answer.
func (h *harness) authorizeWith(b *http.Client, clientID, requestURI string, extra url.Values) (*http.Response, string) {
	h.t.Helper()
	q := url.Values{"client_id": {clientID}, "request_uri": {requestURI}}
	for k, vs := range extra {
		q[k] = vs
	}
	resp, body := get(h.t, b, h.issuer+"/authorize?"+q.Encode())
	if resp.Request.URL.Path == "/login" {
		resp, body = h.login(b, body, "jdupont", password)
	}
	return resp, body
}

// wantErrorPage checks that the browser got an error page and was not
// sent back to any application.
func wantErrorPage(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, "<html") {
		t.Errorf("got %d %q, want a 400 error page", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestPAREndToEnd: push, authorize with request_uri, sign in, code,
// token; the request_uri is single-use, short-lived and bound to its
// client.
func TestPAREndToEnd(t *testing.T) {
	h := newHarness(t)
	person := h.person("jdupont", h.metropole)
	h.app("rh", storage.ClientConfidential, rpCallback)
	h.app("other", storage.ClientConfidential, rpCallback)
	h.app("agenda", storage.ClientPublic, rpCallback)

	uri := h.mustPush("rh", authorizeParams())
	b := h.browser()
	// Parameters in the query besides client_id and request_uri are
	// ignored (RFC 9126 section 4).
	resp, _ := h.authorizeWith(b, "rh", uri, url.Values{"state": {"query-state"}, "redirect_uri": {rpCallback2}, "scope": {"openid email"}})
	q := callback(t, resp, rpCallback)
	if q.Get("state") != "pushed-state" || q.Get("iss") != h.issuer || q.Get("code") == "" {
		t.Fatalf("callback %v", q)
	}
	tok := h.okCall("/token", "rh", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {rpCallback}})
	claims := idTokenClaims(t, tok.id)
	if claims["nonce"] != "pushed-nonce" || claims["sub"] != person.ID || tok.scope != "openid profile" {
		t.Errorf("tokens: scope %q, ID token %v", tok.scope, claims)
	}

	t.Run("reused request_uri", func(t *testing.T) {
		resp, body := h.authorizeWith(b, "rh", uri, nil)
		wantErrorPage(t, resp, body)
	})
	t.Run("expired request_uri", func(t *testing.T) {
		uri := h.mustPush("rh", authorizeParams())
		h.clock.advance(61 * time.Second)
		resp, body := h.authorizeWith(b, "rh", uri, nil)
		wantErrorPage(t, resp, body)
	})
	t.Run("request_uri of another client", func(t *testing.T) {
		uri := h.mustPush("rh", authorizeParams())
		resp, body := h.authorizeWith(b, "other", uri, nil)
		wantErrorPage(t, resp, body)
		resp, body = h.authorizeWith(h.browser(), "rh", uri, nil) // its client still may
		if q := callback(t, resp, rpCallback); q.Get("code") == "" {
			t.Errorf("no code: %s", body)
		}
	})
	t.Run("unknown request_uri", func(t *testing.T) {
		resp, body := h.authorizeWith(b, "rh", requestURIPrefix+"never-pushed", nil)
		wantErrorPage(t, resp, body)
	})
	t.Run("public client with PKCE", func(t *testing.T) {
		verifier, challenge := pkcePair()
		uri := h.mustPush("agenda", authorizeParams("code_challenge", challenge, "code_challenge_method", "S256"))
		resp, _ := h.authorizeWith(b, "agenda", uri, nil)
		code := callback(t, resp, rpCallback).Get("code")
		h.okCall("/token", "agenda", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {rpCallback}, "code_verifier": {verifier}})
	})
	t.Run("private_key_jwt client", func(t *testing.T) {
		s := newECSigner(t, "paie", "k1")
		h.keyApp("paie", jwks(t, s), "")
		resp, body := h.post("/par", withAssertion(authorizeParams(), s.assertion(h.issuer+"/par", h.clock.now())), "", "")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("push with a client assertion: %d %s", resp.StatusCode, body)
		}
		resp, _ = h.authorizeWith(b, "paie", jsonField(t, body, "request_uri"), nil)
		code := callback(t, resp, rpCallback).Get("code")
		resp, body = h.post("/token", withAssertion(url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {rpCallback}}, s.assertion(h.issuer+"/token", h.clock.now())), "", "")
		okTokens(t, resp, body)
	})
}

// idTokenClaims decodes an ID token's payload without checking it (the
// other tests check signatures).
func idTokenClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, string(b))
}

// TestPARErrors: errors at /par are JSON, never redirects.
func TestPARErrors(t *testing.T) {
	h := newHarness(t)
	h.app("rh", storage.ClientConfidential, rpCallback)
	h.app("agenda", storage.ClientPublic, rpCallback)
	tests := []struct {
		name     string
		send     func() (*http.Response, string)
		status   int
		code     string
		descPart string
	}{
		{"wrong secret", func() (*http.Response, string) { return h.post("/par", authorizeParams(), "rh", "wrong") }, http.StatusUnauthorized, "invalid_client", ""},
		{"no client authentication", func() (*http.Response, string) { return h.post("/par", authorizeParams(), "", "") }, http.StatusUnauthorized, "invalid_client", ""},
		{"unknown client", func() (*http.Response, string) { return h.pushRequest("nobody", authorizeParams()) }, http.StatusUnauthorized, "invalid_client", ""},
		{"unregistered redirect_uri", func() (*http.Response, string) {
			return h.pushRequest("rh", authorizeParams("redirect_uri", "https://evil.example/cb"))
		}, http.StatusBadRequest, "invalid_request", "redirect_uri"},
		{"response_type=token", func() (*http.Response, string) { return h.pushRequest("rh", authorizeParams("response_type", "token")) }, http.StatusBadRequest, "unsupported_response_type", ""},
		{"no openid scope", func() (*http.Response, string) { return h.pushRequest("rh", authorizeParams("scope", "profile")) }, http.StatusBadRequest, "invalid_scope", ""},
		{"public client without PKCE", func() (*http.Response, string) { return h.pushRequest("agenda", authorizeParams()) }, http.StatusBadRequest, "invalid_request", "PKCE"},
		{"request_uri pushed", func() (*http.Response, string) {
			return h.pushRequest("rh", authorizeParams("request_uri", requestURIPrefix+"x"))
		}, http.StatusBadRequest, "invalid_request", "request_uri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.send()
			wantOAuthError(t, resp, body, tt.status, tt.code)
			if !strings.Contains(jsonField(t, body, "error_description"), tt.descPart) {
				t.Errorf("error_description %q, want it to mention %q", jsonField(t, body, "error_description"), tt.descPart)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" || resp.Header.Get("Location") != "" {
				t.Errorf("Content-Type %q, Location %q", ct, resp.Header.Get("Location"))
			}
		})
	}
}

// TestRequirePAR: an application that requires pushed requests refuses
// the others, by redirect once its redirect URI is known good.
func TestRequirePAR(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("fapi", storage.ClientConfidential, rpCallback, func(a *storage.Application) { a.Settings.RequirePAR = true })
	b := h.browser()
	resp, _ := get(t, b, h.authorizeURL("fapi", rpCallback, nil))
	q := callback(t, resp, rpCallback)
	if q.Get("error") != "invalid_request" || q.Get("error_description") != "pushed authorization request required" || q.Get("state") != "st4te" {
		t.Errorf("callback %v", q)
	}
	resp, body := get(t, b, h.authorizeURL("fapi", "https://evil.example/cb", nil))
	wantErrorPage(t, resp, body)

	uri := h.mustPush("fapi", authorizeParams())
	resp, _ = h.authorizeWith(b, "fapi", uri, nil)
	code := callback(t, resp, rpCallback).Get("code")
	h.okCall("/token", "fapi", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}})
}
