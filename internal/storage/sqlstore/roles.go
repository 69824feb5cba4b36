package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// Platform-wide roles have a NULL org_id (so that org_id can reference
// organizations); a unique index on (person_id, role, COALESCE(org_id, ''))
// makes GrantRole idempotent.

const roleColumns = `person_id, org_id, app_id, role, created_at`

func scanRole(r rowScanner) (storage.AdminRole, error) {
	var (
		a        storage.AdminRole
		org, app sql.NullString
	)
	err := r.Scan(&a.PersonID, &org, &app, &a.Role, ts(&a.CreatedAt))
	a.OrgID, a.AppID = org.String, app.String
	return a, err
}

// nullString maps "" to NULL.
func nullString(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// GrantRole grants r, setting CreatedAt if zero. Granting a role already
// held changes nothing and reads back the original CreatedAt. ErrNotFound
// if the person or the organization does not exist.
func (s *Store) GrantRole(ctx context.Context, r *storage.AdminRole) error {
	const op = "grant role"
	v := *r
	v.CreatedAt = norm(s.orNow(v.CreatedAt))
	n, err := s.exec(ctx, op,
		`INSERT INTO admin_roles (`+roleColumns+`) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		v.PersonID, nullString(v.OrgID), nullString(v.AppID), v.Role, micros(v.CreatedAt))
	if err != nil {
		return err
	}
	if n == 0 {
		held, err := queryOne(ctx, s, op, scanRole,
			`SELECT `+roleColumns+` FROM admin_roles
			 WHERE person_id = $1 AND COALESCE(org_id, '') = $2 AND COALESCE(app_id, '') = $3 AND role = $4`,
			v.PersonID, v.OrgID, v.AppID, v.Role)
		if err != nil {
			return err
		}
		v = held
	}
	*r = v
	return nil
}

// ListRoles returns a person's roles, platform-wide first, then by
// organization ID and role.
func (s *Store) ListRoles(ctx context.Context, personID string) ([]storage.AdminRole, error) {
	return queryList(ctx, s, "list roles", scanRole,
		`SELECT `+roleColumns+` FROM admin_roles WHERE person_id = $1
		 ORDER BY COALESCE(org_id, ''), role, COALESCE(app_id, '')`, personID)
}

// RevokeRole removes one grant.
func (s *Store) RevokeRole(ctx context.Context, r storage.AdminRole) error {
	n, err := s.exec(ctx, "revoke role",
		`DELETE FROM admin_roles WHERE person_id = $1 AND COALESCE(org_id, '') = $2
		 AND COALESCE(app_id, '') = $3 AND role = $4`, r.PersonID, r.OrgID, r.AppID, r.Role)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("revoke role: %w", storage.ErrNotFound)
	}
	return nil
}

// ListOrgRoles lists an organization's grants ("" : platform-wide).
func (s *Store) ListOrgRoles(ctx context.Context, orgID string) ([]storage.AdminRole, error) {
	return queryList(ctx, s, "list organization roles", scanRole,
		`SELECT `+roleColumns+` FROM admin_roles WHERE COALESCE(org_id, '') = $1
		 ORDER BY person_id, role, COALESCE(app_id, '')`, orgID)
}

// CountRole counts the distinct people holding role, in any organization.
func (s *Store) CountRole(ctx context.Context, role string) (int, error) {
	return queryOne(ctx, s, "count role", func(r rowScanner) (int, error) {
		var n int
		err := r.Scan(&n)
		return n, err
	}, `SELECT COUNT(DISTINCT person_id) FROM admin_roles WHERE role = $1`, role)
}
