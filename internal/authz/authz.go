// Package authz is TNO's permission model: the acting party (a person,
// an application, the CLI, the system, an identity source), the roles it
// holds, the permissions each role grants, and the one check every use
// case calls before it reads or changes anything: Check(actor,
// permission, scope).
//
// Roles and what they may do:
//
//	platform administrator    everything, in every organization, and the
//	                          platform itself (organizations, keys, settings)
//	organization administrator  its organization: people, memberships,
//	                          mandates, groups, applications, roles, audit log
//	organization helpdesk     its organization's people, memberships and
//	                          factors; applications read-only
//	application manager       one application of an organization
//
// People who belong to several organizations: each organization edits its
// own memberships. What is the person's own — identity, password, factors,
// sessions, being disabled — is changed by someone who holds the permission
// in every organization the person currently belongs to (or the platform),
// and only if the person holds no role the actor could not grant: a
// commune's administrator cannot take over an agent of the métropole, nor
// a fellow administrator of a higher rank. See CheckPerson.
//
// No one grants a role above their own: granting needs the grant
// permission and every permission of the role granted (CanGrant).
//
// It imports internal/storage only.
package authz

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// Kind is what kind of party acts.
type Kind string

// Acting parties.
const (
	KindPerson Kind = "person" // ID is a person ID; roles from admin_roles
	KindClient Kind = "client" // ID is a client_id (REST API with client_credentials)
	KindCLI    Kind = "cli"    // the operator on the server: platform rights
	KindSystem Kind = "system" // TNO itself (scheduled jobs, bootstrap)
	KindSource Kind = "source" // an identity source synchronising (LDAP, SCIM)
)

// Actor is who acts, with the roles they hold.
type Actor struct {
	Kind    Kind
	ID      string
	Address string // IP address when the request came over HTTP
	Roles   []storage.AdminRole
}

// CLI is the operator running tno on the server: whoever can run it can
// read the database, so it holds the platform's rights.
func CLI() Actor { return Actor{Kind: KindCLI} }

// System is TNO acting on its own.
func System() Actor { return Actor{Kind: KindSystem} }

// Person is a signed-in person with their roles.
func Person(id, address string, roles []storage.AdminRole) Actor {
	return Actor{Kind: KindPerson, ID: id, Address: address, Roles: roles}
}

// Permission is one thing an actor may do.
type Permission string

// Permissions. Platform permissions have no organization; the others are
// checked on one organization (and, for applications, one application).
const (
	PlatformRead Permission = "platform.read"  // deployment settings, every organization's list
	OrgsWrite    Permission = "orgs.write"     // create organizations, change their legal identity
	KeysRotate   Permission = "keys.rotate"    // list and rotate signing keys
	OrgRead      Permission = "org.read"       // see the organization
	OrgSecurity  Permission = "org.security"   // second-factor policy of the organization
	PeopleRead   Permission = "people.read"    // people and memberships
	PeopleWrite  Permission = "people.write"   // create, edit, invite, deactivate people; memberships, mandates
	Credentials  Permission = "people.factors" // passwords, reset links, factors, sessions
	GroupsWrite  Permission = "groups.write"   // groups and their members
	AppsRead     Permission = "apps.read"      // applications
	AppsCreate   Permission = "apps.create"    // create and remove applications
	AppsWrite    Permission = "apps.write"     // change an application, rotate its secret
	AuditRead    Permission = "audit.read"     // the organization's audit log
	RolesGrant   Permission = "roles.grant"    // grant and revoke roles (within CanGrant)
	PeopleImport Permission = "people.import"  // CSV import of people and memberships
)

// platformPermissions are never held on an organization only.
var platformPermissions = []Permission{PlatformRead, OrgsWrite, KeysRotate}

// Table maps each role to its permissions, in display order. The
// platform administrator holds every permission in every organization.
var table = []struct {
	Role  string
	Perms []Permission
}{
	{storage.RolePlatformAdmin, nil}, // all
	{storage.RoleOrgAdmin, []Permission{OrgRead, OrgSecurity, PeopleRead, PeopleWrite, Credentials, GroupsWrite,
		AppsRead, AppsCreate, AppsWrite, AuditRead, RolesGrant, PeopleImport}},
	{storage.RoleOrgHelpdesk, []Permission{OrgRead, PeopleRead, PeopleWrite, Credentials, AppsRead}},
	{storage.RoleAppManager, []Permission{OrgRead, AppsRead, AppsWrite}}, // on its application only
}

// AllPermissions lists every permission, platform ones first.
func AllPermissions() []Permission {
	return []Permission{PlatformRead, OrgsWrite, KeysRotate, OrgRead, OrgSecurity, PeopleRead, PeopleWrite,
		Credentials, GroupsWrite, AppsRead, AppsCreate, AppsWrite, AuditRead, RolesGrant, PeopleImport}
}

// Roles lists the roles, highest first.
func Roles() []string {
	out := make([]string, len(table))
	for i, r := range table {
		out[i] = r.Role
	}
	return out
}

// RolePermissions returns what a role grants (every permission for the
// platform administrator); nil for an unknown role.
func RolePermissions(role string) []Permission {
	for _, r := range table {
		if r.Role == role {
			if r.Perms == nil {
				return AllPermissions()
			}
			return slices.Clone(r.Perms)
		}
	}
	return nil
}

// Scope is what a permission is checked on: the platform (zero value),
// an organization, or one application of an organization.
type Scope struct {
	OrgID string
	AppID string
}

// Platform is the platform scope.
var Platform = Scope{}

// Org is an organization's scope.
func Org(id string) Scope { return Scope{OrgID: id} }

// App is one application's scope.
func App(orgID, appID string) Scope { return Scope{OrgID: orgID, AppID: appID} }

// ErrForbidden means the actor lacks the permission.
var ErrForbidden = errors.New("authz: forbidden")

// platformWide reports whether the actor holds every permission.
func (a Actor) platformWide() bool {
	switch a.Kind {
	case KindCLI, KindSystem:
		return true
	}
	for _, r := range a.Roles {
		if r.Role == storage.RolePlatformAdmin && r.OrgID == "" {
			return true
		}
	}
	return false
}

// IsPlatformAdmin reports whether the actor holds the platform's rights.
func (a Actor) IsPlatformAdmin() bool { return a.platformWide() }

// Can reports whether the actor holds p on s.
func (a Actor) Can(p Permission, s Scope) bool {
	if a.platformWide() {
		return true
	}
	if slices.Contains(platformPermissions, p) || s.OrgID == "" {
		return false
	}
	for _, r := range a.Roles {
		if r.OrgID != s.OrgID {
			continue
		}
		if r.Role == storage.RoleAppManager && p != OrgRead && r.AppID != s.AppID {
			continue // an application manager acts on its application only
		}
		if slices.Contains(RolePermissions(r.Role), p) {
			return true
		}
	}
	return false
}

// Check returns nil if the actor holds p on s, else an error wrapping
// ErrForbidden. Every use case calls it before reading or writing.
func Check(a Actor, p Permission, s Scope) error {
	if a.Can(p, s) {
		return nil
	}
	return fmt.Errorf("%w: %s %s lacks %s on %s", ErrForbidden, a.Kind, a.ID, p, s)
}

func (s Scope) String() string {
	switch {
	case s.OrgID == "":
		return "the platform"
	case s.AppID != "":
		return "application " + s.AppID + " of organization " + s.OrgID
	}
	return "organization " + s.OrgID
}

// Orgs lists the organizations where the actor holds p (nil with
// platform-wide rights: every one).
func (a Actor) Orgs(p Permission) (orgIDs []string, all bool) {
	if a.platformWide() {
		return nil, true
	}
	for _, r := range a.Roles {
		if r.OrgID != "" && r.Role != storage.RoleAppManager && slices.Contains(RolePermissions(r.Role), p) &&
			!slices.Contains(orgIDs, r.OrgID) {
			orgIDs = append(orgIDs, r.OrgID)
		}
	}
	return orgIDs, false
}

// CanGrant reports whether the actor may grant (or revoke) role on s: it
// needs RolesGrant there and every permission of the role. Only the
// platform grants the platform's role.
func CanGrant(a Actor, role string, s Scope) error {
	perms := RolePermissions(role)
	if perms == nil {
		return fmt.Errorf("authz: unknown role %q", role)
	}
	if role == storage.RolePlatformAdmin {
		if a.platformWide() {
			return nil
		}
		return fmt.Errorf("%w: only a platform administrator grants %s", ErrForbidden, role)
	}
	if err := Check(a, RolesGrant, Org(s.OrgID)); err != nil {
		return err
	}
	for _, p := range perms {
		if !a.Can(p, s) {
			return fmt.Errorf("%w: %s grants %s, which the actor does not hold", ErrForbidden, role, p)
		}
	}
	return nil
}

// PersonOrgs returns the organizations a person belongs to at t: those of
// their current and future memberships, or, if they have none, of every
// membership they had (so that the last organization can still act on a
// person who left).
func PersonOrgs(ms []storage.Membership, t time.Time) []string {
	var current, all []string
	for _, m := range ms {
		if !slices.Contains(all, m.OrgID) {
			all = append(all, m.OrgID)
		}
		if (m.ValidUntil == nil || t.Before(*m.ValidUntil)) && !slices.Contains(current, m.OrgID) {
			current = append(current, m.OrgID)
		}
	}
	if len(current) > 0 {
		return current
	}
	return all
}

// CheckPerson checks p on what is a person's own (identity, password,
// factors, sessions, being disabled). The actor must hold p in every
// organization of orgIDs (from PersonOrgs), and be able to grant every
// role the person holds. A person in no organization is the platform's.
func CheckPerson(a Actor, p Permission, orgIDs []string, roles []storage.AdminRole) error {
	if a.platformWide() {
		return nil
	}
	if len(orgIDs) == 0 {
		return fmt.Errorf("%w: a person in no organization is managed by the platform", ErrForbidden)
	}
	for _, o := range orgIDs {
		if err := Check(a, p, Org(o)); err != nil {
			return fmt.Errorf("%w (the person also belongs to another organization: ask the platform)", err)
		}
	}
	for _, r := range roles {
		if err := CanGrant(a, r.Role, Scope{OrgID: r.OrgID, AppID: r.AppID}); err != nil {
			return fmt.Errorf("%w: the person holds the role %s", ErrForbidden, r.Role)
		}
	}
	return nil
}

// CanReadPerson reports whether the actor may see a person: PeopleRead in
// one of the organizations the person has (or had) a membership in.
func CanReadPerson(a Actor, ms []storage.Membership) bool {
	if a.platformWide() {
		return true
	}
	for _, m := range ms {
		if a.Can(PeopleRead, Org(m.OrgID)) {
			return true
		}
	}
	return false
}

// Table returns the permission table: for each role, whether it holds
// each permission of AllPermissions (for documentation and the console).
func Table() (roles []string, perms []Permission, holds [][]bool) {
	perms = AllPermissions()
	for _, r := range table {
		rp := RolePermissions(r.Role)
		row := make([]bool, len(perms))
		for i, p := range perms {
			row[i] = slices.Contains(rp, p) && (r.Role == storage.RolePlatformAdmin || !slices.Contains(platformPermissions, p))
		}
		roles = append(roles, r.Role)
		holds = append(holds, row)
	}
	return roles, perms, holds
}
