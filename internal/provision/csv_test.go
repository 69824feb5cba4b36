package provision_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/provision"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name string
		data string
		want []provision.Row
	}{
		{
			name: "semicolons, French headers",
			data: "identifiant;prenom;nom;courriel\njdupont;Jeanne;Dupont;j@exemple.fr\n",
			want: []provision.Row{{Line: 2, Cells: map[string]string{"username": "jdupont", "given_name": "Jeanne", "family_name": "Dupont", "email": "j@exemple.fr"}}},
		},
		{
			name: "commas, English headers",
			data: "username,given_name,family_name,title\njdupont,Jeanne,Dupont,Maire\n",
			want: []provision.Row{{Line: 2, Cells: map[string]string{"username": "jdupont", "given_name": "Jeanne", "family_name": "Dupont", "title": "Maire"}}},
		},
		{
			name: "byte-order mark, CRLF, case and accents in headers",
			data: "\ufeffIdentifiant;Prénom;NOM;Qualité;Début;Nom-Usage\r\njdupont;Jeanne;Dupont;élu;2026-01-05;Martin\r\n",
			want: []provision.Row{{Line: 2, Cells: map[string]string{"username": "jdupont", "given_name": "Jeanne", "family_name": "Dupont",
				"kind": "élu", "from": "2026-01-05", "usual_name": "Martin"}}},
		},
		{
			name: "quoted fields: separator, quotes and a line break inside",
			data: "identifiant;prenom;nom;fonction;service\r\n" +
				"a;Ann;Lee;\"Adjointe ; culture\";\"Direction \"\"A\"\"\"\r\n" +
				"b;Bob;Ray;\"Deux\r\nlignes\";x\r\n" +
				"c;Cy;Oh;;\r\n",
			want: []provision.Row{
				{Line: 2, Cells: map[string]string{"username": "a", "given_name": "Ann", "family_name": "Lee", "title": "Adjointe ; culture", "service": `Direction "A"`}},
				{Line: 3, Cells: map[string]string{"username": "b", "given_name": "Bob", "family_name": "Ray", "title": "Deux\nlignes", "service": "x"}},
				{Line: 5, Cells: map[string]string{"username": "c", "given_name": "Cy", "family_name": "Oh", "title": "", "service": ""}},
			},
		},
		{
			name: "commas in the header's quoted field do not decide",
			data: "identifiant;prenom;\"nom\";fonction\nx;\"A, B\";C;D\n",
			want: []provision.Row{{Line: 2, Cells: map[string]string{"username": "x", "given_name": "A, B", "family_name": "C", "title": "D"}}},
		},
		{
			name: "blank lines and empty rows are skipped, cells trimmed",
			data: "identifiant;prenom;nom\n\n ;;\n  x ; A ;B\n;;\n",
			want: []provision.Row{{Line: 4, Cells: map[string]string{"username": "x", "given_name": "A", "family_name": "B"}}},
		},
		{
			name: "a trailing unnamed column is ignored while empty",
			data: "identifiant;prenom;nom;\nx;A;B;\ny;C;D;oops\n",
			want: []provision.Row{
				{Line: 2, Cells: map[string]string{"username": "x", "given_name": "A", "family_name": "B"}},
				{Line: 3, Cells: map[string]string{"username": "y", "given_name": "C", "family_name": "D"},
					Errs: []*field.Error{{Field: "", Code: "unnamed_column", Params: map[string]string{"value": "4"}, Msg: "column 4 has a value but no name in the header"}}},
			},
		},
		{
			name: "a wrong number of fields is the row's error",
			data: "identifiant;prenom;nom\nx;A\ny;B;C;D\n",
			want: []provision.Row{
				{Line: 2, Cells: map[string]string{"username": "x", "given_name": "A", "family_name": ""},
					Errs: []*field.Error{{Code: "fields", Params: map[string]string{"value": "2", "header": "3"}, Msg: "has 2 fields, the header 3: a separator is missing"}}},
				{Line: 3, Cells: map[string]string{"username": "y", "given_name": "B", "family_name": "C"},
					Errs: []*field.Error{{Code: "fields", Params: map[string]string{"value": "4", "header": "3"}, Msg: "has 4 fields, the header 3: quote a value holding the separator"}}},
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := provision.Parse([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("rows (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseRefusesTheFile(t *testing.T) {
	big := "identifiant;prenom;nom\n" + strings.Repeat("x;y;z\n", provision.MaxRows+1)
	for _, tt := range []struct {
		name, data string
		want       []provision.ParseError // Msg compared by prefix
	}{
		{"empty", "", []provision.ParseError{{Line: 1, Code: "empty"}}},
		{"header only", "identifiant;prenom;nom\r\n", []provision.ParseError{{Line: 2, Code: "no_rows"}}},
		{"not UTF-8", "identifiant;prenom;nom\nx;H\xe9l\xe8ne;Y\n", []provision.ParseError{{Line: 1, Code: "encoding", Msg: "the file is not UTF-8 text (first wrong byte on line 2)"}}},
		{"UTF-16", "i\x00d\x00;\x00", []provision.ParseError{{Line: 1, Code: "encoding"}}},
		{"unknown and missing columns", "identifiant;prenom;surnom;Âge\nx;y;z;1\n", []provision.ParseError{
			{Line: 1, Code: "unknown_columns", Columns: []string{"surnom", "Âge"}, Msg: `unknown column(s) "surnom", "Âge": the columns are identifiant/username, prenom/given_name`},
			{Line: 1, Code: "missing_columns", Columns: []string{"nom"}},
		}},
		{"a column twice", "identifiant;prenom;nom;courriel;email\nx;y;z;a;b\n", []provision.ParseError{
			{Line: 1, Code: "duplicate_columns", Columns: []string{"email"}},
		}},
		{"unclosed quote", "identifiant;prenom;nom\nx;y;z\nx;\"y;z\n", []provision.ParseError{{Line: 3, Code: "syntax", Msg: "a quote is misplaced"}}},
		{"too many rows", big, []provision.ParseError{{Line: provision.MaxRows + 2, Code: "too_many_rows"}}},
		{"too large", "identifiant;prenom;nom\n" + strings.Repeat("x", provision.MaxBytes), []provision.ParseError{{Line: 1, Code: "too_large"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := provision.Parse([]byte(tt.data))
			if err == nil {
				t.Fatalf("no error, %d rows", len(rows))
			}
			got := provision.ParseErrors(err)
			if len(got) != len(tt.want) {
				t.Fatalf("errors = %v, want %d", err, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Line != w.Line || g.Code != w.Code || !strings.HasPrefix(g.Msg, w.Msg) || (w.Columns != nil && !cmp.Equal(g.Columns, w.Columns)) {
					t.Errorf("error %d = %+v, want %+v", i, *g, w)
				}
			}
		})
	}
}

// TestExample: the documented example parses and plans without error.
func TestExample(t *testing.T) {
	data, err := os.ReadFile("testdata/example.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := provision.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	p, err := provision.Plan(f.ctx, f.st, f.admin, f.a.ID, rows)
	if err != nil {
		t.Fatal(err)
	}
	if p.Create != 3 || p.Errors != 0 {
		t.Fatalf("plan: %+v", p.Items)
	}
	if got := p.Items[1].Membership; got.Kind != "elu" || got.Title != "Adjoint au maire ; culture" || got.ValidFrom.Format("2006-01-02") != "2020-07-04" {
		t.Errorf("paul.bernard's membership: %+v", got)
	}
}
