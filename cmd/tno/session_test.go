package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/sqlite"
)

// TestSessionListEnd: an administrator lists a person's sessions and ends
// one; the applications it signed into are notified by back-channel.
func TestSessionListEnd(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "create", "--slug", "metropole", "--name", "Métropole", "--siren", "200046977")
	c.ok("person", "create", "--username", "jdupont", "--given-name", "Jeanne", "--family-name", "Dupont")
	c.ok("app", "create", "--org", "metropole", "--client-id", "rh", "--name", "RH", "--type", "confidential",
		"--redirect-uri", "https://rh.exemple.fr/cb", "--backchannel-logout-uri", "https://rh.exemple.fr/bc")

	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(c.dir, "tno.db"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.GetPersonByUsername(ctx, "jdupont")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, id := range []string{strings.Repeat("a", 64), strings.Repeat("b", 64)} {
		s := storage.Session{ID: id, PersonID: p.ID, AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := st.CreateSession(ctx, &s); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordSessionClient(ctx, &storage.SessionClient{SessionID: id, ClientID: "rh", SID: "sid-" + id[:1], Subject: p.ID, FirstAt: now, LastAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	out := c.ok("session", "list", "--username", "jdupont")
	if strings.Count(out, "active") != 2 || !strings.Contains(out, "aaaaaaaaaaaa") || !strings.Contains(out, "rh") {
		t.Fatalf("session list:\n%s", out)
	}
	if strings.Contains(out, strings.Repeat("a", 13)) {
		t.Errorf("session list shows more than the short reference:\n%s", out)
	}
	out = c.ok("session", "end", "--username", "jdupont", "--id", "aaaaaaaaaaaa")
	if !strings.Contains(out, "ended session aaaaaaaaaaaa") || !strings.Contains(out, "1 application(s) notified") {
		t.Errorf("session end:\n%s", out)
	}
	if msg := c.fail(1, "session", "end", "--username", "jdupont", "--id", "aaaaaaaaaaaa"); !strings.Contains(msg, "already ended") {
		t.Errorf("ending twice: %s", msg)
	}
	if msg := c.fail(1, "session", "end", "--username", "jdupont", "--id", "cccccccccccc"); !strings.Contains(msg, "no session") {
		t.Errorf("unknown session: %s", msg)
	}
	out = c.ok("session", "list", "--username", "jdupont")
	if strings.Count(out, "active") != 1 || strings.Contains(out, "aaaaaaaaaaaa") {
		t.Errorf("after end, list:\n%s", out)
	}
	out = c.ok("session", "list", "--username", "jdupont", "--all")
	if !strings.Contains(out, "ended") {
		t.Errorf("list --all should show the ended session:\n%s", out)
	}
	c.ok("session", "end", "--username", "jdupont")

	// Each ended session is in the audit log, whose chain is intact.
	out = c.ok("audit", "list")
	if strings.Count(out, "session_ended") != 2 || !strings.Contains(out, "reason=admin") {
		t.Errorf("audit list:\n%s", out)
	}
	// Besides them: the set-up's administration events, and the
	// administrator ending the sessions.
	if out = c.ok("audit", "verify"); !strings.Contains(out, "intact: ") || !strings.Contains(c.ok("audit", "list"), "sessions_ended") {
		t.Errorf("audit verify: %s", out)
	}

	st, err = sqlite.Open(ctx, filepath.Join(c.dir, "tno.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ds, err := st.ListLogoutDeliveries(ctx, "rh")
	if err != nil || len(ds) != 2 {
		t.Fatalf("deliveries = %d (%v), want one per ended session", len(ds), err)
	}
}
