package storage

import (
	"context"
	"time"
)

// ClientRole grants an application, acting for itself (the REST API,
// with an access token from the client_credentials grant), an
// organization's administration role: RoleOrgAdmin or RoleOrgHelpdesk,
// never the platform's.
type ClientRole struct {
	AppID     string
	ClientID  string // the application's client_id: read back by the lists, ignored by GrantClientRole
	OrgID     string
	Role      string
	CreatedAt time.Time
}

// ClientRoles stores the applications' administration roles. Removing
// the application or the organization removes its roles.
type ClientRoles interface {
	// GrantClientRole grants r (AppID, OrgID, Role), setting CreatedAt if
	// zero. Granting a role already held changes nothing and reads back
	// the original CreatedAt. ErrNotFound if the application or the
	// organization does not exist.
	GrantClientRole(ctx context.Context, r *ClientRole) error
	// RevokeClientRole removes the grant r names (AppID, OrgID, Role);
	// ErrNotFound if it was not held.
	RevokeClientRole(ctx context.Context, r ClientRole) error
	// ListClientRoles lists an application's roles, by organization ID
	// and role.
	ListClientRoles(ctx context.Context, appID string) ([]ClientRole, error)
	// ListOrgClientRoles lists the roles held by applications in an
	// organization, by client_id and role.
	ListOrgClientRoles(ctx context.Context, orgID string) ([]ClientRole, error)
}
