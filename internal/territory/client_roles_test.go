package territory_test

import (
	"errors"
	"testing"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// TestClientRoles: an application receives an organization's role under
// GrantRole's rules, only in an organization it serves; its roles follow
// the organizations it still serves; every change is recorded.
func TestClientRoles(t *testing.T) {
	f := newFixture(t)
	app := storage.Application{OrgID: f.a.ID, ClientID: "rh-batch", Name: "Batch RH", ClientType: storage.ClientConfidential}
	if err := f.st.CreateApplication(f.ctx, &app); err != nil {
		t.Fatal(err)
	}
	helpdeskA := authz.Person("hd", "192.0.2.9", []storage.AdminRole{{Role: storage.RoleOrgHelpdesk, OrgID: f.a.ID}})
	role := func(orgID, r string) storage.ClientRole {
		return storage.ClientRole{ClientID: app.ClientID, OrgID: orgID, Role: r}
	}
	before := f.events(t)
	for _, tc := range []struct {
		name  string
		actor authz.Actor
		r     storage.ClientRole
		want  error  // sentinel, or nil for a field error
		field string // the field error's field
	}{
		{"another organization's administrator", admin(f.b.ID), role(f.a.ID, storage.RoleOrgAdmin), authz.ErrForbidden, ""},
		{"a helpdesk grants nothing", helpdeskA, role(f.a.ID, storage.RoleOrgHelpdesk), authz.ErrForbidden, ""},
		{"the platform's role", authz.CLI(), role("", storage.RolePlatformAdmin), nil, "role"},
		{"an application manager's role", authz.CLI(), role(f.a.ID, storage.RoleAppManager), nil, "role"},
		{"no organization", authz.CLI(), role("", storage.RoleOrgAdmin), nil, "organization"},
		{"no application", authz.CLI(), storage.ClientRole{OrgID: f.a.ID, Role: storage.RoleOrgAdmin}, nil, "client_id"},
		{"unknown application", authz.CLI(), storage.ClientRole{ClientID: "nope", OrgID: f.a.ID, Role: storage.RoleOrgAdmin}, storage.ErrNotFound, ""},
		{"an organization the application does not serve", authz.CLI(), role(f.b.ID, storage.RoleOrgAdmin), nil, "client_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.svc.GrantClientRole(f.ctx, tc.actor, tc.r)
			switch {
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("err = %v, want %v", err, tc.want)
			case tc.want == nil && (len(field.List(err)) != 1 || field.List(err)[0].Field != tc.field):
				t.Errorf("err = %v, want a field error on %s", err, tc.field)
			}
		})
	}
	if n := f.events(t); n != before {
		t.Errorf("refused grants recorded %d events", n-before)
	}

	// A's administrator grants A's roles to A's application.
	if err := f.svc.GrantClientRole(f.ctx, admin(f.a.ID), role(f.a.ID, storage.RoleOrgHelpdesk)); err != nil {
		t.Fatal(err)
	}
	evs, _ := f.st.QueryAuditEvents(f.ctx, storage.AuditQuery{OrgID: f.a.ID, Type: "role_granted"})
	if len(evs) != 1 || evs[0].Target != "application:"+app.ID || evs[0].ActorID != "admin-"+f.a.ID || evs[0].Details["client_id"] != app.ClientID {
		t.Errorf("grant events = %+v", evs)
	}
	// Granted to B, the application may hold B's role, until B is taken
	// off its list.
	app.GrantedOrgIDs = []string{f.b.ID}
	if err := f.st.UpdateApplication(f.ctx, &app); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.GrantClientRole(f.ctx, admin(f.b.ID), role(f.b.ID, storage.RoleOrgAdmin)); err != nil {
		t.Fatal(err)
	}
	if rs, err := f.svc.ClientRoles(f.ctx, app.ClientID); err != nil || len(rs) != 2 {
		t.Fatalf("ClientRoles = %v, %v; want 2", rs, err)
	}
	app.GrantedOrgIDs = nil
	if err := f.st.UpdateApplication(f.ctx, &app); err != nil {
		t.Fatal(err)
	}
	rs, err := f.svc.ClientRoles(f.ctx, app.ClientID)
	if err != nil || len(rs) != 1 || rs[0].OrgID != f.a.ID || rs[0].Role != storage.RoleOrgHelpdesk {
		t.Errorf("ClientRoles after B's grant ended = %v, %v; want A's helpdesk only", rs, err)
	}
	if _, err := f.svc.ClientRoles(f.ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ClientRoles(unknown) err = %v", err)
	}

	// Revoking: same rule; a role not held is not found.
	if err := f.svc.RevokeClientRole(f.ctx, admin(f.b.ID), role(f.a.ID, storage.RoleOrgHelpdesk)); !errors.Is(err, authz.ErrForbidden) {
		t.Errorf("revoke by another organization: %v", err)
	}
	if err := f.svc.RevokeClientRole(f.ctx, admin(f.a.ID), role(f.a.ID, storage.RoleOrgAdmin)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("revoke a role not held: %v", err)
	}
	if err := f.svc.RevokeClientRole(f.ctx, admin(f.a.ID), role(f.a.ID, storage.RoleOrgHelpdesk)); err != nil {
		t.Fatal(err)
	}
	if rs, _ := f.svc.ClientRoles(f.ctx, app.ClientID); len(rs) != 0 {
		t.Errorf("ClientRoles after revoke = %v", rs)
	}
	if evs, _ := f.st.QueryAuditEvents(f.ctx, storage.AuditQuery{OrgID: f.a.ID, Type: "role_revoked"}); len(evs) != 1 || evs[0].Before == "" {
		t.Errorf("revoke events = %+v", evs)
	}
	if _, err := f.svc.OrgClientRoles(f.ctx, admin(f.b.ID), f.a.ID); !errors.Is(err, authz.ErrForbidden) {
		t.Errorf("OrgClientRoles of another organization: %v", err)
	}
}
