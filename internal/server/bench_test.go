package server_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// BenchmarkFailedSignIn measures a refused password for an account that
// exists and for one that does not, through the whole sign-in engine on
// SQLite: the two must cost the same (go test -bench FailedSignIn
// -benchtime 200x ./internal/server). The clock moves two hours before
// each attempt, so that the throttle's windows are fresh and the check
// itself is measured, not a wait.
func BenchmarkFailedSignIn(b *testing.B) {
	// The production argon2id parameters: what a person waits for.
	defaults := local.DefaultParams()
	harnessParams = defaults
	defer func() { harnessParams = local.TestParams() }()
	h := newHarness(b)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	h.person("connu", h.metropole)
	for _, tc := range []struct{ name, identifier string }{{"known", "connu"}, {"unknown", "inconnu"}, {"known-email", "connu@exemple.fr"}, {"unknown-email", "personne@exemple.fr"}} {
		b.Run(tc.name, func(b *testing.B) {
			br := h.browser()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				h.clock.advance(2 * time.Hour)
				_, body := get(b, br, h.authorizeURL("intranet", rpCallback, nil))
				form := url.Values{"request": {requestID(b, body)}, "identifier": {tc.identifier}, "password": {"pas le bon mot de passe"}}
				b.StartTimer()
				resp, _ := postForm(b, br, h.issuer+"/login", form, h.issuer)
				if resp.StatusCode != http.StatusUnauthorized {
					b.Fatalf("status %d, want 401", resp.StatusCode)
				}
			}
		})
	}
}
