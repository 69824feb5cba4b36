package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/storage"
)

func runAudit(ctx context.Context, env *cliEnv, args []string) error {
	return dispatch(ctx, env, "audit", []subcommand{
		{"list", "list audit events, newest first (--jsonl to export)", auditList},
		{"verify", "check that no stored event was altered or removed from the chain", auditVerify},
	}, args)
}

// auditView is an audit event as the CLI prints it in JSON: people and
// organizations by username and slug (their IDs beside), snake_case keys.
type auditView struct {
	Seq      int64             `json:"seq"`
	At       time.Time         `json:"at"`
	Type     string            `json:"type"`
	Org      string            `json:"org,omitempty"`
	Actor    string            `json:"actor,omitempty"` // "cli", "person:jdupont", "client:paie"
	Address  string            `json:"address,omitempty"`
	Person   string            `json:"person,omitempty"`
	Client   string            `json:"client_id,omitempty"`
	Session  string            `json:"session,omitempty"` // its first 12 characters, as tno session list shows
	Target   string            `json:"target,omitempty"`  // "person:jdupont", "application:…"
	Details  map[string]string `json:"details,omitempty"`
	Before   json.RawMessage   `json:"before,omitempty"`
	After    json.RawMessage   `json:"after,omitempty"`
	PersonID string            `json:"person_id,omitempty"`
	OrgID    string            `json:"org_id,omitempty"`
	PrevHash string            `json:"prev_hash"`
	Hash     string            `json:"hash"`
}

// names resolves IDs to what people type (usernames, slugs), once each.
type names struct {
	ctx    context.Context
	st     storage.Store
	orgs   *orgIndex
	people map[string]string
}

func (n *names) person(id string) string {
	if id == "" {
		return ""
	}
	if u, ok := n.people[id]; ok {
		return u
	}
	u := id
	if p, err := n.st.GetPerson(n.ctx, id); err == nil {
		u = p.Username
	}
	n.people[id] = u
	return u
}

func (n *names) target(t string) string {
	kind, id, ok := strings.Cut(t, ":")
	switch {
	case !ok:
		return t
	case kind == "person":
		return kind + ":" + n.person(id)
	case kind == "organization":
		return kind + ":" + n.orgs.slug(id)
	}
	return t
}

func (n *names) view(e storage.AuditEvent) auditView {
	v := auditView{Seq: e.Seq, At: e.At, Type: e.Type, Org: n.orgs.slug(e.OrgID), Address: e.Address,
		Person: n.person(e.PersonID), Client: e.ClientID, Target: n.target(e.Target), Details: e.Details,
		PersonID: e.PersonID, OrgID: e.OrgID, PrevHash: e.PrevHash, Hash: e.Hash}
	if e.OrgID == "" {
		v.Org = ""
	}
	if e.SessionID != "" {
		v.Session = sessionRef(e.SessionID)
	}
	switch e.ActorKind {
	case "":
	case "person":
		v.Actor = "person:" + n.person(e.ActorID)
	case "client", "source":
		v.Actor = e.ActorKind + ":" + e.ActorID
	default:
		v.Actor = e.ActorKind
	}
	if e.Before != "" && json.Valid([]byte(e.Before)) {
		v.Before = json.RawMessage(e.Before)
	}
	if e.After != "" && json.Valid([]byte(e.After)) {
		v.After = json.RawMessage(e.After)
	}
	if len(v.Details) == 0 {
		v.Details = nil
	}
	return v
}

func auditList(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var before int64
	var limit int
	var org, typ, person string
	var asJSON, asJSONL bool
	fs := newFlagSet(env, "audit list", "[--org SLUG] [--type T] [--person U] [--before SEQ] [--limit N] [--json | --jsonl]", &cf)
	fs.StringVar(&org, "org", "", "only the events of this organization")
	fs.StringVar(&typ, "type", "", "only events of this type (person_updated, login_failed…)")
	fs.StringVar(&person, "person", "", "only events by or about this person")
	fs.Int64Var(&before, "before", 0, "only events before this sequence number (the next page)")
	fs.IntVar(&limit, "limit", 100, "at most this many events (at most 1000)")
	fs.BoolVar(&asJSON, "json", false, "JSON output")
	fs.BoolVar(&asJSONL, "jsonl", false, "JSON lines output, one event per line (export)")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if limit <= 0 || limit > 1000 {
		return fmt.Errorf("--limit must be between 1 and 1000")
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		ix, err := loadOrgs(ctx, st)
		if err != nil {
			return err
		}
		q := storage.AuditQuery{Type: typ, BeforeSeq: before, Limit: limit}
		if org != "" {
			o, err := orgBySlug(ctx, st, org)
			if err != nil {
				return err
			}
			q.OrgID = o.ID
		}
		if person != "" {
			p, err := personByUsername(ctx, st, person)
			if err != nil {
				return err
			}
			q.PersonID = p.ID
		}
		evs, err := st.QueryAuditEvents(ctx, q)
		if err != nil {
			return err
		}
		n := &names{ctx: ctx, st: st, orgs: ix, people: map[string]string{}}
		views := make([]auditView, 0, len(evs))
		for _, e := range evs {
			views = append(views, n.view(e))
		}
		switch {
		case asJSONL:
			enc := json.NewEncoder(env.stdout)
			for _, v := range views {
				if err := enc.Encode(v); err != nil {
					return err
				}
			}
			return nil
		case asJSON:
			return writeJSON(env.stdout, views)
		}
		t := newTable(env.stdout, "SEQ", "AT", "TYPE", "ORG", "ACTOR", "PERSON", "CLIENT", "TARGET", "DETAILS")
		for _, v := range views {
			var kv []string
			for k, val := range v.Details {
				kv = append(kv, k+"="+val)
			}
			sort.Strings(kv)
			t.row(fmt.Sprint(v.Seq), v.At.Local().Format(time.RFC3339), v.Type, v.Org, v.Actor, v.Person, v.Client, v.Target, strings.Join(kv, " "))
		}
		if err := t.flush(); err != nil {
			return err
		}
		if len(views) == limit {
			fmt.Fprintf(env.stderr, "more: tno audit list --before %d\n", views[len(views)-1].Seq)
		}
		return nil
	})
}

func auditVerify(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	fs := newFlagSet(env, "audit verify", "", &cf)
	if stop, err := parse(fs, args); stop {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		log, err := audit.New(audit.Options{Store: st})
		if err != nil {
			return err
		}
		n, err := log.Verify(ctx)
		if err != nil {
			return fmt.Errorf("%d events checked, then: %w", n, err)
		}
		fmt.Fprintf(env.stdout, "audit log intact: %d events, each chained to the previous one\n", n)
		return nil
	})
}
