package admin

import (
	"encoding/json"
	"io/fs"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/keys"
	"github.com/territoires-ouverts/tno/internal/storage"
)

func TestAuditDiffJSON(t *testing.T) {
	type row struct {
		Field         string
		Before, After string
		HasB, HasA    bool
	}
	tests := []struct {
		name          string
		before, after string
		want          []row
	}{
		{"created", "", `{"id":"p1","username":"lea","disabled":false}`, []row{
			{"id", "", "p1", false, true}, {"username", "", "lea", false, true}, {"disabled", "", "no", false, true}}},
		{"removed", `{"slug":"rh","name":"RH"}`, "", []row{
			{"slug", "rh", "", true, false}, {"name", "RH", "", true, false}}},
		{"changed fields only, in order", `{"id":"p1","usual_name":"Dupont","version":1,"tags":["a"]}`,
			`{"id":"p1","usual_name":"Durand","version":2,"tags":["a"],"email":"l@x.fr"}`, []row{
				{"usual_name", "Dupont", "Durand", true, true}, {"version", "1", "2", true, true}, {"email", "", "l@x.fr", false, true}}},
		{"a field emptied", `{"siret":"1","name":"A"}`, `{"name":"A"}`, []row{{"siret", "1", "", true, false}}},
		{"nested values as JSON", `{"uris":["a"]}`, `{"uris":["a","b"]}`, []row{{"uris", `["a"]`, `["a","b"]`, true, true}}},
		{"not objects", `"text"`, `[1,2]`, nil},
		{"same", `{"a":1}`, `{"a":1}`, nil},
	}
	r := httptest.NewRequest("GET", "/admin?lang=en", nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []row
			for _, ch := range diffJSON(tt.before, tt.after) {
				got = append(got, row{ch.Field, auditValue(r, ch.beforeValue, "yes", "no"), auditValue(r, ch.afterValue, "yes", "no"), ch.HasBefore, ch.HasAfter})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("diffJSON (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuditValueDates(t *testing.T) {
	fr := httptest.NewRequest("GET", "/admin?lang=fr", nil)
	if got := auditValue(fr, "2026-03-14T09:05:00Z", "oui", "non"); !strings.HasPrefix(got, "14/03/2026") && !strings.HasPrefix(got, "13/03/2026") {
		t.Errorf("date = %q", got)
	}
	if got := auditValue(fr, "pas une date", "oui", "non"); got != "pas une date" {
		t.Errorf("text = %q", got)
	}
	if got := auditValue(fr, true, "oui", "non"); got != "oui" {
		t.Errorf("bool = %q", got)
	}
}

func TestAuditExportLine(t *testing.T) {
	e := storage.AuditEvent{Seq: 7, Type: "person_updated", Before: `{"a":1}`, After: "not json", Hash: "h"}
	b, err := json.Marshal(newAuditLine(e))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if before, ok := got["before"].(map[string]any); !ok || before["a"] != 1.0 {
		t.Errorf("before = %#v", got["before"])
	}
	if got["after"] != "not json" || got["seq"] != 7.0 || got["hash"] != "h" {
		t.Errorf("line = %s", b)
	}
	if _, ok := got["org_id"]; ok {
		t.Errorf("empty fields are written: %s", b)
	}
}

func TestPlatformRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://tno:s3cret@db/tno?sslmode=disable": "postgres://tno:xxxxx@db/tno?sslmode=disable",
		"postgres://tno@db/tno":                        "postgres://tno@db/tno",
		"/var/lib/tno/tno.db":                          "/var/lib/tno/tno.db",
		"https://auth.exemple.fr":                      "https://auth.exemple.fr",
		"x://a:b@%zz":                                  "(…)",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// partMessages loads the messages of the console's audit, roles, groups
// and platform parts, and every console message, for lang.
func partMessages(t *testing.T, lang string) (own, all map[string]string) {
	t.Helper()
	own, all = map[string]string{}, map[string]string{}
	names, err := fs.Glob(messageFS, "messages/*"+lang+".json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		b, err := fs.ReadFile(messageFS, name)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		base := strings.TrimPrefix(name, "messages/")
		mine := slices.Contains([]string{"audit.", "roles.", "groups.", "platform."}, base[:strings.Index(base, ".")+1])
		for k, v := range m {
			all[k] = v
			if mine {
				own[k] = v
			}
		}
	}
	return own, all
}

// TestAuditRolesGroupsPlatformMessages: the four parts' messages exist in
// both languages, and every key their templates and dynamic labels use
// is defined.
func TestAuditRolesGroupsPlatformMessages(t *testing.T) {
	frOwn, frAll := partMessages(t, "fr")
	enOwn, _ := partMessages(t, "en")
	for k := range frOwn {
		if _, ok := enOwn[k]; !ok {
			t.Errorf("%s has no English message", k)
		}
	}
	for k := range enOwn {
		if _, ok := frOwn[k]; !ok {
			t.Errorf("%s has no French message", k)
		}
	}
	for k, v := range frOwn {
		for _, p := range []string{" :", " ;", " ?", " !", "« ", " »"} {
			if strings.Contains(v, p) {
				t.Errorf("%s: %q has a plain space where French wants a no-break space", k, v)
			}
		}
	}
	used := map[string]bool{}
	keyRE := regexp.MustCompile(`\.T "([^"]+)"`)
	for _, name := range []string{"audit", "roles", "groups", "groups_show", "groups_delete", "keys", "settings"} {
		b, err := fs.ReadFile(templateFS, "templates/"+name+".html")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	for _, typ := range auditTypes() {
		used["admin.audit.type."+typ] = true
	}
	roles, perms, _ := authz.Table()
	for _, r := range roles {
		used["admin.roles.role."+r] = true
		used["admin.roles.role_hint."+r] = true
	}
	for _, p := range perms {
		used["admin.roles.perm."+string(p)] = true
	}
	for _, s := range []string{keys.StateSigning, keys.StateNext, keys.StatePublished, keys.StateRetired, keys.StateExpired, keys.StateUnusable} {
		used["admin.platform.state."+s] = true
	}
	for k := range used {
		if _, ok := frAll[k]; !ok {
			t.Errorf("message %s is used but not defined", k)
		}
	}
}
