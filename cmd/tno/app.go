package main

import (
	"context"
	"flag"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/storage"
)

func runApp(ctx context.Context, env *cliEnv, args []string) error {
	return dispatch(ctx, env, "app", []subcommand{
		{"create", "register an OpenID Connect application", appCreate},
		{"list", "list applications (of an organization with --org)", appList},
		{"show", "show an application", appShow},
		{"update", "change an application", appUpdate},
		{"rotate-secret", "give a confidential application a new secret", appRotateSecret},
		{"disable", "refuse sign-ins to an application", appDisable},
		{"enable", "accept sign-ins to a disabled application again", appEnable},
		{"grant-admin", "give an application an organization's role for the REST API", appGrantAdmin},
		{"revoke-admin", "take an application's role for the REST API back", appRevokeAdmin},
	}, args)
}

// newApps returns the applications' use cases on st.
func newApps(st storage.Store) (*apps.Service, error) { return apps.New(apps.Options{Store: st}) }

// appView is an application as the CLI prints it in JSON: the one
// description shared with apply and the API (apps.View).
type appView = apps.View

func newAppView(ix *orgIndex, a storage.Application) appView { return apps.NewView(a, ix.slug) }

// appFlags are the settable fields of an application.
type appFlags struct {
	org, name, typ                  string
	redirect, postLogout, grantOrgs listFlag
	kinds, scopes                   listFlag
	firstParty                      bool
	settings                        settingsFlags
}

func (f *appFlags) register(fs *flag.FlagSet, create bool) {
	// Only create has required flags and defaults: update changes what it
	// is given and keeps the rest.
	nameUsage := "new name shown to people"
	redirectUsage := "redirect URI, exact match (repeatable; replaces the list, which keeps at least one)"
	typeDefault := ""
	if create {
		fs.StringVar(&f.org, "org", "", "owner organization slug (required)")
		nameUsage = "name shown to people (required)"
		redirectUsage = "redirect URI, exact match, repeatable (required)"
		typeDefault = storage.ClientConfidential
	}
	fs.StringVar(&f.name, "name", "", nameUsage)
	fs.StringVar(&f.typ, "type", typeDefault, "confidential (server-side, has a secret) or public (browser or native app, PKCE only)")
	fs.Var(&f.redirect, "redirect-uri", redirectUsage)
	fs.Var(&f.postLogout, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
	fs.Var(&f.grantOrgs, "grant-org", "another organization whose members may sign in (repeatable)")
	fs.Var(&f.kinds, "kind", "membership kind allowed, agent or elu (repeatable; default every kind)")
	fs.Var(&f.scopes, "scope", "scope the application may request besides openid (repeatable; default every scope: "+strings.Join(apps.Scopes(), " ")+")")
	fs.BoolVar(&f.firstParty, "first-party", false, "the territory's own application: no consent screen")
	f.settings.register(fs)
}

// apply copies the given flags onto a; lists given replace a's.
func (f *appFlags) apply(a *storage.Application, ix *orgIndex, set map[string]bool) error {
	if set["name"] {
		a.Name = f.name
	}
	if set["type"] {
		a.ClientType = f.typ
	}
	if set["redirect-uri"] {
		a.RedirectURIs = f.redirect
	}
	if set["post-logout-redirect-uri"] {
		a.PostLogoutRedirectURIs = f.postLogout
	}
	if set["grant-org"] {
		ids, err := ix.ids("--grant-org", f.grantOrgs)
		if err != nil {
			return err
		}
		a.GrantedOrgIDs = ids
	}
	if set["kind"] {
		a.AllowedKinds = f.kinds
	}
	if set["scope"] {
		a.Scopes = f.scopes
	}
	if set["first-party"] {
		a.FirstParty = f.firstParty
	}
	return f.settings.apply(&a.Settings, set)
}

func printSecret(env *cliEnv, secret string) {
	fmt.Fprintf(env.stdout, "client_secret: %s\n", secret)
	fmt.Fprintln(env.stderr, "This client secret is shown once and is not stored in clear: copy it into the application's configuration now.")
}

func appCreate(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var f appFlags
	var a storage.Application
	fs := newFlagSet(env, "app create",
		"--org SLUG --client-id ID --name NAME [--type confidential|public] --redirect-uri URI... [--post-logout-redirect-uri URI...] [--grant-org SLUG...] [--kind agent|elu...] [--scope S...] [--first-party]\n       "+settingsSynopsis, &cf)
	fs.StringVar(&a.ClientID, "client-id", "", "client_id, unique in the territory (required)")
	f.register(fs, true)
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "org", "client-id", "name", "redirect-uri"); err != nil {
		return err
	}
	set := setFlags(fs)
	set["type"] = true // the default applies on creation
	return withStore(ctx, env, &cf, func(st storage.Store, cfg config.Config) error {
		ix, err := loadOrgs(ctx, st)
		if err != nil {
			return err
		}
		o, err := orgBySlug(ctx, st, f.org)
		if err != nil {
			return err
		}
		a.OrgID = o.ID
		if err := f.apply(&a, ix, set); err != nil {
			return err
		}
		svc, err := newApps(st)
		if err != nil {
			return err
		}
		secret, err := svc.Create(ctx, cliActor, &a)
		if err != nil {
			return explain("application "+a.ClientID, err)
		}
		fmt.Fprintf(env.stdout, "created application %s (%s) owned by %s\n", a.ClientID, a.ClientType, o.Slug)
		fmt.Fprintf(env.stdout, "client_id: %s\n", a.ClientID)
		if secret != "" {
			printSecret(env, secret)
		}
		if a.Settings.TokenEndpointAuthMethod == apps.AuthPrivateKeyJWT {
			fmt.Fprintln(env.stdout, "no client secret: the application authenticates with private_key_jwt")
		}
		warnAlg(env, cfg, a.Settings)
		return nil
	})
}

func appList(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var org string
	var asJSON bool
	fs := newFlagSet(env, "app list", "[--org SLUG] [--json]", &cf)
	fs.StringVar(&org, "org", "", "only the applications owned by this organization")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if stop, err := parse(fs, args); stop {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		ix, err := loadOrgs(ctx, st)
		if err != nil {
			return err
		}
		owners := ix.all
		if org != "" {
			o, err := orgBySlug(ctx, st, org)
			if err != nil {
				return err
			}
			owners = []storage.Organization{o}
		}
		views := []appView{}
		for _, o := range owners {
			list, err := st.ListApplications(ctx, o.ID)
			if err != nil {
				return err
			}
			for _, a := range list {
				views = append(views, newAppView(ix, a))
			}
		}
		if asJSON {
			return writeJSON(env.stdout, views)
		}
		t := newTable(env.stdout, "CLIENT_ID", "NAME", "TYPE", "ORG", "GRANT_ORGS", "KINDS", "STATUS")
		for _, v := range views {
			t.row(v.ClientID, v.Name, v.Type, v.Org, strings.Join(v.GrantOrgs, ","), strings.Join(v.Kinds, ","), enabled(v.Disabled))
		}
		return t.flush()
	})
}

func appShow(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var clientID string
	var asJSON bool
	fs := newFlagSet(env, "app show", "--client-id ID [--json]", &cf)
	fs.StringVar(&clientID, "client-id", "", "application (required)")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "client-id"); err != nil {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		a, err := appByClientID(ctx, st, clientID)
		if err != nil {
			return err
		}
		ix, err := loadOrgs(ctx, st)
		if err != nil {
			return err
		}
		v := newAppView(ix, a)
		if asJSON {
			return writeJSON(env.stdout, v)
		}
		secret := "none (public client)"
		switch {
		case !apps.UsesSecret(a):
			if v.Type == storage.ClientConfidential {
				secret = "none (private_key_jwt)"
			}
		default:
			secret = map[bool]string{true: "set (not shown; see tno app rotate-secret)", false: "not set"}[v.HasSecret]
		}
		kinds := strings.Join(v.Kinds, ", ")
		if kinds == "" {
			kinds = "every kind"
		}
		scopes := strings.Join(v.Scopes, " ")
		if scopes == "" {
			scopes = "every scope"
		}
		return fields(env.stdout, append([]string{
			"client_id", v.ClientID,
			"name", v.Name,
			"type", v.Type,
			"client secret", secret,
			"org", v.Org,
			"grant orgs", strings.Join(v.GrantOrgs, ", "),
			"kinds", kinds,
			"scopes", scopes,
			"redirect URIs", strings.Join(v.RedirectURIs, "\n\t"),
			"post-logout URIs", strings.Join(v.PostLogoutRedirectURIs, "\n\t"),
			"first party", yesNo(v.FirstParty),
			"status", enabled(v.Disabled),
			"created", fmtTimestamp(v.CreatedAt),
			"updated", fmtTimestamp(v.UpdatedAt),
		}, settingsFields(v.Type, v.SettingsView)...)...)
	})
}

func appUpdate(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var f appFlags
	var clientID string
	fs := newFlagSet(env, "app update",
		"--client-id ID [--name NAME] [--type T] [--redirect-uri URI...] [--post-logout-redirect-uri URI...] [--grant-org SLUG...] [--kind K...] [--scope S...] [--first-party=true|false]\n       "+settingsSynopsis+"\n\nA repeatable flag, when given, replaces the whole list; give it once with \"\" to empty an optional list. A string flag given as \"\" restores the default. A boolean flag is turned off with --flag=false.", &cf)
	fs.StringVar(&clientID, "client-id", "", "application to change (required)")
	f.register(fs, false)
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "client-id"); err != nil {
		return err
	}
	set := setFlags(fs)
	// A single empty value empties an optional list.
	for _, l := range append([]*listFlag{&f.postLogout, &f.grantOrgs, &f.kinds, &f.scopes}, f.settings.emptyLists()...) {
		if len(*l) == 1 && (*l)[0] == "" {
			*l = nil
		}
	}
	return withStore(ctx, env, &cf, func(st storage.Store, cfg config.Config) error {
		a, err := appByClientID(ctx, st, clientID)
		if err != nil {
			return err
		}
		ix, err := loadOrgs(ctx, st)
		if err != nil {
			return err
		}
		before := newAppView(ix, a)
		if err := f.apply(&a, ix, set); err != nil {
			return err
		}
		after := newAppView(ix, a)
		// The secret follows the authentication method (apps.Service.Update):
		// compare what the person can change.
		after.HasSecret = apps.UsesSecret(a) && a.SecretHash != ""
		before.HasSecret = after.HasSecret
		if sameApp(before, after) {
			fmt.Fprintf(env.stdout, "unchanged application %s\n", a.ClientID)
			return nil
		}
		svc, err := newApps(st)
		if err != nil {
			return err
		}
		secret, err := svc.Update(ctx, cliActor, &a)
		if err != nil {
			return explain("application "+a.ClientID, err)
		}
		fmt.Fprintf(env.stdout, "updated application %s\n", a.ClientID)
		if secret != "" {
			printSecret(env, secret)
		}
		warnAlg(env, cfg, a.Settings)
		return nil
	})
}

// sameApp compares what a person can change.
func sameApp(a, b appView) bool {
	a.CreatedAt, a.UpdatedAt, b.CreatedAt, b.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func appRotateSecret(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var clientID string
	fs := newFlagSet(env, "app rotate-secret", "--client-id ID", &cf)
	fs.StringVar(&clientID, "client-id", "", "application (required)")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "client-id"); err != nil {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		a, err := appByClientID(ctx, st, clientID)
		if err != nil {
			return err
		}
		svc, err := newApps(st)
		if err != nil {
			return err
		}
		secret, err := svc.RotateSecret(ctx, cliActor, a.OrgID, a.ID)
		if err != nil {
			return explain("application "+a.ClientID, err)
		}
		fmt.Fprintf(env.stdout, "new secret for application %s; the old one no longer works\n", a.ClientID)
		printSecret(env, secret)
		return nil
	})
}

func appDisable(ctx context.Context, env *cliEnv, args []string) error {
	return appSetDisabled(ctx, env, args, true)
}

func appEnable(ctx context.Context, env *cliEnv, args []string) error {
	return appSetDisabled(ctx, env, args, false)
}

func appSetDisabled(ctx context.Context, env *cliEnv, args []string, disable bool) error {
	var cf commonFlags
	var clientID string
	verb := map[bool]string{true: "disable", false: "enable"}[disable]
	fs := newFlagSet(env, "app "+verb, "--client-id ID", &cf)
	fs.StringVar(&clientID, "client-id", "", "application (required)")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "client-id"); err != nil {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		a, err := appByClientID(ctx, st, clientID)
		if err != nil {
			return err
		}
		svc, err := newApps(st)
		if err != nil {
			return err
		}
		changed, err := svc.SetDisabled(ctx, cliActor, a.OrgID, a.ID, disable)
		if err != nil {
			return err
		}
		if !changed {
			fmt.Fprintf(env.stdout, "application %s was already %sd\n", a.ClientID, verb)
			return nil
		}
		fmt.Fprintf(env.stdout, "%sd application %s\n", verb, a.ClientID)
		return nil
	})
}
