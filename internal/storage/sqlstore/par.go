package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const pushedRequestColumns = `id, client_id, params, created_at, expires_at`

func scanPushedRequest(r rowScanner) (storage.PushedRequest, error) {
	var v storage.PushedRequest
	err := r.Scan(&v.ID, &v.ClientID, &v.Params, ts(&v.CreatedAt), ts(&v.ExpiresAt))
	return v, err
}

// CreatePushedRequest inserts r, setting CreatedAt if zero; ErrConflict
// on a duplicate ID.
func (s *Store) CreatePushedRequest(ctx context.Context, r *storage.PushedRequest) error {
	const op = "create pushed request"
	if r.ID == "" {
		return fmt.Errorf("%s: empty ID", op)
	}
	v := *r
	v.CreatedAt = norm(s.orNow(v.CreatedAt))
	v.ExpiresAt = norm(v.ExpiresAt)
	_, err := s.exec(ctx, op,
		`INSERT INTO pushed_requests (`+pushedRequestColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		v.ID, v.ClientID, v.Params, micros(v.CreatedAt), micros(v.ExpiresAt))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// ConsumePushedRequest deletes and returns a pushed request in one
// DELETE … RETURNING: of concurrent callers, exactly one gets the row.
// The client ID is part of the condition, so that another client's
// attempt leaves the request in place.
func (s *Store) ConsumePushedRequest(ctx context.Context, id, clientID string) (storage.PushedRequest, error) {
	const op = "consume pushed request"
	var v storage.PushedRequest
	err := s.write(ctx, func() error {
		var err error
		v, err = scanPushedRequest(s.q.QueryRowContext(ctx,
			`DELETE FROM pushed_requests WHERE id = $1 AND client_id = $2 RETURNING `+pushedRequestColumns,
			id, clientID))
		return err
	})
	if err != nil {
		return storage.PushedRequest{}, s.wrap(op, err)
	}
	return v, nil
}

// UseClientAssertion records a client assertion's jti. The insert
// replaces a record that expired at now and otherwise does nothing: no
// row affected is a replay. PostgreSQL serializes concurrent inserts of
// one key on the primary key, SQLite its writers, so one caller wins.
func (s *Store) UseClientAssertion(ctx context.Context, clientID, jti string, expiresAt, now time.Time) error {
	const op = "use client assertion"
	n, err := s.exec(ctx, op,
		`INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3)
		 ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at
		 WHERE client_assertion_jtis.expires_at <= $4`,
		clientID, jti, micros(expiresAt), micros(now))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", op, storage.ErrAlreadyUsed)
	}
	return nil
}

// DeleteExpiredClientRequests deletes the pushed requests and assertion
// records with ExpiresAt strictly before before, and returns how many.
func (s *Store) DeleteExpiredClientRequests(ctx context.Context, before time.Time) (int, error) {
	const op = "delete expired client requests"
	total := 0
	for _, q := range []string{
		`DELETE FROM pushed_requests WHERE expires_at < $1`,
		`DELETE FROM client_assertion_jtis WHERE expires_at < $1`,
	} {
		n, err := s.exec(ctx, op, q, micros(before))
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
