package server_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// thirdParty is the mutation of a harness application that makes it ask
// for consent.
func thirdParty(a *storage.Application) { a.FirstParty = false }

// consentForm checks that the browser is on the consent screen and
// returns the fields its form posts.
func consentForm(t *testing.T, resp *http.Response, body string) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/consent" {
		t.Fatalf("got %d %s, want the consent screen", resp.StatusCode, resp.Request.URL)
	}
	v := url.Values{}
	for _, f := range hiddenRE.FindAllStringSubmatch(body, -1) {
		v.Set(html.UnescapeString(f[1]), html.UnescapeString(f[2]))
	}
	if v.Get("request") == "" || v.Get("membership") == "" {
		t.Fatalf("consent form without request or membership:\n%s", body)
	}
	return v
}

// crossSitePost posts form to path as a page of another site would.
func (h *harness) crossSitePost(b *http.Client, path string, form url.Values) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.issuer+path, strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// decide posts the person's decision on the consent screen, from TNO's
// own origin.
func (h *harness) decide(b *http.Client, fields url.Values, decision string) (*http.Response, string) {
	h.t.Helper()
	v := url.Values{"request": fields["request"], "membership": fields["membership"], "decision": {decision}}
	return postForm(h.t, b, h.issuer+"/consent", v, h.issuer)
}

// TestConsentEndToEnd drives the consent screen with golang.org/x/oauth2
// and coreos/go-oidc: asked once, remembered, asked again for new scopes
// or with prompt=consent; refused with access_denied; never for a
// first-party application.
func TestConsentEndToEnd(t *testing.T) {
	h := newHarness(t)
	person := h.person("jdupont", h.metropole)
	h.app("agenda", storage.ClientConfidential, rpCallback, thirdParty, func(a *storage.Application) { a.Name = "Agenda partagé" })
	h.app("intranet", storage.ClientConfidential, rpCallback2) // first-party
	ctx, provider := h.rp()
	rp := h.rpConfig(provider, "agenda", rpCallback, "profile", "siret")
	b := h.browser()

	// First sign-in: login, then the consent screen.
	resp, body := get(t, b, rp.AuthCodeURL("s1", oidc.Nonce("n1")))
	wantLoginPage(t, resp)
	resp, body = h.login(b, body, "jdupont", password)
	if resp.StatusCode == http.StatusSeeOther || resp.Request.URL.Path != "/consent" {
		t.Fatalf("after login: %d %s", resp.StatusCode, resp.Request.URL)
	}
	fields := consentForm(t, resp, body)
	for _, want := range []string{
		`<h1>Agenda partagé souhaite accéder à vos informations</h1>`,
		`Cette application est proposée par Métropole Exemple.`,
		`<li>un identifiant qui vous désigne auprès de cette application</li>`,
		`<li>vos nom, prénom, nom d&#39;usage et identifiant de connexion</li>`,
		`<li>le numéro SIRET de votre organisation</li>`,
		`value="allow">Autoriser</button>`, `value="deny">Refuser</button>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("consent screen lacks %s", want)
		}
	}
	if strings.Contains(body, "<script") {
		t.Error("the consent screen loads a script")
	}
	// Another site cannot post the decision.
	if resp := h.crossSitePost(b, "/consent", url.Values{"request": fields["request"], "membership": fields["membership"], "decision": {"allow"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site decision: %d", resp.StatusCode)
	}
	resp, _ = h.decide(b, fields, "allow")
	q := callback(t, resp, rpCallback)
	tok, err := rp.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if sub, c := h.verifyAuth(provider, "agenda", tok.Extra("id_token").(string)); sub != person.ID || c.ACR != "eidas1" {
		t.Errorf("sub %q acr %q", sub, c.ACR)
	}

	// Same scopes again: straight back, even with prompt=none.
	h.clock.advance(time.Minute)
	resp, _ = get(t, b, rp.AuthCodeURL("s2", oauth2.SetAuthURLParam("prompt", "none")))
	if q := callback(t, resp, rpCallback); q.Get("code") == "" {
		t.Errorf("consent remembered: %v", q)
	}
	// A first-party application never asks.
	resp, _ = get(t, b, h.authorizeURL("intranet", rpCallback2, nil))
	if q := callback(t, resp, rpCallback2); q.Get("code") == "" {
		t.Errorf("first-party: %v", q)
	}

	// A new scope: prompt=none fails, otherwise the screen lists the
	// scopes asked for; the consent then covers both requests.
	withEmail := h.rpConfig(provider, "agenda", rpCallback, "email")
	resp, _ = get(t, b, withEmail.AuthCodeURL("s3", oauth2.SetAuthURLParam("prompt", "none")))
	if q := callback(t, resp, rpCallback); q.Get("error") != "consent_required" {
		t.Errorf("new scope, prompt=none: %v", q)
	}
	resp, body = get(t, b, withEmail.AuthCodeURL("s4"))
	fields = consentForm(t, resp, body)
	if !strings.Contains(body, "votre adresse électronique") || strings.Contains(body, "SIRET") {
		t.Errorf("the screen for the new request lists other scopes:\n%s", body)
	}
	resp, _ = h.decide(b, fields, "allow")
	if q := callback(t, resp, rpCallback); q.Get("code") == "" || q.Get("state") != "s4" {
		t.Errorf("after the second consent: %v", q)
	}
	for _, cfg := range []oauth2.Config{rp, withEmail, h.rpConfig(provider, "agenda", rpCallback, "profile", "email", "siret")} {
		resp, _ = get(t, b, cfg.AuthCodeURL("s5", oauth2.SetAuthURLParam("prompt", "none")))
		if q := callback(t, resp, rpCallback); q.Get("code") == "" {
			t.Errorf("scopes %v after both consents: %v", cfg.Scopes, q)
		}
	}

	// prompt=consent asks even so; refusing sends access_denied.
	resp, body = get(t, b, rp.AuthCodeURL("s6", oauth2.SetAuthURLParam("prompt", "consent")))
	fields = consentForm(t, resp, body)
	resp, _ = h.decide(b, fields, "deny")
	if q := callback(t, resp, rpCallback); q.Get("error") != "access_denied" || q.Get("state") != "s6" || q.Get("code") != "" {
		t.Errorf("refused: %v", q)
	}
	// The refusal took nothing away.
	resp, _ = get(t, b, rp.AuthCodeURL("s7", oauth2.SetAuthURLParam("prompt", "none")))
	if q := callback(t, resp, rpCallback); q.Get("code") == "" {
		t.Errorf("after a refusal of prompt=consent: %v", q)
	}

	// A refusal at the first request, delivered by form_post.
	h.person("mmartin", h.metropole)
	b2 := h.browser()
	resp, body = get(t, b2, rp.AuthCodeURL("s8", oauth2.SetAuthURLParam("response_mode", "form_post")))
	wantLoginPage(t, resp)
	resp, body = h.login(b2, body, "mmartin", password)
	resp, body = h.decide(b2, consentForm(t, resp, body), "deny")
	if v := h.formPost(resp, body, rpCallback); v.Get("error") != "access_denied" || v.Get("state") != "s8" {
		t.Errorf("refusal by form_post: %v", v)
	}
}

// TestConsentChooser: with two memberships, the organization is chosen
// first, then the consent screen posts the membership chosen.
func TestConsentChooser(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole, h.commune)
	h.app("agenda", storage.ClientConfidential, rpCallback, thirdParty, func(a *storage.Application) {
		a.GrantedOrgIDs = []string{h.commune.ID}
	})
	b := h.browser()
	resp, body := get(t, b, h.authorizeURL("agenda", rpCallback, url.Values{"scope": {"openid siret"}}))
	wantLoginPage(t, resp)
	resp, body = h.login(b, body, "jdupont", password)
	if resp.Request.URL.Path != "/select" {
		t.Fatalf("got %s, want the chooser", resp.Request.URL)
	}
	// The membership of the commune.
	i := strings.Index(body, h.commune.Name)
	if i < 0 {
		t.Fatalf("chooser without %s", h.commune.Name)
	}
	m := regexpValue(t, body[strings.LastIndex(body[:i], "<input"):], `name="membership" value="([^"]+)"`)
	resp, body = postForm(t, b, h.issuer+"/select", url.Values{"request": {requestID(t, body)}, "membership": {m}}, h.issuer)
	fields := consentForm(t, resp, body)
	if fields.Get("membership") != m {
		t.Errorf("consent for membership %q, want %q", fields.Get("membership"), m)
	}
	resp, _ = h.decide(b, fields, "allow")
	code := callback(t, resp, rpCallback).Get("code")
	tk := h.okCall("/token", "agenda", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}})
	if got := h.userinfo(tk.access)["siret"]; got != h.commune.SIRET {
		t.Errorf("siret = %v, want the commune's %s", got, h.commune.SIRET)
	}
}

// TestAccountConsents: the person lists their consents at
// /account/consents (signing in there if needed) and withdraws one,
// which revokes the application's tokens, offline_access included.
func TestAccountConsents(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("agenda", storage.ClientConfidential, rpCallback, thirdParty, func(a *storage.Application) {
		a.Name = "Agenda partagé"
		a.Settings.GrantTypes = []string{"refresh_token"}
	})
	h.app("intranet", storage.ClientConfidential, rpCallback2) // first-party: never listed

	// A sign-in with consent, offline_access included.
	b := h.browser()
	resp, body := get(t, b, h.authorizeURL("agenda", rpCallback, url.Values{"scope": {"openid profile offline_access"}}))
	wantLoginPage(t, resp)
	resp, body = h.login(b, body, "jdupont", password)
	resp, _ = h.decide(b, consentForm(t, resp, body), "allow")
	code := callback(t, resp, rpCallback).Get("code")
	tk := h.okCall("/token", "agenda", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}})
	if tk.refresh == "" {
		t.Fatal("no refresh token")
	}
	h.signInAt(b, "intranet", rpCallback2, "jdupont", "openid")

	// Another browser: the page leads to a sign-in to TNO itself (the
	// identifier, then the password), which comes back to it.
	b2 := h.browser()
	resp, body = get(t, b2, h.issuer+"/account")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" || !strings.Contains(body, `name="identifier"`) {
		t.Fatalf("without a session: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	if resp, body = h.login(b2, body, "jdupont", "wrong"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Identifiant ou mot de passe incorrect") {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}
	resp, body = h.login(b2, body, "jdupont", password)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/account/consents" {
		t.Fatalf("after signing in: %d %s", resp.StatusCode, resp.Request.URL)
	}
	for _, want := range []string{
		`<h1>Mes autorisations</h1>`, `<h2 id="consent-0">Agenda partagé</h2>`, `Proposée par Métropole Exemple`,
		`<time datetime="` + h.clock.now().UTC().Format(time.DateOnly) + `">`,
		`<li>un accès à ces informations qui continue après votre déconnexion</li>`,
		`<input type="hidden" name="client_id" value="agenda">`, `>Retirer</button>`, `<a href="/logout">Se déconnecter</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("consents page lacks %s", want)
		}
	}
	if strings.Contains(body, "Appli intranet") {
		t.Error("a first-party application is listed")
	}
	if _, body = get(t, b2, h.issuer+"/account/consents?lang=en"); !strings.Contains(body, `<h1>My authorizations</h1>`) || !strings.Contains(body, ">Withdraw</button>") {
		t.Errorf("English page:\n%s", body)
	}
	get(t, b2, h.issuer+"/account/consents?lang=fr") // the language chosen is remembered: back to French

	// Another site cannot withdraw it.
	if resp := h.crossSitePost(b2, "/account/consents/revoke", url.Values{"client_id": {"agenda"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site withdrawal: %d", resp.StatusCode)
	}
	tk = h.mustRefresh("agenda", tk.refresh, "") // still valid: it rotates

	// Withdraw it: the consent and every token of the application go.
	resp, body = postForm(t, b2, h.issuer+"/account/consents/revoke", url.Values{"client_id": {"agenda"}}, h.issuer)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/account/consents" ||
		!strings.Contains(body, `role="status"`) || !strings.Contains(body, "L&#39;autorisation donnée à Agenda partagé est retirée") ||
		!strings.Contains(body, "Vous n&#39;avez donné aucune autorisation.") {
		t.Errorf("after the withdrawal: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	resp, body = h.refresh("agenda", tk.refresh, nil)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	h.wantDead("agenda", tk.access)

	// The application asks again.
	resp, body = get(t, b, h.authorizeURL("agenda", rpCallback, url.Values{"scope": {"openid profile"}}))
	consentForm(t, resp, body)
}
