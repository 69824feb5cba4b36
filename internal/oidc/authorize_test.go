package oidc

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

func TestCheckPKCE(t *testing.T) {
	pub := storage.Application{ClientType: storage.ClientPublic}
	conf := storage.Application{ClientType: storage.ClientConfidential}
	tests := []struct {
		name      string
		app       storage.Application
		challenge string
		method    string
		wantErr   bool
	}{
		{"public, S256", pub, rfcChallenge, "S256", false},
		{"confidential, S256", conf, rfcChallenge, "S256", false},
		{"confidential without PKCE", conf, "", "", false},
		{"public without PKCE", pub, "", "", true},
		{"method without challenge, confidential", conf, "", "S256", true},
		{"method without challenge, public", pub, "", "S256", true},
		{"plain", conf, rfcChallenge, "plain", true},
		{"plain, public", pub, rfcChallenge, "plain", true},
		{"no method (defaults to plain)", conf, rfcChallenge, "", true},
		{"lowercase s256", conf, rfcChallenge, "s256", true},
		{"unknown method", conf, rfcChallenge, "S512", true},
		{"challenge of 42 characters", conf, rfcChallenge[:42], "S256", true},
		{"challenge of 43 characters", conf, strings.Repeat("a", 43), "S256", false},
		{"challenge of 128 characters", conf, strings.Repeat("a", 128), "S256", false},
		{"challenge of 129 characters", conf, strings.Repeat("a", 129), "S256", true},
		{"challenge with every allowed punctuation", conf, strings.Repeat("a", 39) + ".-_~", "S256", false},
		{"challenge in base64 with padding", conf, rfcChallenge + "=", "S256", true},
		{"challenge with + and /", conf, strings.Repeat("a", 41) + "+/", "S256", true},
		{"challenge with a space", conf, strings.Repeat("a", 42) + " ", "S256", true},
		{"challenge with a newline", conf, rfcChallenge + "\n", "S256", true},
		{"non-ASCII challenge", conf, strings.Repeat("é", 43), "S256", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oe := checkPKCE(tt.app, tt.challenge, tt.method)
			if (oe != nil) != tt.wantErr {
				t.Fatalf("checkPKCE = %v, want error %v", oe, tt.wantErr)
			}
			if oe != nil && (oe.Code != "invalid_request" || oe.Description == "") {
				t.Errorf("error = %+v, want invalid_request with a description", oe)
			}
		})
	}
}

func TestDedupe(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"nil", nil, nil},
		{"empty", []string{}, nil},
		{"no duplicates", []string{"openid", "profile"}, []string{"openid", "profile"}},
		{"duplicates keep first position", []string{"profile", "openid", "profile", "email", "openid"}, []string{"profile", "openid", "email"}},
		{"all the same", []string{"a", "a", "a"}, []string{"a"}},
		{"case-sensitive", []string{"a", "A"}, []string{"a", "A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, dedupe(tt.in)); diff != "" {
				t.Errorf("dedupe(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestHasPrompt(t *testing.T) {
	tests := []struct {
		prompt, v string
		want      bool
	}{
		{"login", "login", true},
		{"consent login", "login", true},
		{"nologin", "login", false},
		{"", "none", false},
		{"none", "no", false},
	}
	for _, tt := range tests {
		t.Run(tt.prompt+"/"+tt.v, func(t *testing.T) {
			if got := hasPrompt(tt.prompt, tt.v); got != tt.want {
				t.Errorf("hasPrompt(%q, %q) = %v, want %v", tt.prompt, tt.v, got, tt.want)
			}
		})
	}
}

// authorizeQuery builds a valid request for confidentialApp, edited by the
// given key/value pairs (a nil value deletes the key).
func authorizeQuery(kv ...any) url.Values {
	q := url.Values{
		"client_id":     {confidentialApp.ClientID},
		"redirect_uri":  {confidentialApp.RedirectURIs[0]},
		"response_type": {"code"},
		"scope":         {"openid profile"},
		"state":         {"xyz"},
		"nonce":         {"n-0S6_WzA2Mj"},
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		switch v := kv[i+1].(type) {
		case nil:
			q.Del(k)
		case string:
			q.Set(k, v)
		case []string:
			q[k] = v
		}
	}
	return q
}

func TestParseAuthorize(t *testing.T) {
	p, _, _ := newTestProvider(t, testIssuer)
	ma := func(n int) *int { return &n }
	pkce := []any{"code_challenge", rfcChallenge, "code_challenge_method", "S256"}
	tests := []struct {
		name        string
		query       url.Values
		wantPage    string // pageMessage
		wantCode    string // redirectErr.Code
		wantRequest *storage.AuthRequest
	}{
		{"valid", authorizeQuery(), "", "", &storage.AuthRequest{
			ClientID: "portail-rh", RedirectURI: "https://rh.ville-exemple.fr/callback", Scope: "openid profile",
			State: "xyz", Nonce: "n-0S6_WzA2Mj", ResponseMode: "query",
		}},
		{"valid, every option", authorizeQuery(append(pkce,
			"redirect_uri", "https://rh.ville-exemple.fr/cb?tenant=42",
			"scope", "profile openid profile siret", "response_mode", "query", "prompt", "login consent",
			"max_age", "600", "login_hint", "marie.dupont", "claims", `{"id_token":{}}`, "acr_values", "eidas1",
			"ui_locales", "fr", "display", "page")...), "", "", &storage.AuthRequest{
			ClientID: "portail-rh", RedirectURI: "https://rh.ville-exemple.fr/cb?tenant=42", Scope: "profile openid siret",
			State: "xyz", Nonce: "n-0S6_WzA2Mj", CodeChallenge: rfcChallenge, CodeChallengeMethod: "S256",
			ResponseMode: "query", Prompt: "login consent", MaxAge: ma(600), LoginHint: "marie.dupont",
			Claims: `{"id_token":{}}`, ACRValues: "eidas1",
		}},
		{"public client with PKCE", authorizeQuery(append(pkce,
			"client_id", "mobile", "redirect_uri", "http://127.0.0.1:8080/cb", "scope", "openid mandates", "state", nil, "nonce", nil)...), "", "", &storage.AuthRequest{
			ClientID: "mobile", RedirectURI: "http://127.0.0.1:8080/cb", Scope: "openid mandates",
			CodeChallenge: rfcChallenge, CodeChallengeMethod: "S256", ResponseMode: "query",
		}},
		{"max_age=0", authorizeQuery("max_age", "0"), "", "", &storage.AuthRequest{
			ClientID: "portail-rh", RedirectURI: "https://rh.ville-exemple.fr/callback", Scope: "openid profile",
			State: "xyz", Nonce: "n-0S6_WzA2Mj", ResponseMode: "query", MaxAge: ma(0),
		}},

		// Shown on a page, never redirected.
		{"no client_id", authorizeQuery("client_id", nil), "error.invalid_client", "", nil},
		{"unknown client_id", authorizeQuery("client_id", "inconnu"), "error.invalid_client", "", nil},
		{"disabled client", authorizeQuery("client_id", "ancien", "redirect_uri", "https://ancien.ville-exemple.fr/cb"), "error.invalid_client", "", nil},
		{"repeated client_id", authorizeQuery("client_id", []string{"portail-rh", "portail-rh"}), "error.bad_request", "", nil},
		{"repeated redirect_uri", authorizeQuery("redirect_uri", []string{confidentialApp.RedirectURIs[0], confidentialApp.RedirectURIs[0]}), "error.bad_request", "", nil},
		{"no redirect_uri", authorizeQuery("redirect_uri", nil), "error.invalid_redirect_uri", "", nil},
		{"unregistered redirect_uri", authorizeQuery("redirect_uri", "https://evil.example/cb"), "error.invalid_redirect_uri", "", nil},
		{"redirect_uri with trailing slash", authorizeQuery("redirect_uri", "https://rh.ville-exemple.fr/callback/"), "error.invalid_redirect_uri", "", nil},
		{"redirect_uri of another client", authorizeQuery("redirect_uri", "http://127.0.0.1:8080/cb"), "error.invalid_redirect_uri", "", nil},
		{"redirect_uri with extra query", authorizeQuery("redirect_uri", "https://rh.ville-exemple.fr/cb?tenant=42&x=1"), "error.invalid_redirect_uri", "", nil},
		{"bad redirect_uri and bad response_type", authorizeQuery("redirect_uri", "https://evil.example/cb", "response_type", "token"), "error.invalid_redirect_uri", "", nil},

		// Redirected to the validated redirect URI.
		{"repeated scope", authorizeQuery("scope", []string{"openid", "openid"}), "", "invalid_request", nil},
		{"repeated state", authorizeQuery("state", []string{"a", "b"}), "", "invalid_request", nil},
		{"request object", authorizeQuery("request", "eyJ..."), "", "request_not_supported", nil},
		{"request_uri with other parameters", authorizeQuery("request_uri", requestURIPrefix+"abc"), "", "invalid_request", nil},
		{"response_mode=fragment", authorizeQuery("response_mode", "fragment"), "", "invalid_request", nil},
		{"response_mode=form_post", authorizeQuery("response_mode", "form_post"), "", "", &storage.AuthRequest{
			ClientID: "portail-rh", RedirectURI: "https://rh.ville-exemple.fr/callback", Scope: "openid profile",
			State: "xyz", Nonce: "n-0S6_WzA2Mj", ResponseMode: "form_post",
		}},
		{"response_mode=form_post to a native app's scheme", authorizeQuery(append(pkce, "client_id", "natif", "redirect_uri", "fr.ville-exemple.app:/cb", "response_mode", "form_post")...), "", "invalid_request", nil},
		{"response_mode=form_post, repeated", authorizeQuery("response_mode", []string{"form_post", "form_post"}), "", "invalid_request", nil},
		{"response_mode=form_post, then a refused scope", authorizeQuery("response_mode", "form_post", "scope", "profile"), "", "invalid_scope", nil},
		{"response_mode=jwt", authorizeQuery("response_mode", "jwt"), "", "invalid_request", nil},
		{"no response_type", authorizeQuery("response_type", nil), "", "invalid_request", nil},
		{"response_type=token", authorizeQuery("response_type", "token"), "", "unsupported_response_type", nil},
		{"response_type=code id_token", authorizeQuery("response_type", "code id_token"), "", "unsupported_response_type", nil},
		{"no openid scope", authorizeQuery("scope", "profile"), "", "invalid_scope", nil},
		{"no scope", authorizeQuery("scope", nil), "", "invalid_scope", nil},
		{"unknown scope ignored", authorizeQuery("scope", "openid admin profile chorusdt"), "", "", &storage.AuthRequest{
			ClientID: "portail-rh", RedirectURI: "https://rh.ville-exemple.fr/callback", Scope: "openid profile",
			State: "xyz", Nonce: "n-0S6_WzA2Mj", ResponseMode: "query",
		}},
		{"scope not allowed for the app ignored", authorizeQuery("scope", "openid mandates"), "", "", &storage.AuthRequest{
			ClientID: "portail-rh", RedirectURI: "https://rh.ville-exemple.fr/callback", Scope: "openid",
			State: "xyz", Nonce: "n-0S6_WzA2Mj", ResponseMode: "query",
		}},
		{"public client without PKCE", authorizeQuery("client_id", "mobile", "redirect_uri", "http://127.0.0.1:8080/cb"), "", "invalid_request", nil},
		{"plain PKCE", authorizeQuery("code_challenge", rfcChallenge, "code_challenge_method", "plain"), "", "invalid_request", nil},
		{"PKCE without method", authorizeQuery("code_challenge", rfcChallenge), "", "invalid_request", nil},
		{"short code_challenge", authorizeQuery("code_challenge", "abc", "code_challenge_method", "S256"), "", "invalid_request", nil},
		{"unknown prompt", authorizeQuery("prompt", "create"), "", "invalid_request", nil},
		{"prompt=none with login", authorizeQuery("prompt", "none login"), "", "invalid_request", nil},
		{"negative max_age", authorizeQuery("max_age", "-1"), "", "invalid_request", nil},
		{"non-numeric max_age", authorizeQuery("max_age", "1h"), "", "invalid_request", nil},
		{"max_age beyond int", authorizeQuery("max_age", "99999999999999999999"), "", "invalid_request", nil},
		{"state too long", authorizeQuery("state", strings.Repeat("s", 2049)), "", "invalid_request", nil},
		{"nonce too long", authorizeQuery("nonce", strings.Repeat("n", 2049)), "", "invalid_request", nil},
		{"login_hint too long", authorizeQuery("login_hint", strings.Repeat("h", 257)), "", "invalid_request", nil},
		{"acr_values too long", authorizeQuery("acr_values", strings.Repeat("eidas1 ", 80)), "", "invalid_request", nil},
		{"claims not JSON", authorizeQuery("claims", `{"id_token":`), "", "invalid_request", nil},
		{"claims not an object", authorizeQuery("claims", `["acr"]`), "", "invalid_request", nil},
		{"claims with a non-boolean essential", authorizeQuery("claims", `{"id_token":{"acr":{"essential":"yes"}}}`), "", "invalid_request", nil},
		{"essential acr no sign-in reaches", authorizeQuery("claims", `{"id_token":{"acr":{"essential":true,"values":["eidas3"]}}}`), "", "unmet_authentication_requirements", nil},
		{"essential acr at userinfo no sign-in reaches", authorizeQuery("claims", `{"userinfo":{"acr":{"essential":true,"value":"eidas3"}}}`), "", "unmet_authentication_requirements", nil},
		{"voluntary acr no sign-in reaches", authorizeQuery("acr_values", "eidas3", "claims", `{"id_token":{"acr":{"values":["eidas2"]}}}`), "", "", nil},
		{"prompt=select_account", authorizeQuery("prompt", "select_account"), "", "", nil},
		{"prompt=none with select_account", authorizeQuery("prompt", "none select_account"), "", "invalid_request", nil},
		{"invalid id_token_hint", authorizeQuery("id_token_hint", "a.b.c"), "", "invalid_request", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/authorize?"+tt.query.Encode(), nil)
			pa := p.parseAuthorize(r, tt.query)
			if pa.pageMessage != tt.wantPage {
				t.Fatalf("pageMessage = %q (%s), want %q", pa.pageMessage, pa.pageDetail, tt.wantPage)
			}
			if tt.wantPage != "" {
				if pa.redirectErr != nil {
					t.Errorf("a page error also carries a redirect error %v", pa.redirectErr)
				}
				if pa.pageTitle == "" {
					t.Errorf("page without a title")
				}
				return
			}
			var code string
			if pa.redirectErr != nil {
				code = pa.redirectErr.Code
			}
			if code != tt.wantCode {
				t.Fatalf("redirectErr = %v, want %q", pa.redirectErr, tt.wantCode)
			}
			if pa.req.ClientID != pa.app.ClientID || !apps.RedirectURIAllowed(pa.app, pa.req.RedirectURI) {
				t.Errorf("would redirect to %q for %q, which is not registered", pa.req.RedirectURI, pa.req.ClientID)
			}
			if tt.wantRequest != nil {
				if diff := cmp.Diff(*tt.wantRequest, pa.req); diff != "" {
					t.Errorf("request (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// acceptedMode reports whether an accepted request answers in the mode
// asked for: query by default, form_post to a web redirect URI only.
func acceptedMode(asked string, req storage.AuthRequest) bool {
	switch asked {
	case "", "query":
		return req.ResponseMode == "query"
	case "form_post":
		return req.ResponseMode == "form_post" &&
			(strings.HasPrefix(req.RedirectURI, "https://") || strings.HasPrefix(req.RedirectURI, "http://"))
	}
	return false
}

// Errors are delivered in the response mode asked for, if supported and
// possible for the redirect URI; in the query otherwise.
func TestResponseModeOfErrors(t *testing.T) {
	p, _, _ := newTestProvider(t, testIssuer)
	native := []any{"client_id", "natif", "redirect_uri", "fr.ville-exemple.app:/cb", "code_challenge", rfcChallenge, "code_challenge_method", "S256"}
	tests := []struct {
		name     string
		query    url.Values
		wantMode string
	}{
		{"form_post, bad scope", authorizeQuery("response_mode", "form_post", "scope", "email"), "form_post"},
		{"form_post, repeated state", authorizeQuery("response_mode", "form_post", "state", []string{"a", "b"}), "form_post"},
		{"form_post, request object", authorizeQuery("response_mode", "form_post", "request", "x"), "form_post"},
		{"query, bad scope", authorizeQuery("response_mode", "query", "scope", "email"), "query"},
		{"no mode, bad scope", authorizeQuery("scope", "email"), "query"},
		{"unsupported mode", authorizeQuery("response_mode", "fragment"), "query"},
		{"repeated mode", authorizeQuery("response_mode", []string{"form_post", "query"}), "query"},
		{"mode in another case", authorizeQuery("response_mode", "FORM_POST"), "query"},
		{"form_post to a private-use scheme", authorizeQuery(append(native, "response_mode", "form_post")...), "query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pa := p.parseAuthorize(httptest.NewRequest(http.MethodGet, "/authorize", nil), tt.query)
			if pa.pageMessage != "" || pa.redirectErr == nil {
				t.Fatalf("page %q, redirect error %v: want a redirect error", pa.pageMessage, pa.redirectErr)
			}
			if pa.req.ResponseMode != tt.wantMode {
				t.Errorf("response mode = %q, want %q", pa.req.ResponseMode, tt.wantMode)
			}
		})
	}
}

// FuzzParseAuthorize feeds arbitrary query strings to parseAuthorize. It
// must never panic, and it may choose to redirect (no page error) only to
// a redirect URI registered, exactly, for a registered, enabled client.
// A request it accepts satisfies every rule.
func FuzzParseAuthorize(f *testing.F) {
	for _, q := range []url.Values{
		authorizeQuery(),
		authorizeQuery("code_challenge", rfcChallenge, "code_challenge_method", "S256", "prompt", "none", "max_age", "0"),
		authorizeQuery("client_id", "mobile", "redirect_uri", "http://127.0.0.1:8080/cb", "code_challenge", rfcChallenge, "code_challenge_method", "S256"),
		authorizeQuery("redirect_uri", "https://rh.ville-exemple.fr/callback/"),
		authorizeQuery("client_id", "ancien", "redirect_uri", "https://ancien.ville-exemple.fr/cb"),
		authorizeQuery("response_type", "token", "scope", "openid admin"),
	} {
		f.Add(q.Encode())
	}
	f.Add("client_id=portail-rh&redirect_uri=https%3A%2F%2Frh.ville-exemple.fr%2Fcallback&client_id=mobile")
	f.Add("client_id=portail-rh&redirect_uri=https://rh.ville-exemple.fr/cb?tenant=42&response_type=code&scope=openid")
	f.Add("client_id=portail-rh;redirect_uri=x")
	f.Add("%zz=1&client_id=portail-rh")
	f.Add("")

	p, _, _ := newTestProvider(f, testIssuer)
	registered := map[string]storage.Application{}
	for _, a := range testApps {
		if !a.Disabled {
			registered[a.ClientID] = a
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, _ := url.ParseQuery(raw) // a partial result too: parseAuthorize must cope
		r := httptest.NewRequest(http.MethodGet, "/authorize", nil)
		r.URL.RawQuery = raw
		pa := p.parseAuthorize(r, form)
		if pa.pageMessage != "" {
			if pa.redirectErr != nil {
				t.Fatalf("%q: both a page (%s) and a redirect error (%v)", raw, pa.pageMessage, pa.redirectErr)
			}
			return
		}
		app, ok := registered[pa.req.ClientID]
		if !ok {
			t.Fatalf("%q: would redirect for client %q, which is not registered and enabled", raw, pa.req.ClientID)
		}
		if !slices.Contains(app.RedirectURIs, pa.req.RedirectURI) {
			t.Fatalf("%q: would redirect to %q, not registered for %s", raw, pa.req.RedirectURI, app.ClientID)
		}
		if len(form["client_id"]) != 1 || len(form["redirect_uri"]) != 1 {
			t.Fatalf("%q: would redirect with a repeated client_id or redirect_uri", raw)
		}
		if pa.redirectErr != nil {
			if pa.redirectErr.Code == "" {
				t.Fatalf("%q: redirect error without a code", raw)
			}
			return
		}
		// Accepted: check the rules hold.
		req := pa.req
		scopes := strings.Fields(req.Scope)
		switch {
		case form.Get("response_type") != "code":
			t.Fatalf("%q: accepted response_type %q", raw, form.Get("response_type"))
		case req.Claims != "" && func() bool { _, err := parseClaimsRequest(req.Claims); return err != nil }():
			t.Fatalf("%q: accepted claims %q", raw, req.Claims)
		case !acceptedMode(form.Get("response_mode"), req):
			t.Fatalf("%q: accepted response_mode %q as %q", raw, form.Get("response_mode"), req.ResponseMode)
		case !slices.Contains(scopes, "openid"):
			t.Fatalf("%q: accepted scope %q without openid", raw, req.Scope)
		case len(dedupe(scopes)) != len(scopes):
			t.Fatalf("%q: scope %q has duplicates", raw, req.Scope)
		case app.ClientType == storage.ClientPublic && req.CodeChallenge == "":
			t.Fatalf("%q: public client without PKCE", raw)
		case req.CodeChallenge != "" && (req.CodeChallengeMethod != "S256" || !pkceRE.MatchString(req.CodeChallenge)):
			t.Fatalf("%q: accepted PKCE %q / %q", raw, req.CodeChallenge, req.CodeChallengeMethod)
		case req.MaxAge != nil && *req.MaxAge < 0:
			t.Fatalf("%q: accepted max_age %d", raw, *req.MaxAge)
		case hasPrompt(req.Prompt, "none") && len(strings.Fields(req.Prompt)) > 1:
			t.Fatalf("%q: accepted prompt %q", raw, req.Prompt)
		case form.Has("request") || form.Has("request_uri"):
			t.Fatalf("%q: accepted a request object", raw)
		}
		for _, s := range scopes {
			if !apps.ScopeAllowed(app, s) {
				t.Fatalf("%q: accepted scope %q for %s", raw, s, app.ClientID)
			}
		}
		for _, k := range authorizeParams {
			if len(form[k]) > 1 {
				t.Fatalf("%q: accepted a repeated %s", raw, k)
			}
		}
	})
}
