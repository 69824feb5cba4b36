package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const applyYAML = `
organizations:
  - slug: metropole
    name: Métropole Exemple
    siren: "200046977"
    siret: "20004697700019"
  - slug: ville-a
    name: Ville A
    siren: 217500016
people:
  - username: jdupont
    given_name: Jeanne
    family_name: Dupont
    usual_name: ""
    email: jeanne.dupont@exemple.fr
    email_verified: true
    phone: ""
    password_file: ./secrets/jdupont
    memberships:
      - org: metropole
        kind: agent
        service: Direction du numérique
        title: Cheffe de projet
        email: ""
        from: 2026-01-01
        until: ""
      - org: ville-a
        kind: elu
        from: 2020-07-01
        mandates:
          - function: Maire
            delegations: ""
            from: 2020-07-04
            until: ""
          - function: Conseillère municipale
  - username: pmartin
    given_name: Paul
    family_name: Martin
    memberships:
      - org: ville-a
        kind: agent
applications:
  - client_id: nextcloud
    org: metropole
    name: Nextcloud
    type: confidential
    secret_file: ./secrets/nextcloud
    redirect_uris: [https://cloud.exemple.fr/apps/user_oidc/code]
    post_logout_redirect_uris: []
    grant_orgs: [ville-a]
    kinds: [agent]
    scopes: []
    first_party: true
  - client_id: intranet
    org: ville-a
    name: Intranet
    type: confidential
    redirect_uris: [https://intranet.ville-a.fr/callback]
  - client_id: mobile
    org: ville-a
    name: Application mobile
    type: public
    redirect_uris: [http://127.0.0.1/callback]
`

// writeApplyFile writes a YAML file and its secret files in a new
// directory and returns the YAML file's path.
func writeApplyFile(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"tno.yaml":          yaml,
		"secrets/jdupont":   "un mot de passe assez long\n",
		"secrets/nextcloud": "0123456789abcdef0123456789abcdef-nextcloud\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "tno.yaml")
}

// counts are the sizes of the lists apply fills.
func (c *cli) counts() map[string]int {
	c.t.Helper()
	return map[string]int{
		"orgs":                  c.count("org", "list"),
		"people":                c.count("person", "list"),
		"memberships metropole": c.count("membership", "list", "--org", "metropole"),
		"memberships ville-a":   c.count("membership", "list", "--org", "ville-a"),
		"mandates jdupont":      c.count("mandate", "list", "--person", "jdupont", "--org", "ville-a"),
		"apps":                  c.count("app", "list"),
	}
}

func TestApplyIdempotent(t *testing.T) {
	c := newCLI(t)
	file := writeApplyFile(t, applyYAML)

	first := c.ok("apply", "-f", file)
	for _, want := range []string{
		"created organization metropole",
		"created person jdupont",
		"set the password from password_file",
		"created agent membership of jdupont in metropole",
		`created mandate "Maire" of the elu membership of jdupont in ville-a`,
		"created application nextcloud",
		"set the client secret from secret_file",
		"12 created, 0 updated, 0 unchanged",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("first apply lacks %q:\n%s", want, first)
		}
	}
	// intranet got a generated secret, printed once; nextcloud's came
	// from its file and mobile is public.
	secrets := regexp.MustCompile(`client_secret for (\S+): \S+`).FindAllStringSubmatch(first, -1)
	if len(secrets) != 1 || secrets[0][1] != "intranet" {
		t.Errorf("first apply printed secrets %q, want one for intranet", secrets)
	}
	want := map[string]int{"orgs": 2, "people": 2, "memberships metropole": 1, "memberships ville-a": 2, "mandates jdupont": 2, "apps": 3}
	got := c.counts()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("after first apply, %s = %d, want %d", k, got[k], n)
		}
	}

	second := c.ok("apply", "-f", file)
	for _, line := range strings.Split(strings.TrimSpace(second), "\n") {
		if !strings.HasPrefix(line, "unchanged ") && line != "0 created, 0 updated, 12 unchanged" {
			t.Errorf("second apply changed something: %q\n%s", line, second)
		}
	}
	if strings.Contains(second, "client_secret") {
		t.Errorf("second apply printed a secret:\n%s", second)
	}
	if again := c.counts(); !equalCounts(got, again) {
		t.Errorf("counts changed on the second apply: %v, then %v", got, again)
	}

	// The password from the file works; the person is never given
	// another one by apply.
	show := c.ok("person", "show", "--username", "jdupont")
	if !regexp.MustCompile(`password:\s+set`).MatchString(show) {
		t.Errorf("jdupont has no password:\n%s", show)
	}

	// A changed field is updated, the rest left alone.
	changed := strings.Replace(applyYAML, "name: Ville A", "name: Ville A-sur-Mer", 1)
	changed = strings.Replace(changed, "kinds: [agent]", "kinds: [agent, elu]", 1)
	changed = strings.Replace(changed, `delegations: ""`, `delegations: "Urbanisme"`, 1)
	if err := os.WriteFile(file, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	third := c.ok("apply", "-f", file)
	for _, want := range []string{
		"updated organization ville-a (name)",
		"updated application nextcloud (kinds)",
		`updated mandate "Maire" of the elu membership of jdupont in ville-a (delegations)`,
		"0 created, 3 updated, 9 unchanged",
	} {
		if !strings.Contains(third, want) {
			t.Errorf("third apply lacks %q:\n%s", want, third)
		}
	}
	if again := c.counts(); !equalCounts(got, again) {
		t.Errorf("counts changed on the third apply: %v, then %v", got, again)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestApplyReportsEveryProblem(t *testing.T) {
	c := newCLI(t)
	bad := `
organizations:
  - slug: metropole
    name: Métropole Exemple
    siren: "200046978"
    colour: blue
  - slug: ville-a
    name: Ville A
    siren: "217500016"
people:
  - username: jdupont
    given_name: Jeanne
    family_name: Dupont
    memberships:
      - org: nowhere
        kind: agent
        mandates:
          - function: Maire
applications:
  - client_id: nextcloud
    org: metropole
    name: Nextcloud
    type: confidential
    redirect_uris: [http://cloud.exemple.fr/callback]
    grant_orgs: [elsewhere]
`
	stderr := c.fail(1, "apply", "-f", writeApplyFile(t, bad))
	for _, want := range []string{
		`unknown key "colour" in organizations`,
		"organizations[0] metropole: siren: SIREN 200046978 fails the Luhn check",
		`org: organization "nowhere" is neither in the file nor in the database`,
		"only élus' memberships (kind: elu) have mandates",
		"redirect_uris:",
		`grant_orgs: organization "elsewhere"`,
		"6 problem(s), nothing was applied",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// ville-a and jdupont were valid: they must not have been written.
	if n := c.count("org", "list"); n != 0 {
		t.Errorf("%d organizations written by a failed apply", n)
	}
	if n := c.count("person", "list"); n != 0 {
		t.Errorf("%d people written by a failed apply", n)
	}
}

func TestApplyFailureRollsBack(t *testing.T) {
	c := newCLI(t)
	// Valid on paper, refused by the store while writing: the membership
	// starts now and was declared to end in the past.
	yaml := `
organizations:
  - {slug: metropole, name: Métropole, siren: "200046977"}
people:
  - username: jdupont
    given_name: Jeanne
    family_name: Dupont
    memberships:
      - {org: metropole, kind: agent, until: 2001-01-01}
`
	stderr := c.fail(1, "apply", "-f", writeApplyFile(t, yaml))
	if !strings.Contains(stderr, "valid_until") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if n := c.count("org", "list"); n != 0 {
		t.Errorf("%d organizations left by a failed apply", n)
	}
}

func TestApplyDryRun(t *testing.T) {
	c := newCLI(t)
	file := writeApplyFile(t, applyYAML)
	out := c.ok("apply", "-f", file, "--dry-run")
	for _, want := range []string{"[dry run] created organization metropole", "a client secret would be generated", "dry run: nothing was written"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "client_secret") {
		t.Errorf("dry run printed a secret:\n%s", out)
	}
	for k, n := range c.counts2() {
		if n != 0 {
			t.Errorf("dry run wrote %d %s", n, k)
		}
	}
	if out := c.ok("apply", "-f", file); !strings.Contains(out, "12 created") {
		t.Errorf("apply after dry run:\n%s", out)
	}
}

// counts2 counts what exists without naming organizations.
func (c *cli) counts2() map[string]int {
	return map[string]int{"orgs": c.count("org", "list"), "people": c.count("person", "list"), "apps": c.count("app", "list")}
}

func TestApplyFileErrors(t *testing.T) {
	c := newCLI(t)
	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"empty", "", "the file is empty"},
		{"syntax", "organizations: [", "yaml:"},
		{"two documents", "organizations: []\n---\npeople: []\n", "more than one YAML document"},
		{"wrong type", "organizations: {slug: x}\n", "cannot unmarshal"},
		{"short secret", "organizations: [{slug: m, name: M, siren: \"200046977\"}]\napplications:\n  - {client_id: a, org: m, name: A, type: confidential, redirect_uris: [\"https://a.fr/cb\"], secret_file: ./secrets/jdupont}\n", "at least 32 characters"},
		{"secret for public client", "organizations: [{slug: m, name: M, siren: \"200046977\"}]\napplications:\n  - {client_id: a, org: m, name: A, type: public, redirect_uris: [\"https://a.fr/cb\"], secret_file: ./secrets/nextcloud}\n", "only confidential"},
		{"missing password file", "people: [{username: a, given_name: A, family_name: B, password_file: nope}]\n", "password_file:"},
		{"duplicates", "organizations: [{slug: m, name: M, siren: \"200046977\"}, {slug: m, name: M, siren: \"200046977\"}]\n", "declared twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stderr := c.fail(1, "apply", "-f", writeApplyFile(t, tt.yaml))
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
		})
	}
}
