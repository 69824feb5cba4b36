package sqlstore

import (
	"context"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const orgColumns = `id, slug, name, siren, siret, created_at, updated_at, mfa_policy, version`

func scanOrg(r rowScanner) (storage.Organization, error) {
	var o storage.Organization
	err := r.Scan(&o.ID, &o.Slug, &o.Name, &o.SIREN, &o.SIRET, ts(&o.CreatedAt), ts(&o.UpdatedAt), &o.MFAPolicy, &o.Version)
	return o, err
}

// CreateOrganization inserts o; ErrConflict on a duplicate slug or a
// SIREN another organization has.
func (s *Store) CreateOrganization(ctx context.Context, o *storage.Organization) error {
	v := *o
	if v.ID == "" {
		v.ID = storage.NewID()
	}
	v.CreatedAt = s.timestamp()
	v.UpdatedAt = v.CreatedAt
	v.Version = 1
	_, err := s.exec(ctx, "create organization",
		`INSERT INTO organizations (`+orgColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		v.ID, v.Slug, v.Name, v.SIREN, v.SIRET, micros(v.CreatedAt), micros(v.UpdatedAt), v.MFAPolicy, v.Version)
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// GetOrganization returns the organization with that ID.
func (s *Store) GetOrganization(ctx context.Context, id string) (storage.Organization, error) {
	return queryOne(ctx, s, "get organization", scanOrg,
		`SELECT `+orgColumns+` FROM organizations WHERE id = $1`, id)
}

// GetOrganizationBySlug returns the organization with that slug.
func (s *Store) GetOrganizationBySlug(ctx context.Context, slug string) (storage.Organization, error) {
	return queryOne(ctx, s, "get organization by slug", scanOrg,
		`SELECT `+orgColumns+` FROM organizations WHERE slug = $1`, slug)
}

// ListOrganizations returns every organization, by slug.
func (s *Store) ListOrganizations(ctx context.Context) ([]storage.Organization, error) {
	return queryList(ctx, s, "list organizations", scanOrg,
		`SELECT `+orgColumns+` FROM organizations ORDER BY slug`)
}

// UpdateOrganization updates slug, name, SIREN and SIRET by ID, sets
// UpdatedAt and reads back CreatedAt; ErrConflict on a slug or a SIREN
// another organization has.
func (s *Store) UpdateOrganization(ctx context.Context, o *storage.Organization) error {
	v := *o
	v.UpdatedAt = s.timestamp()
	err := s.writeRow(ctx, "update organization",
		`UPDATE organizations SET slug = $2, name = $3, siren = $4, siret = $5, updated_at = $6, mfa_policy = $7, version = version + 1
		 WHERE id = $1 AND (CAST($8 AS BIGINT) = 0 OR version = $8) RETURNING created_at, version`,
		[]any{v.ID, v.Slug, v.Name, v.SIREN, v.SIRET, micros(v.UpdatedAt), v.MFAPolicy, v.Version}, ts(&v.CreatedAt), &v.Version)
	err = s.checkVersion(ctx, err, o.Version, "organizations", "id = $1", v.ID)
	if err != nil {
		return err
	}
	*o = v
	return nil
}
