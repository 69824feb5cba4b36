package territory

import (
	"context"
	"slices"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// GrantRole gives a person an administration role. No one grants a role
// above their own (authz.CanGrant); an organization's roles go to people
// with a current membership there.
func (s *Service) GrantRole(ctx context.Context, a authz.Actor, r storage.AdminRole) error {
	return s.changeRole(ctx, a, r, true)
}

// RevokeRole takes a role back, under the same rule as GrantRole.
func (s *Service) RevokeRole(ctx context.Context, a authz.Actor, r storage.AdminRole) error {
	return s.changeRole(ctx, a, r, false)
}

func (s *Service) changeRole(ctx context.Context, a authz.Actor, r storage.AdminRole, grant bool) error {
	if !slices.Contains(authz.Roles(), r.Role) {
		return field.New("role", field.Invalid, "unknown role %q", r.Role).With("role", r.Role)
	}
	switch {
	case r.Role == storage.RolePlatformAdmin && (r.OrgID != "" || r.AppID != ""):
		return field.New("role", field.Invalid, "the platform administrator's role has no organization")
	case r.Role != storage.RolePlatformAdmin && r.OrgID == "":
		return field.New("organization", field.Required, "the role %s is held in an organization", r.Role)
	case r.Role == storage.RoleAppManager && r.AppID == "":
		return field.New("application", field.Required, "an application manager manages one application")
	case r.Role != storage.RoleAppManager && r.AppID != "":
		return field.New("application", field.Invalid, "only an application manager's role names an application")
	}
	if err := authz.CanGrant(a, r.Role, authz.Scope{OrgID: r.OrgID, AppID: r.AppID}); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		if r.AppID != "" {
			if _, err := tx.GetApplication(ctx, r.OrgID, r.AppID); err != nil {
				return notFound("application", err)
			}
		}
		view := RoleView{PersonID: r.PersonID, Role: r.Role, OrgID: r.OrgID, AppID: r.AppID}
		if !grant {
			if err := tx.RevokeRole(ctx, r); err != nil {
				return notFound("role", err)
			}
			return Record(ctx, log, a, Change{Type: audit.RoleRevoked, OrgID: r.OrgID, Target: "person:" + r.PersonID, Before: view})
		}
		if r.OrgID != "" {
			ms, err := tx.ListPersonMemberships(ctx, r.PersonID)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(ms, func(m storage.Membership) bool { return m.OrgID == r.OrgID && m.ActiveAt(s.now()) }) {
				return field.New("person", "not_member", "a role in an organization goes to one of its current members")
			}
		}
		if err := tx.GrantRole(ctx, &r); err != nil {
			return notFound("person", err)
		}
		return Record(ctx, log, a, Change{Type: audit.RoleGranted, OrgID: r.OrgID, Target: "person:" + r.PersonID, After: view})
	})
}

// OrgRoles lists the roles held in an organization ("" for the
// platform's).
func (s *Service) OrgRoles(ctx context.Context, a authz.Actor, orgID string) ([]storage.AdminRole, error) {
	scope, perm := authz.Org(orgID), authz.PeopleRead
	if orgID == "" {
		scope, perm = authz.Platform, authz.PlatformRead
	}
	if err := authz.Check(a, perm, scope); err != nil {
		return nil, err
	}
	return s.store.ListOrgRoles(ctx, orgID)
}

// Roles returns the roles a person holds (to build their Actor).
func (s *Service) Roles(ctx context.Context, personID string) ([]storage.AdminRole, error) {
	return s.store.ListRoles(ctx, personID)
}
