package storagetest

import (
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func applicationTests() []test {
	return []test{
		{"create sets ID and stamps, get by ID and client ID", func(t *testing.T, f fixture) {
			owner, b, c := f.org("owner"), f.org("b"), f.org("c")
			a := storage.Application{
				OrgID: owner.ID, ClientID: "portail-rh", Name: "Portail RH", ClientType: storage.ClientConfidential,
				SecretHash:             "$argon2id$v=19$secret",
				RedirectURIs:           []string{"https://rh.example/cb", "https://rh.example/cb2"},
				PostLogoutRedirectURIs: []string{"https://rh.example/bye"},
				Scopes:                 []string{"openid", "profile", "organization"},
				GrantedOrgIDs:          []string{c.ID, b.ID}, // order kept
				AllowedKinds:           []string{storage.KindAgent},
				FirstParty:             true, Disabled: true,
				Settings: storage.ClientSettings{
					GrantTypes: []string{"refresh_token"}, RefreshTokens: true, RequirePAR: true,
					TokenEndpointAuthMethod: "private_key_jwt", JWKSURI: "https://rh.example/jwks",
					SubjectType: "pairwise", BackchannelLogoutURI: "https://rh.example/bc",
				},
			}
			clk := startClock()
			must(t, f.s.CreateApplication(f.ctx, &a))
			if len(a.ID) != 26 {
				t.Errorf("ID = %q, want a generated ID", a.ID)
			}
			clk.check(t, "CreatedAt", a.CreatedAt)
			clk.check(t, "UpdatedAt", a.UpdatedAt)
			diff(t, a, get(f.s.GetApplication(f.ctx, owner.ID, a.ID))(t))
			diff(t, a, get(f.s.GetApplicationByClientID(f.ctx, "portail-rh"))(t))
		}},
		{"lists round-trip: nil, empty, values", func(t *testing.T, f fixture) {
			org := f.org("org")
			cases := []struct {
				name string
				list []string
			}{
				{"nil", nil},
				{"empty", []string{}},
				{"one", []string{"https://a.example/cb"}},
				{"several with unicode and quotes", []string{"https://é.example/cb?x=\"1\"", "b", "b"}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					a := storage.Application{OrgID: org.ID, ClientID: "c-" + tc.name, ClientType: storage.ClientPublic,
						RedirectURIs: tc.list, PostLogoutRedirectURIs: tc.list, Scopes: tc.list, AllowedKinds: tc.list}
					must(t, f.s.CreateApplication(f.ctx, &a))
					diff(t, a, get(f.s.GetApplication(f.ctx, org.ID, a.ID))(t))
				})
			}
		}},
		{"granted organizations: deduplicated, none is nil", func(t *testing.T, f fixture) {
			org, b := f.org("org"), f.org("b")
			a := storage.Application{OrgID: org.ID, ClientID: "c", GrantedOrgIDs: []string{b.ID, b.ID}}
			must(t, f.s.CreateApplication(f.ctx, &a))
			diff(t, []string{b.ID}, a.GrantedOrgIDs)
			diff(t, a, get(f.s.GetApplication(f.ctx, org.ID, a.ID))(t))
			e := storage.Application{OrgID: org.ID, ClientID: "e", GrantedOrgIDs: []string{}}
			must(t, f.s.CreateApplication(f.ctx, &e))
			if e.GrantedOrgIDs != nil {
				t.Errorf("GrantedOrgIDs = %#v, want nil", e.GrantedOrgIDs)
			}
			diff(t, e, get(f.s.GetApplication(f.ctx, org.ID, e.ID))(t))
		}},
		{"duplicate client ID is a conflict, across organizations", func(t *testing.T, f fixture) {
			f.app(f.org("org").ID, "dup")
			err := f.s.CreateApplication(f.ctx, &storage.Application{OrgID: f.org("other").ID, ClientID: "dup"})
			wantErr(t, err, storage.ErrConflict)
		}},
		{"unknown owner or granted organization is not found, and creates nothing", func(t *testing.T, f fixture) {
			org := f.org("org")
			wantErr(t, f.s.CreateApplication(f.ctx, &storage.Application{OrgID: "nope", ClientID: "a"}), storage.ErrNotFound)
			a := storage.Application{OrgID: org.ID, ClientID: "b", GrantedOrgIDs: []string{org.ID, "nope"}}
			wantErr(t, f.s.CreateApplication(f.ctx, &a), storage.ErrNotFound)
			_, err := f.s.GetApplicationByClientID(f.ctx, "b")
			wantErr(t, err, storage.ErrNotFound)
			if got := get(f.s.ListApplications(f.ctx, org.ID))(t); len(got) != 0 {
				t.Errorf("ListApplications = %v, want none", got)
			}
		}},
		{"get unknown is not found", func(t *testing.T, f fixture) {
			_, err := f.s.GetApplication(f.ctx, f.org("org").ID, "nope")
			wantErr(t, err, storage.ErrNotFound)
			_, err = f.s.GetApplicationByClientID(f.ctx, "nope")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"update replaces fields and grants", func(t *testing.T, f fixture) {
			org, b, c := f.org("org"), f.org("b"), f.org("c")
			a := f.app(org.ID, "old", b.ID)
			u := storage.Application{
				ID: a.ID, OrgID: org.ID, ClientID: "new", Name: "Nouveau", ClientType: storage.ClientPublic,
				RedirectURIs: []string{"https://new.example/cb"}, PostLogoutRedirectURIs: []string{},
				Scopes: []string{"openid"}, GrantedOrgIDs: []string{c.ID}, AllowedKinds: []string{storage.KindElu},
				FirstParty: true,
				Settings:   storage.ClientSettings{FrontchannelLogoutURI: "https://new.example/fc", ClientCredentialsScopes: []string{"siret"}},
			}
			clk := startClock()
			must(t, f.s.UpdateApplication(f.ctx, &u))
			clk.check(t, "UpdatedAt", u.UpdatedAt)
			if !u.CreatedAt.Equal(a.CreatedAt) {
				t.Errorf("CreatedAt = %v, want it read back: %v", u.CreatedAt, a.CreatedAt)
			}
			diff(t, u, get(f.s.GetApplicationByClientID(f.ctx, "new"))(t))
			_, err := f.s.GetApplicationByClientID(f.ctx, "old")
			wantErr(t, err, storage.ErrNotFound)
			u.GrantedOrgIDs = nil
			must(t, f.s.UpdateApplication(f.ctx, &u))
			diff(t, u, get(f.s.GetApplication(f.ctx, org.ID, a.ID))(t))
		}},
		{"update unknown is not found", func(t *testing.T, f fixture) {
			err := f.s.UpdateApplication(f.ctx, &storage.Application{ID: "nope", OrgID: f.org("org").ID, ClientID: "x"})
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"failed update changes nothing", func(t *testing.T, f fixture) {
			org, b := f.org("org"), f.org("b")
			f.app(org.ID, "taken")
			a := f.app(org.ID, "mine", b.ID)
			u := a
			u.ClientID = "taken"
			wantErr(t, f.s.UpdateApplication(f.ctx, &u), storage.ErrConflict)
			u = a
			u.Name, u.GrantedOrgIDs = "changed", []string{"nope"}
			wantErr(t, f.s.UpdateApplication(f.ctx, &u), storage.ErrNotFound)
			diff(t, a, get(f.s.GetApplication(f.ctx, org.ID, a.ID))(t))
		}},
		{"list owned applications by client ID", func(t *testing.T, f fixture) {
			org, other := f.org("org"), f.org("other")
			if got := get(f.s.ListApplications(f.ctx, org.ID))(t); len(got) != 0 {
				t.Fatalf("ListApplications = %v, want none", got)
			}
			z := f.app(org.ID, "z", other.ID)
			a := f.app(org.ID, "a")
			f.app(other.ID, "m", org.ID) // granted to org, not owned: not listed
			diff(t, []storage.Application{a, z}, get(f.s.ListApplications(f.ctx, org.ID))(t))
		}},
		{"delete", func(t *testing.T, f fixture) {
			org, b := f.org("org"), f.org("b")
			a := f.app(org.ID, "a", b.ID)
			must(t, f.s.DeleteApplication(f.ctx, org.ID, a.ID))
			_, err := f.s.GetApplication(f.ctx, org.ID, a.ID)
			wantErr(t, err, storage.ErrNotFound)
			wantErr(t, f.s.DeleteApplication(f.ctx, org.ID, a.ID), storage.ErrNotFound)
			// The client ID is free again, and no stale grant comes back.
			n := f.app(org.ID, "a")
			diff(t, n, get(f.s.GetApplicationByClientID(f.ctx, "a"))(t))
		}},
	}
}

func roleTests() []test {
	return []test{
		{"grant, list, count", func(t *testing.T, f fixture) {
			a, b := f.org("a"), f.org("b")
			p, q := f.person("p"), f.person("q")
			platform := storage.AdminRole{PersonID: p.ID, Role: storage.RolePlatformAdmin}
			clk := startClock()
			must(t, f.s.GrantRole(f.ctx, &platform))
			clk.check(t, "CreatedAt", platform.CreatedAt)
			ra := storage.AdminRole{PersonID: p.ID, OrgID: a.ID, Role: storage.RoleOrgAdmin, CreatedAt: t0}
			rb := storage.AdminRole{PersonID: p.ID, OrgID: b.ID, Role: storage.RoleOrgAdmin, CreatedAt: t0}
			qa := storage.AdminRole{PersonID: q.ID, OrgID: a.ID, Role: storage.RoleOrgAdmin, CreatedAt: t0}
			for _, r := range []*storage.AdminRole{&rb, &ra, &qa} {
				must(t, f.s.GrantRole(f.ctx, r))
			}
			want := []storage.AdminRole{platform, ra, rb}
			if b.ID < a.ID {
				want = []storage.AdminRole{platform, rb, ra}
			}
			diff(t, want, get(f.s.ListRoles(f.ctx, p.ID))(t))
			diff(t, 2, get(f.s.CountRole(f.ctx, storage.RoleOrgAdmin))(t)) // people, not grants
			diff(t, 1, get(f.s.CountRole(f.ctx, storage.RolePlatformAdmin))(t))
			diff(t, 0, get(f.s.CountRole(f.ctx, "nope"))(t))
			if got := get(f.s.ListRoles(f.ctx, "nope"))(t); len(got) != 0 {
				t.Errorf("ListRoles(unknown) = %v, want none", got)
			}
		}},
		{"grant is idempotent and keeps the first CreatedAt", func(t *testing.T, f fixture) {
			org, p := f.org("org"), f.person("p")
			for _, orgID := range []string{"", org.ID} {
				first := storage.AdminRole{PersonID: p.ID, OrgID: orgID, Role: storage.RoleOrgAdmin, CreatedAt: t0}
				must(t, f.s.GrantRole(f.ctx, &first))
				again := storage.AdminRole{PersonID: p.ID, OrgID: orgID, Role: storage.RoleOrgAdmin, CreatedAt: t0.Add(time.Hour)}
				must(t, f.s.GrantRole(f.ctx, &again))
				diff(t, first, again)
			}
			if got := get(f.s.ListRoles(f.ctx, p.ID))(t); len(got) != 2 {
				t.Errorf("ListRoles = %v, want 2 roles", got)
			}
		}},
		{"application managers, organization listing, revoke", func(t *testing.T, f fixture) {
			org, other := f.org("org"), f.org("other")
			p, q := f.person("p"), f.person("q")
			app1, app2 := f.app(org.ID, "one"), f.app(org.ID, "two")
			m1 := storage.AdminRole{PersonID: p.ID, OrgID: org.ID, AppID: app1.ID, Role: storage.RoleAppManager, CreatedAt: t0}
			m2 := storage.AdminRole{PersonID: p.ID, OrgID: org.ID, AppID: app2.ID, Role: storage.RoleAppManager, CreatedAt: t0}
			h := storage.AdminRole{PersonID: q.ID, OrgID: org.ID, Role: storage.RoleOrgHelpdesk, CreatedAt: t0}
			o := storage.AdminRole{PersonID: q.ID, OrgID: other.ID, Role: storage.RoleOrgAdmin, CreatedAt: t0}
			for _, r := range []*storage.AdminRole{&m1, &m2, &h, &o} {
				must(t, f.s.GrantRole(f.ctx, r))
			}
			if got := get(f.s.ListRoles(f.ctx, p.ID))(t); len(got) != 2 {
				t.Errorf("ListRoles = %v, want one grant per application", got)
			}
			got := get(f.s.ListOrgRoles(f.ctx, org.ID))(t)
			if len(got) != 3 {
				t.Fatalf("ListOrgRoles = %v, want the 3 grants of org", got)
			}
			for _, r := range got {
				if r.OrgID != org.ID {
					t.Errorf("ListOrgRoles(org) returned %v", r)
				}
			}
			must(t, f.s.RevokeRole(f.ctx, m1))
			wantErr(t, f.s.RevokeRole(f.ctx, m1), storage.ErrNotFound)
			diff(t, []storage.AdminRole{m2}, get(f.s.ListRoles(f.ctx, p.ID))(t))
			// Removing the application removes its managers' grants.
			must(t, f.s.DeleteApplication(f.ctx, org.ID, app2.ID))
			diff(t, []storage.AdminRole{}, get(f.s.ListRoles(f.ctx, p.ID))(t))
			diff(t, []storage.AdminRole{h}, get(f.s.ListOrgRoles(f.ctx, org.ID))(t))
		}},
		{"unknown person or organization is not found", func(t *testing.T, f fixture) {
			p := f.person("p")
			wantErr(t, f.s.GrantRole(f.ctx, &storage.AdminRole{PersonID: "nope", Role: storage.RolePlatformAdmin}), storage.ErrNotFound)
			wantErr(t, f.s.GrantRole(f.ctx, &storage.AdminRole{PersonID: p.ID, OrgID: "nope", Role: storage.RoleOrgAdmin}), storage.ErrNotFound)
		}},
	}
}
