package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

func runOrg(ctx context.Context, env *cliEnv, args []string) error {
	return dispatch(ctx, env, "org", []subcommand{
		{"create", "create an organization", orgCreate},
		{"list", "list organizations", orgList},
		{"show", "show an organization", orgShow},
		{"update", "change an organization's name, SIREN or SIRET", orgUpdate},
	}, args)
}

// orgView is an organization as the CLI prints it in JSON.
type orgView struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	SIREN     string    `json:"siren"`
	SIRET     string    `json:"siret,omitempty"`
	MFAPolicy string    `json:"mfa_policy,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func newOrgView(o storage.Organization) orgView {
	return orgView{ID: o.ID, Slug: o.Slug, Name: o.Name, SIREN: o.SIREN, SIRET: o.SIRET, MFAPolicy: o.MFAPolicy, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

// newTerritory returns the territory's use cases on st, for the commands
// that neither hash passwords nor end sessions (those use withCore).
func newTerritory(st storage.Store) (*territory.Service, error) {
	return territory.New(territory.Options{Store: st})
}

func orgCreate(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var o storage.Organization
	fs := newFlagSet(env, "org create", "--slug SLUG --name NAME --siren SIREN [--siret SIRET] [--mfa-policy elus|all]", &cf)
	fs.StringVar(&o.Slug, "slug", "", "identifier: lowercase letters, digits and hyphens (required)")
	fs.StringVar(&o.Name, "name", "", "name, e.g. \"Ville d'Exemple\" (required)")
	fs.StringVar(&o.SIREN, "siren", "", "SIREN, 9 digits (required)")
	fs.StringVar(&o.SIRET, "siret", "", "SIRET of the main establishment, 14 digits starting with the SIREN")
	fs.StringVar(&o.MFAPolicy, "mfa-policy", "", mfaPolicyUsage)
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "slug", "name", "siren"); err != nil {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		svc, err := newTerritory(st)
		if err != nil {
			return err
		}
		if err := svc.CreateOrganization(ctx, cliActor, &o); err != nil {
			return explainOrgConflict(ctx, st, o, err)
		}
		fmt.Fprintf(env.stdout, "created organization %s (%s)\n", o.Slug, o.Name)
		return nil
	})
}

func orgList(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var asJSON bool
	fs := newFlagSet(env, "org list", "[--json]", &cf)
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if stop, err := parse(fs, args); stop {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		orgs, err := st.ListOrganizations(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			views := make([]orgView, 0, len(orgs))
			for _, o := range orgs {
				views = append(views, newOrgView(o))
			}
			return writeJSON(env.stdout, views)
		}
		t := newTable(env.stdout, "SLUG", "NAME", "SIREN", "SIRET")
		for _, o := range orgs {
			t.row(o.Slug, o.Name, o.SIREN, o.SIRET)
		}
		return t.flush()
	})
}

func orgShow(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var slug string
	var asJSON bool
	fs := newFlagSet(env, "org show", "--slug SLUG [--json]", &cf)
	fs.StringVar(&slug, "slug", "", "organization (required)")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "slug"); err != nil {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		o, err := orgBySlug(ctx, st, slug)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(env.stdout, newOrgView(o))
		}
		members, err := st.ListMemberships(ctx, o.ID)
		if err != nil {
			return err
		}
		apps, err := st.ListApplications(ctx, o.ID)
		if err != nil {
			return err
		}
		return fields(env.stdout,
			"slug", o.Slug,
			"name", o.Name,
			"siren", o.SIREN,
			"siret", o.SIRET,
			"second factor", mfaPolicyText(o.MFAPolicy),
			"memberships", fmt.Sprint(len(members)),
			"applications", fmt.Sprint(len(apps)),
			"created", fmtTimestamp(o.CreatedAt),
			"updated", fmtTimestamp(o.UpdatedAt),
		)
	})
}

func orgUpdate(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var slug, name, siren, siret, mfa string
	fs := newFlagSet(env, "org update", "--slug SLUG [--name NAME] [--siren SIREN] [--siret SIRET] [--mfa-policy elus|all|\"\"]", &cf)
	fs.StringVar(&slug, "slug", "", "organization to change (required)")
	fs.StringVar(&name, "name", "", "new name")
	fs.StringVar(&siren, "siren", "", "new SIREN")
	fs.StringVar(&siret, "siret", "", "new SIRET (--siret \"\" removes it)")
	fs.StringVar(&mfa, "mfa-policy", "", mfaPolicyUsage+" (--mfa-policy \"\" removes it)")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "slug"); err != nil {
		return err
	}
	set := setFlags(fs)
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		o, err := orgBySlug(ctx, st, slug)
		if err != nil {
			return err
		}
		before := o
		if set["name"] {
			o.Name = name
		}
		if set["siren"] {
			o.SIREN = siren
		}
		if set["siret"] {
			o.SIRET = siret
		}
		if set["mfa-policy"] {
			o.MFAPolicy = mfa
		}
		if o == before {
			fmt.Fprintf(env.stdout, "unchanged organization %s\n", o.Slug)
			return nil
		}
		svc, err := newTerritory(st)
		if err != nil {
			return err
		}
		if err := svc.UpdateOrganization(ctx, cliActor, &o); err != nil {
			return explainOrgConflict(ctx, st, o, err)
		}
		fmt.Fprintf(env.stdout, "updated organization %s\n", o.Slug)
		return nil
	})
}

// explainOrgConflict is explain for writing o, saying whose SIREN o's
// clashes with when that is the conflict (another organization's slug
// stays "already exists").
func explainOrgConflict(ctx context.Context, st storage.Organizations, o storage.Organization, err error) error {
	if !errors.Is(err, storage.ErrConflict) {
		return explain("organization "+o.Slug, err)
	}
	if other, lerr := st.GetOrganizationBySlug(ctx, o.Slug); lerr == nil && other.ID != o.ID {
		return explain("organization "+o.Slug, err)
	}
	orgs, lerr := st.ListOrganizations(ctx)
	if lerr == nil {
		for _, other := range orgs {
			if other.SIREN == o.SIREN && other.ID != o.ID {
				return &sirenConflictError{slug: o.Slug, siren: o.SIREN, other: other.Slug}
			}
		}
	}
	return explain("organization "+o.Slug, err)
}

// sirenConflictError is a SIREN another organization has; it matches
// storage.ErrConflict.
type sirenConflictError struct{ slug, siren, other string }

func (e *sirenConflictError) Error() string {
	return fmt.Sprintf("organization %s: SIREN %s already belongs to organization %s (a SIREN is one legal entity)", e.slug, e.siren, e.other)
}
func (e *sirenConflictError) Unwrap() error { return storage.ErrConflict }

const mfaPolicyUsage = "require a second factor at sign-in of the organization's élus (elus) or of all its members (all)"

func mfaPolicyText(p string) string {
	switch p {
	case storage.MFAElus:
		return "required of élus"
	case storage.MFAAll:
		return "required of all members"
	}
	return "not required"
}
