package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// guessFrom tries a wrong password for identifier as if the request came
// through a reverse proxy for the client xff (X-Forwarded-For).
func (h *harness) guessFrom(b *http.Client, identifier, xff string) int {
	h.t.Helper()
	body := h.passwordPage(b, "intranet", identifier)
	v := url.Values{"request": {requestID(h.t, body)}, "identifier": {identifier}, "password": {"Motdepasse2024!"}}
	req, _ := http.NewRequest(http.MethodPost, h.issuer+"/login", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.issuer)
	req.Header.Set("X-Forwarded-For", "198.51.100.250, "+xff) // the left one is the client's own claim
	resp, err := b.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTrustedProxies: behind a trusted reverse proxy, the per-address
// limit counts the client the proxy names, so that one attacking client
// does not slow the others; without trusted_proxies, X-Forwarded-For is
// ignored and every request counts against the proxy's address.
func TestTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted string
		other   int // status of another client's guess after the attack
	}{
		{"trusted", "127.0.0.1", http.StatusUnauthorized},
		{"not configured", "", http.StatusTooManyRequests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessWith(t, harnessOptions{edit: func(c *config.Config) { c.TrustedProxies = tc.trusted }})
			h.app("intranet", storage.ClientConfidential, rpCallback)
			b := h.browser()
			refused := false
			for i := range 33 {
				if h.guessFrom(b, "agent"+string(rune('a'+i%26))+string(rune('a'+i/26)), "203.0.113.7") == http.StatusTooManyRequests {
					refused = true
				}
			}
			if !refused {
				t.Fatal("33 guesses from one client were never slowed")
			}
			if got := h.guessFrom(h.browser(), "quelquun", "192.0.2.44"); got != tc.other {
				t.Errorf("another client's guess: %d, want %d", got, tc.other)
			}
		})
	}
}
