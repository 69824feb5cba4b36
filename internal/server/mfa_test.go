package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// totpCode is what an authenticator app shows for key at now.
func totpCode(t testing.TB, key string, now time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(key, now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolTOTP turns an authenticator app on from the security page, in a
// browser already signed in, and returns its key and the recovery codes.
func (h *harness) enrolTOTP(b *http.Client) (key string, codes []string) {
	h.t.Helper()
	t := h.t
	resp, body := get(t, b, h.issuer+"/account/security")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Activer une application d’authentification") {
		t.Fatalf("security page: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	resp, body = postForm(t, b, h.issuer+"/account/security/totp", url.Values{}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<svg") {
		t.Fatalf("enrolment page: %d\n%s", resp.StatusCode, body)
	}
	key = strings.ReplaceAll(regexpValue(t, body, `<code class="key">([A-Z2-7 ]+)</code>`), " ", "")
	id := requestID(t, body)
	confirm := func(code string) (*http.Response, string) {
		return postForm(t, b, h.issuer+"/account/security/totp/confirm", url.Values{"request": {id}, "code": {code}, "name": {"Téléphone pro"}}, h.issuer)
	}
	if resp, body = confirm("000000"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) {
		t.Fatalf("wrong first code: %d\n%s", resp.StatusCode, body)
	}
	resp, body = confirm(totpCode(t, key, h.clock.now()))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Vos codes de secours") {
		t.Fatalf("after the first code: %d\n%s", resp.StatusCode, body)
	}
	for _, m := range regexp.MustCompile(`<li><code>([A-Z0-9-]+)</code></li>`).FindAllStringSubmatch(body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(codes))
	}
	return key, codes
}

// factorPage checks that the sign-in asks for the second factor.
func factorPage(t testing.TB, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/login/factor"`) || !strings.Contains(body, `autocomplete="one-time-code"`) {
		t.Fatalf("want the second-factor page, got %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
}

func (h *harness) submitFactor(b *http.Client, body, method, code string) (*http.Response, string) {
	h.t.Helper()
	return postForm(h.t, b, h.issuer+"/login/factor", url.Values{"request": {requestID(h.t, body)}, "method": {method}, "code": {code}}, h.issuer)
}

// TestTOTP: a person turns an authenticator app on from their security
// page; every sign-in then asks for its code after the password, a code
// is accepted once, a recovery code replaces it once, and the ID token
// says eidas2 with amr pwd, otp, mfa. The audit log has each step.
func TestTOTP(t *testing.T) {
	h := newHarness(t)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	elise := h.person("elise", h.metropole)
	ctx, provider := h.rp()
	rp := h.rpConfig(provider, "intranet", rpCallback, "profile")

	// Sign in to the security page itself (TNO's own pages): identifier,
	// password, back to the page.
	b := h.browser()
	resp, body := get(t, b, h.issuer+"/account/security")
	wantLoginPage(t, resp)
	if resp, _ = h.login(b, body, "elise", password); resp.Request.URL.Path != "/account/security" {
		t.Fatalf("after signing in: %d %s", resp.StatusCode, resp.Request.URL)
	}
	key, codes := h.enrolTOTP(b)
	fs, err := h.store.ListFactors(t.Context(), elise.ID)
	if err != nil || len(fs) != 11 {
		t.Fatalf("factors after enrolment: %d %v", len(fs), err)
	}
	apps := 0
	for _, f := range fs {
		switch {
		case f.Kind == storage.FactorTOTP && f.Name == "Téléphone pro" && f.Secret == key:
			apps++
		case f.Kind != storage.FactorRecovery || slices.Contains(codes, f.Secret) || !strings.HasPrefix(f.Secret, "sha256$"):
			t.Fatalf("factor %s stored as %q, want a salted hash of a recovery code", f.Kind, f.Secret)
		}
	}
	if apps != 1 {
		t.Fatalf("%d authenticator apps stored, want 1", apps)
	}

	// Another browser: password, then the code.
	b2 := h.browser()
	_, body = get(t, b2, rp.AuthCodeURL("s1"))
	resp, body = h.login(b2, body, "elise", password)
	factorPage(t, resp, body)
	// The code used for enrolment is spent (same time step).
	resp, body = h.submitFactor(b2, body, "totp", totpCode(t, key, h.clock.now()))
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "déjà servi") {
		t.Fatalf("replayed code: %d\n%s", resp.StatusCode, body)
	}
	if resp, body = h.submitFactor(b2, body, "totp", "12"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "6 chiffres") {
		t.Fatalf("malformed code: %d", resp.StatusCode)
	}
	h.clock.advance(30 * time.Second)
	resp, _ = h.submitFactor(b2, body, "totp", totpCode(t, key, h.clock.now()))
	tok, err := rp.Exchange(ctx, callback(t, resp, rpCallback).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if _, c := h.verifyAuth(provider, "intranet", tok.Extra("id_token").(string)); c.ACR != "eidas2" || !slices.Equal(c.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("auth claims %+v, want eidas2 [pwd otp mfa]", c)
	}

	// A third browser without the phone: a recovery code, once.
	for i, want := range []int{http.StatusFound, http.StatusUnauthorized} {
		b3 := h.browser()
		_, body = get(t, b3, rp.AuthCodeURL("s2"))
		resp, body = h.login(b3, body, "elise", password)
		factorPage(t, resp, body)
		_, body = get(t, b3, h.issuer+"/login?request="+requestID(t, body)+"&method=recovery")
		if !strings.Contains(body, `name="method" value="recovery"`) {
			t.Fatalf("recovery page:\n%s", body)
		}
		resp, _ = h.submitFactor(b3, body, "recovery", strings.ToLower(codes[3]))
		if resp.StatusCode != want {
			t.Errorf("recovery code, use %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	if fs, _ := h.store.ListFactors(t.Context(), elise.ID); len(fs) != 10 {
		t.Errorf("%d factors after one recovery code, want 10", len(fs))
	}

	// Five wrong codes end the sign-in.
	b4 := h.browser()
	_, body = get(t, b4, rp.AuthCodeURL("s3"))
	resp, body = h.login(b4, body, "elise", password)
	for i := range 5 {
		resp, body = h.submitFactor(b4, body, "totp", "000000")
		if i < 4 && resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i+1, resp.StatusCode)
		}
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("fifth wrong code: %d, want 429", resp.StatusCode)
	}

	events, err := h.store.ListAuditEvents(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range events {
		seen[e.Type]++
	}
	for typ, n := range map[string]int{"factor_enrolled": 1, "recovery_code_used": 1, "second_factor_failed": 7} {
		if seen[typ] != n {
			t.Errorf("audit: %d %s, want %d (%v)", seen[typ], typ, n, seen)
		}
	}
}

// TestStepUp: a session at eidas1 (signed in before the person turned
// the app on) meets an application that requires eidas2 (the claims
// parameter with acr essential, as ProConnect asks): the person proves
// the code, the same session is upgraded (same sid, a new cookie), and a
// person with no second factor gets unmet_authentication_requirements.
func TestStepUp(t *testing.T) {
	h := newHarness(t)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	h.person("elise", h.metropole)
	h.person("paul", h.metropole)
	ctx, provider := h.rp()
	rp := h.rpConfig(provider, "intranet", rpCallback, "profile")
	essential := oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["eidas2"]}}}`)

	b := h.browser()
	_, body := get(t, b, rp.AuthCodeURL("s0"))
	resp, _ := h.login(b, body, "elise", password)
	tok, err := rp.Exchange(ctx, callback(t, resp, rpCallback).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	sid := func(raw string) string {
		idt, err := provider.Verifier(&oidc.Config{ClientID: "intranet", Now: h.clock.now}).Verify(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			SID string `json:"sid"`
		}
		_ = idt.Claims(&c)
		return c.SID
	}
	first := sid(tok.Extra("id_token").(string))
	key, _ := h.enrolTOTP(b) // the session signed in a moment ago: no re-authentication
	before := h.sessionCookie(b)

	h.clock.advance(time.Minute)
	resp, body = get(t, b, rp.AuthCodeURL("s1", essential))
	factorPage(t, resp, body)
	resp, _ = h.submitFactor(b, body, "totp", totpCode(t, key, h.clock.now()))
	tok, err = rp.Exchange(ctx, callback(t, resp, rpCallback).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	raw := tok.Extra("id_token").(string)
	if _, c := h.verifyAuth(provider, "intranet", raw); c.ACR != "eidas2" || !slices.Equal(c.AMR, []string{"pwd", "otp", "mfa"}) || c.AuthTime != h.clock.now().Unix() {
		t.Errorf("after step-up: %+v", c)
	}
	if got := sid(raw); got != first {
		t.Errorf("sid %q after step-up, want the same session %q", got, first)
	}
	if after := h.sessionCookie(b); after == before || after == "" {
		t.Error("the session cookie did not change at step-up")
	}
	// The level holds: no second step-up.
	resp, _ = get(t, b, rp.AuthCodeURL("s2", essential))
	if q := callback(t, resp, rpCallback); q.Get("code") == "" {
		t.Errorf("second request at eidas2: %v", q)
	}

	// Someone without a second factor: the application is told.
	b2 := h.browser()
	_, body = get(t, b2, rp.AuthCodeURL("s3", essential))
	resp, _ = h.login(b2, body, "paul", password)
	if q := callback(t, resp, rpCallback); q.Get("error") != "unmet_authentication_requirements" || q.Get("state") != "s3" {
		t.Errorf("no second factor: %v", q)
	}
}

// sessionCookie returns the value of the browser's session cookie.
func (h *harness) sessionCookie(b *http.Client) string {
	u, _ := url.Parse(h.issuer)
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == "tno_session" {
			return c.Value
		}
	}
	return ""
}
