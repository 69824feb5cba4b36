package main

import (
	"strings"
	"testing"
)

// TestAppAdmin: the CLI gives an application an organization's role for
// the REST API through the use case, in an organization it serves only.
func TestAppAdmin(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "create", "--slug", "metropole", "--name", "Métropole", "--siren", "200046977")
	c.ok("org", "create", "--slug", "commune-a", "--name", "Commune A", "--siren", "213105554")
	c.ok("app", "create", "--org", "metropole", "--client-id", "rh-batch", "--name", "Batch RH",
		"--redirect-uri", "https://rh.exemple.fr/cb", "--grant-type", "client_credentials")
	if out := c.ok("app", "grant-admin", "--client-id", "rh-batch", "--org", "metropole", "--role", "org_admin"); !strings.Contains(out, "granted org_admin to application rh-batch in metropole") {
		t.Errorf("grant: %s", out)
	}
	if stderr := c.fail(1, "app", "grant-admin", "--client-id", "rh-batch", "--org", "commune-a", "--role", "org_admin"); !strings.Contains(stderr, "neither owned by nor granted to") {
		t.Errorf("an organization the application does not serve:\n%s", stderr)
	}
	if stderr := c.fail(1, "app", "grant-admin", "--client-id", "rh-batch", "--org", "metropole", "--role", "platform_admin"); !strings.Contains(stderr, "org_admin or org_helpdesk") {
		t.Errorf("the platform's role:\n%s", stderr)
	}
	c.fail(2, "app", "grant-admin", "--client-id", "rh-batch", "--org", "metropole")
	if out := c.ok("audit", "list", "--type", "role_granted"); !strings.Contains(out, "role_granted") {
		t.Errorf("audit:\n%s", out)
	}
	if out := c.ok("app", "revoke-admin", "--client-id", "rh-batch", "--org", "metropole", "--role", "org_admin"); !strings.Contains(out, "revoked org_admin of application rh-batch in metropole") {
		t.Errorf("revoke: %s", out)
	}
	if stderr := c.fail(1, "app", "revoke-admin", "--client-id", "rh-batch", "--org", "metropole", "--role", "org_admin"); !strings.Contains(stderr, "not found") {
		t.Errorf("revoke a role not held:\n%s", stderr)
	}
}
