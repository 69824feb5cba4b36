// Package postgres opens TNO's storage on PostgreSQL through pgx's
// database/sql driver, applies the embedded migrations under an advisory
// lock and returns the shared sqlstore implementation.
//
// It owns the PostgreSQL schema (migrations/), the pool settings and the
// recognition of PostgreSQL constraint errors. It may import
// internal/storage, internal/storage/sqlstore and pgx.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// dialect is the PostgreSQL flavour of sqlstore.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:                  "postgres",
		IsUniqueViolation:     func(err error) bool { return hasCode(err, "23505") }, // unique_violation
		IsForeignKeyViolation: func(err error) bool { return hasCode(err, "23503") }, // foreign_key_violation
		// Instances sharing a schema take turns; other schemas (tests)
		// do not wait. Released at commit.
		MigrationLock: `SELECT pg_advisory_xact_lock(hashtextextended('tno-migrate:' || current_schema(), 0))`,
		// Appenders to the audit chain take turns until their commit.
		AuditLock: `SELECT pg_advisory_xact_lock(hashtextextended('tno-audit:' || current_schema(), 0))`,
	}
}

func hasCode(err error, code string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == code
}

// Pool settings: enough connections for a busy instance without exhausting
// the server's max_connections when several instances share it.
const (
	maxOpenConns    = 20
	maxIdleConns    = 5
	connMaxLifetime = 30 * time.Minute
	connMaxIdleTime = 5 * time.Minute
)

// Open connects to the database at dsn (URL or key=value form), migrates
// it and returns the store. Tables live in the first schema of the
// connection's search_path, which must exist.
func Open(ctx context.Context, dsn string, opts ...sqlstore.Option) (storage.Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxLifetime(connMaxLifetime)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return sqlstore.New(db, dialect(), opts...), nil
}

// migrate applies the embedded migrations, under an advisory lock so that
// instances starting together take turns.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return sqlstore.Migrate(ctx, db, dialect(), fsys)
}
