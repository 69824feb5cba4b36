package main

import (
	"context"
	"fmt"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/storage"
)

func roleSubcommands() []subcommand {
	return []subcommand{
		{"grant", "give a person an administration role", roleGrant},
		{"revoke", "take an administration role back", roleRevoke},
		{"list", "list the administration roles (of an organization with --org)", roleList},
	}
}

func runRole(ctx context.Context, env *cliEnv, args []string) error {
	return dispatch(ctx, env, "role", roleSubcommands(), args)
}

// roleFlags name one grant.
type roleFlags struct {
	person, org, role, app string
}

const roleUsage = "platform_admin, org_admin, org_helpdesk or app_manager"

func roleGrant(ctx context.Context, env *cliEnv, args []string) error {
	return roleChange(ctx, env, args, true)
}

func roleRevoke(ctx context.Context, env *cliEnv, args []string) error {
	return roleChange(ctx, env, args, false)
}

func roleChange(ctx context.Context, env *cliEnv, args []string, grant bool) error {
	var cf commonFlags
	var f roleFlags
	verb := map[bool]string{true: "grant", false: "revoke"}[grant]
	fs := newFlagSet(env, "role "+verb, "--person U --role ROLE [--org SLUG] [--app CLIENT_ID]", &cf)
	fs.StringVar(&f.person, "person", "", "username (required)")
	fs.StringVar(&f.role, "role", "", roleUsage+" (required)")
	fs.StringVar(&f.org, "org", "", "organization slug (every role but platform_admin)")
	fs.StringVar(&f.app, "app", "", "client_id of the application an app_manager manages")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "person", "role"); err != nil {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		p, err := personByUsername(ctx, st, f.person)
		if err != nil {
			return err
		}
		r := storage.AdminRole{PersonID: p.ID, Role: f.role}
		where := ""
		if f.org != "" {
			o, err := orgBySlug(ctx, st, f.org)
			if err != nil {
				return err
			}
			r.OrgID, where = o.ID, " in "+o.Slug
		}
		if f.app != "" {
			a, err := appByClientID(ctx, st, f.app)
			if err != nil {
				return err
			}
			r.AppID, where = a.ID, where+" for application "+a.ClientID
		}
		svc, err := newTerritory(st)
		if err != nil {
			return err
		}
		change := svc.GrantRole
		if !grant {
			change = svc.RevokeRole
		}
		if err := change(ctx, cliActor, r); err != nil {
			return explain("role "+f.role+" of "+p.Username, err)
		}
		if grant {
			fmt.Fprintf(env.stdout, "granted %s to %s%s\n", f.role, p.Username, where)
		} else {
			fmt.Fprintf(env.stdout, "revoked %s of %s%s\n", f.role, p.Username, where)
		}
		return nil
	})
}

// roleView is a grant as the CLI prints it in JSON.
type roleView struct {
	Person string `json:"person"`
	Role   string `json:"role"`
	Org    string `json:"org,omitempty"`
	App    string `json:"app,omitempty"`
}

func roleList(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var org string
	var asJSON bool
	fs := newFlagSet(env, "role list", "[--org SLUG] [--json]", &cf)
	fs.StringVar(&org, "org", "", "the roles held in this organization (default: the platform's)")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if stop, err := parse(fs, args); stop {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		orgID, slug := "", ""
		if org != "" {
			o, err := orgBySlug(ctx, st, org)
			if err != nil {
				return err
			}
			orgID, slug = o.ID, o.Slug
		}
		svc, err := newTerritory(st)
		if err != nil {
			return err
		}
		roles, err := svc.OrgRoles(ctx, cliActor, orgID)
		if err != nil {
			return err
		}
		views := make([]roleView, 0, len(roles))
		for _, r := range roles {
			v := roleView{Person: r.PersonID, Role: r.Role, Org: slug}
			if p, err := st.GetPerson(ctx, r.PersonID); err == nil {
				v.Person = p.Username
			}
			if r.AppID != "" {
				v.App = r.AppID
				if a, err := st.GetApplication(ctx, r.OrgID, r.AppID); err == nil {
					v.App = a.ClientID
				}
			}
			views = append(views, v)
		}
		if asJSON {
			return writeJSON(env.stdout, views)
		}
		t := newTable(env.stdout, "PERSON", "ROLE", "ORG", "APP")
		for _, v := range views {
			t.row(v.Person, v.Role, orNone(v.Org), orNone(v.App))
		}
		return t.flush()
	})
}
