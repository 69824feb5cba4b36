package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/logout"
	"github.com/territoires-ouverts/tno/internal/server"
	"github.com/territoires-ouverts/tno/internal/storage"
)

func runSession(ctx context.Context, env *cliEnv, args []string) error {
	return dispatch(ctx, env, "session", []subcommand{
		{"list", "list a person's single sign-on sessions", sessionList},
		{"end", "end a person's sessions (one with --id, or all) and notify their applications", sessionEnd},
	}, args)
}

// sessionRef is the short public reference of a session: a prefix of its
// stored ID (itself a hash of the cookie secret, so showing it gives no
// access).
func sessionRef(id string) string { return id[:min(len(id), 12)] }

func sessionState(s storage.Session, now time.Time) string {
	switch {
	case s.RevokedAt != nil:
		return "ended"
	case !now.Before(s.ExpiresAt):
		return "expired"
	default:
		return "active"
	}
}

func sessionList(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var username string
	var all, asJSON bool
	fs := newFlagSet(env, "session list", "--username U [--all] [--json]", &cf)
	fs.StringVar(&username, "username", "", "person (required)")
	fs.BoolVar(&all, "all", false, "include ended and expired sessions")
	fs.BoolVar(&asJSON, "json", false, "JSON output")
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
		sessions, err := st.ListPersonSessions(ctx, p.ID)
		if err != nil {
			return err
		}
		now := time.Now()
		type row struct {
			ID, State                 string
			Signed, LastSeen, Expires time.Time
			Methods                   []string
			Applications              []string
		}
		var rows []row
		for _, s := range sessions {
			state := sessionState(s, now)
			if !all && state != "active" {
				continue
			}
			clients, err := st.ListSessionClients(ctx, s.ID)
			if err != nil {
				return err
			}
			var apps []string
			for _, c := range clients {
				apps = append(apps, c.ClientID)
			}
			rows = append(rows, row{sessionRef(s.ID), state, s.AuthTime, s.LastSeenAt, s.ExpiresAt, s.AMR, apps})
		}
		if asJSON {
			return writeJSON(env.stdout, rows)
		}
		t := newTable(env.stdout, "SESSION", "STATE", "SIGNED IN", "LAST SEEN", "EXPIRES", "APPLICATIONS")
		for _, r := range rows {
			t.row(r.ID, r.State, r.Signed.Local().Format(time.RFC3339), r.LastSeen.Local().Format(time.RFC3339),
				r.Expires.Local().Format(time.RFC3339), strings.Join(r.Applications, ","))
		}
		return t.flush()
	})
}

func sessionEnd(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var username, id string
	fs := newFlagSet(env, "session end", "--username U [--id SESSION]", &cf)
	fs.StringVar(&username, "username", "", "person (required)")
	fs.StringVar(&id, "id", "", "the session to end, as `tno session list` shows it (default: all the person's sessions)")
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
		// Back-channel logout tokens need a signing key, even if no
		// server ever started.
		if _, err := core.Keys.Ensure(ctx); err != nil {
			return err
		}
		lo := core.Logout
		if id == "" {
			n, err := core.Territory.EndSessions(ctx, cliActor, "", p.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "ended %d session(s) of %s\n", n, p.Username)
			return nil
		}
		sessions, err := st.ListPersonSessions(ctx, p.ID)
		if err != nil {
			return err
		}
		for _, s := range sessions {
			if sessionRef(s.ID) != id {
				continue
			}
			if sessionState(s, time.Now()) != "active" {
				return fmt.Errorf("session %s of %s is already %s", id, p.Username, sessionState(s, time.Now()))
			}
			ended, err := lo.EndSession(ctx, s.ID, logout.ReasonAdmin)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "ended session %s of %s; %d application(s) notified by back-channel\n", id, p.Username, ended.Backchannel)
			return nil
		}
		return fmt.Errorf("no session %s for %s (see tno session list --username %s)", id, p.Username, p.Username)
	})
}
