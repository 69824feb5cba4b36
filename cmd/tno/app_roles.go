package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// appGrantAdmin gives an application an organization's role for the
// REST API (client_credentials tokens); appRevokeAdmin takes it back.
func appGrantAdmin(ctx context.Context, env *cliEnv, args []string) error {
	return appChangeAdmin(ctx, env, args, true)
}

func appRevokeAdmin(ctx context.Context, env *cliEnv, args []string) error {
	return appChangeAdmin(ctx, env, args, false)
}

func appChangeAdmin(ctx context.Context, env *cliEnv, args []string, grant bool) error {
	var cf commonFlags
	var clientID, org, role string
	verb := map[bool]string{true: "grant-admin", false: "revoke-admin"}[grant]
	fs := newFlagSet(env, "app "+verb, "--client-id ID --org SLUG --role org_admin|org_helpdesk", &cf)
	fs.StringVar(&clientID, "client-id", "", "application acting through the REST API (required)")
	fs.StringVar(&org, "org", "", "organization slug: the application's owner or one it is granted to (required)")
	fs.StringVar(&role, "role", "", "org_admin or org_helpdesk (required)")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "client-id", "org", "role"); err != nil {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		a, err := appByClientID(ctx, st, clientID)
		if err != nil {
			return err
		}
		o, err := orgBySlug(ctx, st, org)
		if err != nil {
			return err
		}
		svc, err := newTerritory(st)
		if err != nil {
			return err
		}
		r := storage.ClientRole{ClientID: a.ClientID, OrgID: o.ID, Role: role}
		change := svc.GrantClientRole
		if !grant {
			change = svc.RevokeClientRole
		}
		if err := change(ctx, cliActor, r); err != nil {
			return explain("role "+role+" of application "+a.ClientID, err)
		}
		if !grant {
			fmt.Fprintf(env.stdout, "revoked %s of application %s in %s\n", role, a.ClientID, o.Slug)
			return nil
		}
		fmt.Fprintf(env.stdout, "granted %s to application %s in %s\n", role, a.ClientID, o.Slug)
		if a.ClientType != storage.ClientConfidential || !slices.Contains(a.Settings.GrantTypes, "client_credentials") {
			fmt.Fprintf(env.stderr, "The application cannot obtain a token for itself yet: add client_credentials to its grant types (tno app update --client-id %s --grant-type client_credentials, repeating the grant types it keeps).\n", a.ClientID)
		}
		return nil
	})
}
