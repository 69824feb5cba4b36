package main

import (
	"strings"
	"testing"
)

// TestRole: the CLI grants and revokes roles through the use case, which
// keeps an organization's roles for its current members.
func TestRole(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "create", "--slug", "commune-a", "--name", "Commune A", "--siren", "213105554")
	c.ok("person", "create", "--username", "secretaire", "--given-name", "Sam", "--family-name", "Secret")
	if stderr := c.fail(1, "role", "grant", "--person", "secretaire", "--org", "commune-a", "--role", "org_admin"); !strings.Contains(stderr, "current members") {
		t.Errorf("a role to a non-member:\n%s", stderr)
	}
	c.ok("membership", "create", "--person", "secretaire", "--org", "commune-a", "--kind", "agent")
	if out := c.ok("role", "grant", "--person", "secretaire", "--org", "commune-a", "--role", "org_admin"); !strings.Contains(out, "granted org_admin to secretaire in commune-a") {
		t.Errorf("grant: %s", out)
	}
	if out := c.ok("role", "list", "--org", "commune-a"); !strings.Contains(out, "secretaire") || !strings.Contains(out, "org_admin") {
		t.Errorf("list:\n%s", out)
	}
	if stderr := c.fail(1, "role", "grant", "--person", "secretaire", "--role", "emperor"); !strings.Contains(stderr, "unknown role") {
		t.Errorf("unknown role:\n%s", stderr)
	}
	c.ok("role", "revoke", "--person", "secretaire", "--org", "commune-a", "--role", "org_admin")
	if out := c.ok("role", "list", "--org", "commune-a", "--json"); strings.Contains(out, "secretaire") {
		t.Errorf("after revoke:\n%s", out)
	}
	if out := c.ok("audit", "list", "--type", "role_granted"); !strings.Contains(out, "person:secretaire") {
		t.Errorf("audit:\n%s", out)
	}
}
