package storagetest

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func clientRoleTests() []test {
	return []test{
		{"grant, list by application and by organization", func(t *testing.T, f fixture) {
			a, b := f.org("a"), f.org("b")
			x, y := f.app(a.ID, "x", b.ID), f.app(b.ID, "y")
			xa := storage.ClientRole{AppID: x.ID, OrgID: a.ID, Role: storage.RoleOrgAdmin}
			clk := startClock()
			must(t, f.s.GrantClientRole(f.ctx, &xa))
			clk.check(t, "CreatedAt", xa.CreatedAt)
			if xa.ClientID != "x" {
				t.Errorf("ClientID = %q, want the application's", xa.ClientID)
			}
			xb := storage.ClientRole{AppID: x.ID, OrgID: b.ID, Role: storage.RoleOrgHelpdesk, CreatedAt: t0}
			xah := storage.ClientRole{AppID: x.ID, OrgID: a.ID, Role: storage.RoleOrgHelpdesk, CreatedAt: t0}
			yb := storage.ClientRole{AppID: y.ID, OrgID: b.ID, Role: storage.RoleOrgAdmin, CreatedAt: t0, ClientID: "ignored"}
			for _, r := range []*storage.ClientRole{&xb, &xah, &yb} {
				must(t, f.s.GrantClientRole(f.ctx, r))
			}
			if yb.ClientID != "y" {
				t.Errorf("ClientID = %q, want the application's, not the caller's", yb.ClientID)
			}
			byOrgRole := func(rs ...storage.ClientRole) []storage.ClientRole {
				slices.SortFunc(rs, func(p, q storage.ClientRole) int {
					return cmp.Or(strings.Compare(p.OrgID, q.OrgID), strings.Compare(p.Role, q.Role))
				})
				return rs
			}
			diff(t, byOrgRole(xa, xah, xb), get(f.s.ListClientRoles(f.ctx, x.ID))(t))
			diff(t, []storage.ClientRole{yb}, get(f.s.ListClientRoles(f.ctx, y.ID))(t))
			diff(t, []storage.ClientRole{xa, xah}, get(f.s.ListOrgClientRoles(f.ctx, a.ID))(t))
			diff(t, []storage.ClientRole{xb, yb}, get(f.s.ListOrgClientRoles(f.ctx, b.ID))(t)) // by client_id
			if got := get(f.s.ListClientRoles(f.ctx, "nope"))(t); len(got) != 0 || got == nil {
				t.Errorf("ListClientRoles(unknown) = %#v, want an empty list", got)
			}
		}},
		{"grant is idempotent and keeps the first CreatedAt", func(t *testing.T, f fixture) {
			org := f.org("org")
			x := f.app(org.ID, "x")
			first := storage.ClientRole{AppID: x.ID, OrgID: org.ID, Role: storage.RoleOrgAdmin, CreatedAt: t0}
			must(t, f.s.GrantClientRole(f.ctx, &first))
			again := storage.ClientRole{AppID: x.ID, OrgID: org.ID, Role: storage.RoleOrgAdmin, CreatedAt: t0.Add(time.Hour)}
			must(t, f.s.GrantClientRole(f.ctx, &again))
			diff(t, first, again)
			diff(t, 1, len(get(f.s.ListClientRoles(f.ctx, x.ID))(t)))
		}},
		{"unknown application or organization is not found", func(t *testing.T, f fixture) {
			org := f.org("org")
			x := f.app(org.ID, "x")
			wantErr(t, f.s.GrantClientRole(f.ctx, &storage.ClientRole{AppID: "nope", OrgID: org.ID, Role: storage.RoleOrgAdmin}), storage.ErrNotFound)
			wantErr(t, f.s.GrantClientRole(f.ctx, &storage.ClientRole{AppID: x.ID, OrgID: "nope", Role: storage.RoleOrgAdmin}), storage.ErrNotFound)
			diff(t, 0, len(get(f.s.ListOrgClientRoles(f.ctx, org.ID))(t)))
		}},
		{"only an organization's roles", func(t *testing.T, f fixture) {
			org := f.org("org")
			x := f.app(org.ID, "x")
			for _, role := range []string{storage.RolePlatformAdmin, storage.RoleAppManager, "nope", ""} {
				if err := f.s.GrantClientRole(f.ctx, &storage.ClientRole{AppID: x.ID, OrgID: org.ID, Role: role}); err == nil {
					t.Errorf("GrantClientRole(%q) succeeded", role)
				}
			}
			diff(t, 0, len(get(f.s.ListClientRoles(f.ctx, x.ID))(t)))
		}},
		{"revoke", func(t *testing.T, f fixture) {
			a, b := f.org("a"), f.org("b")
			x := f.app(a.ID, "x", b.ID)
			ra := storage.ClientRole{AppID: x.ID, OrgID: a.ID, Role: storage.RoleOrgAdmin, CreatedAt: t0}
			rb := storage.ClientRole{AppID: x.ID, OrgID: b.ID, Role: storage.RoleOrgAdmin, CreatedAt: t0}
			must(t, f.s.GrantClientRole(f.ctx, &ra))
			must(t, f.s.GrantClientRole(f.ctx, &rb))
			wantErr(t, f.s.RevokeClientRole(f.ctx, storage.ClientRole{AppID: x.ID, OrgID: a.ID, Role: storage.RoleOrgHelpdesk}), storage.ErrNotFound)
			must(t, f.s.RevokeClientRole(f.ctx, storage.ClientRole{AppID: x.ID, OrgID: a.ID, Role: storage.RoleOrgAdmin}))
			wantErr(t, f.s.RevokeClientRole(f.ctx, ra), storage.ErrNotFound)
			diff(t, []storage.ClientRole{rb}, get(f.s.ListClientRoles(f.ctx, x.ID))(t))
		}},
		{"removing the application removes its roles", func(t *testing.T, f fixture) {
			a, b := f.org("a"), f.org("b")
			x := f.app(a.ID, "x", b.ID)
			for _, o := range []string{a.ID, b.ID} {
				must(t, f.s.GrantClientRole(f.ctx, &storage.ClientRole{AppID: x.ID, OrgID: o, Role: storage.RoleOrgAdmin}))
			}
			must(t, f.s.DeleteApplication(f.ctx, a.ID, x.ID))
			again := f.app(a.ID, "x") // the same client_id, given again
			diff(t, 0, len(get(f.s.ListClientRoles(f.ctx, again.ID))(t)))
			diff(t, 0, len(get(f.s.ListOrgClientRoles(f.ctx, a.ID))(t)))
			diff(t, 0, len(get(f.s.ListOrgClientRoles(f.ctx, b.ID))(t)))
		}},
	}
}
