package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// testEnviron keeps argon2id as cheap as the configuration accepts
// (7 MiB × 5 passes, the floor of config.Validate).
var testEnviron = []string{
	"TNO_PASSWORD_MEMORY_KIB=7168",
	"TNO_PASSWORD_ITERATIONS=5",
	"TNO_PASSWORD_PARALLELISM=1",
}

// cli runs tno commands against one SQLite database in a temporary
// directory.
type cli struct {
	t   *testing.T
	dir string
	env []string // added to testEnviron
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	return &cli{t: t, dir: t.TempDir()}
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs tno args --data-dir <dir> with stdin.
func (c *cli) runIn(stdin string, args ...string) result {
	c.t.Helper()
	var out, errOut bytes.Buffer
	environ := append(slices.Clip(testEnviron), c.env...)
	env := &cliEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, environ: environ}
	args = append(args, "--data-dir", c.dir)
	code := run(context.Background(), args, env)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.runIn("", args...)
}

// ok runs a command that must succeed and returns its standard output.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("tno %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fail runs a command that must exit with code and returns its stderr.
func (c *cli) fail(code int, args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != code {
		c.t.Fatalf("tno %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r.stderr
}

// count returns the number of items of a --json list command.
func (c *cli) count(args ...string) int {
	c.t.Helper()
	var items []json.RawMessage
	out := c.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		c.t.Fatalf("tno %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
	return len(items)
}

func TestOrgCreate(t *testing.T) {
	c := newCLI(t)
	t.Run("bad SIREN", func(t *testing.T) {
		stderr := c.fail(1, "org", "create", "--slug", "ville-exemple", "--name", "Ville d'Exemple", "--siren", "217500017")
		if !strings.Contains(stderr, "Luhn") || !strings.Contains(stderr, "siren:") {
			t.Errorf("stderr does not explain the Luhn failure:\n%s", stderr)
		}
	})
	t.Run("every problem at once", func(t *testing.T) {
		stderr := c.fail(1, "org", "create", "--slug", "Ville", "--name", " ", "--siren", "217500016", "--siret", "21750001600018")
		for _, want := range []string{"\n  slug:", "\n  name:", "\n  siret:"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
	})
	t.Run("missing flag", func(t *testing.T) {
		stderr := c.fail(2, "org", "create", "--slug", "x")
		if !strings.Contains(stderr, "--name, --siren") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
	c.ok("org", "create", "--slug", "ville-exemple", "--name", "Ville d'Exemple", "--siren", "217500016", "--siret", "21750001600019")
	t.Run("duplicate slug", func(t *testing.T) {
		stderr := c.fail(1, "org", "create", "--slug", "ville-exemple", "--name", "Autre", "--siren", "200046977")
		if !strings.Contains(stderr, "already exists") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
	if n := c.count("org", "list"); n != 1 {
		t.Errorf("org list: %d organizations, want 1", n)
	}
	out := c.ok("org", "update", "--slug", "ville-exemple", "--name", "Ville d'Exemple-sur-Mer")
	if !strings.Contains(out, "updated organization ville-exemple") {
		t.Errorf("org update: %s", out)
	}
	out = c.ok("org", "show", "--slug", "ville-exemple")
	if !strings.Contains(out, "Ville d'Exemple-sur-Mer") || !strings.Contains(out, "21750001600019") {
		t.Errorf("org show:\n%s", out)
	}
	c.fail(1, "org", "show", "--slug", "nowhere")
}

func TestHelpAndUsage(t *testing.T) {
	c := newCLI(t)
	for _, tt := range []struct {
		name string
		args []string
		code int
	}{
		{"command without subcommand", []string{"org"}, 2},
		{"unknown subcommand", []string{"person", "frobnicate"}, 2},
		{"subcommand help", []string{"app", "create", "-h"}, 0},
		{"apply help", []string{"apply", "-h"}, 0},
		{"keys without subcommand", []string{"keys"}, 2},
		{"keys rotate help", []string{"keys", "rotate", "-h"}, 0},
		{"unknown flag", []string{"org", "list", "--nope"}, 2},
		{"positional argument", []string{"org", "list", "extra"}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.run(tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			if r.stderr == "" {
				t.Errorf("no usage printed")
			}
		})
	}
	if r := c.run("apply", "-h"); !strings.Contains(r.stderr, "Nothing is ever deleted") {
		t.Errorf("apply -h does not say nothing is deleted:\n%s", r.stderr)
	}
}

func TestPeopleMembershipsApps(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "create", "--slug", "metropole", "--name", "Métropole Exemple", "--siren", "200046977")
	c.ok("org", "create", "--slug", "ville-a", "--name", "Ville A", "--siren", "217500016")

	out := c.ok("person", "create", "--username", "JDupont", "--given-name", "Jeanne", "--family-name", "Dupont",
		"--email", "jeanne.dupont@exemple.fr", "--email-verified", "--generate-password")
	if !regexp.MustCompile(`password for jdupont: [A-Za-z0-9]{20}\n`).MatchString(out) {
		t.Errorf("person create --generate-password did not print the password:\n%s", out)
	}
	r := c.runIn("un mot de passe assez long\n", "person", "create", "--username", "pmartin", "--given-name", "Paul",
		"--family-name", "Martin", "--password-stdin")
	if r.code != 0 || strings.Contains(r.stdout, "assez long") {
		t.Fatalf("person create --password-stdin: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := c.runIn("court\n", "person", "set-password", "--username", "pmartin", "--password-stdin"); r.code != 1 || !strings.Contains(r.stderr, "shorter than 12") {
		t.Errorf("short password: exit %d\n%s", r.code, r.stderr)
	}
	c.fail(1, "person", "create", "--username", "bad user", "--given-name", "x", "--family-name", "y", "--email", "nope")

	c.ok("membership", "create", "--person", "jdupont", "--org", "metropole", "--kind", "agent",
		"--service", "Direction du numérique", "--title", "Chargée de mission", "--from", "2026-01-01")
	c.ok("membership", "create", "--person", "jdupont", "--org", "ville-a", "--kind", "elu", "--from", "2020-07-01")
	c.ok("mandate", "add", "--person", "jdupont", "--org", "ville-a", "--function", "Maire", "--from", "2020-07-04")
	// A mandate cannot start before the membership it belongs to.
	if stderr := c.fail(1, "mandate", "add", "--person", "jdupont", "--org", "ville-a", "--function", "Adjointe", "--from", "2020-03-15"); !strings.Contains(stderr, "starts_at") || !strings.Contains(stderr, "2020-07-01") {
		t.Errorf("mandate before its membership: %s", stderr)
	}
	c.fail(1, "mandate", "add", "--person", "jdupont", "--org", "metropole", "--function", "Maire")
	c.fail(1, "membership", "create", "--person", "jdupont", "--org", "metropole", "--kind", "agent")
	c.fail(1, "membership", "create", "--person", "pmartin", "--org", "metropole", "--kind", "stagiaire")
	stderr := c.fail(1, "membership", "create", "--person", "pmartin", "--org", "metropole", "--kind", "agent",
		"--from", "2026-01-01", "--until", "2025-01-01")
	if !strings.Contains(stderr, "valid_until") {
		t.Errorf("until before from: %s", stderr)
	}

	if n := c.count("membership", "list", "--org", "metropole"); n != 1 {
		t.Errorf("membership list --org metropole: %d, want 1", n)
	}
	if n := c.count("membership", "list", "--person", "jdupont"); n != 2 {
		t.Errorf("membership list --person jdupont: %d, want 2", n)
	}
	if n := c.count("person", "list", "--org", "ville-a"); n != 1 {
		t.Errorf("person list --org ville-a: %d, want 1", n)
	}
	if n := c.count("mandate", "list", "--person", "jdupont", "--org", "ville-a"); n != 1 {
		t.Errorf("mandate list: %d, want 1", n)
	}
	out = c.ok("person", "show", "--username", "jdupont")
	for _, want := range []string{"Direction du numérique", "ville-a", "Maire", "password:", "set"} {
		if !strings.Contains(out, want) {
			t.Errorf("person show lacks %q:\n%s", want, out)
		}
	}
	out = c.ok("membership", "end", "--person", "jdupont", "--org", "metropole", "--at", "2026-06-30")
	if !strings.Contains(out, "2026-06-30") {
		t.Errorf("membership end: %s", out)
	}
	out = c.ok("person", "disable", "--username", "pmartin")
	if !strings.Contains(out, "disabled person pmartin") {
		t.Errorf("person disable: %s", out)
	}

	// A confidential application: the secret is printed once.
	out = c.ok("app", "create", "--org", "metropole", "--client-id", "nextcloud", "--name", "Nextcloud",
		"--type", "confidential", "--redirect-uri", "https://cloud.exemple.fr/apps/user_oidc/code",
		"--grant-org", "ville-a", "--kind", "agent", "--first-party")
	m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "client_id: nextcloud") {
		t.Fatalf("app create did not print client_id and client_secret:\n%s", out)
	}
	secret := m[1]
	for _, args := range [][]string{
		{"app", "show", "--client-id", "nextcloud"},
		{"app", "show", "--client-id", "nextcloud", "--json"},
		{"app", "list"},
		{"app", "list", "--json"},
	} {
		if out := c.ok(args...); strings.Contains(out, secret) || strings.Contains(out, "sha256:") {
			t.Errorf("tno %s prints the secret or its hash:\n%s", strings.Join(args, " "), out)
		}
	}
	out = c.ok("app", "show", "--client-id", "nextcloud")
	if !strings.Contains(out, "ville-a") || !strings.Contains(out, "not shown") {
		t.Errorf("app show:\n%s", out)
	}
	out = c.ok("app", "rotate-secret", "--client-id", "nextcloud")
	if m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out); m == nil || m[1] == secret {
		t.Errorf("rotate-secret did not print a new secret:\n%s", out)
	}

	// A public application has no secret.
	out = c.ok("app", "create", "--org", "ville-a", "--client-id", "portail", "--name", "Portail",
		"--type", "public", "--redirect-uri", "http://127.0.0.1:9000/cb")
	if strings.Contains(out, "client_secret") {
		t.Errorf("public app create printed a secret:\n%s", out)
	}
	c.fail(1, "app", "rotate-secret", "--client-id", "portail")
	stderr = c.fail(1, "app", "create", "--org", "ville-a", "--client-id", "bad", "--name", "Bad",
		"--redirect-uri", "http://exemple.fr/cb", "--scope", "everything", "--kind", "stagiaire")
	for _, want := range []string{"redirect_uris:", "scopes:", "kinds:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("app create errors lack %q:\n%s", want, stderr)
		}
	}
	if n := c.count("app", "list"); n != 2 {
		t.Errorf("app list: %d, want 2", n)
	}
	if n := c.count("app", "list", "--org", "metropole"); n != 1 {
		t.Errorf("app list --org metropole: %d, want 1", n)
	}
	out = c.ok("app", "update", "--client-id", "nextcloud", "--kind", "agent", "--kind", "elu", "--name", "Nextcloud Métropole")
	if !strings.Contains(out, "updated application nextcloud") {
		t.Errorf("app update: %s", out)
	}
	out = c.ok("app", "update", "--client-id", "nextcloud", "--name", "Nextcloud Métropole")
	if !strings.Contains(out, "unchanged") {
		t.Errorf("app update without change: %s", out)
	}
	c.ok("app", "disable", "--client-id", "nextcloud")
	var v appView
	if err := json.Unmarshal([]byte(c.ok("app", "show", "--client-id", "nextcloud", "--json")), &v); err != nil {
		t.Fatal(err)
	}
	if !v.Disabled || v.Name != "Nextcloud Métropole" || len(v.Kinds) != 2 || !v.HasSecret || v.GrantOrgs[0] != "ville-a" {
		t.Errorf("app after update and disable: %+v", v)
	}
}
