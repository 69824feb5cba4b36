package oidc

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// parEnv is a test provider with both muxes and a settable clock.
type parEnv struct {
	t     *testing.T
	p     *Provider
	store storage.Store
	web   *fakeRenderer
	mux   *http.ServeMux
	now   time.Time
}

const parSecret = "par-test-secret"

func newPAREnv(t *testing.T) *parEnv {
	p, store, web := newTestProvider(t, testIssuer)
	e := &parEnv{t: t, p: p, store: store, web: web, mux: http.NewServeMux(), now: testNow}
	p.now = func() time.Time { return e.now }
	registerAll(p, e.mux)
	p.RegisterProtocol(e.mux)
	org := appByClientID(t, store, confidentialApp.ClientID).OrgID
	for _, a := range []storage.Application{
		{ClientID: "rh", ClientType: storage.ClientConfidential, SecretHash: apps.HashSecret(parSecret),
			RedirectURIs: []string{"https://rh.ville-exemple.fr/cb"}},
		{ClientID: "fapi", ClientType: storage.ClientConfidential, SecretHash: apps.HashSecret(parSecret),
			RedirectURIs: []string{"https://fapi.ville-exemple.fr/cb"}, Settings: storage.ClientSettings{RequirePAR: true}},
	} {
		a.OrgID, a.Name = org, a.ClientID
		if err := store.CreateApplication(t.Context(), &a); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *parEnv) do(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, r)
	return rec
}

// push posts form to /par, as clientID with its secret (HTTP Basic) if
// secret is set.
func (e *parEnv) push(clientID, secret string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/par", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		r.SetBasicAuth(clientID, secret)
	}
	return e.do(r)
}

// pushed pushes a valid request for rh and returns its request_uri.
func (e *parEnv) pushed(extra ...string) string {
	e.t.Helper()
	form := url.Values{"redirect_uri": {"https://rh.ville-exemple.fr/cb"}, "response_type": {"code"}, "scope": {"openid profile"}, "state": {"pushed-state"}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	rec := e.push("rh", parSecret, form)
	if rec.Code != http.StatusCreated {
		e.t.Fatalf("push: %d %s", rec.Code, rec.Body)
	}
	var resp struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(resp.RequestURI, requestURIPrefix) || len(resp.RequestURI) < len(requestURIPrefix)+40 || resp.ExpiresIn != 60 {
		e.t.Fatalf("push answered %s", rec.Body)
	}
	if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Content-Type") != "application/json" {
		e.t.Errorf("push headers: %v", rec.Header())
	}
	return resp.RequestURI
}

func (e *parEnv) authorize(q url.Values) *httptest.ResponseRecorder {
	e.web.page = nil
	return e.do(httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil))
}

// pendingRequest follows the redirect to the login page and returns the
// authorization request stored.
func (e *parEnv) pendingRequest(rec *httptest.ResponseRecorder) storage.AuthRequest {
	e.t.Helper()
	if rec.Code != http.StatusSeeOther {
		e.t.Fatalf("authorize: %d %v %s, want 303 to the login page", rec.Code, e.web.page, rec.Header().Get("Location"))
	}
	u, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || u.Path != pathLogin {
		e.t.Fatalf("redirected to %s, want %s", rec.Header().Get("Location"), pathLogin)
	}
	req, err := authRequestOf(e.t, e.store, u.Query().Get("request"))
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

// wantPage checks a 400 error page with messageKey.
func (e *parEnv) wantPage(rec *httptest.ResponseRecorder, messageKey string) {
	e.t.Helper()
	page, _ := e.web.page.(web.MessagePage)
	if rec.Code != http.StatusBadRequest || page.MessageKey != messageKey || rec.Header().Get("Location") != "" {
		e.t.Errorf("got %d %+v Location %q, want a 400 page %s", rec.Code, e.web.page, rec.Header().Get("Location"), messageKey)
	}
}

func TestPushedAuthorizationRequest(t *testing.T) {
	e := newPAREnv(t)

	t.Run("pushed parameters are used, the query's ignored", func(t *testing.T) {
		uri := e.pushed("nonce", "n-1", "login_hint", "jdupont")
		req := e.pendingRequest(e.authorize(url.Values{
			"client_id": {"rh"}, "request_uri": {uri},
			"redirect_uri": {"https://evil.example/cb"}, "scope": {"openid email"}, "state": {"query-state"}, "prompt": {"bogus"},
		}))
		if req.ClientID != "rh" || req.RedirectURI != "https://rh.ville-exemple.fr/cb" || req.Scope != "openid profile" ||
			req.State != "pushed-state" || req.Nonce != "n-1" || req.LoginHint != "jdupont" || req.Prompt != "" {
			t.Errorf("stored request %+v, want the pushed parameters", req)
		}
	})
	t.Run("single use", func(t *testing.T) {
		uri := e.pushed()
		e.pendingRequest(e.authorize(url.Values{"client_id": {"rh"}, "request_uri": {uri}}))
		e.wantPage(e.authorize(url.Values{"client_id": {"rh"}, "request_uri": {uri}}), "error.expired")
	})
	t.Run("expired", func(t *testing.T) {
		uri := e.pushed()
		e.now = e.now.Add(parLifetime)
		defer func() { e.now = testNow }()
		e.wantPage(e.authorize(url.Values{"client_id": {"rh"}, "request_uri": {uri}}), "error.expired")
	})
	t.Run("another client's request_uri, left for its client", func(t *testing.T) {
		uri := e.pushed()
		e.wantPage(e.authorize(url.Values{"client_id": {"portail-rh"}, "request_uri": {uri}}), "error.expired")
		e.pendingRequest(e.authorize(url.Values{"client_id": {"rh"}, "request_uri": {uri}}))
	})
	t.Run("bad request_uri forms", func(t *testing.T) {
		uri := e.pushed()
		for name, q := range map[string]url.Values{
			"no client_id":       {"request_uri": {uri}},
			"unknown":            {"client_id": {"rh"}, "request_uri": {requestURIPrefix + "nope"}},
			"other scheme":       {"client_id": {"rh"}, "request_uri": {"https://rh.ville-exemple.fr/request.jwt"}},
			"bare reference":     {"client_id": {"rh"}, "request_uri": {strings.TrimPrefix(uri, requestURIPrefix)}},
			"repeated":           {"client_id": {"rh"}, "request_uri": {uri, uri}},
			"repeated client_id": {"client_id": {"rh", "rh"}, "request_uri": {uri}},
		} {
			rec := e.authorize(q)
			if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" {
				t.Errorf("%s: %d %s, want an error page", name, rec.Code, rec.Header().Get("Location"))
			}
		}
		e.pendingRequest(e.authorize(url.Values{"client_id": {"rh"}, "request_uri": {uri}})) // still usable
	})
	t.Run("public client pushes with none and PKCE", func(t *testing.T) {
		rec := e.push("", "", url.Values{
			"client_id": {"mobile"}, "redirect_uri": {"http://127.0.0.1:8080/cb"}, "response_type": {"code"}, "scope": {"openid"},
			"code_challenge": {rfcChallenge}, "code_challenge_method": {"S256"},
		})
		if rec.Code != http.StatusCreated {
			t.Fatalf("push: %d %s", rec.Code, rec.Body)
		}
	})
}

func TestPushedAuthorizationRequestErrors(t *testing.T) {
	e := newPAREnv(t)
	valid := func(kv ...string) url.Values {
		v := url.Values{"redirect_uri": {"https://rh.ville-exemple.fr/cb"}, "response_type": {"code"}, "scope": {"openid"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	tests := []struct {
		name           string
		clientID       string
		secret         string
		form           url.Values
		status         int
		code, descPart string
	}{
		{"wrong secret", "rh", "wrong", valid(), http.StatusUnauthorized, "invalid_client", ""},
		{"no client authentication", "", "", valid(), http.StatusUnauthorized, "invalid_client", ""},
		{"confidential client without its secret", "", "", valid("client_id", "rh"), http.StatusUnauthorized, "invalid_client", "none"},
		{"client_id of another client", "rh", parSecret, valid("client_id", "portail-rh"), http.StatusBadRequest, "invalid_request", "client_id"},
		{"unregistered redirect_uri", "rh", parSecret, valid("redirect_uri", "https://evil.example/cb"), http.StatusBadRequest, "invalid_request", "redirect_uri"},
		{"no redirect_uri", "rh", parSecret, valid("redirect_uri", ""), http.StatusBadRequest, "invalid_request", "redirect_uri"},
		{"response_type=token", "rh", parSecret, valid("response_type", "token"), http.StatusBadRequest, "unsupported_response_type", ""},
		{"no openid scope", "rh", parSecret, valid("scope", "profile"), http.StatusBadRequest, "invalid_scope", ""},
		{"plain PKCE", "rh", parSecret, valid("code_challenge", rfcChallenge, "code_challenge_method", "plain"), http.StatusBadRequest, "invalid_request", "S256"},
		{"request_uri pushed", "rh", parSecret, valid("request_uri", requestURIPrefix+"x"), http.StatusBadRequest, "invalid_request", "request_uri"},
		{"request object", "rh", parSecret, valid("request", "eyJ..."), http.StatusBadRequest, "request_not_supported", ""},
		{"public client without PKCE", "", "", valid("client_id", "mobile", "redirect_uri", "http://127.0.0.1:8080/cb"), http.StatusBadRequest, "invalid_request", "PKCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.push(tt.clientID, tt.secret, tt.form)
			var got oauthError
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("not JSON: %d %s", rec.Code, rec.Body)
			}
			if rec.Code != tt.status || got.Code != tt.code || !strings.Contains(got.Description, tt.descPart) {
				t.Errorf("got %d %+v, want %d %s with %q", rec.Code, got, tt.status, tt.code, tt.descPart)
			}
			if rec.Header().Get("Location") != "" {
				t.Error("PAR error redirected")
			}
		})
	}
	t.Run("repeated parameter", func(t *testing.T) {
		v := valid()
		v["scope"] = []string{"openid", "openid"}
		if rec := e.push("rh", parSecret, v); rec.Code != http.StatusBadRequest {
			t.Errorf("got %d %s, want 400", rec.Code, rec.Body)
		}
	})
	t.Run("GET", func(t *testing.T) {
		if rec := e.do(httptest.NewRequest(http.MethodGet, "/par", nil)); rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("GET /par: %d, want 405", rec.Code)
		}
	})
	t.Run("JSON body", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/par", strings.NewReader(`{"scope":"openid"}`))
		r.Header.Set("Content-Type", "application/json")
		r.SetBasicAuth("rh", parSecret)
		if rec := e.do(r); rec.Code != http.StatusBadRequest {
			t.Errorf("JSON body: %d, want 400", rec.Code)
		}
	})
}

func TestRequirePAR(t *testing.T) {
	e := newPAREnv(t)
	rec := e.authorize(url.Values{"client_id": {"fapi"}, "redirect_uri": {"https://fapi.ville-exemple.fr/cb"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}})
	u, err := url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusFound || err != nil || u.Host != "fapi.ville-exemple.fr" {
		t.Fatalf("got %d %q, want a redirect to the client", rec.Code, rec.Header().Get("Location"))
	}
	if q := u.Query(); q.Get("error") != "invalid_request" || q.Get("error_description") != "pushed authorization request required" || q.Get("state") != "s" {
		t.Errorf("redirect query %v", q)
	}
	// An unregistered redirect URI is still never redirected to.
	e.wantPage(e.authorize(url.Values{"client_id": {"fapi"}, "redirect_uri": {"https://evil.example/cb"}, "response_type": {"code"}, "scope": {"openid"}}), "error.invalid_redirect_uri")

	push := e.push("fapi", parSecret, url.Values{"redirect_uri": {"https://fapi.ville-exemple.fr/cb"}, "response_type": {"code"}, "scope": {"openid"}})
	var resp parResponse
	if err := json.Unmarshal(push.Body.Bytes(), &resp); err != nil || push.Code != http.StatusCreated {
		t.Fatalf("push: %d %s", push.Code, push.Body)
	}
	e.pendingRequest(e.authorize(url.Values{"client_id": {"fapi"}, "request_uri": {resp.RequestURI}}))
}
