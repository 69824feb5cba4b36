package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// TestEndToEndSSO signs in with third-party client libraries
// (golang.org/x/oauth2 and coreos/go-oidc, which check the ID token's
// signature, nonce and at_hash), then signs into a second, public
// application with PKCE through single sign-on, without a password prompt.
func TestEndToEndSSO(t *testing.T) {
	h := newHarness(t)
	person := h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	h.app("agenda", storage.ClientPublic, rpCallback2)

	browser := h.browser()
	ctx := oidc.ClientContext(context.Background(), h.srv.Client())
	provider, err := oidc.NewProvider(ctx, h.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}

	// First application: confidential client, client_secret_basic.
	rp1 := oauth2.Config{
		ClientID: "intranet", ClientSecret: h.secrets["intranet"], RedirectURL: rpCallback,
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email", "siret", "usual_name", "organizational_unit"},
	}
	nonce := "n-0S6_WzA2Mj"
	verifier := oauth2.GenerateVerifier()
	resp, body := get(t, browser, rp1.AuthCodeURL("state-1", oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	if resp.Request.URL.Path != "/login" || resp.StatusCode != http.StatusOK {
		t.Fatalf("expected the login page, got %d %s", resp.StatusCode, resp.Request.URL)
	}
	if !strings.Contains(body, `lang="fr"`) {
		t.Errorf("login page is not French by default")
	}
	resp, _ = h.login(browser, body, "jdupont", password)
	q := callback(t, resp, rpCallback)
	if q.Get("state") != "state-1" || q.Get("iss") != h.issuer {
		t.Fatalf("callback state/iss = %q/%q", q.Get("state"), q.Get("iss"))
	}
	tok, err := rp1.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: "intranet"}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	if idt.Subject != person.ID {
		t.Errorf("sub = %q, want %q", idt.Subject, person.ID)
	}
	var claims struct {
		Name, GivenName, FamilyName, Email, Siret, UsualName, OrganizationalUnit string
		EmailVerified                                                            bool
		UpdatedAt                                                                int64
	}
	var raw map[string]any
	if err := idt.Claims(&raw); err != nil {
		t.Fatal(err)
	}
	claims.Name, _ = raw["name"].(string)
	claims.GivenName, _ = raw["given_name"].(string)
	claims.FamilyName, _ = raw["family_name"].(string)
	claims.Email, _ = raw["email"].(string)
	claims.Siret, _ = raw["siret"].(string)
	claims.UsualName, _ = raw["usual_name"].(string)
	claims.OrganizationalUnit, _ = raw["organizational_unit"].(string)
	claims.EmailVerified, _ = raw["email_verified"].(bool)
	want := map[string]string{
		"name": "Jeanne Dupont", "given_name": "Jeanne", "family_name": "Martin", "email": "jdupont@exemple.fr",
		"siret": "20004697700019", "usual_name": "Dupont", "organizational_unit": "Direction du numérique",
	}
	got := map[string]string{
		"name": claims.Name, "given_name": claims.GivenName, "family_name": claims.FamilyName, "email": claims.Email,
		"siret": claims.Siret, "usual_name": claims.UsualName, "organizational_unit": claims.OrganizationalUnit,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("claim %s = %q, want %q", k, got[k], v)
		}
	}
	if !claims.EmailVerified {
		t.Errorf("email_verified = false")
	}
	if _, ok := raw["updated_at"]; !ok {
		t.Errorf("updated_at missing")
	}
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if ui.Subject != person.ID || ui.Email != "jdupont@exemple.fr" {
		t.Errorf("userinfo sub/email = %q/%q", ui.Subject, ui.Email)
	}

	// Second application: public client, PKCE, no password prompt.
	rp2 := oauth2.Config{ClientID: "agenda", RedirectURL: rpCallback2, Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile"}}
	rp2.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	verifier2 := oauth2.GenerateVerifier()
	resp, _ = get(t, browser, rp2.AuthCodeURL("state-2", oidc.Nonce("n2"), oauth2.S256ChallengeOption(verifier2)))
	q = callback(t, resp, rpCallback2) // straight back: single sign-on
	tok2, err := rp2.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier2))
	if err != nil {
		t.Fatalf("exchange (public): %v", err)
	}
	idt2, err := provider.Verifier(&oidc.Config{ClientID: "agenda"}).Verify(ctx, tok2.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("ID token (public): %v", err)
	}
	if idt2.Subject != person.ID || idt2.Nonce != "n2" {
		t.Errorf("second application: sub %q nonce %q", idt2.Subject, idt2.Nonce)
	}
	if err := idt2.VerifyAccessToken(tok2.AccessToken); err != nil {
		t.Errorf("at_hash (public): %v", err)
	}
	var auth1, auth2 struct {
		AuthTime int64 `json:"auth_time"`
	}
	_ = idt.Claims(&auth1)
	_ = idt2.Claims(&auth2)
	if auth1.AuthTime == 0 || auth1.AuthTime != auth2.AuthTime {
		t.Errorf("auth_time %d then %d: the second sign-in should reuse the session", auth1.AuthTime, auth2.AuthTime)
	}
}

// TestChooser: a person with two eligible memberships chooses one, and
// the tokens carry that organization.
func TestChooser(t *testing.T) {
	h := newHarness(t)
	h.person("multi", h.metropole, h.commune)
	h.app("portail", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.GrantedOrgIDs = []string{h.commune.ID}
	})
	b := h.browser()
	_, body := get(t, b, h.authorizeURL("portail", rpCallback, url.Values{"scope": {"openid siret"}}))
	resp, body := h.login(b, body, "multi", password)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/select" {
		t.Fatalf("expected the chooser, got %d %s", resp.StatusCode, resp.Request.URL)
	}
	for _, name := range []string{"Métropole Exemple", "Ville de Paris"} {
		if !strings.Contains(body, name) {
			t.Errorf("chooser does not offer %s", name)
		}
	}
	// Submitting nothing keeps the person on the chooser with an error.
	resp, _ = postForm(t, b, h.issuer+"/select", url.Values{"request": {requestID(t, body)}}, h.issuer)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("empty choice: status %d, want 400", resp.StatusCode)
	}
	ms, err := h.store.ListMemberships(context.Background(), h.commune.ID)
	if err != nil || len(ms) != 1 {
		t.Fatalf("memberships of the commune: %v %v", ms, err)
	}
	resp, _ = postForm(t, b, h.issuer+"/select", url.Values{"request": {requestID(t, body)}, "membership": {ms[0].ID}}, h.issuer)
	q := callback(t, resp, rpCallback)
	tr, tb := h.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {rpCallback}}, "portail", h.secrets["portail"])
	if tr.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", tr.StatusCode, tb)
	}
	at := jsonField(t, tb, "access_token")
	ui := h.userinfo(at)
	if ui["siret"] != "21750001600019" {
		t.Errorf("siret = %v, want the commune's", ui["siret"])
	}
}

// TestNoEligibleMembership: a person whose organizations are not granted
// the application gets a refusal page and no code.
func TestNoEligibleMembership(t *testing.T) {
	h := newHarness(t)
	h.person("outsider", h.commune)
	h.app("rh", storage.ClientConfidential, rpCallback)
	b := h.browser()
	_, body := get(t, b, h.authorizeURL("rh", rpCallback, nil))
	resp, body := h.login(b, body, "outsider", password)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		t.Errorf("redirected to %s", loc)
	}
	if strings.Contains(body, "code=") {
		t.Errorf("refusal page carries a code")
	}
}
