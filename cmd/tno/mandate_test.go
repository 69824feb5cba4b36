package main

import (
	"strings"
	"testing"
	"time"
)

// TestMandateFromToday: a mandate from today, for an élu membership
// created a moment ago (from now), starts with the membership; a mandate
// from an earlier day is refused, saying when the membership starts.
func TestMandateFromToday(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "create", "--slug", "commune", "--name", "Commune", "--siren", "200046977")
	c.ok("person", "create", "--username", "elu", "--given-name", "Paul", "--family-name", "Martin")
	c.ok("membership", "create", "--person", "elu", "--org", "commune", "--kind", "elu")
	out := c.ok("mandate", "add", "--person", "elu", "--org", "commune", "--function", "Conseiller municipal", "--from", time.Now().Format(time.DateOnly))
	if !strings.Contains(out, "added mandate") {
		t.Errorf("mandate from today: %s", out)
	}
	yesterday := time.Now().AddDate(0, 0, -1).Format(time.DateOnly)
	if stderr := c.fail(1, "mandate", "add", "--person", "elu", "--org", "commune", "--function", "Adjoint", "--from", yesterday); !strings.Contains(stderr, "before the membership starts") {
		t.Errorf("mandate from yesterday: %s", stderr)
	}
}
