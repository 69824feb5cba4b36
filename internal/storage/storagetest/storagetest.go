// Package storagetest holds the conformance suite every storage engine
// passes (Run) and the store that other packages' tests use (NewStore).
//
// Tests run against real databases: SQLite always, in a file under
// t.TempDir(); PostgreSQL when TNO_TEST_POSTGRES_DSN is set, in a fresh
// schema per test, dropped afterwards. With TNO_TEST_REQUIRE_POSTGRES=1 a
// missing DSN fails the test instead of falling back or skipping.
//
// It is imported by tests only. It may import internal/storage, its
// engines (sqlite, postgres, sqlstore), pgx and go-cmp.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for schema setup

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/postgres"
	"github.com/territoires-ouverts/tno/internal/storage/sqlite"
)

// Environment variables read by this package.
const (
	// EnvPostgresDSN is the DSN of a PostgreSQL database where tests may
	// create and drop schemas (URL or key=value form).
	EnvPostgresDSN = "TNO_TEST_POSTGRES_DSN"
	// EnvRequirePostgres, set to "1", makes a missing EnvPostgresDSN fatal.
	EnvRequirePostgres = "TNO_TEST_REQUIRE_POSTGRES"
)

// NewStore returns an empty, migrated store for one test, closed (and its
// database removed) when the test ends: PostgreSQL in a fresh schema if
// TNO_TEST_POSTGRES_DSN is set, else SQLite in t.TempDir().
func NewStore(t testing.TB) storage.Store {
	t.Helper()
	ctx := context.Background()
	var (
		s   storage.Store
		err error
	)
	if dsn, ok := PostgresDSN(t); ok {
		s, err = postgres.Open(ctx, dsn)
	} else {
		s, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "tno.db"))
	}
	if err != nil {
		t.Fatalf("storagetest: open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("storagetest: close store: %v", err)
		}
	})
	return s
}

// PostgresDSN creates a fresh schema in the TNO_TEST_POSTGRES_DSN database
// and returns a DSN whose search_path is that schema; the schema is
// dropped (CASCADE) when the test ends, after the cleanups registered later
// (such as closing a store opened on it). It returns false if the variable
// is unset, and fails the test instead if TNO_TEST_REQUIRE_POSTGRES=1.
func PostgresDSN(t testing.TB) (string, bool) {
	t.Helper()
	base := os.Getenv(EnvPostgresDSN)
	if base == "" {
		if os.Getenv(EnvRequirePostgres) == "1" {
			t.Fatalf("storagetest: %s=1 but %s is not set", EnvRequirePostgres, EnvPostgresDSN)
		}
		return "", false
	}
	var b [8]byte
	rand.Read(b[:])
	schema := "tno_t_" + hex.EncodeToString(b[:])

	admin := func(query string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", base)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, query)
		return err
	}
	if err := admin("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("storagetest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		// A server's background work (a mail sent after the response,
		// recording its audit event) may still hold locks when the test
		// ends: PostgreSQL may then pick the DROP as a deadlock victim.
		// The schema is the test's scratch space: try again.
		var err error
		for range 5 {
			if err = admin("DROP SCHEMA " + schema + " CASCADE"); err == nil || !strings.Contains(err.Error(), "40P01") {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("storagetest: drop schema %s: %v", schema, err)
		}
	})
	dsn, err := withSearchPath(base, schema)
	if err != nil {
		t.Fatalf("storagetest: %s: %v", EnvPostgresDSN, err)
	}
	return dsn, true
}

// withSearchPath sets the search_path run-time parameter in a pgx DSN, URL
// ("postgres://…?…") or key=value ("host=… dbname=…") form.
func withSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	// In key=value form the last occurrence of a key wins.
	return strings.TrimSpace(dsn) + " search_path=" + schema, nil
}
