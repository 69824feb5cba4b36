// Package sqlite opens TNO's storage on an SQLite file with the pure-Go
// modernc.org/sqlite driver (CGO_ENABLED=0 builds), applies the embedded
// migrations and returns the shared sqlstore implementation.
//
// It owns the SQLite schema (migrations/), the connection pragmas and the
// recognition of SQLite constraint errors. It may import internal/storage,
// internal/storage/sqlstore and the driver.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// dialect is the SQLite flavour of sqlstore.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:            "sqlite",
		SerializeWrites: true,
		IsUniqueViolation: func(err error) bool {
			code, ok := errorCode(err)
			return ok && (code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
		},
		IsForeignKeyViolation: func(err error) bool {
			code, ok := errorCode(err)
			return ok && code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
		},
	}
}

func errorCode(err error) (int, bool) {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return 0, false
	}
	return e.Code(), true
}

// maxOpenConns bounds the pool. SQLite serialises writers anyway; a small
// pool keeps the number of connections waiting on the write lock (and
// their busy_timeout) low, while WAL lets readers run alongside.
const maxOpenConns = 4

// Open opens (creating it and its parent directory if needed) the SQLite
// database at path, migrates it and returns the store. path must be a file:
// an in-memory database would be private to each pooled connection.
func Open(ctx context.Context, path string, opts ...sqlstore.Option) (storage.Store, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open %q: a file path is required", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create directory: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxOpenConns)
	// Several processes opening a new file at once: switching it to WAL
	// needs a lock that SQLite reports as SQLITE_BUSY without waiting
	// busy_timeout. Such a start is retried, a bounded number of times.
	for attempt := 1; ; attempt++ {
		err = prepare(ctx, db, path)
		if err == nil || !isBusy(err) || attempt == 20 {
			break
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
			continue
		}
		break
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return sqlstore.New(db, dialect(), opts...), nil
}

// prepare checks the connection and applies the migrations.
func prepare(ctx context.Context, db *sql.DB, path string) error {
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	return nil
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED
// (any extended code).
func isBusy(err error) bool {
	code, ok := errorCode(err)
	return ok && (code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED)
}

// dsn builds the driver's DSN: a file: URI (so that any character in the
// path is escaped) with the pragmas every connection runs, and BEGIN
// IMMEDIATE for transactions, so that a transaction takes the write lock
// up front (waiting busy_timeout for it) instead of failing with
// SQLITE_BUSY when it first writes after reading.
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// migrate applies the embedded migrations. Two processes opening the same
// file take turns: the migration transaction begins IMMEDIATE (see dsn).
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return sqlstore.Migrate(ctx, db, dialect(), fsys)
}
