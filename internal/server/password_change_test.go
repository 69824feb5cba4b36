package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/audit"
)

// TestTemporaryPasswordMustBeChanged: a person whose password is
// temporary gets the password change page instead of a session; every
// mistake on that page is explained and changes nothing; a good new
// password opens the session and the sign-in goes on to the application;
// the old password no longer works and the next sign-in goes straight.
func TestTemporaryPasswordMustBeChanged(t *testing.T) {
	h := newHarness(t)
	h.app("intranet", "confidential", rpCallback)
	p := h.person("jeanne", h.metropole)
	const temporary = "temporaire-donné-par-la-DSI"
	if err := h.local.SetTemporaryPassword(context.Background(), p.ID, temporary); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	_, body := get(t, b, h.authorizeURL("intranet", rpCallback, nil))
	id := requestID(t, body)
	resp, body := h.login(b, body, "jeanne", temporary)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/password"`) || !strings.Contains(body, "Choisissez votre mot de passe") {
		t.Fatalf("after the temporary password: %d\n%s", resp.StatusCode, body)
	}
	u, _ := url.Parse(h.issuer)
	hasSession := func() bool {
		for _, c := range b.Jar.Cookies(u) {
			if c.Name == "tno_session" {
				return true
			}
		}
		return false
	}
	if hasSession() {
		t.Fatal("a session opened before the password was changed")
	}

	const chosen = "une phrase que je suis seule à connaître"
	// The password was proven in this sign-in: the page asks only for the
	// new one (a "password" field posted along is ignored).
	change := func(current, next, confirm string) (*http.Response, string) {
		return postForm(t, b, h.issuer+"/password", url.Values{
			"request": {id}, "password": {current},
			"new_password": {next}, "confirm_password": {confirm},
		}, h.issuer)
	}
	for _, tc := range []struct {
		name                   string
		current, next, confirm string
		status                 int
		message                string
	}{
		{"confirmation differs", temporary, chosen, chosen + "!", http.StatusBadRequest, "ne sont pas identiques"},
		{"same as the current one", temporary, temporary, temporary, http.StatusBadRequest, "différent de l’actuel"},
		{"too short", temporary, "court", "court", http.StatusBadRequest, "au moins 12 caractères"},
		{"common", temporary, "azertyuiop123", "azertyuiop123", http.StatusBadRequest, "trop courant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := change(tc.current, tc.next, tc.confirm)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.message) || !strings.Contains(body, `role="alert"`) {
				t.Errorf("%d, want %d with %q:\n%s", resp.StatusCode, tc.status, tc.message, body)
			}
			if strings.Contains(body, tc.current) || strings.Contains(body, tc.next) {
				t.Error("a password is echoed in the page")
			}
			if hasSession() {
				t.Error("a session opened")
			}
		})
	}
	if _, err := h.local.Authenticate(context.Background(), "jeanne", temporary); err != nil {
		t.Fatalf("the temporary password changed after refused attempts: %v", err)
	}

	resp, _ = change(temporary, chosen, chosen)
	if q := callback(t, resp, rpCallback); q.Get("code") == "" || q.Get("state") != "st4te" {
		t.Fatalf("after the change: %v", q)
	}
	if _, err := h.local.Authenticate(context.Background(), "jeanne", temporary); err == nil {
		t.Error("the temporary password still signs in")
	}
	// A new browser signs in with the chosen password, straight through.
	other := h.browser()
	_, body = get(t, other, h.authorizeURL("intranet", rpCallback, nil))
	resp, _ = h.login(other, body, "jeanne", chosen)
	if q := callback(t, resp, rpCallback); q.Get("code") == "" {
		t.Errorf("sign-in with the chosen password: %v", q)
	}
	evs, err := h.store.ListAuditEvents(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, e := range evs {
		if e.Type == audit.PasswordChanged && e.PersonID == p.ID {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("%d %s events, want 1", changed, audit.PasswordChanged)
	}
}
