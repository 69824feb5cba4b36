package territory

import (
	"context"
	"errors"
	"fmt"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// CreateOrganization validates and stores o (platform only).
func (s *Service) CreateOrganization(ctx context.Context, a authz.Actor, o *storage.Organization) error {
	if err := authz.Check(a, authz.OrgsWrite, authz.Platform); err != nil {
		return err
	}
	if err := ValidateOrganization(*o); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		if _, err := tx.GetOrganizationBySlug(ctx, o.Slug); err == nil {
			return orgConflict(o.Slug, storage.ErrConflict)
		}
		if err := s.checkSIREN(ctx, tx, *o); err != nil {
			return err
		}
		if err := tx.CreateOrganization(ctx, o); err != nil {
			return orgConflict(o.Slug, err)
		}
		return Record(ctx, log, a, Change{Type: audit.OrgCreated, OrgID: o.ID, Target: "organization:" + o.ID, After: ViewOrg(*o)})
	})
}

// UpdateOrganization validates and stores o. The legal identity (slug,
// name, SIREN, SIRET) is the platform's; the second-factor policy is also
// the organization's administrators'. o.Version, when set, must be the
// stored one.
func (s *Service) UpdateOrganization(ctx context.Context, a authz.Actor, o *storage.Organization) error {
	if err := ValidateOrganization(*o); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		cur, err := tx.GetOrganization(ctx, o.ID)
		if err != nil {
			return notFound("organization", err)
		}
		if err := authz.Check(a, authz.OrgRead, authz.Org(o.ID)); err != nil {
			return err
		}
		if cur.Slug != o.Slug || cur.Name != o.Name || cur.SIREN != o.SIREN || cur.SIRET != o.SIRET {
			if err := authz.Check(a, authz.OrgsWrite, authz.Platform); err != nil {
				return err
			}
		}
		if cur.MFAPolicy != o.MFAPolicy {
			if err := authz.Check(a, authz.OrgSecurity, authz.Org(o.ID)); err != nil {
				return err
			}
		}
		if cur.SIREN != o.SIREN {
			if err := s.checkSIREN(ctx, tx, *o); err != nil {
				return err
			}
		}
		if err := tx.UpdateOrganization(ctx, o); err != nil {
			return stale(orgConflict(o.Slug, err))
		}
		return Record(ctx, log, a, Change{Type: audit.OrgUpdated, OrgID: o.ID, Target: "organization:" + o.ID,
			Before: ViewOrg(cur), After: ViewOrg(*o)})
	})
}

// checkSIREN refuses a SIREN another organization holds: one SIREN is
// one legal entity.
func (s *Service) checkSIREN(ctx context.Context, tx Store, o storage.Organization) error {
	all, err := tx.ListOrganizations(ctx)
	if err != nil {
		return err
	}
	for _, other := range all {
		if other.ID != o.ID && other.SIREN == o.SIREN {
			return field.New("siren", field.Taken, "SIREN %s already belongs to organization %s", o.SIREN, other.Slug).
				With("siren", o.SIREN).With("org", other.Slug)
		}
	}
	return nil
}

func orgConflict(slug string, err error) error {
	if errors.Is(err, storage.ErrConflict) {
		return errors.Join(field.New("slug", field.Taken, "already exists").With("slug", slug), err)
	}
	return err
}

// Organization returns one organization the actor may see.
func (s *Service) Organization(ctx context.Context, a authz.Actor, id string) (storage.Organization, error) {
	if err := authz.Check(a, authz.OrgRead, authz.Org(id)); err != nil {
		return storage.Organization{}, err
	}
	o, err := s.store.GetOrganization(ctx, id)
	return o, notFound("organization", err)
}

// OrganizationBySlug returns one organization the actor may see.
func (s *Service) OrganizationBySlug(ctx context.Context, a authz.Actor, slug string) (storage.Organization, error) {
	o, err := s.store.GetOrganizationBySlug(ctx, slug)
	if err != nil {
		return o, notFound(fmt.Sprintf("organization %s", slug), err)
	}
	if err := authz.Check(a, authz.OrgRead, authz.Org(o.ID)); err != nil {
		return storage.Organization{}, err
	}
	return o, nil
}

// Organizations lists the organizations the actor may see, by slug.
func (s *Service) Organizations(ctx context.Context, a authz.Actor) ([]storage.Organization, error) {
	all, err := s.store.ListOrganizations(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, o := range all {
		if a.Can(authz.OrgRead, authz.Org(o.ID)) {
			out = append(out, o)
		}
	}
	return out, nil
}
