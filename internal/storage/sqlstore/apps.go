package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const appColumns = `id, org_id, client_id, name, client_type, secret_hash, redirect_uris,
	post_logout_redirect_uris, scopes, allowed_kinds, first_party, disabled, created_at, updated_at, settings, version, tile`

func scanApp(r rowScanner) (storage.Application, error) {
	var a storage.Application
	err := r.Scan(&a.ID, &a.OrgID, &a.ClientID, &a.Name, &a.ClientType, &a.SecretHash,
		lst(&a.RedirectURIs), lst(&a.PostLogoutRedirectURIs), lst(&a.Scopes), lst(&a.AllowedKinds),
		&a.FirstParty, &a.Disabled, ts(&a.CreatedAt), ts(&a.UpdatedAt), jsonDoc(&a.Settings), &a.Version, jsonDoc(&a.Tile))
	return a, err
}

// CreateApplication inserts a and its grants. ErrConflict on a duplicate
// ClientID; ErrNotFound if the owner or a granted organization does not
// exist.
func (s *Store) CreateApplication(ctx context.Context, a *storage.Application) error {
	v := *a
	if v.ID == "" {
		v.ID = storage.NewID()
	}
	v.GrantedOrgIDs = dedupe(v.GrantedOrgIDs)
	v.CreatedAt = s.timestamp()
	v.UpdatedAt = v.CreatedAt
	v.Version = 1
	err := s.atomic(ctx, func(tx *Store) error {
		_, err := tx.exec(ctx, "create application",
			`INSERT INTO applications (`+appColumns+`)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
			v.ID, v.OrgID, v.ClientID, v.Name, v.ClientType, v.SecretHash,
			list(v.RedirectURIs), list(v.PostLogoutRedirectURIs), list(v.Scopes), list(v.AllowedKinds),
			v.FirstParty, v.Disabled, micros(v.CreatedAt), micros(v.UpdatedAt), doc(v.Settings), v.Version, doc(v.Tile))
		if err != nil {
			return err
		}
		return tx.insertGrants(ctx, "create application", v.ID, v.GrantedOrgIDs)
	})
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// dedupe returns ids without duplicates, in order of first appearance; nil
// if empty, as GrantedOrgIDs reads back.
func dedupe(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// insertGrants stores the organizations an application is granted to, in
// order. orgIDs must be deduplicated.
func (s *Store) insertGrants(ctx context.Context, op, appID string, orgIDs []string) error {
	for pos, org := range orgIDs {
		if _, err := s.exec(ctx, op,
			`INSERT INTO app_grants (app_id, org_id, position) VALUES ($1, $2, $3)`,
			appID, org, pos); err != nil {
			return fmt.Errorf("grant %s: %w", org, err)
		}
	}
	return nil
}

// grants returns the organizations each application is granted to, keyed
// by application ID.
func (s *Store) grants(ctx context.Context, op, where, arg string) (map[string][]string, error) {
	type grant struct{ app, org string }
	gs, err := queryList(ctx, s, op, func(r rowScanner) (grant, error) {
		var g grant
		err := r.Scan(&g.app, &g.org)
		return g, err
	}, `SELECT g.app_id, g.org_id FROM app_grants g JOIN applications a ON a.id = g.app_id
		 WHERE `+where+` ORDER BY g.app_id, g.position`, arg)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string)
	for _, g := range gs {
		out[g.app] = append(out[g.app], g.org)
	}
	return out, nil
}

// withGrants fills GrantedOrgIDs (nil when there are none).
func (s *Store) withGrants(ctx context.Context, op, where, arg string, apps []storage.Application) ([]storage.Application, error) {
	if len(apps) == 0 {
		return apps, nil
	}
	g, err := s.grants(ctx, op, where, arg)
	if err != nil {
		return nil, err
	}
	for i := range apps {
		apps[i].GrantedOrgIDs = g[apps[i].ID]
	}
	return apps, nil
}

func (s *Store) getApp(ctx context.Context, op, where string, args ...any) (storage.Application, error) {
	a, err := queryOne(ctx, s, op, scanApp,
		`SELECT `+appColumns+` FROM applications WHERE `+where, args...)
	if err != nil {
		return a, err
	}
	apps, err := s.withGrants(ctx, op, "a.id = $1", a.ID, []storage.Application{a})
	if err != nil {
		return storage.Application{}, err
	}
	return apps[0], nil
}

// GetApplication returns an application owned by orgID.
func (s *Store) GetApplication(ctx context.Context, orgID, id string) (storage.Application, error) {
	return s.getApp(ctx, "get application", "org_id = $1 AND id = $2", orgID, id)
}

// GetApplicationByClientID returns the application with that client ID,
// whichever organization owns it.
func (s *Store) GetApplicationByClientID(ctx context.Context, clientID string) (storage.Application, error) {
	return s.getApp(ctx, "get application by client id", "client_id = $1", clientID)
}

// UpdateApplication updates an application owned by a.OrgID: every field
// but ID, OrgID and CreatedAt (read back), and replaces its grants.
func (s *Store) UpdateApplication(ctx context.Context, a *storage.Application) error {
	const op = "update application"
	v := *a
	v.GrantedOrgIDs = dedupe(v.GrantedOrgIDs)
	v.UpdatedAt = s.timestamp()
	err := s.atomic(ctx, func(tx *Store) error {
		err := tx.writeRow(ctx, op,
			`UPDATE applications SET client_id = $3, name = $4, client_type = $5, secret_hash = $6,
			 redirect_uris = $7, post_logout_redirect_uris = $8, scopes = $9, allowed_kinds = $10,
			 first_party = $11, disabled = $12, updated_at = $13, settings = $14, version = version + 1, tile = $16
			 WHERE org_id = $1 AND id = $2 AND (CAST($15 AS BIGINT) = 0 OR version = $15) RETURNING created_at, version`,
			[]any{v.OrgID, v.ID, v.ClientID, v.Name, v.ClientType, v.SecretHash,
				list(v.RedirectURIs), list(v.PostLogoutRedirectURIs), list(v.Scopes), list(v.AllowedKinds),
				v.FirstParty, v.Disabled, micros(v.UpdatedAt), doc(v.Settings), v.Version, doc(v.Tile)}, ts(&v.CreatedAt), &v.Version)
		err = tx.checkVersion(ctx, err, a.Version, "applications", "org_id = $1 AND id = $2", v.OrgID, v.ID)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, op, `DELETE FROM app_grants WHERE app_id = $1`, v.ID); err != nil {
			return err
		}
		return tx.insertGrants(ctx, op, v.ID, v.GrantedOrgIDs)
	})
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// ListApplications returns the applications owned by orgID, by client ID.
func (s *Store) ListApplications(ctx context.Context, orgID string) ([]storage.Application, error) {
	const op = "list applications"
	apps, err := queryList(ctx, s, op, scanApp,
		`SELECT `+appColumns+` FROM applications WHERE org_id = $1 ORDER BY client_id`, orgID)
	if err != nil {
		return nil, err
	}
	return s.withGrants(ctx, op, "a.org_id = $1", orgID, apps)
}

// DeleteApplication deletes an application owned by orgID and its grants.
func (s *Store) DeleteApplication(ctx context.Context, orgID, id string) error {
	return s.execOne(ctx, "delete application",
		`DELETE FROM applications WHERE org_id = $1 AND id = $2`, orgID, id)
}

// SetApplicationIcon stores an application's icon and its hash in the
// application's tile, in one transaction.
func (s *Store) SetApplicationIcon(ctx context.Context, orgID, appID string, icon storage.AppIcon) error {
	const op = "set application icon"
	return s.atomic(ctx, func(tx *Store) error {
		a, err := tx.GetApplication(ctx, orgID, appID)
		if err != nil {
			return err
		}
		at := norm(tx.orNow(icon.UpdatedAt))
		if _, err := tx.exec(ctx, op,
			`INSERT INTO app_icons (app_id, content_type, data, sha256, updated_at) VALUES ($1, $2, $3, $4, $5)
			 ON CONFLICT (app_id) DO UPDATE SET content_type = $2, data = $3, sha256 = $4, updated_at = $5`,
			appID, icon.ContentType, icon.Data, icon.SHA256, micros(at)); err != nil {
			return err
		}
		a.Tile.IconSHA256 = icon.SHA256
		_, err = tx.exec(ctx, op, `UPDATE applications SET tile = $3 WHERE org_id = $1 AND id = $2`, orgID, appID, doc(a.Tile))
		return err
	})
}

// DeleteApplicationIcon removes an application's icon.
func (s *Store) DeleteApplicationIcon(ctx context.Context, orgID, appID string) error {
	const op = "delete application icon"
	return s.atomic(ctx, func(tx *Store) error {
		a, err := tx.GetApplication(ctx, orgID, appID)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, op, `DELETE FROM app_icons WHERE app_id = $1`, appID); err != nil {
			return err
		}
		a.Tile.IconSHA256 = ""
		_, err = tx.exec(ctx, op, `UPDATE applications SET tile = $3 WHERE org_id = $1 AND id = $2`, orgID, appID, doc(a.Tile))
		return err
	})
}

// GetApplicationIcon returns an application's icon.
func (s *Store) GetApplicationIcon(ctx context.Context, appID string) (storage.AppIcon, error) {
	return queryOne(ctx, s, "get application icon", func(r rowScanner) (storage.AppIcon, error) {
		var i storage.AppIcon
		err := r.Scan(&i.ContentType, &i.Data, &i.SHA256, ts(&i.UpdatedAt))
		return i, err
	}, `SELECT content_type, data, sha256, updated_at FROM app_icons WHERE app_id = $1`, appID)
}
