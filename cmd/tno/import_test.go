package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCSV writes a CSV file in a new directory and returns its path.
func writeCSV(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "personnes.csv")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const importFile = "\ufeffidentifiant;prenom;nom;courriel;qualite;service;fonction;debut\r\n" +
	"jeanne.dupont;Jeanne;Dupont;jeanne.dupont@exemple.fr;agent;Voirie;Cheffe d'équipe;2026-01-05\r\n" +
	"paul.martin;Paul;Martin;;elu;;\"Adjoint au maire ; culture\";04/07/2020\r\n"

func TestImport(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "create", "--slug", "ville-a", "--name", "Ville A", "--siren", "217500016")
	file := writeCSV(t, importFile)

	out := c.ok("import", "--org", "ville-a", "--file", file, "--dry-run")
	for _, want := range []string{"[dry run] created person jeanne.dupont (line 2)\n", "[dry run] created person paul.martin (line 3)\n",
		"[dry run] 2 created, 0 updated, 0 unchanged, 0 in error\n", "dry run: nothing was written\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if n := c.count("person", "list"); n != 0 {
		t.Fatalf("the dry run created %d people", n)
	}

	out = c.ok("import", "--org", "ville-a", "--file", file)
	if !strings.Contains(out, "created person paul.martin (line 3)\n") || !strings.Contains(out, "2 created, 0 updated, 0 unchanged, 0 in error\n") {
		t.Errorf("import:\n%s", out)
	}
	if n := c.count("person", "list", "--org", "ville-a"); n != 2 {
		t.Errorf("%d people in ville-a, want 2", n)
	}
	ms := c.ok("membership", "list", "--person", "paul.martin")
	if !strings.Contains(ms, "elu") || !strings.Contains(ms, "Adjoint au maire ; culture") || !strings.Contains(ms, "2020-07-04") {
		t.Errorf("paul.martin's memberships:\n%s", ms)
	}
	if audit := c.ok("audit", "list", "--org", "ville-a"); strings.Count(audit, "membership_created") != 2 || strings.Count(audit, "person_created") != 2 {
		t.Errorf("audit log:\n%s", audit)
	}

	t.Run("again: unchanged", func(t *testing.T) {
		out := c.ok("import", "--org", "ville-a", "--file", file)
		if !strings.Contains(out, "0 created, 0 updated, 2 unchanged, 0 in error\n") {
			t.Errorf("again:\n%s", out)
		}
	})
	t.Run("an update", func(t *testing.T) {
		f := writeCSV(t, "username,given_name,family_name,title,until\njeanne.dupont,Jeanne,Dupont,Directrice,31/12/2026\n")
		out := c.ok("import", "--org", "ville-a", "--file", f)
		if !strings.Contains(out, "updated person jeanne.dupont (line 2) (title, until)\n") {
			t.Errorf("update:\n%s", out)
		}
	})
	t.Run("every error line, nothing written", func(t *testing.T) {
		f := writeCSV(t, "identifiant;prenom;nom;courriel;debut\nnew.one;A;B;;\nbad;;B;pas une adresse;\nnew.two;C;D;;31/02/2026\n")
		r := c.run("import", "--org", "ville-a", "--file", f)
		if r.code != 1 {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		for _, want := range []string{"3 problem(s), nothing was applied", "\n  line 3: given_name: is required", "\n  line 3: email: not a plain e-mail address",
			"\n  line 4: from: not a date"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		if !strings.Contains(r.stdout, "error person bad (line 3)") {
			t.Errorf("stdout:\n%s", r.stdout)
		}
		if n := c.count("person", "list"); n != 2 {
			t.Errorf("%d people, want the 2 imported before", n)
		}
	})
	t.Run("a file problem", func(t *testing.T) {
		f := writeCSV(t, "identifiant;prenom;surnom\nx;y;z\n")
		stderr := c.fail(1, "import", "--org", "ville-a", "--file", f)
		if !strings.Contains(stderr, `line 1: unknown column(s) "surnom"`) || !strings.Contains(stderr, `line 1: required column(s) "nom" missing`) {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
	t.Run("usage", func(t *testing.T) {
		if stderr := c.fail(2, "import", "--file", file); !strings.Contains(stderr, "missing required flag --org") {
			t.Errorf("stderr:\n%s", stderr)
		}
		if stderr := c.fail(1, "import", "--org", "nope", "--file", file); !strings.Contains(stderr, "organization nope") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
}

// TestImportTiming imports 10,000 people with tno import (dry run, then
// for real) when TNO_IMPORT_TIMING is set, and logs how long each took.
func TestImportTiming(t *testing.T) {
	if os.Getenv("TNO_IMPORT_TIMING") == "" {
		t.Skip("set TNO_IMPORT_TIMING=1 to time a 10,000-line import")
	}
	c := newCLI(t)
	c.ok("org", "create", "--slug", "ville-a", "--name", "Ville A", "--siren", "217500016")
	var b strings.Builder
	b.WriteString("identifiant;prenom;nom;courriel;qualite;service;fonction;debut\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "agent.%05d;Prénom;Nom %d;agent.%05d@exemple.fr;agent;Service %d;Chargée de mission;05/01/2026\n", i, i, i, i%7)
	}
	file := writeCSV(t, b.String())
	t0 := time.Now()
	c.ok("import", "--org", "ville-a", "--file", file, "--dry-run")
	t1 := time.Now()
	c.ok("import", "--org", "ville-a", "--file", file)
	t.Logf("tno import of 10,000 lines: dry run %v, import %v (each includes its own check)", t1.Sub(t0), time.Since(t1))
}
