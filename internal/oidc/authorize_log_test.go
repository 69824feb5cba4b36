package oidc

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestRefusedRequestLogged: an unknown client_id or an unregistered
// redirect_uri is shown to the person (never sent anywhere) and logged
// for the operator, bounded in length.
func TestRefusedRequestLogged(t *testing.T) {
	p, _, _ := newTestProvider(t, testIssuer)
	var logs bytes.Buffer
	p.log = slog.New(slog.NewTextHandler(&logs, nil))
	mux := http.NewServeMux()
	registerAll(p, mux)
	for _, q := range []url.Values{
		{"client_id": {"inconnu"}, "redirect_uri": {"https://rh.ville-exemple.fr/callback"}, "response_type": {"code"}, "scope": {"openid"}},
		{"client_id": {confidentialApp.ClientID}, "redirect_uri": {"https://evil.example/" + strings.Repeat("x", 1000)}, "response_type": {"code"}, "scope": {"openid"}},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil))
		if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" {
			t.Errorf("%v: %d %q, want a 400 page", q, rec.Code, rec.Header().Get("Location"))
		}
	}
	out := logs.String()
	if !strings.Contains(out, "client_id=inconnu") || !strings.Contains(out, "redirect_uri=https://evil.example/") {
		t.Errorf("refusals not logged:\n%s", out)
	}
	if strings.Contains(out, strings.Repeat("x", 300)) {
		t.Error("a caller's value reached the log unbounded")
	}
}
