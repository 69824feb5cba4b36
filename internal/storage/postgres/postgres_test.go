package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/postgres"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
)

// dsn returns a DSN for a fresh schema, or skips the test.
func dsn(t *testing.T) string {
	t.Helper()
	d, ok := storagetest.PostgresDSN(t) // fatal if TNO_TEST_REQUIRE_POSTGRES=1
	if !ok {
		t.Skipf("%s not set: PostgreSQL tests skipped (set it, e.g. to postgres://postgres@127.0.0.1:5432/test?sslmode=disable)",
			storagetest.EnvPostgresDSN)
	}
	return d
}

func open(t *testing.T, dsn string) storage.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	dsn(t) // skip the whole suite early without a DSN
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t, dsn(t)) })
}

// TestConcurrentOpen starts several instances together on one fresh
// schema: the migration lock makes them take turns, and all succeed.
func TestConcurrentOpen(t *testing.T) {
	d := dsn(t)
	const n = 4
	stores := make([]storage.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(t.Context(), d) })
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			t.Cleanup(func() { s.Close() })
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		o := storage.Organization{Slug: string(rune('a' + i))}
		if err := s.CreateOrganization(t.Context(), &o); err != nil {
			t.Errorf("store %d: %v", i, err)
		}
	}

	db, err := sql.Open("pgx", d)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var applied int
	if err := db.QueryRowContext(t.Context(),
		`SELECT count(*) FROM schema_migrations WHERE version = 1`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Errorf("migration 1 recorded %d times, want 1", applied)
	}
}

func TestOpenBadDSN(t *testing.T) {
	if s, err := postgres.Open(t.Context(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil {
		s.Close()
		t.Error("Open succeeded on an unreachable server")
	}
}
