package server_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// TestConcurrentCodeReplay: the same authorization code sent several times
// at once yields at most one token response, and since it was replayed,
// the tokens of that response end revoked — even when a replay ran
// between the code's consumption and the storing of its tokens.
func TestConcurrentCodeReplay(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	b := h.browser()
	for round := range 10 {
		code := h.code(b, "intranet", rpCallback, "jdupont", nil)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}}
		const senders = 6
		var wg sync.WaitGroup
		var mu sync.Mutex
		var issued []string
		for range senders {
			wg.Go(func() {
				resp, body := h.tokenRequest(form, "intranet", h.secrets["intranet"])
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					issued = append(issued, jsonField(t, body, "access_token"))
					mu.Unlock()
				} else if resp.StatusCode != http.StatusBadRequest || jsonField(t, body, "error") != "invalid_grant" {
					t.Errorf("round %d: %d %s", round, resp.StatusCode, body)
				}
			})
		}
		wg.Wait()
		if len(issued) > 1 {
			t.Fatalf("round %d: %d token responses for one code", round, len(issued))
		}
		for _, at := range issued {
			if resp, body := h.userinfoRaw(at); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("round %d: the access token of a replayed code still works: %d %s", round, resp.StatusCode, body)
			}
		}
	}
}
