package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// enrolAtSignIn completes the enrolment a policy leads to, from its page:
// the first code, the recovery codes page, then on.
func (h *harness) enrolAtSignIn(b *http.Client, body string) (*http.Response, string) {
	h.t.Helper()
	t := h.t
	if !strings.Contains(body, `action="/login/enrol"`) || !strings.Contains(body, "Votre organisation demande une vérification en deux étapes") {
		t.Fatalf("want the enrolment page of the sign-in:\n%s", body)
	}
	key := strings.ReplaceAll(regexpValue(t, body, `<code class="key">([A-Z2-7 ]+)</code>`), " ", "")
	id := requestID(t, body)
	resp, page := postForm(t, b, h.issuer+"/login/enrol", url.Values{"request": {id}, "code": {"000000"}}, h.issuer)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `role="alert"`) {
		t.Fatalf("wrong first code: %d", resp.StatusCode)
	}
	resp, page = postForm(t, b, h.issuer+"/login/enrol", url.Values{"request": {id}, "code": {totpCode(t, key, h.clock.now())}}, h.issuer)
	if resp.StatusCode != http.StatusOK || len(regexp.MustCompile(`<li><code>`).FindAllString(page, -1)) != 10 {
		t.Fatalf("after the first code: %d\n%s", resp.StatusCode, page)
	}
	next := regexpValue(t, page, `<a class="button" href="([^"]+)">`)
	return get(t, b, h.issuer+strings.ReplaceAll(next, "&amp;", "&"))
}

// TestSecondFactorPolicies: an organization that requires a second
// factor of its élus leads an élu without one through enrolment at
// sign-in (an agent of the same organization is not asked); an
// application that requires eidas2 does the same for everyone, and
// steps up an existing eidas1 session the same way.
func TestSecondFactorPolicies(t *testing.T) {
	h := newHarness(t)
	h.commune.MFAPolicy = storage.MFAElus
	if err := h.terr.UpdateOrganization(t.Context(), authz.CLI(), &h.commune); err != nil {
		t.Fatal(err)
	}
	h.app("intranet", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.GrantedOrgIDs = []string{h.commune.ID}
	})
	h.app("finances", storage.ClientConfidential, rpCallback2, func(a *storage.Application) {
		a.GrantedOrgIDs = []string{h.commune.ID}
		a.Settings.RequireACR = "eidas2"
	})
	maire := h.person("maire")
	if err := h.terr.CreateMembership(t.Context(), authz.CLI(), &storage.Membership{PersonID: maire.ID, OrgID: h.commune.ID, Kind: storage.KindElu, ValidFrom: h.clock.now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	h.person("agent", h.commune)
	ctx, provider := h.rp()
	rp := h.rpConfig(provider, "intranet", rpCallback, "profile")

	// The élu: enrolment, then the application, at eidas2.
	b := h.browser()
	_, body := get(t, b, rp.AuthCodeURL("s1"))
	_, body = h.login(b, body, "maire", password)
	resp, _ := h.enrolAtSignIn(b, body)
	tok, err := rp.Exchange(ctx, callback(t, resp, rpCallback).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if _, c := h.verifyAuth(provider, "intranet", tok.Extra("id_token").(string)); c.ACR != "eidas2" || !slices.Equal(c.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("élu after enrolment: %+v", c)
	}

	// The agent of the same commune: the password is enough.
	b2 := h.browser()
	_, body = get(t, b2, rp.AuthCodeURL("s2"))
	resp, _ = h.login(b2, body, "agent", password)
	if q := callback(t, resp, rpCallback); q.Get("code") == "" {
		t.Fatalf("agent: %d %v", resp.StatusCode, q)
	}
	// The same agent, signed in at eidas1, opens the application that
	// requires eidas2: enrolment, and the same session goes on.
	before := h.sessionCookie(b2)
	resp, body = get(t, b2, h.authorizeURL("finances", rpCallback2, nil))
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("eidas2 application with an eidas1 session: %d %s", resp.StatusCode, resp.Request.URL)
	}
	resp, _ = h.enrolAtSignIn(b2, body)
	if q := callback(t, resp, rpCallback2); q.Get("code") == "" {
		t.Fatalf("after enrolment: %v", q)
	}
	if after := h.sessionCookie(b2); after == before || after == "" {
		t.Error("the session cookie did not change at the step-up")
	}
}
