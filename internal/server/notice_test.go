package server_test

import (
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// TestSecurityNotices: turning an authenticator app on, renewing the
// recovery codes and turning the app off each send the person a notice,
// in French, through the configured sender; nothing else is sent.
func TestSecurityNotices(t *testing.T) {
	h := newResetHarness(t, nil, nil)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	p := h.person("elise", h.metropole)
	b := h.browser()
	_, body := get(t, b, h.issuer+"/account/security")
	h.login(b, body, "elise", password)
	h.enrolTOTP(b)
	msgs := waitMail(t, h.mail, 1)
	m := msgs[0]
	if !strings.Contains(m.To, p.Email) || !strings.Contains(m.Subject, "Sécurité de votre compte") ||
		!strings.Contains(m.Text, "une application d’authentification a été activée") || !strings.Contains(m.Text, "identifiant\u00a0: elise") {
		t.Fatalf("notice after enrolment: %+v", m)
	}
	// The page's own form to renew the codes, then to turn the app off.
	fs, err := h.store.ListFactors(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var appID string
	for _, f := range fs {
		if f.Kind == storage.FactorTOTP {
			appID = f.ID
		}
	}
	postForm(t, b, h.issuer+"/account/security/recovery", nil, h.issuer)
	postForm(t, b, h.issuer+"/account/security/remove", map[string][]string{"factor": {appID}}, h.issuer)
	msgs = waitMail(t, h.mail, 3)
	for i, want := range []string{"de nouveaux codes de secours", "un moyen de vérification a été retiré"} {
		if !strings.Contains(msgs[i+1].Text, want) {
			t.Errorf("notice %d: %q lacks %q", i+2, msgs[i+1].Text, want)
		}
	}
	if fs, _ := h.store.ListFactors(t.Context(), p.ID); len(fs) != 0 {
		t.Errorf("%d factors left after turning the app off, want 0 (the recovery codes go with it)", len(fs))
	}
}
