package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/provision"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// importRouteCases: the commune's administrator on the métropole's
// import pages, with a file that would rename the métropole's person.
func importRouteCases(f *consoleFixture) map[string]routeCase {
	m := "/admin/orgs/" + f.h.metropole.Slug + "/import"
	data := []byte("identifiant;prenom;nom\n" + f.victim.Username + ";Pirate;Pirate\nintrus;Pirate;Pirate\n")
	sum := sha256.Sum256(data)
	apply := url.Values{"content": {base64.StdEncoding.EncodeToString(data)}, "sha256": {hex.EncodeToString(sum[:])}, "name": {"x.csv"}}
	return map[string]routeCase{
		"GET /admin/orgs/{org}/import":                      {path: m},
		"GET /admin/orgs/{org}/import/template.csv":         {path: m + "/template.csv"},
		"POST /admin/orgs/{org}/import":                     {path: m, form: url.Values{"file": {string(data)}}},
		"POST /admin/orgs/{org}/import/apply":               {path: m + "/apply", form: apply},
		"GET /admin/orgs/{org}/import#unknown":              {path: "/admin/orgs/nope/import"},
		"POST /admin/orgs/{org}/import/apply#unknown-org":   {path: "/admin/orgs/nope/import/apply", form: apply},
		"GET /admin/orgs/{org}/import/template.csv#unknown": {path: "/admin/orgs/nope/import/template.csv"},
	}
}

// upload posts a file in a multipart form, as a browser does, from the
// issuer's origin.
func (h *harness) upload(b *http.Client, path string, fields map[string]string, fileName, contentType string, data []byte) (*http.Response, string) {
	h.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			h.t.Fatal(err)
		}
	}
	if fileName != "" {
		hdr := textproto.MIMEHeader{}
		hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, fileName))
		hdr.Set("Content-Type", contentType)
		w, err := mw.CreatePart(hdr)
		if err != nil {
			h.t.Fatal(err)
		}
		w.Write(data) //nolint:errcheck // a bytes.Buffer
	}
	mw.Close() //nolint:errcheck
	req, err := http.NewRequest(http.MethodPost, h.issuer+path, &buf)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", h.issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var importHiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z0-9]+)" value="([^"]*)">`)

// applyFields returns the hidden fields of the dry run's apply form.
func applyFields(body string) map[string]string {
	out := map[string]string{}
	for _, m := range importHiddenRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// peopleCSV is a file of n new people of the métropole.
func peopleCSV(n int, extra ...string) []byte {
	var b strings.Builder
	b.WriteString("\ufeffidentifiant;prenom;nom;courriel;qualite;service;fonction;debut\r\n")
	for i := range n {
		fmt.Fprintf(&b, "agent.%05d;Prénom;Nom %d;agent.%05d@exemple.fr;agent;Service %d;\"Chargée ; mission\";05/01/2026\r\n", i, i, i, i%7)
	}
	for _, l := range extra {
		b.WriteString(l + "\r\n")
	}
	return []byte(b.String())
}

func (h *harness) countAgents(prefix string) int {
	h.t.Helper()
	people, err := h.store.ListPeopleInOrganization(h.t.Context(), h.metropole.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for _, p := range people {
		if strings.HasPrefix(p.Username, prefix) {
			n++
		}
	}
	return n
}

// TestConsoleImport: an administrator checks a 50-row file (nothing is
// written), applies it (50 people with their memberships, every change
// in the audit log under their name), and is refused a file with a bad
// line, a tampered apply and a file that is not CSV.
func TestConsoleImport(t *testing.T) {
	h := newHarness(t)
	b, admin := h.adminBrowser("admin.metropole", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgAdmin})
	base := "/admin/orgs/" + h.metropole.Slug + "/import"

	resp, body := get(t, b, h.issuer+base)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `type="file"`) || !strings.Contains(body, `enctype="multipart/form-data"`) ||
		!strings.Contains(body, "import/template.csv") || !strings.Contains(body, "courriel_pro") {
		t.Fatalf("import page: %d\n%s", resp.StatusCode, body)
	}
	resp, body = get(t, b, h.issuer+base+"/template.csv")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") || !strings.HasPrefix(body, "\ufeffidentifiant;prenom;nom;") {
		t.Fatalf("template: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	if rows, err := provision.Parse([]byte(body)); err != nil || len(rows) != 1 {
		t.Errorf("the template does not parse: %v", err)
	}

	t.Run("dry run then apply", func(t *testing.T) {
		events, _ := h.store.ListAuditEvents(t.Context(), 0, 100000)
		resp, body := h.upload(b, base, nil, "personnes.csv", "application/vnd.ms-excel", peopleCSV(50))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "50 à créer, 0 à modifier, 0 inchangée(s), 0 en erreur") ||
			!strings.Contains(body, "Importer 50 ligne(s)") || !strings.Contains(body, "agent.00049") {
			t.Fatalf("dry run: %d\n%s", resp.StatusCode, body)
		}
		if n := h.countAgents("agent."); n != 0 {
			t.Fatalf("the dry run created %d people", n)
		}
		fields := applyFields(body)
		if fields["content"] == "" || fields["sha256"] == "" {
			t.Fatalf("apply form: %v", fields)
		}
		resp, body = h.upload(b, base+"/apply", fields, "", "", nil)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/orgs/metropole/people" ||
			resp.Request.URL.Query().Get("done") != "imported" || !strings.Contains(body, "Import terminé") {
			t.Fatalf("apply: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
		}
		if n := h.countAgents("agent."); n != 50 {
			t.Fatalf("%d people imported, want 50", n)
		}
		p, err := h.store.GetPersonByUsername(t.Context(), "agent.00007")
		if err != nil {
			t.Fatal(err)
		}
		ms, _ := h.store.ListPersonMemberships(t.Context(), p.ID)
		if len(ms) != 1 || ms[0].OrgID != h.metropole.ID || ms[0].Title != "Chargée ; mission" || ms[0].ValidFrom.Format(time.DateOnly) != "2026-01-05" {
			t.Errorf("memberships: %+v", ms)
		}
		after, _ := h.store.ListAuditEvents(t.Context(), 0, 100000)
		var mine int
		for _, e := range after[len(events):] {
			if e.ActorKind == "person" && e.ActorID == admin.ID && e.OrgID == h.metropole.ID &&
				(e.Type == "person_created" || e.Type == "membership_created") {
				mine++
			}
		}
		if mine != 100 {
			t.Errorf("%d audit events by the administrator, want 100 (50 people, 50 memberships)", mine)
		}
		// The same file again: nothing to do, no button.
		resp, body = h.upload(b, base, nil, "personnes.csv", "text/csv", peopleCSV(50))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "0 à créer, 0 à modifier, 50 inchangée(s)") || strings.Contains(body, base+"/apply") {
			t.Errorf("again: %d\n%s", resp.StatusCode, body)
		}
	})

	t.Run("a bad line", func(t *testing.T) {
		data := peopleCSV(3, "bad.one;Léa;;pas une adresse;maire;;;2026-02-30", "agent.00010;Autre;Nom 10;;;;;")
		resp, body := h.upload(b, base, nil, "erreurs.csv", "text/csv", data)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Ligne 5") || !strings.Contains(body, "Ligne 6") ||
			!strings.Contains(body, "1 ligne(s) en erreur") || strings.Contains(body, base+"/apply") || strings.Contains(body, `name="content"`) {
			t.Fatalf("bad line: %d\n%s", resp.StatusCode, body)
		}
		for _, want := range []string{"nom\u00a0: Ce champ est obligatoire.", "courriel\u00a0: Indiquez une adresse", "qualite\u00a0: «\u00a0maire\u00a0»",
			"debut\u00a0: «\u00a02026-02-30\u00a0» n’est pas une date", "Erreur"} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if i, j := strings.Index(body, "Ligne 5"), strings.Index(body, "Ligne 2"); i < 0 || j < 0 || i > j {
			t.Errorf("errors are not listed first")
		}
		if _, err := h.store.GetPersonByUsername(t.Context(), "agent.00002"); err != nil {
			t.Errorf("agent.00002 (imported before): %v", err)
		}
	})

	t.Run("in English", func(t *testing.T) {
		resp, body := get(t, b, h.issuer+base+"?lang=en")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Import people") || strings.Contains(body, "%!") {
			t.Fatalf("English page: %d\n%s", resp.StatusCode, body)
		}
		data := peopleCSV(1, "x;;y;bad;maire;;;31/02/2026", "x;A;B;;;;;", "agent.00030;Other;Nom 30;;;;;;x;y")
		resp, body = h.upload(b, base, nil, "errors.csv", "text/csv", data)
		for _, want := range []string{"given_name: This field is required.", "kind: “maire” is not a kind", "from: “31/02/2026” is not a date",
			"The identifier x is also on line 4", "The line has 10 fields, the header 8", "3 in error."} {
			if !strings.Contains(body, want) {
				t.Errorf("the English dry run lacks %q", want)
			}
		}
		if resp.StatusCode != http.StatusUnprocessableEntity || strings.Contains(body, "%!") {
			t.Errorf("English dry run: %d\n%s", resp.StatusCode, body)
		}
		get(t, b, h.issuer+base+"?lang=fr") // back to French
	})

	t.Run("a tampered apply is refused", func(t *testing.T) {
		resp, body := h.upload(b, base, nil, "personnes.csv", "text/csv", peopleCSV(3, "tamper.one;T;One;;;;;"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("dry run: %d\n%s", resp.StatusCode, body)
		}
		fields := applyFields(body)
		data, _ := base64.StdEncoding.DecodeString(fields["content"])
		fields["content"] = base64.StdEncoding.EncodeToString(bytes.Replace(data, []byte("tamper.one;T;One"), []byte("tamper.one;T;Two"), 1))
		resp, body = h.upload(b, base+"/apply", fields, "", "", nil)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "ne correspond pas au fichier vérifié") {
			t.Fatalf("tampered: %d\n%s", resp.StatusCode, body)
		}
		if _, err := h.store.GetPersonByUsername(t.Context(), "tamper.one"); err == nil {
			t.Error("a tampered apply imported")
		}
	})

	t.Run("changed between the dry run and the apply", func(t *testing.T) {
		resp, body := h.upload(b, base, nil, "renomme.csv", "text/csv", []byte("identifiant;prenom;nom\nagent.00020;Renommée;Nom 20\nnew.after;N;A\n"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("dry run: %d\n%s", resp.StatusCode, body)
		}
		// Meanwhile the person joins the commune: the métropole may no
		// longer rename them.
		p, err := h.store.GetPersonByUsername(t.Context(), "agent.00020")
		if err != nil {
			t.Fatal(err)
		}
		m := storage.Membership{PersonID: p.ID, OrgID: h.commune.ID, Kind: storage.KindAgent, ValidFrom: h.clock.now().Add(-time.Hour)}
		if err := h.terr.CreateMembership(t.Context(), authz.CLI(), &m); err != nil {
			t.Fatal(err)
		}
		resp, body = h.upload(b, base+"/apply", applyFields(body), "", "", nil)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "appartient aussi à une autre organisation") || strings.Contains(body, base+"/apply") {
			t.Fatalf("apply: %d\n%s", resp.StatusCode, body)
		}
		if got, _ := h.store.GetPerson(t.Context(), p.ID); got.GivenName != p.GivenName {
			t.Errorf("renamed: %+v", got)
		}
		if _, err := h.store.GetPersonByUsername(t.Context(), "new.after"); err == nil {
			t.Error("the other line was imported")
		}
	})

	t.Run("not a CSV file", func(t *testing.T) {
		resp, body := h.upload(b, base, nil, "photo.png", "image/png", []byte("\x89PNG\r\n\x1a\n"))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-file"`) ||
			!strings.Contains(body, "n’est pas un fichier CSV") || !strings.Contains(body, `aria-invalid="true"`) {
			t.Fatalf("not CSV: %d\n%s", resp.StatusCode, body)
		}
		resp, body = h.upload(b, base, nil, "", "", nil)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Choisissez un fichier CSV") {
			t.Errorf("no file: %d\n%s", resp.StatusCode, body)
		}
		resp, body = h.upload(b, base, nil, "latin1.csv", "text/csv", []byte("identifiant;prenom;nom\nx;H\xe9l\xe8ne;Y\n"))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "pas en UTF-8") {
			t.Errorf("Latin-1: %d\n%s", resp.StatusCode, body)
		}
		resp, body = h.upload(b, base, nil, "colonnes.csv", "text/csv", []byte("identifiant;prenom;surnom\nx;y;z\n"))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "«\u00a0surnom\u00a0»") || !strings.Contains(body, "«\u00a0nom\u00a0»") {
			t.Errorf("columns: %d\n%s", resp.StatusCode, body)
		}
	})

	t.Run("too large", func(t *testing.T) {
		data := append(peopleCSV(1), bytes.Repeat([]byte("x"), provision.MaxBytes)...)
		resp, body := h.upload(b, base, nil, "gros.csv", "text/csv", data)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "dépasse 10\u00a0Mio") {
			t.Errorf("too large: %d\n%.2000s", resp.StatusCode, body)
		}
	})

	t.Run("a cross-site post is refused", func(t *testing.T) {
		if resp := h.crossSitePost(b, base+"/apply", url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site post: %d", resp.StatusCode)
		}
	})

	t.Run("the helpdesk may not import", func(t *testing.T) {
		hd, _ := h.adminBrowser("helpdesk.metropole", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgHelpdesk})
		if resp, _ := get(t, hd, h.issuer+base); resp.StatusCode != http.StatusForbidden {
			t.Errorf("helpdesk: %d", resp.StatusCode)
		}
	})
}

// TestConsoleImportAnotherOrganizationsPerson: the commune imports a
// person of the métropole: the commune may neither rename them nor make
// them a member (the platform does), and nothing changes.
func TestConsoleImportAnotherOrganizationsPerson(t *testing.T) {
	h := newHarness(t)
	victim := h.person("victime", h.metropole)
	before, _ := h.store.ListPersonMemberships(t.Context(), victim.ID)
	b, _ := h.adminBrowser("admin.commune", h.commune, storage.AdminRole{OrgID: h.commune.ID, Role: storage.RoleOrgAdmin})
	base := "/admin/orgs/" + h.commune.Slug + "/import"

	resp, body := h.upload(b, base, nil, "a.csv", "text/csv", []byte("identifiant;prenom;nom;nom_usage;fonction\nvictime;Pirate;Martin;Dupont;Élue\n"))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "appartient aussi à une autre organisation") ||
		!strings.Contains(body, "(prenom)") || strings.Contains(body, "/apply") {
		t.Fatalf("rename: %d\n%s", resp.StatusCode, body)
	}
	// Nor may it make them a member: a person of another organization
	// joins through the platform.
	resp, body = h.upload(b, base, nil, "a.csv", "text/csv", []byte("identifiant;prenom;nom;nom_usage;fonction;qualite\nvictime;Jeanne;Martin;Dupont;Conseillère;elu\n"))
	if resp.StatusCode != http.StatusUnprocessableEntity || strings.Contains(body, "/apply") {
		t.Fatalf("membership: %d\n%s", resp.StatusCode, body)
	}
	got, _ := h.store.GetPerson(t.Context(), victim.ID)
	if got.Version != victim.Version || got.GivenName != victim.GivenName {
		t.Errorf("the métropole's person changed: %+v", got)
	}
	if ms, _ := h.store.ListPersonMemberships(t.Context(), victim.ID); len(ms) != len(before) {
		t.Errorf("memberships = %+v, want the métropole's only", ms)
	}
}

// BenchmarkConsoleImport10000: an administrator checks, then applies, a
// file of 10,000 new people through the console (SQLite, or PostgreSQL
// with TNO_TEST_POSTGRES_DSN).
func BenchmarkConsoleImport10000(b *testing.B) {
	data := peopleCSV(10000)
	var dry, apply time.Duration
	for b.Loop() {
		b.StopTimer()
		h := newHarness(b)
		br, _ := h.adminBrowser("admin.metropole", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgAdmin})
		base := "/admin/orgs/" + h.metropole.Slug + "/import"
		b.StartTimer()
		t0 := time.Now()
		resp, body := h.upload(br, base, nil, "personnes.csv", "text/csv", data)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("dry run: %d\n%.2000s", resp.StatusCode, body)
		}
		t1 := time.Now()
		resp, body = h.upload(br, base+"/apply", applyFields(body), "", "", nil)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Query().Get("done") != "imported" {
			b.Fatalf("apply: %d\n%.2000s", resp.StatusCode, body)
		}
		dry += t1.Sub(t0)
		apply += time.Since(t1)
	}
	b.ReportMetric(float64(dry.Milliseconds())/float64(b.N), "dryrun-ms/op")
	b.ReportMetric(float64(apply.Milliseconds())/float64(b.N), "apply-ms/op")
}
