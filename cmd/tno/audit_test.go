package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAuditList: newest first, usernames and slugs rather than IDs,
// snake_case JSON with before and after, filters, pages and JSON lines.
func TestAuditList(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "create", "--slug", "metropole", "--name", "Métropole", "--siren", "200046977")
	c.ok("person", "create", "--username", "jdupont", "--given-name", "Jeanne", "--family-name", "Dupont")
	c.ok("membership", "create", "--person", "jdupont", "--org", "metropole", "--kind", "agent", "--title", "Cheffe")
	c.ok("person", "disable", "--username", "jdupont")

	var views []map[string]any
	if err := json.Unmarshal([]byte(c.ok("audit", "list", "--json")), &views); err != nil {
		t.Fatal(err)
	}
	if len(views) < 4 || views[0]["type"] != "person_disabled" || views[len(views)-1]["type"] != "organization_created" {
		t.Fatalf("not newest first: %v", views)
	}
	first := views[0]
	if first["actor"] != "cli" || first["target"] != "person:jdupont" {
		t.Errorf("disable event = %v", first)
	}
	if b, _ := first["before"].(map[string]any); b == nil || b["disabled"] != false {
		t.Errorf("before = %v", first["before"])
	}
	if a, _ := first["after"].(map[string]any); a == nil || a["disabled"] != true {
		t.Errorf("after = %v", first["after"])
	}
	for _, v := range views {
		for k := range v {
			if k != strings.ToLower(k) {
				t.Errorf("key %q is not snake_case", k)
			}
		}
	}
	table := c.ok("audit", "list", "--org", "metropole")
	if !strings.Contains(table, "membership_created") || strings.Contains(table, "person_created") || !strings.Contains(table, "metropole") {
		t.Errorf("--org metropole:\n%s", table)
	}
	page := c.run("audit", "list", "--limit", "1")
	if page.code != 0 || !strings.Contains(page.stdout, "person_disabled") || !strings.Contains(page.stderr, "--before") {
		t.Errorf("--limit 1: %+v", page)
	}
	lines := strings.Split(strings.TrimSpace(c.ok("audit", "list", "--jsonl", "--person", "jdupont")), "\n")
	if len(lines) < 3 {
		t.Fatalf("jsonl: %v", lines)
	}
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Errorf("line %q: %v", l, err)
		}
	}
	c.fail(1, "audit", "list", "--limit", "0")
}
