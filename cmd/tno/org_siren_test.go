package main

import (
	"strings"
	"testing"
)

func TestOrgSIRENIsUnique(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "create", "--slug", "ville-a", "--name", "Ville A", "--siren", "213105554")
	c.ok("org", "create", "--slug", "ville-c", "--name", "Ville C", "--siren", "217500016")

	const want = "organization ville-b: SIREN 213105554 already belongs to organization ville-a"
	if stderr := c.fail(1, "org", "create", "--slug", "ville-b", "--name", "Ville B", "--siren", "213105554"); !strings.Contains(stderr, want) {
		t.Errorf("second organization with the same SIREN:\n%s\nwant %q", stderr, want)
	}
	if n := c.count("org", "list"); n != 2 {
		t.Errorf("%d organizations, want 2", n)
	}
	const wantUpdate = "organization ville-c: SIREN 213105554 already belongs to organization ville-a"
	if stderr := c.fail(1, "org", "update", "--slug", "ville-c", "--siren", "213105554"); !strings.Contains(stderr, wantUpdate) {
		t.Errorf("update to a taken SIREN:\n%s\nwant %q", stderr, wantUpdate)
	}
	if out := c.ok("org", "show", "--slug", "ville-c"); !strings.Contains(out, "217500016") {
		t.Errorf("ville-c changed:\n%s", out)
	}
	// A taken slug is still said so, whatever the SIREN.
	if stderr := c.fail(1, "org", "create", "--slug", "ville-a", "--name", "Autre", "--siren", "213105554"); !strings.Contains(stderr, "organization ville-a already exists") {
		t.Errorf("duplicate slug and SIREN:\n%s", stderr)
	}
	// Keeping one's own SIREN is no conflict.
	c.ok("org", "update", "--slug", "ville-a", "--siren", "213105554", "--name", "Ville A renommée")
}
