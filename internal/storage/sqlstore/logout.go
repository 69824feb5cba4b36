package sqlstore

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const sessionClientColumns = `session_id, client_id, sid, subject, first_at, last_at`

func scanSessionClient(r rowScanner) (storage.SessionClient, error) {
	var v storage.SessionClient
	err := r.Scan(&v.SessionID, &v.ClientID, &v.SID, &v.Subject, ts(&v.FirstAt), ts(&v.LastAt))
	return v, err
}

// RecordSessionClient inserts c, or updates SID, Subject and LastAt (never
// backwards) of the existing row, in one statement. FirstAt and LastAt
// default to the store's clock.
func (s *Store) RecordSessionClient(ctx context.Context, c *storage.SessionClient) error {
	v := *c
	v.LastAt = norm(s.orNow(v.LastAt))
	if v.FirstAt.IsZero() {
		v.FirstAt = v.LastAt
	}
	v.FirstAt = norm(v.FirstAt)
	err := s.writeRow(ctx, "record session client",
		`INSERT INTO session_clients (`+sessionClientColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		 ON CONFLICT (session_id, client_id) DO UPDATE SET
		   sid = excluded.sid, subject = excluded.subject,
		   last_at = CASE WHEN session_clients.last_at < excluded.last_at
		                  THEN excluded.last_at ELSE session_clients.last_at END
		 RETURNING first_at, last_at`,
		[]any{v.SessionID, v.ClientID, v.SID, v.Subject, micros(v.FirstAt), micros(v.LastAt)},
		ts(&v.FirstAt), ts(&v.LastAt))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ListSessionClients returns the session's clients by FirstAt.
func (s *Store) ListSessionClients(ctx context.Context, sessionID string) ([]storage.SessionClient, error) {
	return queryList(ctx, s, "list session clients", scanSessionClient,
		`SELECT `+sessionClientColumns+` FROM session_clients WHERE session_id = $1
		 ORDER BY first_at, client_id`, sessionID)
}

// TakeSessionClients deletes and returns the session's clients in one
// DELETE … RETURNING: concurrent callers never get the same row.
func (s *Store) TakeSessionClients(ctx context.Context, sessionID string) ([]storage.SessionClient, error) {
	out, err := writeList(ctx, s, "take session clients", scanSessionClient,
		`DELETE FROM session_clients WHERE session_id = $1 RETURNING `+sessionClientColumns, sessionID)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b storage.SessionClient) int {
		return cmp.Or(a.FirstAt.Compare(b.FirstAt), strings.Compare(a.ClientID, b.ClientID))
	})
	return out, nil
}

const deliveryColumns = `id, client_id, uri, token, subject, sid, attempts, next_attempt_at,
	claimed_until, created_at, delivered_at, failed_at, last_error`

func scanDelivery(r rowScanner) (storage.LogoutDelivery, error) {
	var (
		v       storage.LogoutDelivery
		claimed int64
	)
	err := r.Scan(&v.ID, &v.ClientID, &v.URI, &v.Token, &v.Subject, &v.SID, &v.Attempts,
		ts(&v.NextAttemptAt), &claimed, ts(&v.CreatedAt), nts(&v.DeliveredAt), nts(&v.FailedAt), &v.LastError)
	if claimed != 0 {
		v.ClaimedUntil = fromMicros(claimed)
	}
	return v, err
}

// claimMicros encodes ClaimedUntil: 0 for the zero time (unclaimed).
func claimMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// EnqueueLogoutDelivery inserts d, setting ID if empty, CreatedAt if zero
// and NextAttemptAt if zero (to CreatedAt).
func (s *Store) EnqueueLogoutDelivery(ctx context.Context, d *storage.LogoutDelivery) error {
	v := *d
	if v.ID == "" {
		v.ID = storage.NewID()
	}
	v.CreatedAt = norm(s.orNow(v.CreatedAt))
	if v.NextAttemptAt.IsZero() {
		v.NextAttemptAt = v.CreatedAt
	}
	v.NextAttemptAt = norm(v.NextAttemptAt)
	if !v.ClaimedUntil.IsZero() {
		v.ClaimedUntil = norm(v.ClaimedUntil)
	}
	v.DeliveredAt, v.FailedAt = normp(v.DeliveredAt), normp(v.FailedAt)
	_, err := s.exec(ctx, "enqueue logout delivery",
		`INSERT INTO logout_deliveries (`+deliveryColumns+`)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		v.ID, v.ClientID, v.URI, v.Token, v.Subject, v.SID, v.Attempts, micros(v.NextAttemptAt),
		claimMicros(v.ClaimedUntil), micros(v.CreatedAt), nullMicros(v.DeliveredAt),
		nullMicros(v.FailedAt), v.LastError)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ClaimLogoutDeliveries takes a lease on up to limit due deliveries in one
// conditional UPDATE … RETURNING, portable to both engines. On PostgreSQL
// a concurrent claimer blocks on the rows the first one updated, then
// re-checks the WHERE clause on their new version (claimed_until is now in
// the future) and skips them; SQLite has one writer at a time. Either way
// each delivery goes to one claimer.
func (s *Store) ClaimLogoutDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]storage.LogoutDelivery, error) {
	if limit <= 0 {
		return []storage.LogoutDelivery{}, nil
	}
	const pending = `delivered_at IS NULL AND failed_at IS NULL AND claimed_until <= $1`
	out, err := writeList(ctx, s, "claim logout deliveries", scanDelivery,
		`UPDATE logout_deliveries SET claimed_until = $2, attempts = attempts + 1
		 WHERE id IN (SELECT id FROM logout_deliveries
		              WHERE `+pending+` AND next_attempt_at <= $1
		              ORDER BY next_attempt_at, id LIMIT $3)
		   AND `+pending+`
		 RETURNING `+deliveryColumns,
		micros(now), micros(leaseUntil), limit)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b storage.LogoutDelivery) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// CompleteLogoutDelivery marks a delivery delivered, keeping the first
// DeliveredAt, and releases its lease.
func (s *Store) CompleteLogoutDelivery(ctx context.Context, id string, at time.Time) error {
	return s.execOne(ctx, "complete logout delivery",
		`UPDATE logout_deliveries SET delivered_at = COALESCE(delivered_at, $2), claimed_until = 0,
		   last_error = ''
		 WHERE id = $1`, id, micros(at))
}

// RetryLogoutDelivery schedules the next attempt of a pending delivery.
func (s *Store) RetryLogoutDelivery(ctx context.Context, id string, next time.Time, lastError string) error {
	return s.execOne(ctx, "retry logout delivery",
		`UPDATE logout_deliveries SET next_attempt_at = $2, last_error = $3, claimed_until = 0
		 WHERE id = $1 AND delivered_at IS NULL AND failed_at IS NULL`, id, micros(next), lastError)
}

// FailLogoutDelivery gives a pending delivery up.
func (s *Store) FailLogoutDelivery(ctx context.Context, id string, at time.Time, lastError string) error {
	return s.execOne(ctx, "fail logout delivery",
		`UPDATE logout_deliveries SET failed_at = $2, last_error = $3, claimed_until = 0
		 WHERE id = $1 AND delivered_at IS NULL AND failed_at IS NULL`, id, micros(at), lastError)
}

// GetLogoutDelivery returns a delivery, whatever its state.
func (s *Store) GetLogoutDelivery(ctx context.Context, id string) (storage.LogoutDelivery, error) {
	return queryOne(ctx, s, "get logout delivery", scanDelivery,
		`SELECT `+deliveryColumns+` FROM logout_deliveries WHERE id = $1`, id)
}

// ListLogoutDeliveries returns a client's deliveries, oldest first.
func (s *Store) ListLogoutDeliveries(ctx context.Context, clientID string) ([]storage.LogoutDelivery, error) {
	return queryList(ctx, s, "list logout deliveries", scanDelivery,
		`SELECT `+deliveryColumns+` FROM logout_deliveries WHERE client_id = $1
		 ORDER BY created_at, id`, clientID)
}

// DeleteFinishedLogoutDeliveries deletes the deliveries delivered or given
// up strictly before before.
func (s *Store) DeleteFinishedLogoutDeliveries(ctx context.Context, before time.Time) (int, error) {
	return s.exec(ctx, "delete finished logout deliveries",
		`DELETE FROM logout_deliveries WHERE delivered_at < $1 OR failed_at < $1`, micros(before))
}

// writeList runs a write statement with a RETURNING clause and scans every
// row it returns.
func writeList[T any](ctx context.Context, s *Store, op string, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	out := []T{}
	err := s.write(ctx, func() error {
		rows, err := s.q.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}

var _ storage.Logout = (*Store)(nil)
