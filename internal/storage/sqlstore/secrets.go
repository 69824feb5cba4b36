package sqlstore

import (
	"context"
	"errors"
)

// GetOrCreateSecret returns the value of the deployment secret name,
// storing candidate first if there is none. The insert does nothing when
// the name exists, so of concurrent callers (several instances starting
// together) the first insert wins and every caller reads its value: on
// PostgreSQL a second insert waits for the first to commit, then does
// nothing; SQLite has one writer at a time.
func (s *Store) GetOrCreateSecret(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	if name == "" || len(candidate) == 0 {
		return nil, errors.New("get or create secret: empty name or value")
	}
	_, err := s.exec(ctx, "create secret",
		`INSERT INTO deployment_secrets (name, value, created_at) VALUES ($1, $2, $3)
		 ON CONFLICT (name) DO NOTHING`,
		name, candidate, micros(s.timestamp()))
	if err != nil {
		return nil, err
	}
	var v []byte
	if err := s.q.QueryRowContext(ctx, `SELECT value FROM deployment_secrets WHERE name = $1`, name).Scan(&v); err != nil {
		return nil, s.wrap("get secret", err)
	}
	return v, nil
}
