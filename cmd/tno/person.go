package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/server"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

func runPerson(ctx context.Context, env *cliEnv, args []string) error {
	return dispatch(ctx, env, "person", []subcommand{
		{"create", "create a person", personCreate},
		{"list", "list people (of an organization with --org)", personList},
		{"show", "show a person with their memberships and mandates", personShow},
		{"set-password", "set a person's local password", personSetPassword},
		{"disable", "forbid a person to sign in and end their sessions", personDisable},
		{"enable", "allow a disabled person to sign in again", personEnable},
		{"reset-factors", "remove a person's authenticator app, recovery codes and passkeys (a lost phone)", personResetFactors},
	}, args)
}

// personView is a person as the CLI prints it in JSON.
type personView struct {
	ID            string           `json:"id"`
	Username      string           `json:"username"`
	GivenName     string           `json:"given_name"`
	FamilyName    string           `json:"family_name"`
	UsualName     string           `json:"usual_name,omitempty"`
	Email         string           `json:"email,omitempty"`
	EmailVerified bool             `json:"email_verified"`
	Phone         string           `json:"phone,omitempty"`
	Disabled      bool             `json:"disabled"`
	HasPassword   *bool            `json:"has_password,omitempty"`
	Memberships   []membershipView `json:"memberships,omitempty"`
	CreatedAt     time.Time        `json:"created_at"`
	UpdatedAt     time.Time        `json:"updated_at"`
}

func newPersonView(p storage.Person) personView {
	return personView{
		ID: p.ID, Username: p.Username, GivenName: p.GivenName, FamilyName: p.FamilyName,
		UsualName: p.UsualName, Email: p.Email, EmailVerified: p.EmailVerified, Phone: p.Phone,
		Disabled: p.Disabled, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

func personCreate(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var p storage.Person
	var pf passwordFlags
	fs := newFlagSet(env, "person create",
		"--username U --given-name G --family-name F [--usual-name N] [--email E] [--email-verified] [--phone P] [--password-stdin | --generate-password]", &cf)
	fs.StringVar(&p.Username, "username", "", "sign-in identifier, lowercase (required)")
	fs.StringVar(&p.GivenName, "given-name", "", "given name(s) (required)")
	fs.StringVar(&p.FamilyName, "family-name", "", "birth name (required)")
	fs.StringVar(&p.UsualName, "usual-name", "", "usual name (nom d'usage), if different")
	fs.StringVar(&p.Email, "email", "", "e-mail address")
	fs.BoolVar(&p.EmailVerified, "email-verified", false, "the e-mail address is known to be the person's")
	fs.StringVar(&p.Phone, "phone", "", "phone number")
	pf.register(fs)
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "username", "given-name", "family-name"); err != nil {
		return err
	}
	pw, generated, err := pf.password(env)
	if err != nil {
		return err
	}
	return withCore(ctx, env, &cf, func(core *server.Core, _ storage.Store, _ config.Config) error {
		if err := core.Territory.CreatePerson(ctx, cliActor, &p, territory.NewPerson{Password: pw}); err != nil {
			return explain("person "+p.Username, err)
		}
		fmt.Fprintf(env.stdout, "created person %s (%s %s)\n", p.Username, p.GivenName, p.FamilyName)
		if generated {
			printGeneratedPassword(env, p.Username, pw)
		} else if pw == "" {
			fmt.Fprintf(env.stdout, "%s has no password yet: see tno person set-password\n", p.Username)
		}
		return nil
	})
}

func personList(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var org string
	var asJSON bool
	fs := newFlagSet(env, "person list", "[--org SLUG] [--json]", &cf)
	fs.StringVar(&org, "org", "", "only the people with a membership (current or not) in this organization")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if stop, err := parse(fs, args); stop {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		var people []storage.Person
		if org != "" {
			o, err := orgBySlug(ctx, st, org)
			if err != nil {
				return err
			}
			if people, err = st.ListPeopleInOrganization(ctx, o.ID); err != nil {
				return err
			}
		} else {
			var err error
			if people, err = st.ListPeople(ctx); err != nil {
				return err
			}
		}
		if asJSON {
			views := make([]personView, 0, len(people))
			for _, p := range people {
				views = append(views, newPersonView(p))
			}
			return writeJSON(env.stdout, views)
		}
		t := newTable(env.stdout, "USERNAME", "GIVEN NAME", "FAMILY NAME", "USUAL NAME", "EMAIL", "STATUS")
		for _, p := range people {
			t.row(p.Username, p.GivenName, p.FamilyName, p.UsualName, p.Email, enabled(p.Disabled))
		}
		return t.flush()
	})
}

func personShow(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var username string
	var asJSON bool
	fs := newFlagSet(env, "person show", "--username U [--json]", &cf)
	fs.StringVar(&username, "username", "", "person (required)")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "username"); err != nil {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		p, err := personByUsername(ctx, st, username)
		if err != nil {
			return err
		}
		hash, err := st.GetPasswordHash(ctx, p.ID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		hasPassword := hash != ""
		ix, err := loadOrgs(ctx, st)
		if err != nil {
			return err
		}
		ms, err := st.ListPersonMemberships(ctx, p.ID)
		if err != nil {
			return err
		}
		v := newPersonView(p)
		v.HasPassword = &hasPassword
		now := time.Now()
		for _, m := range ms {
			mv, err := newMembershipView(ctx, st, ix, p, m, now)
			if err != nil {
				return err
			}
			v.Memberships = append(v.Memberships, mv)
		}
		if asJSON {
			if v.Memberships == nil {
				v.Memberships = []membershipView{}
			}
			return writeJSON(env.stdout, v)
		}
		if err := fields(env.stdout,
			"username", p.Username,
			"given name", p.GivenName,
			"family name", p.FamilyName,
			"usual name", p.UsualName,
			"email", p.Email,
			"email verified", yesNo(p.EmailVerified),
			"phone", p.Phone,
			"status", enabled(p.Disabled),
			"password", map[bool]string{true: "set", false: "not set"}[hasPassword],
			"created", fmtTimestamp(p.CreatedAt),
			"updated", fmtTimestamp(p.UpdatedAt),
		); err != nil {
			return err
		}
		if len(v.Memberships) == 0 {
			fmt.Fprintln(env.stdout, "\nNo memberships.")
			return nil
		}
		fmt.Fprintln(env.stdout, "\nMemberships:")
		return printMemberships(env, v.Memberships, false)
	})
}

func personSetPassword(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var username string
	var pf passwordFlags
	var temporary bool
	fs := newFlagSet(env, "person set-password", "--username U (--password-stdin | --generate-password) [--temporary]", &cf)
	fs.StringVar(&username, "username", "", "person (required)")
	fs.BoolVar(&temporary, "temporary", false, "the person must choose a new password at their next sign-in")
	pf.register(fs)
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "username"); err != nil {
		return err
	}
	if !pf.stdin && !pf.generate {
		fmt.Fprintln(env.stderr, "tno person set-password: give --password-stdin or --generate-password")
		fs.Usage()
		return errUsage
	}
	pw, generated, err := pf.password(env)
	if err != nil {
		return err
	}
	return withCore(ctx, env, &cf, func(core *server.Core, st storage.Store, _ config.Config) error {
		p, err := personByUsername(ctx, st, username)
		if err != nil {
			return err
		}
		if err := core.Territory.SetPassword(ctx, cliActor, "", p.ID, pw, temporary); err != nil {
			return explain("password of "+p.Username, err)
		}
		if temporary {
			fmt.Fprintf(env.stdout, "set a temporary password for %s: they choose a new one at their next sign-in\n", p.Username)
		} else {
			fmt.Fprintf(env.stdout, "set the password of %s\n", p.Username)
		}
		if generated {
			printGeneratedPassword(env, p.Username, pw)
		}
		return nil
	})
}

func personDisable(ctx context.Context, env *cliEnv, args []string) error {
	return personSetDisabled(ctx, env, args, true)
}

func personEnable(ctx context.Context, env *cliEnv, args []string) error {
	return personSetDisabled(ctx, env, args, false)
}

func personSetDisabled(ctx context.Context, env *cliEnv, args []string, disable bool) error {
	var cf commonFlags
	var username string
	verb := map[bool]string{true: "disable", false: "enable"}[disable]
	fs := newFlagSet(env, "person "+verb, "--username U", &cf)
	fs.StringVar(&username, "username", "", "person (required)")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "username"); err != nil {
		return err
	}
	return withCore(ctx, env, &cf, func(core *server.Core, st storage.Store, _ config.Config) error {
		p, err := personByUsername(ctx, st, username)
		if err != nil {
			return err
		}
		if disable {
			// Ending sessions signs back-channel logout tokens: the
			// signing key must exist even if no server ever started.
			if _, err := core.Keys.Ensure(ctx); err != nil {
				return err
			}
		}
		// Disabling ends the person's single sign-on sessions now and
		// queues a back-channel logout notice for every application
		// they signed into (a running server sends them).
		changed, revoked, err := core.Territory.SetDisabled(ctx, cliActor, "", p.ID, disable)
		if err != nil {
			return err
		}
		switch {
		case changed:
			fmt.Fprintf(env.stdout, "%sd person %s\n", verb, p.Username)
		default:
			fmt.Fprintf(env.stdout, "person %s was already %sd\n", p.Username, verb)
		}
		if revoked > 0 {
			fmt.Fprintf(env.stdout, "revoked %d session(s)\n", revoked)
		}
		return nil
	})
}

// personResetFactors removes a person's second factors, for a person who
// lost their phone or key: they sign in with their password again and
// enrol new ones (or are led through enrolment if a policy requires one).
// The removal is recorded in the audit log.
func personResetFactors(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var username string
	fs := newFlagSet(env, "person reset-factors", "--username U", &cf)
	fs.StringVar(&username, "username", "", "person (required)")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "username"); err != nil {
		return err
	}
	return withCore(ctx, env, &cf, func(core *server.Core, st storage.Store, _ config.Config) error {
		p, err := personByUsername(ctx, st, username)
		if err != nil {
			return err
		}
		n, err := core.Territory.ResetFactors(ctx, cliActor, "", p.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "removed %d factors of %s (authenticator app, recovery codes, passkeys)\n", n, p.Username)
		return nil
	})
}
