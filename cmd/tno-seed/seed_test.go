package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/server"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

func openStore(t *testing.T, path string) storage.Store {
	t.Helper()
	st, err := server.OpenStore(context.Background(), config.Database{Driver: config.DriverSQLite, DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestSeedSmallTerritory(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "tno.db"))
	const password = "Banc-d-essai-7f3a-k2"
	p := Params{People: 300, Orgs: 10, Apps: 30, Seed: 1, PortalApps: 20,
		Password: password, Hasher: local.NewHasher(local.TestParams(), 0)}
	sum, err := Seed(ctx, st, p)
	if err != nil {
		t.Fatal(err)
	}

	// Organizations: valid, unique SIRENs, the fixed slugs.
	orgs, err := st.ListOrganizations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) != p.Orgs || sum.Organizations != p.Orgs {
		t.Fatalf("%d organizations (summary %d), want %d", len(orgs), sum.Organizations, p.Orgs)
	}
	sirens := make(map[string]string)
	slugs := make(map[string]bool)
	for _, o := range orgs {
		if err := territory.ValidateOrganization(o); err != nil {
			t.Errorf("organization %s: %v", o.Slug, err)
		}
		if other, dup := sirens[o.SIREN]; dup {
			t.Errorf("SIREN %s of %s is also %s's", o.SIREN, o.Slug, other)
		}
		sirens[o.SIREN] = o.Slug
		slugs[o.Slug] = true
	}
	for _, s := range []string{"metropole", "ville", "commune-001", "commune-008"} {
		if !slugs[s] {
			t.Errorf("no organization %s", s)
		}
	}

	// People: the generated ones, bench.portal, admin, one admin per organization.
	people, err := st.ListPeople(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := p.People + 2 + p.Orgs; len(people) != want || sum.People != want {
		t.Errorf("%d people (summary %d), want %d", len(people), sum.People, want)
	}
	emails := make(map[string]string)
	for _, pe := range people {
		if err := territory.ValidatePerson(pe); err != nil {
			t.Errorf("person %s: %v", pe.Username, err)
		}
		// Unique: a password reset finds its person by e-mail address.
		if other, dup := emails[strings.ToLower(pe.Email)]; dup || pe.Email == "" {
			t.Errorf("%s's e-mail address %q is also %s's (or empty)", pe.Username, pe.Email, other)
		}
		emails[strings.ToLower(pe.Email)] = pe.Username
	}

	// Memberships, groups and applications, organization by organization.
	var memberships, groups, appCount int
	var all []storage.Application
	for _, o := range orgs {
		ms, err := st.ListMemberships(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		memberships += len(ms)
		for _, m := range ms {
			if err := territory.ValidateMembership(m); err != nil {
				t.Errorf("membership in %s: %v", o.Slug, err)
			}
		}
		gs, err := st.ListGroups(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) < 2 || len(gs) > 5 {
			t.Errorf("%s has %d groups, want 2 to 5", o.Slug, len(gs))
		}
		groups += len(gs)
		as, err := st.ListApplications(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		appCount += len(as)
		all = append(all, as...)
		admin, err := st.GetPersonByUsername(ctx, "admin."+o.Slug)
		if err != nil {
			t.Fatalf("admin of %s: %v", o.Slug, err)
		}
		roles, err := st.ListRoles(ctx, admin.ID)
		if err != nil || len(roles) != 1 || roles[0].Role != storage.RoleOrgAdmin || roles[0].OrgID != o.ID {
			t.Errorf("roles of admin.%s: %v, %v", o.Slug, roles, err)
		}
	}
	if memberships != sum.Memberships || memberships < p.People {
		t.Errorf("%d memberships, summary %d, want at least %d", memberships, sum.Memberships, p.People)
	}
	if groups != sum.Groups {
		t.Errorf("%d groups, summary %d", groups, sum.Groups)
	}
	if appCount != p.Apps || sum.Applications != p.Apps {
		t.Errorf("%d applications (summary %d), want %d", appCount, sum.Applications, p.Apps)
	}
	for _, a := range all {
		if err := apps.Validate(a); err != nil {
			t.Errorf("application %s: %v", a.ClientID, err)
		}
	}

	// bench.portal: 5 memberships, reaching the applications the summary says.
	bench, err := st.GetPersonByUsername(ctx, PortalUsername)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := st.ListPersonMemberships(ctx, bench.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 5 || sum.PortalMemberships != 5 {
		t.Errorf("%s has %d memberships (summary %d), want 5", PortalUsername, len(ms), sum.PortalMemberships)
	}
	reach := 0
	for _, a := range all {
		if len(apps.Eligible(a, ms, time.Now())) > 0 {
			reach++
		}
	}
	if reach != sum.PortalApps || reach != p.PortalApps {
		t.Errorf("%s reaches %d applications, summary %d, want %d", PortalUsername, reach, sum.PortalApps, p.PortalApps)
	}

	// The platform administrator.
	admin, err := st.GetPersonByUsername(ctx, AdminUsername)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := st.ListRoles(ctx, admin.ID)
	if err != nil || len(roles) != 1 || roles[0].Role != storage.RolePlatformAdmin {
		t.Errorf("roles of admin: %v, %v", roles, err)
	}

	// Passwords: the fixed accounts only.
	l, err := local.New(local.Options{People: st, Credentials: st, Hasher: local.NewHasher(local.TestParams(), 0)})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{PortalUsername, AdminUsername, "admin.commune-003"} {
		if _, err := l.Authenticate(ctx, u, password); err != nil {
			t.Errorf("sign-in of %s: %v", u, err)
		}
	}
	if want := 2 + p.Orgs; sum.Passwords != want {
		t.Errorf("%d passwords set, want %d", sum.Passwords, want)
	}
	for _, pe := range people {
		if pe.Username == PortalUsername || strings.HasPrefix(pe.Username, AdminUsername) {
			continue
		}
		if _, err := st.GetPasswordHash(ctx, pe.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s has a password (%v)", pe.Username, err)
		}
	}

	// A second run refuses, and changes nothing.
	if _, err := Seed(ctx, st, p); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("second run: %v, want ErrNotEmpty", err)
	}
	if again, _ := st.ListOrganizations(ctx); len(again) != p.Orgs {
		t.Errorf("after the refused run: %d organizations, want %d", len(again), p.Orgs)
	}
}

// TestSeedDeterministic checks that the same seed gives the same people
// and organizations.
func TestSeedDeterministic(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	type shape struct{ orgs, people []string }
	run := func(name string) shape {
		st := openStore(t, filepath.Join(dir, name))
		if _, err := Seed(ctx, st, Params{People: 50, Orgs: 6, Apps: 10, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		var s shape
		orgs, _ := st.ListOrganizations(ctx)
		for _, o := range orgs {
			s.orgs = append(s.orgs, o.Slug+" "+o.Name+" "+o.SIREN+" "+o.SIRET)
		}
		people, _ := st.ListPeople(ctx)
		for _, p := range people {
			s.people = append(s.people, p.Username+" "+p.Email)
		}
		return s
	}
	a, b := run("a.db"), run("b.db")
	if len(a.people) != 50+2+6 {
		t.Fatalf("%d people", len(a.people))
	}
	for i := range a.orgs {
		if a.orgs[i] != b.orgs[i] {
			t.Errorf("organization %d: %q then %q", i, a.orgs[i], b.orgs[i])
		}
	}
	for i := range a.people {
		if a.people[i] != b.people[i] {
			t.Errorf("person %d: %q then %q", i, a.people[i], b.people[i])
		}
	}
}

func TestLuhnDigit(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"73282932", "0"},      // SIREN 732829320
		{"21310555", "4"},      // Toulouse, 213105554
		{"7328293200007", "4"}, // SIRET 73282932000074
	} {
		if got := luhnDigit(tc.body); got != tc.want {
			t.Errorf("luhnDigit(%s) = %s, want %s", tc.body, got, tc.want)
		}
	}
}

func TestApportion(t *testing.T) {
	got := apportion(10, []float64{0.5, 0.25, 0.25, 0.001})
	sum := 0
	for _, n := range got {
		sum += n
	}
	if sum != 10 || got[0] != 5 {
		t.Errorf("apportion = %v", got)
	}
}

// TestSeedForce seeds, with -force, a database that tno serve started
// (its admin) and where an organization was created by hand.
func TestSeedForce(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "tno.db"))
	admin := storage.Person{Username: AdminUsername, GivenName: "Administrateur", FamilyName: "Plateforme"}
	if err := st.CreatePerson(ctx, &admin); err != nil {
		t.Fatal(err)
	}
	if err := st.GrantRole(ctx, &storage.AdminRole{PersonID: admin.ID, Role: storage.RolePlatformAdmin}); err != nil {
		t.Fatal(err)
	}
	mine := storage.Organization{Slug: "ville-exemple", Name: "Ville exemple", SIREN: "732829320"}
	if err := st.CreateOrganization(ctx, &mine); err != nil {
		t.Fatal(err)
	}
	p := Params{People: 40, Orgs: 5, Apps: 8, Seed: 3}
	if _, err := Seed(ctx, st, p); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("without -force: %v, want ErrNotEmpty", err)
	}
	p.Force = true
	sum, err := Seed(ctx, st, p)
	if err != nil {
		t.Fatal(err)
	}
	if want := p.People + 1 + p.Orgs; sum.People != want {
		t.Errorf("%d people created, want %d (admin was there)", sum.People, want)
	}
	orgs, err := st.ListOrganizations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) != p.Orgs+1 {
		t.Errorf("%d organizations, want %d", len(orgs), p.Orgs+1)
	}
	seen := make(map[string]bool)
	for _, o := range orgs {
		if seen[o.SIREN] {
			t.Errorf("SIREN %s twice", o.SIREN)
		}
		seen[o.SIREN] = true
	}
	roles, err := st.ListRoles(ctx, admin.ID)
	if err != nil || len(roles) != 1 {
		t.Errorf("admin's roles: %v, %v", roles, err)
	}
}
