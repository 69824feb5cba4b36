package main

import (
	"context"
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
		{"list", "list security events, oldest first", auditList},
		{"verify", "check that no stored event was altered or removed from the chain", auditVerify},
	}, args)
}

func auditList(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var after int64
	var limit int
	var asJSON bool
	fs := newFlagSet(env, "audit list", "[--after SEQ] [--limit N] [--json]", &cf)
	fs.Int64Var(&after, "after", 0, "only events after this sequence number")
	fs.IntVar(&limit, "limit", 100, "at most this many events")
	fs.BoolVar(&asJSON, "json", false, "JSON output")
	if stop, err := parse(fs, args); stop {
		return err
	}
	if limit <= 0 {
		return fmt.Errorf("--limit must be positive")
	}
	return withStore(ctx, env, &cf, func(st storage.Store, _ config.Config) error {
		evs, err := st.ListAuditEvents(ctx, after, limit)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(env.stdout, evs)
		}
		t := newTable(env.stdout, "SEQ", "AT", "TYPE", "PERSON", "CLIENT", "DETAILS")
		for _, e := range evs {
			var kv []string
			for k, v := range e.Details {
				kv = append(kv, k+"="+v)
			}
			sort.Strings(kv)
			t.row(fmt.Sprint(e.Seq), e.At.Local().Format(time.RFC3339), e.Type, e.PersonID, e.ClientID, strings.Join(kv, " "))
		}
		return t.flush()
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
