package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// passwordPage brings a new sign-in of browser b to the password page of
// identifier and returns its body.
func (h *harness) passwordPage(b *http.Client, clientID, identifier string) string {
	h.t.Helper()
	_, body := get(h.t, b, h.authorizeURL(clientID, rpCallback, nil))
	resp, body := postForm(h.t, b, h.issuer+"/login", url.Values{"request": {requestID(h.t, body)}, "identifier": {identifier}}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="password"`) {
		h.t.Fatalf("password page: %d\n%s", resp.StatusCode, body)
	}
	return body
}

func (h *harness) tryPassword(b *http.Client, body, identifier, pw string, extra ...string) (*http.Response, string) {
	h.t.Helper()
	v := url.Values{"request": {requestID(h.t, body)}, "identifier": {identifier}, "password": {pw}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return postForm(h.t, b, h.issuer+"/login", v, h.issuer)
}

// TestBruteForce: an attacker guessing the mayor's password is slowed
// after 5 free failures, with growing waits, and every refused attempt
// is audited; meanwhile the mayor still gets in from the browser they
// used before, and from a new browser with the password and the code of
// their authenticator app. Guessing many accounts from one address is
// slowed too.
func TestBruteForce(t *testing.T) {
	h := newHarness(t)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	h.person("maire", h.metropole)

	// The mayor signed in from their office browser yesterday, and has an
	// authenticator app.
	office := h.browser()
	_, body := get(t, office, h.issuer+"/account/security")
	h.login(office, body, "maire", password)
	key, _ := h.enrolTOTP(office)
	h.clock.advance(24 * time.Hour)

	// The attacker guesses as fast as allowed: 6 guesses are checked at
	// once (5 free, the 6th imposes 1 s), then each wait doubles.
	attacker := h.browser()
	body = h.passwordPage(attacker, "intranet", "maire")
	checked, refused := 0, 0
	for checked < 20 {
		resp, page := h.tryPassword(attacker, body, "maire", "devine-"+string(rune('a'+checked)))
		body = page
		if resp.StatusCode == http.StatusUnauthorized {
			checked++
			continue
		}
		if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "Trop de tentatives de connexion sur ce compte") || !strings.Contains(page, `name="code"`) {
			t.Fatalf("guess %d: %d\n%s", checked+1, resp.StatusCode, page)
		}
		refused++
		if refused == 1 && checked != 6 {
			t.Errorf("first refusal after %d checked guesses, want 6", checked)
		}
		if wait, _ := strconv.Atoi(regexpValue(t, page, `dans (\d+)\s*min`)); wait >= 3 {
			break // a wait of 3 minutes or more: long enough for what follows
		}
		h.clock.advance(time.Minute)
	}
	// 6 at once, then, a minute apart, one after each wait of 1 s, 2 s, …
	// 32 s, then one after the 64 s wait (two minutes later): 13, and the
	// next waits 128 s.
	if checked != 13 {
		t.Errorf("%d guesses checked before a wait of 3 minutes, want 13", checked)
	}
	// Even the right password, alone, waits: nothing tells the attacker.
	if resp, _ := h.tryPassword(attacker, body, "maire", password); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password during the wait: %d, want 429", resp.StatusCode)
	}

	// The office browser is known: the mayor signs in as usual.
	_, body = get(t, office, h.authorizeURL("intranet", rpCallback, url.Values{"prompt": {"login"}}))
	resp, body := h.login(office, body, "maire", password)
	factorPage(t, resp, body)
	resp, _ = h.submitFactor(office, body, "totp", totpCode(t, key, h.clock.now()))
	if q := callback(t, resp, rpCallback); q.Get("code") == "" {
		t.Fatalf("known browser during the attack: %v", q)
	}
	h.clock.advance(30 * time.Second) // the next code

	// A new browser (the town hall's other computer): the password and the
	// code together. A wrong code tells nothing about the password.
	hall := h.browser()
	body = h.passwordPage(hall, "intranet", "maire")
	resp, body = h.tryPassword(hall, body, "maire", password)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, `name="code"`) {
		t.Fatalf("new browser, password alone: %d", resp.StatusCode)
	}
	_, wrongBoth := h.tryPassword(hall, body, "maire", "pas-le-bon", "code", "123456")
	resp, wrongCode := h.tryPassword(hall, body, "maire", password, "code", "123456")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(wrongCode, "Identifiant, mot de passe ou code incorrect") ||
		!strings.Contains(wrongBoth, "Identifiant, mot de passe ou code incorrect") {
		t.Fatalf("wrong code: %d\n%s", resp.StatusCode, wrongCode)
	}
	resp, _ = h.tryPassword(hall, body, "maire", password, "code", totpCode(t, key, h.clock.now()))
	if q := callback(t, resp, rpCallback); q.Get("code") == "" {
		t.Fatalf("password and code during the attack: %d %v", resp.StatusCode, q)
	}

	// Every refused attempt is audited, with the reason.
	events, err := h.store.ListAuditEvents(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	throttled := 0
	for _, e := range events {
		if e.Type == "sign_in_throttled" {
			throttled++
			if e.Details["reason"] != "account" || e.Details["identifier"] != "maire" {
				t.Errorf("throttle event %+v", e.Details)
			}
		}
	}
	if throttled != refused+2 { // the guesses refused, the right password alone, the new browser's password alone
		t.Errorf("%d sign_in_throttled events, want %d", throttled, refused+2)
	}
}

// TestCredentialStuffing: one address trying many accounts, one guess
// each, is slowed by the address limit (30 free failures) while a person
// elsewhere is not.
func TestCredentialStuffing(t *testing.T) {
	h := newHarness(t)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	b := h.browser()
	var statuses []int
	for i := range 34 {
		id := "agent" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		body := h.passwordPage(b, "intranet", id)
		resp, page := h.tryPassword(b, body, id, "Motdepasse2024!")
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests && !strings.Contains(page, "depuis votre réseau") {
			t.Fatalf("address throttle page:\n%s", page)
		}
	}
	first := slices.Index(statuses, http.StatusTooManyRequests)
	if first != 31 { // 30 free failures, a 31st with a 1 s wait after it
		t.Errorf("first refusal at attempt %d, want 32 (%v)", first+1, statuses)
	}
}
