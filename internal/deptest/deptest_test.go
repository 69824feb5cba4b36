package deptest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A rule constrains what a set of packages may use.
//
// Patterns: a pattern whose first element has no dot is relative to the
// module ("internal/storage", "cmd/..."), and "..." alone is every package
// of the module; any other pattern is a full import path
// ("github.com/zitadel/oidc/..."). "x/..." matches x and everything below.
type rule struct {
	why    string   // shown with each violation
	pkgs   []string // packages the rule constrains
	except []string // packages exempt among pkgs
	// direct checks the packages' own imports instead of all their
	// dependencies: for "only X may import Y" rules, since whatever
	// imports X depends on Y through it.
	direct bool
	// internal, when non-nil, lists the only module packages they may use.
	internal []string
	// external, when non-nil, lists the only third-party packages (neither
	// standard library nor module) they may use.
	external []string
	// deny lists packages they must not use.
	deny []string
}

// rules are the arrows of GUIDE.md section 2: a package uses only
// packages listed below it there.
func rules() []rule {
	none := []string{}
	sqlDrivers := []string{
		"modernc.org/sqlite/...",
		"github.com/jackc/pgx/...",
		"github.com/lib/pq/...",
		"github.com/mattn/go-sqlite3/...",
	}
	return []rule{
		{
			why:      "storage holds the shared records and interfaces and imports only the standard library",
			pkgs:     []string{"internal/storage"},
			internal: none,
			external: none,
		},
		{
			why:      "storage engines build on storage only",
			pkgs:     []string{"internal/storage/..."},
			internal: []string{"internal/storage/..."},
		},
		{
			why:      "config produces plain data from the standard library and yaml",
			pkgs:     []string{"internal/config"},
			internal: none,
			external: []string{"go.yaml.in/yaml/v3"},
		},
		{
			why:      "web is presentation only",
			pkgs:     []string{"internal/web"},
			internal: none,
		},
		{
			why:      "validation errors and the permission model sit at the bottom, beside storage, so that every use case can use them",
			pkgs:     []string{"internal/field", "internal/authz"},
			internal: []string{"internal/storage"},
			external: none,
		},
		{
			why:      "the audit log and signing keys build on storage only",
			pkgs:     []string{"internal/keys", "internal/audit"},
			internal: []string{"internal/storage"},
		},
		{
			why:      "use cases build on storage, the permission model, validation errors and the audit log",
			pkgs:     []string{"internal/territory", "internal/apps"},
			internal: []string{"internal/storage", "internal/field", "internal/authz", "internal/audit"},
		},
		{
			why:      "identity sources build on storage and the directory interfaces",
			pkgs:     []string{"internal/directory/..."},
			internal: []string{"internal/storage", "internal/directory", "internal/directory/local/policy"},
		},
		{
			why:      "sessions build on storage only",
			pkgs:     []string{"internal/session"},
			internal: []string{"internal/storage"},
		},
		{
			why:      "brute-force throttling builds on storage only",
			pkgs:     []string{"internal/throttle"},
			internal: []string{"internal/storage"},
		},
		{
			why:      "factors are pure logic: no storage, no HTTP, no other module package",
			pkgs:     []string{"internal/factor/totp", "internal/factor/passkey"},
			internal: none,
		},
		{
			why:      "the passkey test authenticator is standalone",
			pkgs:     []string{"internal/factor/passkey/passkeytest"},
			internal: none,
			external: []string{"github.com/fxamacker/cbor/v2", "github.com/x448/float16"},
		},
		{
			why:      "mail sends e-mail with the standard library only",
			pkgs:     []string{"internal/mail"},
			internal: none,
			external: none,
		},
		{
			why:  "the sign-in engine sits below the protocols and builds on the domain, sessions, identity sources and factors",
			pkgs: []string{"internal/authflow"},
			internal: []string{"internal/storage", "internal/session", "internal/directory", "internal/directory/local", "internal/directory/local/policy",
				"internal/factor/...", "internal/throttle", "internal/logout", "internal/audit", "internal/web", "internal/mail"},
		},
		{
			why:    "only the passkey factor talks to the WebAuthn library",
			pkgs:   []string{"..."},
			except: []string{"internal/factor/passkey"},
			direct: true,
			deny:   []string{"github.com/go-webauthn/..."},
		},
		{
			why:    "the passkey test authenticator is for tests",
			pkgs:   []string{"..."},
			direct: true,
			deny:   []string{"internal/factor/passkey/passkeytest"},
		},
		{
			why:      "single logout builds on storage and records to the audit log (it signs through an interface)",
			pkgs:     []string{"internal/logout"},
			internal: []string{"internal/storage", "internal/audit"},
		},
		{
			why:  "protocols sit below the composition root and the consoles, and never import each other",
			pkgs: []string{"internal/oidc/..."},
			deny: []string{"internal/server/...", "internal/portal/...", "internal/admin/...", "internal/saml/...", "internal/cas/...", "cmd/..."},
		},
		{
			why:  "protocols sit below the composition root and the consoles, and never import each other",
			pkgs: []string{"internal/saml/..."},
			deny: []string{"internal/server/...", "internal/portal/...", "internal/admin/...", "internal/oidc/...", "internal/cas/...", "cmd/..."},
		},
		{
			why:  "protocols sit below the composition root and the consoles, and never import each other",
			pkgs: []string{"internal/cas/..."},
			deny: []string{"internal/server/...", "internal/portal/...", "internal/admin/...", "internal/oidc/...", "internal/saml/...", "cmd/..."},
		},
		{
			why:  "the console and the API are front ends over the use cases: no protocol, no sign-in engine (an interface), no composition root",
			pkgs: []string{"internal/admin/..."},
			deny: []string{"internal/server/...", "internal/oidc/...", "internal/authflow/...", "internal/portal/...", "internal/saml/...", "internal/cas/..."},
		},
		{
			why:  "nothing under internal imports a command",
			pkgs: []string{"internal/..."},
			deny: []string{"cmd/..."},
		},
		{
			why:    "the OpenID provider library's types never leave internal/oidc",
			pkgs:   []string{"..."},
			except: []string{"internal/oidc/..."},
			direct: true,
			deny:   []string{"github.com/zitadel/oidc/..."},
		},
		{
			why:    "SQL drivers are imported by the storage engines and the composition root only",
			pkgs:   []string{"..."},
			except: []string{"internal/storage/...", "internal/server"},
			direct: true,
			deny:   sqlDrivers,
		},
		{
			why:  "SQLite is pure Go, for CGO_ENABLED=0 builds",
			pkgs: []string{"..."},
			deny: []string{"github.com/mattn/go-sqlite3/..."},
		},
	}
}

func TestImportRules(t *testing.T) {
	g := loadGraph(t)
	for _, must := range []string{"internal/config", "internal/storage"} {
		if !slices.ContainsFunc(g.pkgs, func(p pkg) bool { return g.rel(p.ImportPath) == must }) {
			t.Fatalf("go list did not report %s: the graph is wrong, every rule would pass", must)
		}
	}
	for _, v := range g.check(rules()) {
		t.Error(v)
	}
}

// TestRulesCatchViolations runs the rules on a made-up module, so that a
// broken matcher cannot make TestImportRules pass vacuously.
func TestRulesCatchViolations(t *testing.T) {
	const m = "example.org/tno"
	g := newGraph(m, map[string][]string{
		m + "/cmd/tno":                   {m + "/internal/server", m + "/internal/config"},
		m + "/internal/server":           {m + "/internal/oidc", m + "/internal/storage/sqlite", "modernc.org/sqlite", "net/http"},
		m + "/internal/oidc":             {m + "/internal/storage", m + "/internal/portal", "github.com/zitadel/oidc/v3/pkg/op"},
		m + "/internal/portal":           {m + "/internal/web", "github.com/jackc/pgx/v5/stdlib", "github.com/zitadel/oidc/v3/pkg/oidc"},
		m + "/internal/web":              {"html/template", m + "/internal/config"},
		m + "/internal/config":           {"go.yaml.in/yaml/v3", "github.com/google/uuid"},
		m + "/internal/storage":          {"context"},
		m + "/internal/storage/sqlite":   {m + "/internal/storage", m + "/internal/storage/sqlstore", "modernc.org/sqlite"},
		m + "/internal/storage/sqlstore": {m + "/internal/storage", "database/sql"},
		m + "/internal/apps":             {m + "/internal/storage", m + "/internal/keys"},
		m + "/internal/territory":        {m + "/internal/apps"},
		m + "/internal/keys":             {m + "/internal/storage", "github.com/go-jose/go-jose/v4"},
		m + "/internal/directory/local":  {m + "/internal/directory", m + "/internal/storage"},
		m + "/internal/directory":        {m + "/internal/storage"},
		m + "/internal/session":          {m + "/internal/storage", m + "/internal/directory"},
	})
	got := g.check(rules())
	want := []string{
		"internal/oidc depends on internal/portal",
		"internal/portal imports github.com/jackc/pgx/v5/stdlib",
		"internal/portal imports github.com/zitadel/oidc/v3/pkg/oidc",
		"internal/web depends on internal/config",
		"internal/config depends on github.com/google/uuid",
		"internal/apps depends on internal/keys",
		"internal/territory depends on internal/apps",
		"internal/territory depends on internal/keys (through internal/apps)",
		"internal/session depends on internal/directory",
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(v string) bool { return strings.HasPrefix(v, w+":") || strings.HasPrefix(v, w+" (") }) {
			t.Errorf("no violation %q; got:\n%s", w, strings.Join(got, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d violations, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}

// pkg is the part of go list's output the rules need.
type pkg struct {
	ImportPath string
	Imports    []string // direct imports, test files excluded
	Deps       []string // all dependencies, test files excluded
}

type graph struct {
	module string
	pkgs   []pkg
	byPath map[string]pkg
}

func newGraph(module string, imports map[string][]string) graph {
	g := graph{module: module, byPath: make(map[string]pkg)}
	var deps func(path string, seen map[string]bool)
	deps = func(path string, seen map[string]bool) {
		for _, imp := range imports[path] {
			if !seen[imp] {
				seen[imp] = true
				deps(imp, seen)
			}
		}
	}
	for _, path := range slices.Sorted(maps.Keys(imports)) {
		seen := make(map[string]bool)
		deps(path, seen)
		p := pkg{ImportPath: path, Imports: imports[path]}
		for d := range seen {
			p.Deps = append(p.Deps, d)
		}
		slices.Sort(p.Deps)
		g.pkgs = append(g.pkgs, p)
		g.byPath[path] = p
	}
	return g
}

// loadGraph lists the module's packages with go list, from the module
// root. Packages that do not compile yet are listed with what could be
// read of them (-e).
func loadGraph(t *testing.T) graph {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	gomod, err := exec.Command(goBin, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	modPath, err := runGo(goBin, root, "list", "-m", "-f", "{{.Path}}")
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	out, err := runGo(goBin, root, "list", "-e", "-json=ImportPath,Imports,Deps", "./...")
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	g := graph{module: strings.TrimSpace(modPath), byPath: make(map[string]pkg)}
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		g.pkgs = append(g.pkgs, p)
		g.byPath[p.ImportPath] = p
	}
	return g
}

func runGo(goBin, dir string, args ...string) (string, error) {
	cmd := exec.Command(goBin, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", errors.New(err.Error() + ": " + stderr.String())
	}
	return string(out), nil
}

// check returns one line per violation.
func (g graph) check(rs []rule) []string {
	var out []string
	for _, p := range g.pkgs {
		if !g.isModule(p.ImportPath) {
			continue
		}
		for _, r := range rs {
			if !g.matchAny(r.pkgs, p.ImportPath) || g.matchAny(r.except, p.ImportPath) {
				continue
			}
			uses, verb := p.Deps, "depends on"
			if r.direct {
				uses, verb = p.Imports, "imports"
			}
			for _, u := range uses {
				bad := g.matchAny(r.deny, u) ||
					(r.internal != nil && g.isModule(u) && !g.matchAny(r.internal, u)) ||
					(r.external != nil && isThirdParty(u) && !g.isModule(u) && !g.matchAny(r.external, u))
				if !bad {
					continue
				}
				v := g.rel(p.ImportPath) + " " + verb + " " + g.rel(u)
				if via := g.via(p, u); via != "" {
					v += " (through " + g.rel(via) + ")"
				}
				out = append(out, v+": "+r.why)
			}
		}
	}
	return out
}

// via names the direct import of p through which p depends on u, or ""
// if p imports u itself.
func (g graph) via(p pkg, u string) string {
	if slices.Contains(p.Imports, u) {
		return ""
	}
	for _, imp := range p.Imports {
		if q, ok := g.byPath[imp]; ok && slices.Contains(q.Deps, u) {
			return imp
		}
	}
	return ""
}

func (g graph) isModule(path string) bool {
	return path == g.module || strings.HasPrefix(path, g.module+"/")
}

// rel shortens a module import path to its path inside the module.
func (g graph) rel(path string) string {
	if rest, ok := strings.CutPrefix(path, g.module+"/"); ok {
		return rest
	}
	return path
}

func (g graph) matchAny(patterns []string, path string) bool {
	return slices.ContainsFunc(patterns, func(pat string) bool { return g.match(pat, path) })
}

func (g graph) match(pattern, path string) bool {
	if pattern == "..." {
		return g.isModule(path)
	}
	if first, _, _ := strings.Cut(pattern, "/"); !strings.Contains(first, ".") {
		if !g.isModule(path) {
			return false
		}
		path = g.rel(path)
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

// isThirdParty reports whether path is outside the standard library,
// whose import paths have no dot in their first element.
func isThirdParty(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return strings.Contains(first, ".")
}
