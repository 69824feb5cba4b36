package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage/sqlite"
)

// TestApplyKeepsUnnamedFields: a field the file does not name is left
// as it is (a title set with the CLI survives a file without titles); a
// field named empty is cleared.
func TestApplyKeepsUnnamedFields(t *testing.T) {
	c := newCLI(t)
	const base = `organizations:
  - slug: metropole
    name: Métropole
    siren: "200046977"
people:
  - username: pmartin
    given_name: Paul
    family_name: Martin
    memberships:
      - org: metropole
        kind: agent
`
	c.ok("apply", "-f", writeApplyFile(t, base))
	c.ok("person", "create", "--username", "autre", "--given-name", "A", "--family-name", "B") // unrelated
	// The title and phone are set outside the file.
	st, err := sqlite.Open(t.Context(), filepath.Join(c.dir, "tno.db"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.GetPersonByUsername(t.Context(), "pmartin")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := st.ListPersonMemberships(t.Context(), p.ID)
	if err != nil || len(ms) != 1 {
		t.Fatal(ms, err)
	}
	m := ms[0]
	m.Title, m.Phone = "Chargé de mission", "01 23 45 67 89"
	if err := st.UpdateMembership(t.Context(), &m); err != nil {
		t.Fatal(err)
	}
	p.Phone = "06 00 00 00 00"
	if err := st.UpdatePerson(t.Context(), &p); err != nil {
		t.Fatal(err)
	}
	st.Close()

	if out := c.ok("apply", "-f", writeApplyFile(t, base)); !strings.Contains(out, " 0 updated") {
		t.Errorf("applying the same file again changed something:\n%s", out)
	}
	show := c.ok("membership", "list", "--org", "metropole", "--json")
	if !strings.Contains(show, "Chargé de mission") || !strings.Contains(show, "01 23 45 67 89") {
		t.Errorf("the title or phone set outside the file was erased:\n%s", show)
	}
	if person := c.ok("person", "show", "--username", "pmartin"); !strings.Contains(person, "06 00 00 00 00") {
		t.Errorf("the person's phone was erased:\n%s", person)
	}
	// Named empty: cleared, and the plan says so.
	cleared := strings.Replace(base, "        kind: agent\n", "        kind: agent\n        title: \"\"\n", 1)
	if out := c.ok("apply", "-f", writeApplyFile(t, cleared)); !strings.Contains(out, "title") {
		t.Errorf("clearing the title is not reported:\n%s", out)
	}
	if show := c.ok("membership", "list", "--org", "metropole", "--json"); strings.Contains(show, "Chargé de mission") || !strings.Contains(show, "01 23 45 67 89") {
		t.Errorf("after clearing the title:\n%s", show)
	}
}
