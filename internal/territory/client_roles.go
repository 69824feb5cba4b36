package territory

import (
	"context"
	"slices"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// ClientRoleView is an application's administration role, as the audit
// log keeps it.
type ClientRoleView struct {
	ClientID string `json:"client_id"`
	AppID    string `json:"app_id"`
	OrgID    string `json:"org_id"`
	Role     string `json:"role"`
}

// ClientRoleNames lists the roles an application may hold: an
// organization's, never the platform's nor an application manager's.
func ClientRoleNames() []string { return []string{storage.RoleOrgAdmin, storage.RoleOrgHelpdesk} }

// GrantClientRole gives an application (r.ClientID), acting for itself
// through the REST API, an organization's role (r.OrgID, r.Role). The
// rules are GrantRole's: no one grants a role above their own
// (authz.CanGrant). The application must belong to the organization or
// be granted to it.
func (s *Service) GrantClientRole(ctx context.Context, a authz.Actor, r storage.ClientRole) error {
	return s.changeClientRole(ctx, a, r, true)
}

// RevokeClientRole takes an application's role back, under the same rule
// as GrantClientRole.
func (s *Service) RevokeClientRole(ctx context.Context, a authz.Actor, r storage.ClientRole) error {
	return s.changeClientRole(ctx, a, r, false)
}

func (s *Service) changeClientRole(ctx context.Context, a authz.Actor, r storage.ClientRole, grant bool) error {
	switch {
	case r.ClientID == "":
		return field.New("client_id", field.Required, "name the application")
	case !slices.Contains(ClientRoleNames(), r.Role):
		return field.New("role", field.Invalid, "an application holds %s or %s, not %q", storage.RoleOrgAdmin, storage.RoleOrgHelpdesk, r.Role).With("role", r.Role)
	case r.OrgID == "":
		return field.New("organization", field.Required, "the role %s is held in an organization", r.Role)
	}
	if err := authz.CanGrant(a, r.Role, authz.Org(r.OrgID)); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		app, err := tx.GetApplicationByClientID(ctx, r.ClientID)
		if err != nil {
			return notFound("application "+r.ClientID, err)
		}
		if _, err := tx.GetOrganization(ctx, r.OrgID); err != nil {
			return notFound("organization", err)
		}
		r.AppID = app.ID
		view := ClientRoleView{ClientID: app.ClientID, AppID: app.ID, OrgID: r.OrgID, Role: r.Role}
		change := Change{OrgID: r.OrgID, Target: "application:" + app.ID, Details: map[string]string{"client_id": app.ClientID}}
		if !grant {
			if err := tx.RevokeClientRole(ctx, r); err != nil {
				return notFound("role", err)
			}
			change.Type, change.Before = audit.RoleRevoked, view
			return Record(ctx, log, a, change)
		}
		if !servesOrg(app, r.OrgID) {
			return field.New("client_id", "not_granted", "application %s is neither owned by nor granted to this organization", app.ClientID).
				With("client_id", app.ClientID)
		}
		if err := tx.GrantClientRole(ctx, &r); err != nil {
			return notFound("application", err)
		}
		change.Type, change.After = audit.RoleGranted, view
		return Record(ctx, log, a, change)
	})
}

// servesOrg reports whether the application belongs to the organization
// or is granted to it.
func servesOrg(app storage.Application, orgID string) bool {
	return app.OrgID == orgID || slices.Contains(app.GrantedOrgIDs, orgID)
}

// ClientRoles returns the roles an application holds (to build its
// Actor): those of the organizations it still belongs to or is still
// granted to. An unknown client_id holds none.
func (s *Service) ClientRoles(ctx context.Context, clientID string) ([]storage.ClientRole, error) {
	app, err := s.store.GetApplicationByClientID(ctx, clientID)
	if err != nil {
		return nil, notFound("application "+clientID, err)
	}
	rs, err := s.store.ListClientRoles(ctx, app.ID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(rs, func(r storage.ClientRole) bool { return !servesOrg(app, r.OrgID) }), nil
}

// OrgClientRoles lists the roles applications hold in an organization.
func (s *Service) OrgClientRoles(ctx context.Context, a authz.Actor, orgID string) ([]storage.ClientRole, error) {
	if err := authz.Check(a, authz.PeopleRead, authz.Org(orgID)); err != nil {
		return nil, err
	}
	return s.store.ListOrgClientRoles(ctx, orgID)
}
