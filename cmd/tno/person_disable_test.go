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

// TestPersonDisableNotifiesApplications: `tno person disable` ends the
// person's sessions and queues a back-channel logout notice for each
// application those sessions signed into.
func TestPersonDisableNotifiesApplications(t *testing.T) {
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
	sess := storage.Session{ID: strings.Repeat("a", 64), PersonID: p.ID, AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := st.CreateSession(ctx, &sess); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordSessionClient(ctx, &storage.SessionClient{SessionID: sess.ID, ClientID: "rh", SID: "sid-1", Subject: p.ID, FirstAt: now, LastAt: now}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out := c.ok("person", "disable", "--username", "jdupont")
	if !strings.Contains(out, "disabled person jdupont") || !strings.Contains(out, "1 session") {
		t.Errorf("disable output:\n%s", out)
	}

	st, err = sqlite.Open(ctx, filepath.Join(c.dir, "tno.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.GetSession(ctx, sess.ID)
	if err != nil || got.RevokedAt == nil {
		t.Errorf("session not revoked: %+v %v", got, err)
	}
	ds, err := st.ListLogoutDeliveries(ctx, "rh")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].URI != "https://rh.exemple.fr/bc" {
		t.Fatalf("deliveries = %+v, want one to the back-channel URI", ds)
	}
}
