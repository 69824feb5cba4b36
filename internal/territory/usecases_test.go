package territory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
	"github.com/territoires-ouverts/tno/internal/territory"
)

// fakePasswords hashes trivially: the use cases' rules are under test,
// not argon2id.
type fakePasswords struct{}

func (fakePasswords) Hash(_ context.Context, pw string) (string, error) { return "fake$" + pw, nil }
func (fakePasswords) Check(pw string, personal ...string) error {
	if len(pw) < 12 {
		return errors.New("too short")
	}
	return nil
}

type fakeSessions struct{ ended []string }

func (f *fakeSessions) EndPersonSessions(_ context.Context, personID, _ string) (int, error) {
	f.ended = append(f.ended, personID)
	return 1, nil
}

type fixture struct {
	ctx      context.Context
	st       storage.Store
	svc      *territory.Service
	sessions *fakeSessions
	a, b     storage.Organization
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	f := fixture{ctx: context.Background(), st: storagetest.NewStore(t), sessions: &fakeSessions{}}
	var err error
	f.svc, err = territory.New(territory.Options{Store: f.st, Passwords: fakePasswords{}, Sessions: f.sessions})
	if err != nil {
		t.Fatal(err)
	}
	f.a = storage.Organization{Slug: "ville-a", Name: "Ville A", SIREN: "213105554"}
	f.b = storage.Organization{Slug: "ville-b", Name: "Ville B", SIREN: "217500016"}
	for _, o := range []*storage.Organization{&f.a, &f.b} {
		if err := f.svc.CreateOrganization(f.ctx, authz.CLI(), o); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f fixture) person(t *testing.T, username string, orgs ...storage.Organization) storage.Person {
	t.Helper()
	p := storage.Person{Username: username, GivenName: "Ana", FamilyName: strings.ToUpper(username)}
	if err := f.svc.CreatePerson(f.ctx, authz.CLI(), &p, territory.NewPerson{}); err != nil {
		t.Fatal(err)
	}
	for _, o := range orgs {
		if err := f.svc.CreateMembership(f.ctx, authz.CLI(), &storage.Membership{PersonID: p.ID, OrgID: o.ID, Kind: storage.KindAgent}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func (f fixture) events(t *testing.T) int {
	t.Helper()
	evs, err := f.st.ListAuditEvents(f.ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func admin(orgID string) authz.Actor {
	return authz.Person("admin-"+orgID, "192.0.2.9", []storage.AdminRole{{Role: storage.RoleOrgAdmin, OrgID: orgID}})
}

// TestCrossOrganization: an administrator of one organization changes
// nothing of another's, and a refusal records nothing.
func TestCrossOrganization(t *testing.T) {
	f := newFixture(t)
	agentA := f.person(t, "agent.a", f.a)
	ms, _ := f.st.ListPersonMemberships(f.ctx, agentA.ID)
	adminB := admin(f.b.ID)
	before := f.events(t)
	refused := map[string]func() error{
		"update person": func() error {
			p := agentA
			p.GivenName = "Pirate"
			return f.svc.UpdatePerson(f.ctx, adminB, f.b.ID, &p)
		},
		"disable person": func() error { _, _, err := f.svc.SetDisabled(f.ctx, adminB, f.b.ID, agentA.ID, true); return err },
		"reset factors":  func() error { _, err := f.svc.ResetFactors(f.ctx, adminB, f.b.ID, agentA.ID); return err },
		"set password": func() error {
			return f.svc.SetPassword(f.ctx, adminB, f.b.ID, agentA.ID, "a long enough password", false)
		},
		"end membership": func() error { _, err := f.svc.EndMembership(f.ctx, adminB, f.a.ID, ms[0].ID, time.Now()); return err },
		"create membership in A": func() error {
			return f.svc.CreateMembership(f.ctx, adminB, &storage.Membership{PersonID: agentA.ID, OrgID: f.a.ID, Kind: storage.KindElu})
		},
		"create organization": func() error {
			return f.svc.CreateOrganization(f.ctx, adminB, &storage.Organization{Slug: "x", Name: "X", SIREN: "200046977"})
		},
		"rename organization A": func() error {
			o := f.a
			o.Name = "Pirate"
			return f.svc.UpdateOrganization(f.ctx, adminB, &o)
		},
		"grant a role in A": func() error {
			return f.svc.GrantRole(f.ctx, adminB, storage.AdminRole{PersonID: agentA.ID, OrgID: f.a.ID, Role: storage.RoleOrgHelpdesk})
		},
		"list A's people": func() error { _, err := f.svc.People(f.ctx, adminB, f.a.ID); return err },
		"create a group in A": func() error {
			return f.svc.CreateGroup(f.ctx, adminB, &storage.Group{OrgID: f.a.ID, Slug: "g", Name: "G"})
		},
	}
	for name, do := range refused {
		t.Run(name, func(t *testing.T) {
			err := do()
			if !errors.Is(err, authz.ErrForbidden) && !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("err = %v, want forbidden or not found", err)
			}
		})
	}
	if n := f.events(t); n != before {
		t.Errorf("refused use cases recorded %d events", n-before)
	}
	got, _ := f.st.GetPerson(f.ctx, agentA.ID)
	if got.GivenName != "Ana" || got.Disabled || len(f.sessions.ended) != 0 {
		t.Errorf("agent A changed: %+v, sessions ended %v", got, f.sessions.ended)
	}
	// Its own administrator may.
	p := got
	p.GivenName = "Anna"
	if err := f.svc.UpdatePerson(f.ctx, admin(f.a.ID), f.a.ID, &p); err != nil {
		t.Fatalf("own admin: %v", err)
	}
}

// TestSharedPerson: a person of two organizations is changed, in what
// is theirs, only by someone who administers both (or the platform);
// each organization still edits its own membership.
func TestSharedPerson(t *testing.T) {
	f := newFixture(t)
	shared := f.person(t, "shared", f.a, f.b)
	adminA := admin(f.a.ID)
	if _, err := f.svc.ResetFactors(f.ctx, adminA, f.a.ID, shared.ID); !errors.Is(err, authz.ErrForbidden) {
		t.Errorf("reset factors of a shared person by A: %v", err)
	}
	both := authz.Person("both", "", []storage.AdminRole{{Role: storage.RoleOrgAdmin, OrgID: f.a.ID}, {Role: storage.RoleOrgAdmin, OrgID: f.b.ID}})
	if _, err := f.svc.ResetFactors(f.ctx, both, f.a.ID, shared.ID); err != nil {
		t.Errorf("reset by an admin of both: %v", err)
	}
	ms, _ := f.st.ListPersonMemberships(f.ctx, shared.ID)
	for _, m := range ms {
		if m.OrgID != f.a.ID {
			continue
		}
		m.Title = "Cheffe"
		if err := f.svc.UpdateMembership(f.ctx, adminA, &m); err != nil {
			t.Errorf("A edits its own membership: %v", err)
		}
	}
	// A fellow administrator of A who is a platform administrator is
	// beyond A's administrator.
	boss := f.person(t, "boss", f.a)
	if err := f.svc.GrantRole(f.ctx, authz.CLI(), storage.AdminRole{PersonID: boss.ID, Role: storage.RolePlatformAdmin}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPassword(f.ctx, adminA, f.a.ID, boss.ID, "a long enough password", false); !errors.Is(err, authz.ErrForbidden) {
		t.Errorf("A's admin sets a platform admin's password: %v", err)
	}
}

// TestAuditInTransaction: each change is recorded with its actor, target,
// before and after; a change that fails records nothing.
func TestAuditInTransaction(t *testing.T) {
	f := newFixture(t)
	adminA := admin(f.a.ID)
	p := storage.Person{Username: "new.agent", GivenName: "Léa", FamilyName: "Martin"}
	m := storage.Membership{OrgID: f.a.ID, Kind: storage.KindAgent}
	if err := f.svc.CreatePerson(f.ctx, adminA, &p, territory.NewPerson{Membership: &m, Password: "a long enough password", Temporary: true}); err != nil {
		t.Fatal(err)
	}
	evs, _ := f.st.QueryAuditEvents(f.ctx, storage.AuditQuery{OrgID: f.a.ID, Limit: 3})
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
		if e.ActorKind != "person" || e.ActorID != "admin-"+f.a.ID || e.Address != "192.0.2.9" {
			t.Errorf("event %s actor = %s %s %s", e.Type, e.ActorKind, e.ActorID, e.Address)
		}
		if strings.Contains(e.After, "long enough") || strings.Contains(e.After, "fake$") {
			t.Errorf("event %s holds the password: %s", e.Type, e.After)
		}
	}
	if strings.Join(types, ",") != "password_set,membership_created,person_created" {
		t.Errorf("events = %v", types)
	}
	// A duplicate username fails whole: no person, no membership, no event.
	before := f.events(t)
	dup := storage.Person{Username: "new.agent", GivenName: "X", FamilyName: "Y"}
	err := f.svc.CreatePerson(f.ctx, adminA, &dup, territory.NewPerson{Membership: &storage.Membership{OrgID: f.a.ID, Kind: storage.KindAgent}})
	if fes := field.List(err); len(fes) != 1 || fes[0].Field != "username" || fes[0].Code != field.Taken {
		t.Errorf("duplicate: %v", err)
	}
	if n := f.events(t); n != before {
		t.Errorf("a failed creation recorded %d events", n-before)
	}
	// An edit from an outdated copy is refused as stale.
	stale := p
	p.GivenName = "Léana"
	if err := f.svc.UpdatePerson(f.ctx, adminA, f.a.ID, &p); err != nil {
		t.Fatal(err)
	}
	stale.GivenName = "Other"
	if err := f.svc.UpdatePerson(f.ctx, adminA, f.a.ID, &stale); !errors.Is(err, storage.ErrStale) || field.List(err)[0].Code != field.Stale {
		t.Errorf("stale edit: %v", err)
	}
	// Disabling ends the sessions.
	if changed, _, err := f.svc.SetDisabled(f.ctx, adminA, f.a.ID, p.ID, true); err != nil || !changed || len(f.sessions.ended) != 1 {
		t.Errorf("disable: %v %v %v", changed, err, f.sessions.ended)
	}
}

// TestGrantRules: no one grants a role above their own.
func TestGrantRules(t *testing.T) {
	f := newFixture(t)
	p := f.person(t, "p", f.a)
	helpdesk := authz.Person("h", "", []storage.AdminRole{{Role: storage.RoleOrgHelpdesk, OrgID: f.a.ID}})
	if err := f.svc.GrantRole(f.ctx, helpdesk, storage.AdminRole{PersonID: p.ID, OrgID: f.a.ID, Role: storage.RoleOrgAdmin}); !errors.Is(err, authz.ErrForbidden) {
		t.Errorf("helpdesk grants org admin: %v", err)
	}
	if err := f.svc.GrantRole(f.ctx, admin(f.a.ID), storage.AdminRole{PersonID: p.ID, Role: storage.RolePlatformAdmin}); !errors.Is(err, authz.ErrForbidden) {
		t.Errorf("org admin grants platform admin: %v", err)
	}
	outsider := f.person(t, "outsider", f.b)
	if err := f.svc.GrantRole(f.ctx, admin(f.a.ID), storage.AdminRole{PersonID: outsider.ID, OrgID: f.a.ID, Role: storage.RoleOrgHelpdesk}); !field.Is(err) {
		t.Errorf("role to a non-member: %v", err)
	}
	if err := f.svc.GrantRole(f.ctx, admin(f.a.ID), storage.AdminRole{PersonID: p.ID, OrgID: f.a.ID, Role: storage.RoleOrgHelpdesk}); err != nil {
		t.Errorf("org admin names a helpdesk: %v", err)
	}
	roles, _ := f.st.ListRoles(f.ctx, p.ID)
	if len(roles) != 1 || roles[0].Role != storage.RoleOrgHelpdesk {
		t.Errorf("roles = %v", roles)
	}
}
