package authz_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/storage"
)

func role(r, org string) storage.AdminRole { return storage.AdminRole{Role: r, OrgID: org} }

func TestCheck(t *testing.T) {
	platform := authz.Person("p", "", []storage.AdminRole{role(storage.RolePlatformAdmin, "")})
	adminA := authz.Person("a", "", []storage.AdminRole{role(storage.RoleOrgAdmin, "A")})
	helpA := authz.Person("h", "", []storage.AdminRole{role(storage.RoleOrgHelpdesk, "A")})
	mgr := authz.Person("m", "", []storage.AdminRole{{Role: storage.RoleAppManager, OrgID: "A", AppID: "app1"}})
	nobody := authz.Person("n", "", nil)
	tests := []struct {
		name  string
		actor authz.Actor
		perm  authz.Permission
		scope authz.Scope
		want  bool
	}{
		{"cli holds the platform", authz.CLI(), authz.OrgsWrite, authz.Platform, true},
		{"platform admin in any organization", platform, authz.PeopleWrite, authz.Org("B"), true},
		{"platform admin rotates keys", platform, authz.KeysRotate, authz.Platform, true},
		{"org admin in its organization", adminA, authz.PeopleWrite, authz.Org("A"), true},
		{"org admin creates applications", adminA, authz.AppsCreate, authz.Org("A"), true},
		{"org admin elsewhere", adminA, authz.PeopleRead, authz.Org("B"), false},
		{"org admin on the platform", adminA, authz.OrgsWrite, authz.Platform, false},
		{"org admin rotates keys", adminA, authz.KeysRotate, authz.Org("A"), false},
		{"helpdesk resets factors", helpA, authz.Credentials, authz.Org("A"), true},
		{"helpdesk reads applications", helpA, authz.AppsRead, authz.Org("A"), true},
		{"helpdesk changes no application", helpA, authz.AppsWrite, authz.App("A", "app1"), false},
		{"helpdesk grants no role", helpA, authz.RolesGrant, authz.Org("A"), false},
		{"helpdesk reads no audit log", helpA, authz.AuditRead, authz.Org("A"), false},
		{"manager on its application", mgr, authz.AppsWrite, authz.App("A", "app1"), true},
		{"manager on another application", mgr, authz.AppsWrite, authz.App("A", "app2"), false},
		{"manager on the organization", mgr, authz.AppsWrite, authz.Org("A"), false},
		{"manager sees its organization", mgr, authz.OrgRead, authz.Org("A"), true},
		{"manager on people", mgr, authz.PeopleRead, authz.App("A", "app1"), false},
		{"no role", nobody, authz.OrgRead, authz.Org("A"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := authz.Check(tt.actor, tt.perm, tt.scope)
			if got := err == nil; got != tt.want {
				t.Fatalf("Check = %v, want allowed=%v", err, tt.want)
			}
			if err != nil && !errors.Is(err, authz.ErrForbidden) {
				t.Errorf("err = %v, want ErrForbidden", err)
			}
		})
	}
}

func TestCanGrant(t *testing.T) {
	adminA := authz.Person("a", "", []storage.AdminRole{role(storage.RoleOrgAdmin, "A")})
	helpA := authz.Person("h", "", []storage.AdminRole{role(storage.RoleOrgHelpdesk, "A")})
	tests := []struct {
		name  string
		actor authz.Actor
		role  string
		scope authz.Scope
		want  bool
	}{
		{"org admin names a helpdesk", adminA, storage.RoleOrgHelpdesk, authz.Org("A"), true},
		{"org admin names an org admin", adminA, storage.RoleOrgAdmin, authz.Org("A"), true},
		{"org admin names an app manager", adminA, storage.RoleAppManager, authz.App("A", "x"), true},
		{"org admin names a platform admin", adminA, storage.RolePlatformAdmin, authz.Platform, false},
		{"org admin names elsewhere", adminA, storage.RoleOrgHelpdesk, authz.Org("B"), false},
		{"helpdesk names a helpdesk", helpA, storage.RoleOrgHelpdesk, authz.Org("A"), false},
		{"cli names a platform admin", authz.CLI(), storage.RolePlatformAdmin, authz.Platform, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authz.CanGrant(tt.actor, tt.role, tt.scope) == nil; got != tt.want {
				t.Errorf("CanGrant = %v, want %v", !got, tt.want)
			}
		})
	}
	if authz.CanGrant(authz.CLI(), "emperor", authz.Platform) == nil {
		t.Error("an unknown role was granted")
	}
}

func TestCheckPerson(t *testing.T) {
	adminA := authz.Person("a", "", []storage.AdminRole{role(storage.RoleOrgAdmin, "A")})
	adminAB := authz.Person("ab", "", []storage.AdminRole{role(storage.RoleOrgAdmin, "A"), role(storage.RoleOrgAdmin, "B")})
	helpA := authz.Person("h", "", []storage.AdminRole{role(storage.RoleOrgHelpdesk, "A")})
	tests := []struct {
		name  string
		actor authz.Actor
		orgs  []string
		roles []storage.AdminRole
		want  bool
	}{
		{"a person of the organization only", adminA, []string{"A"}, nil, true},
		{"a person shared with another organization", adminA, []string{"A", "B"}, nil, false},
		{"an admin of both organizations", adminAB, []string{"A", "B"}, nil, true},
		{"a person of no organization", adminA, nil, nil, false},
		{"a fellow org admin, by an org admin", adminA, []string{"A"}, []storage.AdminRole{role(storage.RoleOrgAdmin, "A")}, true},
		{"an org admin, by the helpdesk", helpA, []string{"A"}, []storage.AdminRole{role(storage.RoleOrgAdmin, "A")}, false},
		{"a platform admin, by an org admin", adminA, []string{"A"}, []storage.AdminRole{role(storage.RolePlatformAdmin, "")}, false},
		{"anyone, by the cli", authz.CLI(), []string{"A", "B"}, []storage.AdminRole{role(storage.RolePlatformAdmin, "")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := authz.CheckPerson(tt.actor, authz.Credentials, tt.orgs, tt.roles)
			if got := err == nil; got != tt.want {
				t.Errorf("CheckPerson = %v, want allowed=%v", err, tt.want)
			}
		})
	}
}

func TestPersonOrgs(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	past := now.Add(-time.Hour)
	ended := storage.Membership{OrgID: "A", ValidUntil: &past}
	current := storage.Membership{OrgID: "B"}
	future := storage.Membership{OrgID: "C", ValidFrom: now.Add(time.Hour)}
	if got := authz.PersonOrgs([]storage.Membership{ended, current, future}, now); strings.Join(got, ",") != "B,C" {
		t.Errorf("current and future = %v, want B,C", got)
	}
	if got := authz.PersonOrgs([]storage.Membership{ended}, now); strings.Join(got, ",") != "A" {
		t.Errorf("only ended = %v, want A (the last organization still acts)", got)
	}
}

// TestTable: the table the README documents; every role holds OrgRead,
// only the platform holds platform permissions.
func TestTable(t *testing.T) {
	roles, perms, holds := authz.Table()
	if len(roles) != 4 || len(holds) != 4 {
		t.Fatalf("roles = %v", roles)
	}
	for i, r := range roles {
		for j, p := range perms {
			if p == authz.OrgRead && !holds[i][j] {
				t.Errorf("%s lacks %s", r, p)
			}
			if (p == authz.OrgsWrite || p == authz.KeysRotate) && holds[i][j] != (r == storage.RolePlatformAdmin) {
				t.Errorf("%s holds %s = %v", r, p, holds[i][j])
			}
		}
	}
}
