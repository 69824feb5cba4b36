package server_test

import (
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/factor/passkey/passkeytest"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// passkeyForm returns the action, the request and the options of the
// page's passkey form (what static/passkey.js would hand the browser).
func passkeyForm(t testing.TB, body string) (action, request string, options []byte) {
	t.Helper()
	form := regexpValue(t, body, `(<form method="post" action="[^"]+" class="passkey"[^>]*>)`)
	action = regexpValue(t, form, `action="([^"]+)"`)
	options = []byte(html.UnescapeString(regexpValue(t, form, `data-options="([^"]+)"`)))
	rest := body[strings.Index(body, form):]
	request = regexpValue(t, rest, `name="request" value="([^"]+)"`)
	return action, request, options
}

// usePasskey answers the page's passkey form with authenticator a, as
// the browser would, and posts it.
func (h *harness) usePasskey(b *http.Client, a *passkeytest.Authenticator, body string, extra ...string) (*http.Response, string) {
	h.t.Helper()
	action, request, options := passkeyForm(h.t, body)
	var answer []byte
	var err error
	if strings.Contains(string(options), `"attestation"`) || strings.HasSuffix(action, "/confirm") {
		answer, err = a.Create(options)
	} else {
		answer, err = a.Get(options)
	}
	if err != nil {
		h.t.Fatalf("authenticator: %v", err)
	}
	v := url.Values{"request": {request}, "credential": {string(answer)}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return postForm(h.t, b, h.issuer+action, v, h.issuer)
}

// TestPasskeys: a person adds a passkey from the security page (with
// recovery codes, their first second factor); it then signs them in
// without a password (eidas2: hwk, user, mfa), and after the password it
// is their second factor. An answer is used once, and an answer for
// another origin or from a cloned key is refused.
func TestPasskeys(t *testing.T) {
	h := newHarnessHost(t, "localhost")
	h.app("intranet", storage.ClientConfidential, rpCallback)
	elise := h.person("elise", h.metropole)
	ctx, provider := h.rp()
	rp := h.rpConfig(provider, "intranet", rpCallback, "profile")
	key := passkeytest.New(h.issuer)

	b := h.browser()
	_, body := get(t, b, h.issuer+"/account/security")
	h.login(b, body, "elise", password)
	resp, body := postForm(t, b, h.issuer+"/account/security/passkey", url.Values{}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("passkey page: %d, CSP %q\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), body)
	}
	resp, body = h.usePasskey(b, key, body, "name", "Ordinateur du bureau")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Vos codes de secours") {
		t.Fatalf("after creating the passkey: %d\n%s", resp.StatusCode, body)
	}
	fs, _ := h.store.ListFactors(t.Context(), elise.ID)
	if i := slices.IndexFunc(fs, func(f storage.Factor) bool { return f.Kind == storage.FactorPasskey }); i < 0 || fs[i].Name != "Ordinateur du bureau" || len(fs) != 11 {
		t.Fatalf("factors: %+v", fs)
	}
	_, body = get(t, b, h.issuer+"/account/security")
	if !strings.Contains(body, "Ordinateur du bureau") || !strings.Contains(body, "Liée à cet appareil") {
		t.Errorf("security page does not list the passkey:\n%s", body)
	}

	// Passwordless, from the identifier page.
	b2 := h.browser()
	resp, body = get(t, b2, rp.AuthCodeURL("s1"))
	if !strings.Contains(body, `autocomplete="username webauthn"`) || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("identifier page without conditional passkeys:\n%s", body)
	}
	identifierPage := body
	resp, _ = h.usePasskey(b2, key, body)
	tok, err := rp.Exchange(ctx, callback(t, resp, rpCallback).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if _, c := h.verifyAuth(provider, "intranet", tok.Extra("id_token").(string)); c.ACR != "eidas2" || !slices.Equal(c.AMR, []string{"hwk", "user", "mfa"}) {
		t.Errorf("passwordless: %+v, want eidas2 [hwk user mfa]", c)
	}
	// The same page's ceremony again: its state was used.
	if resp, _ = h.usePasskey(b2, key, identifierPage); resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("reused ceremony: %d", resp.StatusCode)
	}

	// After the password, the passkey is the second factor.
	b3 := h.browser()
	_, body = get(t, b3, rp.AuthCodeURL("s2"))
	resp, body = h.login(b3, body, "elise", password)
	if !strings.Contains(body, `action="/login/passkey"`) || !strings.Contains(body, `name="method" value="recovery"`) {
		t.Fatalf("second-factor page with a passkey: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = h.usePasskey(b3, key, body)
	tok, err = rp.Exchange(ctx, callback(t, resp, rpCallback).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if _, c := h.verifyAuth(provider, "intranet", tok.Extra("id_token").(string)); c.ACR != "eidas2" || !slices.Equal(c.AMR, []string{"pwd", "hwk", "user", "mfa"}) {
		t.Errorf("password and passkey: %+v", c)
	}

	// Another origin (a phishing site relaying the ceremony) is refused.
	evil := key.Clone()
	evil.Origin = "http://localhost.evil.example"
	b4 := h.browser()
	_, body = get(t, b4, rp.AuthCodeURL("s3"))
	if resp, body = h.usePasskey(b4, evil, body); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "pas été reconnue") {
		t.Errorf("other origin: %d", resp.StatusCode)
	}
	// A clone of the key, behind on its counter, is refused and audited.
	clone := key.Clone()
	_, body = get(t, b4, rp.AuthCodeURL("s4"))
	if resp, _ = h.usePasskey(b4, key, body); resp.StatusCode != http.StatusFound { // the real key moves on
		t.Fatalf("the real key: %d", resp.StatusCode)
	}
	b5 := h.browser()
	_, body = get(t, b5, rp.AuthCodeURL("s5"))
	if resp, _ = h.usePasskey(b5, clone, body); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("cloned key: %d, want 401", resp.StatusCode)
	}
	events, err := h.store.ListAuditEvents(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	cloned := 0
	for _, e := range events {
		if e.Type == "second_factor_failed" && e.Details["reason"] == "cloned" {
			cloned++
		}
	}
	if cloned != 1 {
		t.Errorf("%d cloned-key events, want 1", cloned)
	}
}

// TestPasskeyEnrolAtSignIn: a person whom a policy requires a second
// factor of may create a passkey instead of turning an app on, during the
// sign-in; it counts as the sign-in's second factor.
func TestPasskeyEnrolAtSignIn(t *testing.T) {
	h := newHarnessHost(t, "localhost")
	h.metropole.MFAPolicy = storage.MFAAll
	if err := h.terr.UpdateOrganization(t.Context(), authz.CLI(), &h.metropole); err != nil {
		t.Fatal(err)
	}
	h.app("intranet", storage.ClientConfidential, rpCallback)
	h.person("elise", h.metropole)
	ctx, provider := h.rp()
	rp := h.rpConfig(provider, "intranet", rpCallback, "profile")
	key := passkeytest.New(h.issuer)

	b := h.browser()
	_, body := get(t, b, rp.AuthCodeURL("s1"))
	resp, body := h.login(b, body, "elise", password)
	if !strings.Contains(body, `action="/login/enrol"`) || !strings.Contains(body, `action="/login/enrol/passkey"`) {
		t.Fatalf("enrolment page without the passkey alternative: %d\n%s", resp.StatusCode, body)
	}
	resp, body = h.usePasskey(b, key, body, "name", "Ordinateur")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Vos codes de secours") {
		t.Fatalf("after creating the passkey: %d\n%s", resp.StatusCode, body)
	}
	next := regexpValue(t, body, `<a class="button" href="([^"]+)">`)
	resp, _ = get(t, b, h.issuer+html.UnescapeString(next))
	tok, err := rp.Exchange(ctx, callback(t, resp, rpCallback).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if _, c := h.verifyAuth(provider, "intranet", tok.Extra("id_token").(string)); c.ACR != "eidas2" || !slices.Equal(c.AMR, []string{"pwd", "hwk", "user", "mfa"}) {
		t.Errorf("after enrolling a passkey at sign-in: %+v", c)
	}
}
