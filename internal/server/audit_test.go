package server_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// TestAuditEvents: failed and successful sign-ins and a replayed
// authorization code land in the hash-chained audit log, without secrets.
func TestAuditEvents(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback)
	b := h.browser()
	_, body := get(t, b, h.authorizeURL("intranet", rpCallback, nil))
	if resp, _ := h.login(b, body, "jdupont", "not the password!"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	code := h.code(b, "intranet", rpCallback, "jdupont", nil)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}}
	h.tokenRequest(form, "intranet", h.secrets["intranet"])
	if resp, _ := h.tokenRequest(form, "intranet", h.secrets["intranet"]); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed code: %d", resp.StatusCode)
	}

	evs, err := h.store.ListAuditEvents(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types, admin []string
	var signin []storage.AuditEvent
	for _, e := range evs {
		if e.ActorKind != "" { // the harness's set-up, through the use cases
			if e.ActorKind != "cli" || e.Target == "" || e.After == "" {
				t.Errorf("administration event %+v lacks its actor, target or record", e)
			}
			admin = append(admin, e.Type)
			continue
		}
		types = append(types, e.Type)
		signin = append(signin, e)
		for k, v := range e.Details {
			if v == password || v == code || v == "not the password!" {
				t.Errorf("event %s detail %s holds a secret", e.Type, k)
			}
		}
	}
	if len(admin) == 0 {
		t.Error("the set-up recorded no administration event")
	}
	want := []string{audit.LoginFailed, audit.LoginSucceeded, audit.CodeReuse}
	if len(types) != len(want) {
		t.Fatalf("audit events %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Errorf("audit events %v, want %v", types, want)
			break
		}
	}
	if signin[0].Details["identifier"] != "jdupont" || signin[2].ClientID != "intranet" {
		t.Errorf("events: %+v", signin)
	}
	log, _ := audit.New(audit.Options{Store: h.store})
	if n, err := log.Verify(context.Background()); err != nil || n != int64(len(evs)) {
		t.Errorf("verify: %d %v", n, err)
	}
}
