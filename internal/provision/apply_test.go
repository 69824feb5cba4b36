package provision_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/provision"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// counts is what an import may change.
type counts struct{ people, memberships, events int }

func (f *fixture) counts(t *testing.T) counts {
	t.Helper()
	people, err := f.st.ListPeople(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ms int
	for _, o := range []storage.Organization{f.a, f.b} {
		l, err := f.st.ListMemberships(f.ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		ms += len(l)
	}
	evs, err := f.st.ListAuditEvents(f.ctx, 0, 1000000)
	if err != nil {
		t.Fatal(err)
	}
	return counts{len(people), ms, len(evs)}
}

const importCSV = "identifiant;prenom;nom;courriel;qualite;service;fonction;debut\r\n" +
	"jeanne;Jeanne;Dupont;jeanne@exemple.fr;agent;Voirie;Cheffe;2026-01-05\r\n" +
	"paul;Paul;Martin;;elu;;\"Adjoint ; culture\";04/07/2020\r\n" +
	"bruno;Bruno;Petit;;agent;Accueil;;\r\n"

func TestApply(t *testing.T) {
	f := newFixture(t)
	bruno := f.person(t, storage.Person{Username: "bruno", GivenName: "Bruno", FamilyName: "Petit"}, storage.KindAgent, f.b)
	brunoB, _ := f.st.ListPersonMemberships(f.ctx, bruno.ID)
	before := f.counts(t)

	// bruno is an agent of b: the platform makes him a member of a too.
	p := f.plan(t, authz.CLI(), f.a, importCSV)
	if p.Create != 2 || p.Update != 1 || p.Errors != 0 {
		t.Fatalf("plan: %+v", p)
	}
	var calls []string
	res, err := provision.Apply(f.ctx, f.svc, authz.CLI(), f.a.ID, p, func(done, total int) { calls = append(calls, fmt.Sprint(done, "/", total)) })
	if err != nil {
		t.Fatal(err)
	}
	if res != (provision.Result{Created: 2, Updated: 1}) || strings.Join(calls, " ") != "1/3 2/3 3/3" {
		t.Errorf("result %+v, progress %v", res, calls)
	}
	after := f.counts(t)
	if after.people != before.people+2 || after.memberships != before.memberships+3 || after.events != before.events+5 {
		t.Errorf("before %+v, after %+v: want 2 people, 3 memberships, 5 events more", before, after)
	}
	paul, err := f.st.GetPersonByUsername(f.ctx, "paul")
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := f.st.ListPersonMemberships(f.ctx, paul.ID)
	if len(ms) != 1 || ms[0].OrgID != f.a.ID || ms[0].Kind != storage.KindElu || ms[0].Title != "Adjoint ; culture" {
		t.Errorf("paul's memberships: %+v", ms)
	}
	evs, _ := f.st.QueryAuditEvents(f.ctx, storage.AuditQuery{OrgID: f.a.ID})
	for _, e := range evs {
		if e.ActorKind == "cli" {
			continue // the fixture's
		}
		if e.ActorKind != "person" || e.ActorID != "admin-a" || e.Address != "192.0.2.1" {
			t.Errorf("event %s by %s %s %s", e.Type, e.ActorKind, e.ActorID, e.Address)
		}
	}

	t.Run("the person of another organization is not modified", func(t *testing.T) {
		got, _ := f.st.GetPerson(f.ctx, bruno.ID)
		if got.Version != bruno.Version || got.GivenName != "Bruno" {
			t.Errorf("bruno: %+v", got)
		}
		ms, _ := f.st.ListPersonMemberships(f.ctx, bruno.ID)
		if len(ms) != 2 {
			t.Fatalf("bruno's memberships: %+v", ms)
		}
		for _, m := range ms {
			if m.OrgID == f.b.ID && (m.Version != brunoB[0].Version || m.Service != brunoB[0].Service) {
				t.Errorf("bruno's membership of B changed: %+v", m)
			}
		}
	})
	t.Run("importing the same file again changes nothing", func(t *testing.T) {
		again := f.plan(t, f.admin, f.a, importCSV)
		if again.Unchanged != 3 || again.Writes() != 0 {
			t.Fatalf("plan: %+v", again.Items)
		}
		n := f.counts(t)
		if _, err := provision.Apply(f.ctx, f.svc, f.admin, f.a.ID, again, nil); err != nil {
			t.Fatal(err)
		}
		if got := f.counts(t); got != n {
			t.Errorf("counts %+v, want %+v", got, n)
		}
	})
}

func TestApplyWritesNothingOnError(t *testing.T) {
	f := newFixture(t)
	jeanne := f.person(t, storage.Person{Username: "jeanne", GivenName: "Jeanne", FamilyName: "Dupont"}, storage.KindAgent, f.a)
	before := f.counts(t)

	t.Run("a bad line", func(t *testing.T) {
		p := f.plan(t, f.admin, f.a, "identifiant;prenom;nom;courriel", "a;A;A;", "b;B;B;pas une adresse", "c;C;C;")
		if p.Errors != 1 || p.Create != 2 || p.Failed()[0].Line != 3 {
			t.Fatalf("plan: %+v", p.Items)
		}
		if _, err := provision.Apply(f.ctx, f.svc, f.admin, f.a.ID, p, nil); !errors.Is(err, provision.ErrInvalid) {
			t.Fatalf("apply: %v, want ErrInvalid", err)
		}
		if got := f.counts(t); got != before {
			t.Errorf("counts %+v, want %+v", got, before)
		}
	})
	t.Run("a person changed since the plan", func(t *testing.T) {
		p := f.plan(t, f.admin, f.a, "identifiant;prenom;nom", "a;A;A", "jeanne;Jeanne;Martin", "c;C;C")
		changed := jeanne
		changed.UsualName = "Autre"
		if err := f.svc.UpdatePerson(f.ctx, authz.CLI(), "", &changed); err != nil {
			t.Fatal(err)
		}
		n := f.counts(t)
		_, err := provision.Apply(f.ctx, f.svc, f.admin, f.a.ID, p, nil)
		var le *provision.LineError
		if !errors.As(err, &le) || le.Line != 3 || !errors.Is(err, storage.ErrStale) || field.List(err)[0].Code != field.Stale {
			t.Fatalf("apply: %v, want line 3 stale", err)
		}
		if got := f.counts(t); got != n {
			t.Errorf("counts %+v, want %+v: the first row was not rolled back", got, n)
		}
	})
	t.Run("refused", func(t *testing.T) {
		p := f.plan(t, f.admin, f.a, "identifiant;prenom;nom", "z;Z;Z")
		helpdesk := authz.Person("h", "", []storage.AdminRole{{PersonID: "h", OrgID: f.a.ID, Role: storage.RoleOrgHelpdesk}})
		if _, err := provision.Apply(f.ctx, f.svc, helpdesk, f.a.ID, p, nil); !errors.Is(err, authz.ErrForbidden) {
			t.Errorf("helpdesk: %v", err)
		}
		if _, err := provision.Apply(f.ctx, f.svc, authz.CLI(), f.b.ID, p, nil); err == nil {
			t.Error("a plan for A applied to B")
		}
	})
}
