// Command tno-seed fills a TNO database with a territory for scale
// benchmarks: a métropole (~9,000 members), its central city (~7,500),
// communes of 20 to 300 members, people with memberships and mandates,
// groups and applications. The same -seed gives the same territory.
//
//	go run ./cmd/tno-seed -database-dsn /tmp/seed-bench/tno.db \
//	    -people 100000 -orgs 500 -apps 2000
//	go run ./cmd/tno-seed -database-dsn 'postgres://postgres@127.0.0.1:5432/seedbench?sslmode=disable'
//
// The database is migrated as TNO does at start. Besides the generated
// people it creates "admin" (platform administrator), "admin.<slug>" (each
// organization's administrator) and "bench.portal" (5 memberships, about
// 60 applications). No one gets a password, unless -password: then
// bench.portal and the administrators get the one in TNO_SEED_PASSWORD.
// It refuses a database that holds organizations, unless -force.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/server"
)

// passwordEnv names the variable -password reads: never a flag value,
// which other users of the machine could read in the process list.
const passwordEnv = "TNO_SEED_PASSWORD"

func main() {
	var (
		dsn, driver string
		password    bool
		p           Params
	)
	flag.StringVar(&dsn, "database-dsn", "", "database: SQLite file path or PostgreSQL URL (required)")
	flag.StringVar(&driver, "driver", "", "sqlite or postgres (default: postgres for a postgres:// DSN, else sqlite)")
	flag.IntVar(&p.People, "people", 100000, "people to generate, besides the fixed accounts")
	flag.IntVar(&p.Orgs, "orgs", 500, "organizations: the métropole, the city and communes (at least 5)")
	flag.IntVar(&p.Apps, "apps", 2000, "applications")
	flag.IntVar(&p.PortalApps, "portal-apps", 60, "applications bench.portal should reach")
	flag.Uint64Var(&p.Seed, "seed", 1, "random seed: the same seed gives the same territory")
	flag.BoolVar(&p.Force, "force", false, "seed a database that already holds organizations")
	flag.BoolVar(&password, "password", false, "give bench.portal, admin and admin.<slug> the password in $"+passwordEnv)
	flag.Parse()
	if dsn == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if password {
		p.Password = os.Getenv(passwordEnv)
		if p.Password == "" {
			fmt.Fprintf(os.Stderr, "tno-seed: -password: %s is not set\n", passwordEnv)
			os.Exit(2)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, dsn, driver, p); err != nil {
		fmt.Fprintln(os.Stderr, "tno-seed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dsn, driver string, p Params) error {
	// Resolve the database as tno does (a postgres:// DSN selects
	// PostgreSQL), from the flags alone: no TNO_* variable applies.
	var environ []string
	if driver != "" {
		environ = append(environ, "TNO_DATABASE_DRIVER="+driver)
	}
	cfg, err := config.LoadWithOverrides("", environ, config.Overrides{DatabaseDSN: dsn})
	if err != nil {
		return err
	}
	if p.Password != "" {
		params := local.Params{Memory: cfg.Password.MemoryKiB, Iterations: cfg.Password.Iterations,
			Parallelism: cfg.Password.Parallelism, SaltLen: 16, KeyLen: 32}
		if err := params.Validate(); err != nil {
			return err
		}
		p.Hasher = local.NewHasher(params, cfg.Password.MaxConcurrent)
	}
	p.Progress = os.Stderr
	start := time.Now()
	st, err := server.OpenStore(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(os.Stderr, "tno-seed: %s database open and migrated (%.1fs)\n", cfg.Database.Driver, time.Since(start).Seconds())
	sum, err := Seed(ctx, st, p)
	if errors.Is(err, ErrNotEmpty) {
		return err
	}
	if err != nil {
		return fmt.Errorf("%w (after %s; the transactions committed so far stay: start again on a fresh database)", err, time.Since(start).Round(time.Millisecond))
	}
	fmt.Printf("seeded %d organizations, %d people (%d memberships, %d mandates), %d groups (%d members), %d applications (%d grants) in %s\n",
		sum.Organizations, sum.People, sum.Memberships, sum.Mandates, sum.Groups, sum.GroupMembers,
		sum.Applications, sum.Grants, time.Since(start).Round(time.Millisecond))
	fmt.Printf("%s: %d memberships, reaches %d applications\n", PortalUsername, sum.PortalMemberships, sum.PortalApps)
	if sum.Passwords > 0 {
		fmt.Printf("password from %s set for %s, %s and %s<slug> (%d accounts)\n",
			passwordEnv, PortalUsername, AdminUsername, orgAdminPrefix, sum.Passwords)
	} else {
		fmt.Printf("%s (platform administrator), %s<slug> and %s have no password: "+
			"tno person set-password --username %s --generate-password (with the same --database-dsn) sets one\n",
			AdminUsername, orgAdminPrefix, PortalUsername, AdminUsername)
	}
	return nil
}
