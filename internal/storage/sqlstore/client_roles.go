package sqlstore

import (
	"context"
	"fmt"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// The client_id of a role is read from its application, so that a
// renamed client_id shows at once.
const clientRoleColumns = `r.app_id, a.client_id, r.org_id, r.role, r.created_at`

func scanClientRole(r rowScanner) (storage.ClientRole, error) {
	var c storage.ClientRole
	err := r.Scan(&c.AppID, &c.ClientID, &c.OrgID, &c.Role, ts(&c.CreatedAt))
	return c, err
}

// GrantClientRole grants r, setting CreatedAt if zero; a role already
// held reads back its original CreatedAt. ErrNotFound if the application
// or the organization does not exist.
func (s *Store) GrantClientRole(ctx context.Context, r *storage.ClientRole) error {
	const op = "grant client role"
	v := *r
	v.CreatedAt = norm(s.orNow(v.CreatedAt))
	if _, err := s.exec(ctx, op,
		`INSERT INTO client_roles (app_id, org_id, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		v.AppID, v.OrgID, v.Role, micros(v.CreatedAt)); err != nil {
		return err
	}
	held, err := queryOne(ctx, s, op, scanClientRole,
		`SELECT `+clientRoleColumns+` FROM client_roles r JOIN applications a ON a.id = r.app_id
		 WHERE r.app_id = $1 AND r.org_id = $2 AND r.role = $3`, v.AppID, v.OrgID, v.Role)
	if err != nil {
		return err
	}
	*r = held
	return nil
}

// RevokeClientRole removes one grant.
func (s *Store) RevokeClientRole(ctx context.Context, r storage.ClientRole) error {
	n, err := s.exec(ctx, "revoke client role",
		`DELETE FROM client_roles WHERE app_id = $1 AND org_id = $2 AND role = $3`, r.AppID, r.OrgID, r.Role)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("revoke client role: %w", storage.ErrNotFound)
	}
	return nil
}

// ListClientRoles lists an application's roles by organization and role.
func (s *Store) ListClientRoles(ctx context.Context, appID string) ([]storage.ClientRole, error) {
	return queryList(ctx, s, "list client roles", scanClientRole,
		`SELECT `+clientRoleColumns+` FROM client_roles r JOIN applications a ON a.id = r.app_id
		 WHERE r.app_id = $1 ORDER BY r.org_id, r.role`, appID)
}

// ListOrgClientRoles lists the applications' roles in an organization,
// by client_id and role.
func (s *Store) ListOrgClientRoles(ctx context.Context, orgID string) ([]storage.ClientRole, error) {
	return queryList(ctx, s, "list organization client roles", scanClientRole,
		`SELECT `+clientRoleColumns+` FROM client_roles r JOIN applications a ON a.id = r.app_id
		 WHERE r.org_id = $1 ORDER BY a.client_id, r.role`, orgID)
}
