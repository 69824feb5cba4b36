package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/storage"
)

func runMembership(ctx context.Context, env *cliEnv, args []string) error {
	return dispatch(ctx, env, "membership", []subcommand{
		{"create", "make a person an agent or élu of an organization", membershipCreate},
		{"list", "list the memberships of an organization or of a person", membershipList},
		{"end", "end a membership (now or at --at)", membershipEnd},
	}, args)
}

func runMandate(ctx context.Context, env *cliEnv, args []string) error {
	return dispatch(ctx, env, "mandate", []subcommand{
		{"add", "add a mandate to an élu's membership", mandateAdd},
		{"list", "list an élu's mandates in an organization", mandateList},
	}, args)
}

// membershipView is a membership as the CLI prints it in JSON.
type membershipView struct {
	ID       string        `json:"id"`
	Person   string        `json:"person"`
	Org      string        `json:"org"`
	Kind     string        `json:"kind"`
	Service  string        `json:"service,omitempty"`
	Title    string        `json:"title,omitempty"`
	Email    string        `json:"email,omitempty"`
	Phone    string        `json:"phone,omitempty"`
	From     time.Time     `json:"from"`
	Until    *time.Time    `json:"until,omitempty"`
	Status   string        `json:"status"`
	Mandates []mandateView `json:"mandates,omitempty"`
}

type mandateView struct {
	ID          string     `json:"id"`
	Function    string     `json:"function"`
	Delegations string     `json:"delegations,omitempty"`
	From        time.Time  `json:"from"`
	Until       *time.Time `json:"until,omitempty"`
	Status      string     `json:"status"`
}

func newMandateView(md storage.Mandate, now time.Time) mandateView {
	return mandateView{ID: md.ID, Function: md.Function, Delegations: md.Delegations,
		From: md.StartsAt, Until: md.EndsAt, Status: period(now, md.StartsAt, md.EndsAt)}
}

func newMembershipView(ctx context.Context, st storage.Store, ix *orgIndex, p storage.Person, m storage.Membership, now time.Time) (membershipView, error) {
	v := membershipView{ID: m.ID, Person: p.Username, Org: ix.slug(m.OrgID), Kind: m.Kind,
		Service: m.Service, Title: m.Title, Email: m.Email, Phone: m.Phone,
		From: m.ValidFrom, Until: m.ValidUntil, Status: period(now, m.ValidFrom, m.ValidUntil)}
	if m.Kind != storage.KindElu {
		return v, nil
	}
	mds, err := st.ListMandates(ctx, m.OrgID, m.ID)
	if err != nil {
		return v, err
	}
	for _, md := range mds {
		v.Mandates = append(v.Mandates, newMandateView(md, now))
	}
	return v, nil
}

// printMemberships prints memberships as a table, élus' mandates below.
func printMemberships(env *cliEnv, ms []membershipView, withPerson bool) error {
	header := []string{"ORG", "KIND", "SERVICE", "TITLE", "FROM", "UNTIL", "STATUS", "MANDATES"}
	if withPerson {
		header = append([]string{"PERSON"}, header...)
	}
	t := newTable(env.stdout, header...)
	for _, m := range ms {
		var fns []string
		for _, md := range m.Mandates {
			fns = append(fns, md.Function)
		}
		row := []string{m.Org, m.Kind, m.Service, m.Title, fmtDate(m.From), fmtOptDate(m.Until), m.Status, strings.Join(fns, ", ")}
		if withPerson {
			row = append([]string{m.Person}, row...)
		}
		t.row(row...)
	}
	return t.flush()
}

func membershipCreate(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var m storage.Membership
	var person, org, from, until string
	fs := newFlagSet(env, "membership create",
		"--person U --org SLUG --kind agent|elu [--service S] [--title T] [--email E] [--phone P] [--from DATE] [--until DATE]", &cf)
	fs.StringVar(&person, "person", "", "username (required)")
	fs.StringVar(&org, "org", "", "organization slug (required)")
	fs.StringVar(&m.Kind, "kind", "", "agent or elu (required)")
	fs.StringVar(&m.Service, "service", "", "service or direction, e.g. \"Direction du numérique\"")
	fs.StringVar(&m.Title, "title", "", "job title, e.g. \"Chargée de mission\"")
	fs.StringVar(&m.Email, "email", "", "professional e-mail address for this membership")
	fs.StringVar(&m.Phone, "phone", "", "professional phone number for this membership")
	fs.StringVar(&from, "from", "", "start, YYYY-MM-DD (local midnight) or RFC 3339 (default now)")
	fs.StringVar(&until, "until", "", "end (exclusive), YYYY-MM-DD or RFC 3339 (default none)")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "person", "org", "kind"); err != nil {
		return err
	}
	fromT, err1 := dateFlag("from", from)
	untilT, err2 := dateFlag("until", until)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if fromT != nil {
		m.ValidFrom = *fromT
	}
	m.ValidUntil = untilT
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		p, err := personByUsername(ctx, st, person)
		if err != nil {
			return err
		}
		o, err := orgBySlug(ctx, st, org)
		if err != nil {
			return err
		}
		m.PersonID, m.OrgID = p.ID, o.ID
		svc, err := newTerritory(st)
		if err != nil {
			return err
		}
		if err := svc.CreateMembership(ctx, cliActor, &m); err != nil {
			return explain(fmt.Sprintf("%s membership of %s in %s", m.Kind, p.Username, o.Slug), err)
		}
		fmt.Fprintf(env.stdout, "created %s membership of %s in %s from %s\n", m.Kind, p.Username, o.Slug, fmtDate(m.ValidFrom))
		return nil
	})
}

func membershipList(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var org, person string
	var asJSON bool
	fs := newFlagSet(env, "membership list", "(--org SLUG | --person U | both) [--json]", &cf)
	fs.StringVar(&org, "org", "", "organization slug")
	fs.StringVar(&person, "person", "", "username")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if org == "" && person == "" {
		fmt.Fprintln(env.stderr, "tno membership list: give --org, --person or both")
		fs.Usage()
		return errUsage
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		ix, err := loadOrgs(ctx, st)
		if err != nil {
			return err
		}
		var ms []storage.Membership
		var pinned *storage.Person
		if person != "" {
			p, err := personByUsername(ctx, st, person)
			if err != nil {
				return err
			}
			pinned = &p
			if ms, err = st.ListPersonMemberships(ctx, p.ID); err != nil {
				return err
			}
		}
		if org != "" {
			o, err := orgBySlug(ctx, st, org)
			if err != nil {
				return err
			}
			if pinned == nil {
				if ms, err = st.ListMemberships(ctx, o.ID); err != nil {
					return err
				}
			} else {
				kept := ms[:0]
				for _, m := range ms {
					if m.OrgID == o.ID {
						kept = append(kept, m)
					}
				}
				ms = kept
			}
		}
		people := make(map[string]storage.Person)
		now := time.Now()
		views := make([]membershipView, 0, len(ms))
		for _, m := range ms {
			p, ok := people[m.PersonID]
			if !ok {
				if pinned != nil {
					p = *pinned
				} else if p, err = st.GetPerson(ctx, m.PersonID); err != nil {
					return err
				}
				people[m.PersonID] = p
			}
			v, err := newMembershipView(ctx, st, ix, p, m, now)
			if err != nil {
				return err
			}
			views = append(views, v)
		}
		if asJSON {
			return writeJSON(env.stdout, views)
		}
		return printMemberships(env, views, true)
	})
}

// findMembership returns the membership of person in org, of kind if
// given, else the only one.
func findMembership(ctx context.Context, st storage.Store, p storage.Person, o storage.Organization, kind string) (storage.Membership, error) {
	ms, err := st.ListPersonMemberships(ctx, p.ID)
	if err != nil {
		return storage.Membership{}, err
	}
	var found []storage.Membership
	for _, m := range ms {
		if m.OrgID == o.ID && (kind == "" || m.Kind == kind) {
			found = append(found, m)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return storage.Membership{}, fmt.Errorf("%s has several memberships in %s: give --kind", p.Username, o.Slug)
	case kind != "":
		return storage.Membership{}, fmt.Errorf("%s has no %s membership in %s", p.Username, kind, o.Slug)
	}
	return storage.Membership{}, fmt.Errorf("%s has no membership in %s", p.Username, o.Slug)
}

func membershipEnd(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var person, org, kind, at string
	fs := newFlagSet(env, "membership end", "--person U --org SLUG [--kind agent|elu] [--at DATE]", &cf)
	fs.StringVar(&person, "person", "", "username (required)")
	fs.StringVar(&org, "org", "", "organization slug (required)")
	fs.StringVar(&kind, "kind", "", "agent or elu (required if the person has both in the organization)")
	fs.StringVar(&at, "at", "", "end (exclusive), YYYY-MM-DD or RFC 3339 (default now)")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "person", "org"); err != nil {
		return err
	}
	end := time.Now().UTC().Truncate(time.Second)
	if at != "" {
		t, err := parseDate(at)
		if err != nil {
			return fmt.Errorf("--at: %w", err)
		}
		end = t
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		p, err := personByUsername(ctx, st, person)
		if err != nil {
			return err
		}
		o, err := orgBySlug(ctx, st, org)
		if err != nil {
			return err
		}
		m, err := findMembership(ctx, st, p, o, kind)
		if err != nil {
			return err
		}
		what := fmt.Sprintf("%s membership of %s in %s", m.Kind, p.Username, o.Slug)
		svc, err := newTerritory(st)
		if err != nil {
			return err
		}
		if _, err := svc.EndMembership(ctx, cliActor, o.ID, m.ID, end); err != nil {
			return explain(what, err)
		}
		fmt.Fprintf(env.stdout, "ended %s at %s\n", what, fmtDate(end))
		return nil
	})
}

func mandateAdd(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var person, org, from, until string
	var md storage.Mandate
	fs := newFlagSet(env, "mandate add", "--person U --org SLUG --function F [--delegations D] [--from DATE] [--until DATE]", &cf)
	fs.StringVar(&person, "person", "", "username of the élu (required)")
	fs.StringVar(&org, "org", "", "organization slug (required)")
	fs.StringVar(&md.Function, "function", "", "function, e.g. \"Maire\", \"Adjointe déléguée à la culture\" (required)")
	fs.StringVar(&md.Delegations, "delegations", "", "delegations, free text")
	fs.StringVar(&from, "from", "", "start, YYYY-MM-DD or RFC 3339 (default the membership's start)")
	fs.StringVar(&until, "until", "", "end (exclusive), YYYY-MM-DD or RFC 3339 (default none)")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "person", "org", "function"); err != nil {
		return err
	}
	fromT, err1 := dateFlag("from", from)
	untilT, err2 := dateFlag("until", until)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if fromT != nil {
		md.StartsAt = *fromT
	}
	md.EndsAt = untilT
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		p, err := personByUsername(ctx, st, person)
		if err != nil {
			return err
		}
		o, err := orgBySlug(ctx, st, org)
		if err != nil {
			return err
		}
		m, err := findMembership(ctx, st, p, o, storage.KindElu)
		if err != nil {
			return fmt.Errorf("%w (create it with tno membership create --kind elu)", err)
		}
		md.MembershipID, md.OrgID = m.ID, o.ID
		svc, err := newTerritory(st)
		if err != nil {
			return err
		}
		if err := svc.AddMandate(ctx, cliActor, &md); err != nil {
			return explain("mandate", err)
		}
		fmt.Fprintf(env.stdout, "added mandate %q of %s in %s from %s\n", md.Function, p.Username, o.Slug, fmtDate(md.StartsAt))
		return nil
	})
}

func mandateList(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var person, org string
	var asJSON bool
	fs := newFlagSet(env, "mandate list", "--person U --org SLUG [--json]", &cf)
	fs.StringVar(&person, "person", "", "username of the élu (required)")
	fs.StringVar(&org, "org", "", "organization slug (required)")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "person", "org"); err != nil {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		p, err := personByUsername(ctx, st, person)
		if err != nil {
			return err
		}
		o, err := orgBySlug(ctx, st, org)
		if err != nil {
			return err
		}
		m, err := findMembership(ctx, st, p, o, storage.KindElu)
		if err != nil {
			return err
		}
		mds, err := st.ListMandates(ctx, o.ID, m.ID)
		if err != nil {
			return err
		}
		now := time.Now()
		views := make([]mandateView, 0, len(mds))
		for _, md := range mds {
			views = append(views, newMandateView(md, now))
		}
		if asJSON {
			return writeJSON(env.stdout, views)
		}
		t := newTable(env.stdout, "FUNCTION", "DELEGATIONS", "FROM", "UNTIL", "STATUS")
		for _, v := range views {
			t.row(v.Function, v.Delegations, fmtDate(v.From), fmtOptDate(v.Until), v.Status)
		}
		return t.flush()
	})
}
