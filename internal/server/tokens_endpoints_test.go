package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// revoke asks the revocation endpoint, as clientID, to revoke token; the
// answer must be 200 with an empty body (RFC 7009 section 2.2).
func (h *harness) revoke(clientID, token, hint string) {
	h.t.Helper()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	resp, body := h.call("/revoke", clientID, form)
	if resp.StatusCode != http.StatusOK || body != "" {
		h.t.Fatalf("revoke: %d %q, want 200 and an empty body", resp.StatusCode, body)
	}
}

// TestRevocation covers RFC 7009 at /revoke.
func TestRevocation(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	h.app("other", storage.ClientConfidential, rpCallback)
	h.app("agenda", storage.ClientPublic, rpCallback)
	b := h.browser()
	scope := "openid profile offline_access"

	t.Run("a refresh token takes its family", func(t *testing.T) {
		first := h.signIn(b, "intranet", "jdupont", scope)
		second := h.mustRefresh("intranet", first.refresh, "")
		h.revoke("intranet", second.refresh, "refresh_token")
		h.wantDead("intranet", second.access)
		resp, body := h.refresh("intranet", second.refresh, nil)
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
		h.revoke("intranet", second.refresh, "") // already revoked: 200 still
	})
	t.Run("an access token goes alone", func(t *testing.T) {
		tok := h.signIn(b, "intranet", "jdupont", scope)
		h.revoke("intranet", tok.access, "refresh_token") // a wrong hint is ignored
		h.wantDead("intranet", tok.access)
		next := h.mustRefresh("intranet", tok.refresh, "")
		h.userinfo(next.access)
	})
	t.Run("unknown token", func(t *testing.T) {
		h.revoke("intranet", "never-issued", "access_token")
	})
	t.Run("another client's token is left alone", func(t *testing.T) {
		tok := h.signIn(b, "intranet", "jdupont", scope)
		h.revoke("other", tok.access, "")
		h.revoke("other", tok.refresh, "")
		h.userinfo(tok.access)
		h.mustRefresh("intranet", tok.refresh, "")
	})
	t.Run("public client revokes its own", func(t *testing.T) {
		tok := h.signIn(b, "agenda", "jdupont", "openid offline_access")
		h.revoke("agenda", tok.refresh, "")
		if r, body := h.userinfoRaw(tok.access); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("userinfo after revocation: %d %s", r.StatusCode, body)
		}
	})
	t.Run("errors", func(t *testing.T) {
		tok := h.signIn(b, "intranet", "jdupont", scope)
		resp, body := h.call("/revoke", "intranet", url.Values{})
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request")
		resp, body = h.call("/revoke", "intranet", url.Values{"token": {tok.access, tok.access}})
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request")
		resp, body = h.call("/revoke", "nobody", url.Values{"token": {tok.access}})
		wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
		resp, body = postForm(t, h.srv.Client(), h.issuer+"/revoke", url.Values{
			"token": {tok.access}, "client_id": {"intranet"}, "client_secret": {"wrong"},
		}, "")
		wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
		if resp.Header.Get("WWW-Authenticate") == "" {
			t.Error("invalid_client without WWW-Authenticate")
		}
		resp, _ = get(t, h.srv.Client(), h.issuer+"/revoke?token="+url.QueryEscape(tok.access))
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /revoke: %d, want 405", resp.StatusCode)
		}
		h.userinfo(tok.access) // none of the above revoked it
	})
}

// TestIntrospection covers RFC 7662 at /introspect: who may ask, and what
// an active token tells.
func TestIntrospection(t *testing.T) {
	h := newHarness(t)
	person := h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	h.app("api", storage.ClientConfidential, rpCallback) // a resource server of the métropole
	h.app("paris-api", storage.ClientConfidential, rpCallback, func(a *storage.Application) { a.OrgID = h.commune.ID })
	h.app("agenda", storage.ClientPublic, rpCallback)
	tok := h.signIn(h.browser(), "intranet", "jdupont", "openid profile offline_access")

	got := h.introspect("api", tok.access)
	for k, want := range map[string]any{
		"active": true, "scope": "openid profile offline_access", "client_id": "intranet",
		"username": "jdupont", "token_type": "Bearer", "sub": person.ID, "aud": "intranet", "iss": h.issuer,
	} {
		if got[k] != want {
			t.Errorf("introspection %s = %v, want %v", k, got[k], want)
		}
	}
	now := h.clock.now().Unix()
	if got["iat"] != float64(now) || got["exp"] != float64(now+600) || got["auth_time"] != float64(now) {
		t.Errorf("iat, exp, auth_time = %v, %v, %v; want %d, %d, %d", got["iat"], got["exp"], got["auth_time"], now, now+600, now)
	}
	if sid, _ := got["sid"].(string); sid == "" {
		t.Error("no sid")
	}
	if rt := h.introspect("intranet", tok.refresh); rt["active"] != true || rt["token_type"] != "refresh_token" {
		t.Errorf("refresh token introspection: %v", rt)
	}

	h.wantInactive("paris-api", tok.access) // another organization's application
	h.wantInactive("paris-api", tok.refresh)
	h.wantInactive("api", "never-issued")

	resp, body := h.call("/introspect", "agenda", url.Values{"token": {tok.access}})
	wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	if strings.Contains(body, "active") {
		t.Errorf("public client got an introspection answer: %s", body)
	}
	resp, body = postForm(t, h.srv.Client(), h.issuer+"/introspect", url.Values{"token": {tok.access}}, "")
	wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	resp, body = h.call("/introspect", "api", url.Values{})
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request")

	next := h.mustRefresh("intranet", tok.refresh, "")
	h.wantInactive("intranet", tok.refresh) // used
	h.revoke("intranet", next.access, "")
	h.wantInactive("api", next.access) // revoked
	h.clock.advance(11 * time.Minute)
	h.wantInactive("api", tok.access) // expired
	if h.introspect("api", next.refresh)["active"] != true {
		t.Error("refresh token inactive after its access token expired")
	}
}

// TestClientCredentials covers the machine-to-machine grant.
func TestClientCredentials(t *testing.T) {
	h := newHarness(t)
	h.app("batch", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Settings.GrantTypes = []string{"client_credentials"}
		a.Settings.ClientCredentialsScopes = []string{"siren", "siret"}
	})
	h.app("api", storage.ClientConfidential, rpCallback)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	h.app("agenda", storage.ClientPublic, rpCallback)
	grant := func(clientID string, scope ...string) (*http.Response, string) {
		form := url.Values{"grant_type": {"client_credentials"}}
		if len(scope) > 0 {
			form.Set("scope", scope[0])
		}
		return h.call("/token", clientID, form)
	}

	resp, body := grant("batch")
	all := okTokens(t, resp, body)
	if all.scope != "siren siret" || all.refresh != "" || all.id != "" {
		t.Errorf("without scope: %+v, want scope \"siren siret\" and no refresh or ID token", all)
	}
	resp, body = grant("batch", "siret")
	one := okTokens(t, resp, body)
	if one.scope != "siret" {
		t.Errorf("scope = %q, want siret", one.scope)
	}
	got := h.introspect("api", one.access)
	for k, want := range map[string]any{"active": true, "sub": "batch", "client_id": "batch", "scope": "siret", "token_type": "Bearer"} {
		if got[k] != want {
			t.Errorf("introspection %s = %v, want %v", k, got[k], want)
		}
	}
	for _, k := range []string{"username", "auth_time", "sid"} {
		if _, ok := got[k]; ok {
			t.Errorf("introspection of a client's token has %s: %v", k, got)
		}
	}
	r, b := h.userinfoRaw(one.access)
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("userinfo with a client's token: %d %s %q", r.StatusCode, b, r.Header.Get("WWW-Authenticate"))
	}

	for _, tt := range []struct {
		name, client, scope string
		status              int
		code                string
	}{
		{"openid", "batch", "openid siret", http.StatusBadRequest, "invalid_scope"},
		{"scope not granted", "batch", "siret email", http.StatusBadRequest, "invalid_scope"},
		{"grant not allowed", "intranet", "", http.StatusBadRequest, "unauthorized_client"},
		{"public client", "agenda", "", http.StatusBadRequest, "unauthorized_client"},
		{"unknown client", "nobody", "", http.StatusUnauthorized, "invalid_client"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var resp *http.Response
			var body string
			if tt.scope == "" {
				resp, body = grant(tt.client)
			} else {
				resp, body = grant(tt.client, tt.scope)
			}
			wantOAuthError(t, resp, body, tt.status, tt.code)
		})
	}
	resp, body = h.call("/token", "batch", url.Values{"grant_type": {"password"}})
	wantOAuthError(t, resp, body, http.StatusBadRequest, "unsupported_grant_type")

	h.revoke("batch", all.access, "")
	h.wantInactive("api", all.access)
}
