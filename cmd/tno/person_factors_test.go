package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/sqlite"
)

// TestPersonResetFactors: `tno person reset-factors` removes a person's
// authenticator app, recovery codes and passkeys, nobody else's, and
// records it in the audit log.
func TestPersonResetFactors(t *testing.T) {
	c := newCLI(t)
	c.ok("person", "create", "--username", "maire", "--given-name", "Anne", "--family-name", "Maire")
	c.ok("person", "create", "--username", "adjoint", "--given-name", "Paul", "--family-name", "Adjoint")

	ctx := context.Background()
	open := func() storage.Store {
		st, err := sqlite.Open(ctx, filepath.Join(c.dir, "tno.db"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	ids := map[string]string{}
	for _, u := range []string{"maire", "adjoint"} {
		p, err := st.GetPersonByUsername(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		ids[u] = p.ID
		for _, f := range []storage.Factor{
			{PersonID: p.ID, Kind: storage.FactorTOTP, Name: "Téléphone", Secret: "JBSWY3DPEHPK3PXP"},
			{PersonID: p.ID, Kind: storage.FactorRecovery, Secret: "sha256$a$b"},
			{PersonID: p.ID, Kind: storage.FactorPasskey, Name: "Clé", CredentialID: "cred-" + u, Data: []byte("{}")},
		} {
			if err := st.CreateFactor(ctx, &f); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.Close()

	out := c.ok("person", "reset-factors", "--username", "maire")
	if !strings.Contains(out, "removed 3 factors of maire") {
		t.Errorf("output:\n%s", out)
	}
	if stderr := c.fail(1, "person", "reset-factors", "--username", "personne"); !strings.Contains(stderr, "personne") {
		t.Errorf("unknown person: %s", stderr)
	}

	st = open()
	defer st.Close()
	if fs, _ := st.ListFactors(ctx, ids["maire"]); len(fs) != 0 {
		t.Errorf("maire still has %d factors", len(fs))
	}
	if fs, _ := st.ListFactors(ctx, ids["adjoint"]); len(fs) != 3 {
		t.Errorf("adjoint has %d factors, want 3 untouched", len(fs))
	}
	evs, err := st.ListAuditEvents(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs {
		if e.Type == "factors_reset" && e.Target == "person:"+ids["maire"] && e.ActorKind == "cli" && e.Details["removed"] == "3" {
			found = true
		}
	}
	if !found {
		t.Errorf("no factors_reset event in %+v", evs)
	}
}
