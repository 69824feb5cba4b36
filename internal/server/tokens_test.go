package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// call posts a form to a protocol endpoint as clientID: HTTP Basic with
// its secret for a confidential application, client_id in the form for a
// public one.
func (h *harness) call(path, clientID string, form url.Values) (*http.Response, string) {
	h.t.Helper()
	v := url.Values{}
	for k, vs := range form {
		v[k] = vs
	}
	secret := h.secrets[clientID]
	if secret == "" {
		v.Set("client_id", clientID)
	}
	req, _ := http.NewRequest(http.MethodPost, h.issuer+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// tokens are the fields of a successful token response.
type tokens struct{ access, refresh, id, scope string }

func decodeJSON(t testing.TB, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	return m
}

// okTokens checks a 200 token response and returns its tokens.
func okTokens(t testing.TB, resp *http.Response, body string) tokens {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token endpoint: %d %s", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	m := decodeJSON(t, body)
	s := func(k string) string { v, _ := m[k].(string); return v }
	if s("token_type") != "Bearer" || s("access_token") == "" {
		t.Fatalf("token response: %s", body)
	}
	return tokens{s("access_token"), s("refresh_token"), s("id_token"), s("scope")}
}

// wantOAuthError checks an OAuth error response.
func wantOAuthError(t *testing.T, resp *http.Response, body string, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || jsonField(t, body, "error") != code {
		t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, status, code)
	}
}

// signIn signs username into clientID (redirect rpCallback) with scope
// through browser b and exchanges the code.
func (h *harness) signIn(b *http.Client, clientID, username, scope string) tokens {
	h.t.Helper()
	extra := url.Values{"scope": {scope}}
	form := url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {rpCallback}}
	if h.secrets[clientID] == "" { // public: PKCE
		verifier, challenge := pkcePair()
		extra.Set("code_challenge", challenge)
		extra.Set("code_challenge_method", "S256")
		form.Set("code_verifier", verifier)
	}
	form.Set("code", h.code(b, clientID, rpCallback, username, extra))
	return h.okCall("/token", clientID, form)
}

// okCall is call for a request that must succeed with tokens.
func (h *harness) okCall(path, clientID string, form url.Values) tokens {
	h.t.Helper()
	resp, body := h.call(path, clientID, form)
	return okTokens(h.t, resp, body)
}

// mustRefresh refreshes, optionally narrowing to scope, and must succeed.
func (h *harness) mustRefresh(clientID, refreshToken, scope string) tokens {
	h.t.Helper()
	var extra url.Values
	if scope != "" {
		extra = url.Values{"scope": {scope}}
	}
	resp, body := h.refresh(clientID, refreshToken, extra)
	return okTokens(h.t, resp, body)
}

func (h *harness) refresh(clientID, refreshToken string, extra url.Values) (*http.Response, string) {
	h.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	for k, vs := range extra {
		form[k] = vs
	}
	return h.call("/token", clientID, form)
}

// introspect returns callerID's view of token.
func (h *harness) introspect(callerID, token string) map[string]any {
	h.t.Helper()
	resp, body := h.call("/introspect", callerID, url.Values{"token": {token}})
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("introspect: %d %s", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		h.t.Errorf("introspect: Cache-Control = %q, want no-store", cc)
	}
	return decodeJSON(h.t, body)
}

// wantInactive checks that token is inactive for callerID: exactly
// {"active":false}.
func (h *harness) wantInactive(callerID, token string) {
	h.t.Helper()
	if got := h.introspect(callerID, token); len(got) != 1 || got["active"] != false {
		h.t.Errorf("introspection by %s = %v, want exactly {active:false}", callerID, got)
	}
}

// wantDead checks that an access token is refused by userinfo and
// reported inactive.
func (h *harness) wantDead(callerID, access string) {
	h.t.Helper()
	if r, b := h.userinfoRaw(access); r.StatusCode != http.StatusUnauthorized {
		h.t.Errorf("userinfo with a revoked access token: %d %s", r.StatusCode, b)
	}
	h.wantInactive(callerID, access)
}

// TestRefreshInterop refreshes through golang.org/x/oauth2's TokenSource,
// a third-party client: a token past its expiry triggers a refresh; the
// new ID token (checked by coreos/go-oidc) keeps sub, auth_time and sid,
// has no nonce and an at_hash of the new access token; and the refresh
// token rotated.
func TestRefreshInterop(t *testing.T) {
	h := newHarness(t)
	person := h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	ctx := oidc.ClientContext(context.Background(), h.srv.Client())
	provider, err := oidc.NewProvider(ctx, h.issuer)
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: "intranet"})
	rp := oauth2.Config{
		ClientID: "intranet", ClientSecret: h.secrets["intranet"], RedirectURL: rpCallback,
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess},
	}
	b := h.browser()
	_, body := get(t, b, rp.AuthCodeURL("st", oidc.Nonce("n-1")))
	resp, _ := h.login(b, body, "jdupont", password)
	tok, err := rp.Exchange(ctx, callback(t, resp, rpCallback).Get("code"))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}
	idt1, err := verifier.Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}

	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	tok2, err := rp.TokenSource(ctx, &expired).Token()
	if err != nil {
		t.Fatalf("refresh through oauth2.TokenSource: %v", err)
	}
	if tok2.AccessToken == tok.AccessToken || tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh did not rotate: access %v, refresh %q", tok2.AccessToken != tok.AccessToken, tok2.RefreshToken)
	}
	raw, _ := tok2.Extra("id_token").(string)
	idt2, err := verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	if err := idt2.VerifyAccessToken(tok2.AccessToken); err != nil {
		t.Errorf("refreshed at_hash: %v", err)
	}
	var c1, c2 struct {
		AuthTime int64  `json:"auth_time"`
		SID      string `json:"sid"`
		Name     string `json:"name"`
	}
	_ = idt1.Claims(&c1)
	_ = idt2.Claims(&c2)
	switch {
	case idt2.Subject != person.ID || idt2.Subject != idt1.Subject:
		t.Errorf("sub %q then %q", idt1.Subject, idt2.Subject)
	case idt2.Nonce != "":
		t.Errorf("refreshed ID token carries nonce %q", idt2.Nonce)
	case c1.AuthTime == 0 || c2.AuthTime != c1.AuthTime:
		t.Errorf("auth_time %d then %d", c1.AuthTime, c2.AuthTime)
	case c1.SID == "" || c2.SID != c1.SID:
		t.Errorf("sid %q then %q", c1.SID, c2.SID)
	case c2.Name != "Jeanne Dupont":
		t.Errorf("name = %q", c2.Name)
	}
	if ui := h.userinfo(tok2.AccessToken); ui["sub"] != person.ID {
		t.Errorf("userinfo with the refreshed access token: %v", ui)
	}

	// The first refresh token is spent: oauth2 sees invalid_grant.
	_, err = rp.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh with the used token: %v, want invalid_grant", err)
	}
}

// TestRefreshReuseRevokesFamily: presenting a used refresh token revokes
// every token of its family, the ones issued since included.
func TestRefreshReuseRevokesFamily(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	first := h.signIn(h.browser(), "intranet", "jdupont", "openid profile offline_access")
	second := h.mustRefresh("intranet", first.refresh, "")
	third := h.mustRefresh("intranet", second.refresh, "")
	h.userinfo(third.access)

	resp, body := h.refresh("intranet", first.refresh, nil) // reuse
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	for _, access := range []string{first.access, second.access, third.access} {
		h.wantDead("intranet", access)
	}
	h.wantInactive("intranet", third.refresh)
	resp, body = h.refresh("intranet", third.refresh, nil)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")

	// Another family of the same person is untouched.
	other := h.signIn(h.browser(), "intranet", "jdupont", "openid offline_access")
	h.mustRefresh("intranet", other.refresh, "")
}

// TestRefreshConcurrentUse: of two refreshes racing with one token,
// exactly one succeeds, and the loser's reuse revokes the winner's tokens.
func TestRefreshConcurrentUse(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	first := h.signIn(h.browser(), "intranet", "jdupont", "openid offline_access")
	type result struct {
		status int
		body   string
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			resp, body := h.refresh("intranet", first.refresh, nil)
			results[i] = result{resp.StatusCode, body}
		})
	}
	wg.Wait()
	var won []string
	for _, r := range results {
		switch {
		case r.status == http.StatusOK:
			won = append(won, jsonField(t, r.body, "refresh_token"))
		case jsonField(t, r.body, "error") != "invalid_grant":
			t.Errorf("loser got %d %s, want invalid_grant", r.status, r.body)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d refreshes succeeded, want exactly 1: %v", len(won), results)
	}
	resp, body := h.refresh("intranet", won[0], nil)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
}

// TestRefreshIssuance: who gets a refresh token at the code exchange.
func TestRefreshIssuance(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	h.app("always", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Settings.GrantTypes, a.Settings.RefreshTokens = []string{"refresh_token"}, true
	})
	h.app("agenda", storage.ClientPublic, rpCallback)
	h.app("noffline", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Scopes = []string{"profile"}
	})
	b := h.browser()
	if got := h.signIn(b, "intranet", "jdupont", "openid profile"); got.refresh != "" {
		t.Error("refresh token issued without offline_access")
	}
	resp, body := h.refresh("intranet", "not-a-token", nil)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	resp, body = h.refresh("intranet", "", nil)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request")

	always := h.signIn(b, "always", "jdupont", "openid profile")
	if always.refresh == "" {
		t.Fatal("no refresh token for an application with refresh_tokens")
	}
	h.mustRefresh("always", always.refresh, "")

	// A public client gets one too, and rotates it.
	pub := h.signIn(b, "agenda", "jdupont", "openid offline_access")
	if pub.refresh == "" {
		t.Fatal("no refresh token for a public client with offline_access")
	}
	next := h.mustRefresh("agenda", pub.refresh, "")
	if next.refresh == "" || next.refresh == pub.refresh {
		t.Error("public client's refresh token did not rotate")
	}
	resp, body = h.refresh("agenda", pub.refresh, nil)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")

	// An application whose scopes exclude offline_access asks for it in
	// vain: the scope is ignored, and no refresh token comes.
	if got := h.signIn(b, "noffline", "jdupont", "openid offline_access"); got.refresh != "" || got.scope != "openid" {
		t.Errorf("offline_access for an application without it: refresh %q, scope %q", got.refresh, got.scope)
	}

	// An access token is not a refresh token, nor the reverse.
	resp, body = h.refresh("always", always.access, nil)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	if r, b := h.userinfoRaw(next.refresh); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo with a refresh token: %d %s", r.StatusCode, b)
	}
}

// TestRefreshScope: the scope parameter may narrow the access token's
// scope, never widen it; the refresh token keeps its own.
func TestRefreshScope(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	first := h.signIn(h.browser(), "intranet", "jdupont", "openid profile email offline_access")

	for _, scope := range []string{"openid phone", "openid profile admin", "email address"} {
		resp, body := h.refresh("intranet", first.refresh, url.Values{"scope": {scope}})
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_scope")
	}
	// A refused refresh does not spend the token.
	narrow := h.mustRefresh("intranet", first.refresh, "openid profile")
	if narrow.scope != "openid profile" || narrow.id == "" {
		t.Errorf("narrowed: scope %q, ID token %v", narrow.scope, narrow.id != "")
	}
	if ui := h.userinfo(narrow.access); ui["email"] != nil || ui["name"] == nil {
		t.Errorf("userinfo with the narrowed token: %v", ui)
	}
	full := h.mustRefresh("intranet", narrow.refresh, "")
	if full.scope != "openid profile email offline_access" {
		t.Errorf("refresh without scope after narrowing: %q, want the original scope", full.scope)
	}
	noOpenID := h.mustRefresh("intranet", full.refresh, "email")
	if noOpenID.id != "" || noOpenID.scope != "email" {
		t.Errorf("without openid: scope %q, ID token issued %v", noOpenID.scope, noOpenID.id != "")
	}
}

// TestRefreshRefused: a refresh token stops working with its client,
// person, membership, session (without offline_access) or lifetime.
func TestRefreshRefused(t *testing.T) {
	ctx := context.Background()
	t.Run("another client", func(t *testing.T) {
		h := newHarness(t)
		h.person("jdupont", h.metropole)
		h.app("intranet", storage.ClientConfidential, rpCallback)
		h.app("other", storage.ClientConfidential, rpCallback)
		tok := h.signIn(h.browser(), "intranet", "jdupont", "openid offline_access")
		resp, body := h.refresh("other", tok.refresh, nil)
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
		h.mustRefresh("intranet", tok.refresh, "") // not spent by the other client
		resp, body = h.refresh("intranet", tok.refresh, url.Values{"client_secret": {"wrong"}})
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request") // Basic and client_secret together
	})
	t.Run("person disabled", func(t *testing.T) {
		h := newHarness(t)
		p := h.person("jdupont", h.metropole)
		h.app("intranet", storage.ClientConfidential, rpCallback)
		tok := h.signIn(h.browser(), "intranet", "jdupont", "openid offline_access")
		p.Disabled = true
		if err := h.store.UpdatePerson(ctx, &p); err != nil {
			t.Fatal(err)
		}
		resp, body := h.refresh("intranet", tok.refresh, nil)
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
		h.wantInactive("intranet", tok.refresh)
		h.wantInactive("intranet", tok.access)
	})
	t.Run("membership ended", func(t *testing.T) {
		h := newHarness(t)
		p := h.person("jdupont", h.metropole)
		h.app("intranet", storage.ClientConfidential, rpCallback)
		tok := h.signIn(h.browser(), "intranet", "jdupont", "openid offline_access")
		ms, err := h.store.ListPersonMemberships(ctx, p.ID)
		if err != nil || len(ms) != 1 {
			t.Fatal(ms, err)
		}
		end := h.clock.now().Add(-time.Minute)
		ms[0].ValidUntil = &end
		if err := h.store.UpdateMembership(ctx, &ms[0]); err != nil {
			t.Fatal(err)
		}
		resp, body := h.refresh("intranet", tok.refresh, nil)
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("session ended", func(t *testing.T) {
		h := newHarness(t)
		p := h.person("jdupont", h.metropole)
		h.app("always", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
			a.Settings.GrantTypes, a.Settings.RefreshTokens = []string{"refresh_token"}, true
		})
		b := h.browser()
		online := h.signIn(b, "always", "jdupont", "openid profile")
		offline := h.signIn(b, "always", "jdupont", "openid offline_access")
		sessions, err := h.store.ListPersonSessions(ctx, p.ID)
		if err != nil || len(sessions) != 1 {
			t.Fatal(sessions, err)
		}
		if err := h.store.RevokeSession(ctx, sessions[0].ID, h.clock.now()); err != nil {
			t.Fatal(err)
		}
		h.wantInactive("always", online.refresh)
		resp, body := h.refresh("always", online.refresh, nil)
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
		// offline_access outlives the session (OpenID Connect Core section 11).
		next := h.mustRefresh("always", offline.refresh, "")
		if next.id == "" {
			t.Error("no ID token on refresh")
		}
	})
	t.Run("lifetimes", func(t *testing.T) {
		h := newHarness(t)
		h.person("jdupont", h.metropole)
		h.app("intranet", storage.ClientConfidential, rpCallback)
		tok := h.signIn(h.browser(), "intranet", "jdupont", "openid offline_access")
		h.clock.advance(20 * 24 * time.Hour)
		later := h.mustRefresh("intranet", tok.refresh, "")
		exp := h.introspect("intranet", later.refresh)["exp"].(float64)
		if limit := h.clock.now().Add(10 * 24 * time.Hour); int64(exp) > limit.Unix() {
			t.Errorf("rotated refresh token expires at %v, after the family's end %v", time.Unix(int64(exp), 0), limit)
		}
		h.clock.advance(11 * 24 * time.Hour) // 31 days after the sign-in
		resp, body := h.refresh("intranet", later.refresh, nil)
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	})
}

// TestReusedCodeRevokesRefreshTokens: replaying an authorization code
// revokes what it issued, the refresh tokens rotated since included.
func TestReusedCodeRevokesRefreshTokens(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	code := h.code(h.browser(), "intranet", rpCallback, "jdupont", url.Values{"scope": {"openid offline_access"}})
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}}
	first := h.okCall("/token", "intranet", form)
	second := h.mustRefresh("intranet", first.refresh, "")
	h.userinfo(second.access)

	resp, body := h.call("/token", "intranet", form)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	h.wantDead("intranet", first.access)
	h.wantDead("intranet", second.access)
	resp, body = h.refresh("intranet", second.refresh, nil)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
}
