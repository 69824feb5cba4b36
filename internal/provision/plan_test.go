package provision_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/provision"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
	"github.com/territoires-ouverts/tno/internal/territory"
)

type fixture struct {
	ctx   context.Context
	st    storage.Store
	svc   *territory.Service
	a, b  storage.Organization
	admin authz.Actor // administrator of a
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{ctx: context.Background(), st: storagetest.NewStore(t)}
	var err error
	if f.svc, err = territory.New(territory.Options{Store: f.st}); err != nil {
		t.Fatal(err)
	}
	f.a = storage.Organization{Slug: "ville-a", Name: "Ville A", SIREN: "213105554"}
	f.b = storage.Organization{Slug: "ville-b", Name: "Ville B", SIREN: "217500016"}
	for _, o := range []*storage.Organization{&f.a, &f.b} {
		if err := f.svc.CreateOrganization(f.ctx, authz.CLI(), o); err != nil {
			t.Fatal(err)
		}
	}
	f.admin = authz.Person("admin-a", "192.0.2.1", []storage.AdminRole{{PersonID: "admin-a", OrgID: f.a.ID, Role: storage.RoleOrgAdmin}})
	return f
}

// person creates a person with a membership in each of orgs.
func (f *fixture) person(t testing.TB, p storage.Person, kind string, orgs ...storage.Organization) storage.Person {
	t.Helper()
	if err := f.svc.CreatePerson(f.ctx, authz.CLI(), &p, territory.NewPerson{}); err != nil {
		t.Fatal(err)
	}
	for _, o := range orgs {
		m := storage.Membership{PersonID: p.ID, OrgID: o.ID, Kind: kind, Service: "Accueil",
			ValidFrom: time.Date(2024, 1, 1, 0, 0, 0, 0, time.Local)}
		if err := f.svc.CreateMembership(f.ctx, authz.CLI(), &m); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func (f *fixture) plan(t testing.TB, a authz.Actor, org storage.Organization, lines ...string) *provision.Changeset {
	t.Helper()
	rows, err := provision.Parse([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	p, err := provision.Plan(f.ctx, f.st, a, org.ID, rows)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// codes lists an item's errors as "column/code".
func codes(it provision.Item) []string {
	var out []string
	for _, e := range it.Errors {
		out = append(out, e.Field+"/"+e.Code)
	}
	return out
}

func TestPlan(t *testing.T) {
	f := newFixture(t)
	jeanne := f.person(t, storage.Person{Username: "jeanne", GivenName: "Jeanne", FamilyName: "Martin", UsualName: "Dupont", Email: "jeanne@exemple.fr"}, storage.KindAgent, f.a)
	f.person(t, storage.Person{Username: "elue", GivenName: "Élise", FamilyName: "Roy"}, storage.KindElu, f.a)
	f.person(t, storage.Person{Username: "bruno", GivenName: "Bruno", FamilyName: "Petit"}, storage.KindAgent, f.b)
	f.person(t, storage.Person{Username: "both", GivenName: "Bea", FamilyName: "Deux"}, storage.KindAgent, f.a, f.b)
	boss := f.person(t, storage.Person{Username: "boss", GivenName: "Paul", FamilyName: "Chef"}, storage.KindAgent, f.a)
	if err := f.st.GrantRole(f.ctx, &storage.AdminRole{PersonID: boss.ID, Role: storage.RolePlatformAdmin}); err != nil {
		t.Fatal(err)
	}
	type want struct {
		action  provision.Action
		changed []string
		errors  []string
	}
	for _, tt := range []struct {
		name  string
		actor authz.Actor
		lines []string
		want  []want
	}{
		{
			name:  "a new person",
			lines: []string{"identifiant;prenom;nom;service", "Nouveau;Néo;Nouveau;Voirie"},
			want:  []want{{action: provision.Create}},
		},
		{
			name:  "the same as stored; absent columns left alone",
			lines: []string{"identifiant;prenom;nom;service;debut", "jeanne;Jeanne;Martin;Accueil;01/01/2024"},
			want:  []want{{action: provision.Unchanged}},
		},
		{
			name:  "identity and membership changed",
			lines: []string{"identifiant;prenom;nom;nom_usage;service;fonction;fin", "jeanne;Jeanne;Martin;Dupont;Voirie;Cheffe;2030-01-01"},
			want:  []want{{action: provision.Update, changed: []string{"service", "title", "until"}}},
		},
		{
			name:  "an empty cell clears an optional field",
			lines: []string{"identifiant;prenom;nom;nom_usage;courriel;service", "jeanne;Jeanne;Martin;;;"},
			want:  []want{{action: provision.Update, changed: []string{"usual_name", "email", "service"}}},
		},
		{
			name: "bad values, each named",
			lines: []string{"identifiant;prenom;nom;courriel;qualite;debut;fin;courriel_pro",
				"a;;B;pas une adresse;maire;2026-13-01;;",
				"b;A;B;;agent;2026-02-01;2026-01-01;x@",
				";A;B;;;;;",
				"c d;A;B;;;;;"},
			want: []want{
				{action: provision.Invalid, errors: []string{"given_name/required", "email/invalid", "kind/invalid", "from/date"}},
				{action: provision.Invalid, errors: []string{"work_email/invalid", "until/before_start"}},
				{action: provision.Invalid, errors: []string{"username/required"}},
				{action: provision.Invalid, errors: []string{"username/invalid"}},
			},
		},
		{
			name:  "one line per person",
			lines: []string{"identifiant;prenom;nom", "x;A;B", "y;A;B", "X ;C;D"},
			want: []want{
				{action: provision.Invalid, errors: []string{"username/duplicate"}},
				{action: provision.Create},
				{action: provision.Invalid, errors: []string{"username/duplicate"}},
			},
		},
		{
			name:  "a person of another organization does not join here through this organization alone",
			lines: []string{"identifiant;prenom;nom;service", "bruno;Bruno;Petit;Voirie"},
			want:  []want{{action: provision.Invalid, changed: []string{"service"}, errors: []string{"username/other_org"}}},
		},
		{
			name:  "the platform makes them a member here",
			actor: authz.CLI(),
			lines: []string{"identifiant;prenom;nom;service", "bruno;Bruno;Petit;Voirie"},
			want:  []want{{action: provision.Update, changed: []string{"service"}}},
		},
		{
			name:  "but their identity stays theirs",
			lines: []string{"identifiant;prenom;nom", "bruno;Brunô;Petit", "both;Béa;Deux", "boss;Paul;Chef", "boss2;Paul;Chef"},
			want: []want{
				{action: provision.Invalid, changed: []string{"given_name"}, errors: []string{"username/shared", "username/other_org"}},
				{action: provision.Invalid, changed: []string{"given_name"}, errors: []string{"username/shared"}},
				{action: provision.Unchanged},
				{action: provision.Create},
			},
		},
		{
			name:  "nor may a fellow administrator's be changed",
			lines: []string{"identifiant;prenom;nom", "boss;Pierre;Chef"},
			want:  []want{{action: provision.Invalid, changed: []string{"given_name"}, errors: []string{"username/protected"}}},
		},
		{
			name:  "the platform may",
			actor: authz.CLI(),
			lines: []string{"identifiant;prenom;nom", "bruno;Brunô;Petit", "boss;Pierre;Chef"},
			want: []want{
				{action: provision.Update, changed: []string{"given_name"}},
				{action: provision.Update, changed: []string{"given_name"}},
			},
		},
		{
			name:  "without a kind column, the membership here whatever its kind",
			lines: []string{"identifiant;prenom;nom;fonction", "elue;Élise;Roy;Maire"},
			want:  []want{{action: provision.Update, changed: []string{"title"}}},
		},
		{
			name:  "with one, the membership of that kind",
			lines: []string{"identifiant;prenom;nom;qualite", "elue;Élise;Roy;Élu", "jeanne;Jeanne;Martin;elu"},
			want: []want{
				{action: provision.Unchanged},
				{action: provision.Update}, // a new élu membership, beside the agent's
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := f.admin
			if tt.actor.Kind != "" {
				a = tt.actor
			}
			p := f.plan(t, a, f.a, tt.lines...)
			var got []want
			for _, it := range p.Items {
				got = append(got, want{action: it.Action, changed: it.Changed, errors: codes(it)})
			}
			if d := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); d != "" {
				t.Errorf("plan (-want +got):\n%s", d)
			}
			n := map[provision.Action]int{}
			for _, it := range p.Items {
				n[it.Action]++
			}
			if p.Create != n[provision.Create] || p.Update != n[provision.Update] || p.Unchanged != n[provision.Unchanged] || p.Errors != n[provision.Invalid] {
				t.Errorf("counts %d/%d/%d/%d, items %v", p.Create, p.Update, p.Unchanged, p.Errors, n)
			}
		})
	}
	t.Run("what a row leaves", func(t *testing.T) {
		p := f.plan(t, f.admin, f.a, "identifiant;prenom;nom;nom_usage;courriel;service", "jeanne;Jeanne;Martin;;jeanne.martin@exemple.fr;")
		it := p.Items[0]
		if it.Person.ID != jeanne.ID || it.Person.Version != jeanne.Version || it.Person.UsualName != "" || it.Person.Email != "jeanne.martin@exemple.fr" ||
			it.Person.EmailVerified || !it.Identity || it.NewMembership || !it.MembershipChanged || it.Membership.Service != "" || it.Membership.ID == "" {
			t.Errorf("item: %+v", it)
		}
	})
	t.Run("the duplicates name each other", func(t *testing.T) {
		p := f.plan(t, f.admin, f.a, "identifiant;prenom;nom", "x;A;B", "X;A;B")
		if p.Items[0].Errors[0].Params["line"] != "3" || p.Items[1].Errors[0].Params["line"] != "2" {
			t.Errorf("errors: %+v %+v", p.Items[0].Errors[0], p.Items[1].Errors[0])
		}
	})
	t.Run("row problems from the parser", func(t *testing.T) {
		p := f.plan(t, f.admin, f.a, "identifiant;prenom;nom", "x;A")
		if got := codes(p.Items[0]); !cmp.Equal(got, []string{"/fields", "family_name/required"}) {
			t.Errorf("errors: %v", got)
		}
	})
}

func TestPlanNeedsTheImportPermission(t *testing.T) {
	f := newFixture(t)
	rows, _ := provision.Parse([]byte("identifiant;prenom;nom\nx;A;B\n"))
	helpdesk := authz.Person("h", "", []storage.AdminRole{{PersonID: "h", OrgID: f.a.ID, Role: storage.RoleOrgHelpdesk}})
	for _, a := range []authz.Actor{helpdesk, f.admin} {
		org := f.a.ID
		if a.ID == f.admin.ID {
			org = f.b.ID // another organization's administrator
		}
		if _, err := provision.Plan(f.ctx, f.st, a, org, rows); !errors.Is(err, authz.ErrForbidden) {
			t.Errorf("%s: %v, want forbidden", a.ID, err)
		}
	}
}
