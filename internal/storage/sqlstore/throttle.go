package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const throttleColumns = `key, failures, window_start, last_failure, next_at`

func scanThrottleState(r rowScanner) (storage.ThrottleState, error) {
	var v storage.ThrottleState
	err := r.Scan(&v.Key, &v.Failures, ts(&v.WindowStart), ts(&v.LastFailure), ts(&v.NextAt))
	return v, err
}

// errRefused rolls back a ReserveThrottles transaction that refused the
// attempt: none of its keys is counted.
var errRefused = errors.New("throttle refused")

// ReserveThrottles locks the keys one after the other in their sort order
// (see lockThrottle), decides from the states it read, and counts the
// failure of every key or, if one refuses, rolls back. SQLite's single
// writer, PostgreSQL's row locks make concurrent callers on a key take
// turns, each deciding on the state its predecessor committed; the sort
// order keeps two callers from each holding a key the other waits for.
func (s *Store) ReserveThrottles(ctx context.Context, now time.Time, limits []storage.ThrottleLimit) (bool, []storage.ThrottleState, error) {
	const op = "reserve throttles"
	order := make([]int, len(limits))
	for i, l := range limits {
		if l.Key == "" || l.Delay == nil {
			return false, nil, fmt.Errorf("%s: empty key or schedule", op)
		}
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(limits[a].Key, limits[b].Key) })
	for i := 1; i < len(order); i++ {
		if limits[order[i]].Key == limits[order[i-1]].Key {
			return false, nil, fmt.Errorf("%s: duplicate key %q", op, limits[order[i]].Key)
		}
	}
	now = norm(now)
	states := make([]storage.ThrottleState, len(limits))
	allowed := true
	err := s.atomic(ctx, func(tx *Store) error {
		rows := make([]throttleRow, len(limits))
		for _, i := range order {
			r, err := tx.lockThrottle(ctx, limits[i].Key, now)
			if err != nil {
				return tx.wrap(op, err)
			}
			rows[i] = r
			if r.ThrottleState.Refuses(now, limits[i].Free) {
				allowed = false
			}
		}
		if !allowed {
			for i, r := range rows {
				if r.Failures == 0 { // the placeholder rolled back below
					r = throttleRow{ThrottleState: storage.ThrottleState{Key: r.Key}}
				}
				states[i] = r.ThrottleState
			}
			return errRefused
		}
		for _, i := range order {
			l := limits[i]
			r := rows[i].fail(now, l.Window, l.Delay)
			if err := tx.saveThrottle(ctx, r); err != nil {
				return tx.wrap(op, err)
			}
			states[i] = r.ThrottleState
		}
		return nil
	})
	switch {
	case errors.Is(err, errRefused):
		return false, states, nil
	case err != nil:
		return false, nil, err
	}
	return true, states, nil
}

// RecordThrottleFailure counts a failure in one transaction: the row
// locked (see lockThrottle), then written back with one more failure.
func (s *Store) RecordThrottleFailure(ctx context.Context, key string, now time.Time, window time.Duration, delay func(failures int) time.Duration) (storage.ThrottleState, error) {
	const op = "record throttle failure"
	if key == "" {
		return storage.ThrottleState{}, fmt.Errorf("%s: empty key", op)
	}
	now = norm(now)
	var r throttleRow
	err := s.atomic(ctx, func(tx *Store) error {
		var err error
		if r, err = tx.lockThrottle(ctx, key, now); err != nil {
			return tx.wrap(op, err)
		}
		r = r.fail(now, window, delay)
		return tx.wrap(op, tx.saveThrottle(ctx, r))
	})
	if err != nil {
		return storage.ThrottleState{}, err
	}
	return r.ThrottleState, nil
}

// RefundThrottle takes back one failure in one transaction: the
// decrement locks the row, and the rest of the transaction sees it.
func (s *Store) RefundThrottle(ctx context.Context, key string, delay func(failures int) time.Duration) error {
	const op = "refund throttle"
	return s.atomic(ctx, func(tx *Store) error {
		var (
			failures int
			last     time.Time
		)
		err := tx.q.QueryRowContext(ctx,
			`UPDATE throttles SET failures = failures - 1 WHERE key = $1 RETURNING failures, last_failure`,
			key).Scan(&failures, ts(&last))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return tx.wrap(op, err)
		case failures <= 0:
			_, err = tx.q.ExecContext(ctx, `DELETE FROM throttles WHERE key = $1`, key)
		default:
			_, err = tx.q.ExecContext(ctx, `UPDATE throttles SET next_at = $2 WHERE key = $1`,
				key, micros(norm(last.Add(delay(failures)))))
		}
		return tx.wrap(op, err)
	})
}

// throttleRow is a throttles row: the state and the end of its window.
type throttleRow struct {
	storage.ThrottleState
	windowEnd time.Time
}

// lockThrottle returns key's row, locked until the transaction ends. A
// key without a row gets a placeholder of 0 failures, which the caller
// must write over (saveThrottle) or roll back. The upsert is what locks,
// in the SQL both engines accept: PostgreSQL's ON CONFLICT DO UPDATE
// locks the row it finds (waiting for a concurrent inserter to commit,
// and then reading the committed row), and SQLite has one writer.
func (s *Store) lockThrottle(ctx context.Context, key string, now time.Time) (throttleRow, error) {
	var r throttleRow
	err := s.q.QueryRowContext(ctx,
		`INSERT INTO throttles (key, failures, window_start, window_end, last_failure, next_at)
		 VALUES ($1, 0, $2, $2, $2, $2)
		 ON CONFLICT (key) DO UPDATE SET failures = throttles.failures
		 RETURNING `+throttleColumns+`, window_end`,
		key, micros(now)).Scan(&r.Key, &r.Failures, ts(&r.WindowStart), ts(&r.LastFailure), ts(&r.NextAt), ts(&r.windowEnd))
	return r, err
}

// fail returns r with one more failure at now. The count starts again
// (at 1, in a window starting now) on a placeholder, or once the window
// has ended and NextAt passed; LastFailure never moves backwards.
func (r throttleRow) fail(now time.Time, window time.Duration, delay func(int) time.Duration) throttleRow {
	if r.Failures <= 0 || (!r.windowEnd.After(now) && !r.NextAt.After(now)) {
		r.Failures, r.WindowStart, r.windowEnd = 1, now, norm(now.Add(window))
	} else {
		r.Failures++
	}
	if now.After(r.LastFailure) {
		r.LastFailure = now
	}
	r.NextAt = norm(r.LastFailure.Add(delay(r.Failures)))
	return r
}

// saveThrottle writes r over its locked row.
func (s *Store) saveThrottle(ctx context.Context, r throttleRow) error {
	_, err := s.q.ExecContext(ctx,
		`UPDATE throttles SET failures = $2, window_start = $3, window_end = $4, last_failure = $5, next_at = $6
		 WHERE key = $1`,
		r.Key, r.Failures, micros(r.WindowStart), micros(r.windowEnd), micros(r.LastFailure), micros(r.NextAt))
	return err
}

// ThrottleStates returns the states of keys, sorted by key.
func (s *Store) ThrottleStates(ctx context.Context, keys []string) ([]storage.ThrottleState, error) {
	if len(keys) == 0 {
		return []storage.ThrottleState{}, nil
	}
	var in strings.Builder
	args := make([]any, len(keys))
	for i, k := range keys {
		if i > 0 {
			in.WriteString(", ")
		}
		in.WriteString("$" + strconv.Itoa(i+1))
		args[i] = k
	}
	return queryList(ctx, s, "list throttle states", scanThrottleState,
		`SELECT `+throttleColumns+` FROM throttles WHERE key IN (`+in.String()+`) ORDER BY key`, args...)
}

// ResetThrottle deletes key's state.
func (s *Store) ResetThrottle(ctx context.Context, key string) error {
	_, err := s.exec(ctx, "reset throttle", `DELETE FROM throttles WHERE key = $1`, key)
	return err
}

// DeleteThrottlesBefore deletes the states whose window and wait ended,
// and the known devices that expired, strictly before t.
func (s *Store) DeleteThrottlesBefore(ctx context.Context, t time.Time) (int64, error) {
	const op = "delete throttles"
	var total int64
	for _, q := range []string{
		`DELETE FROM throttles WHERE window_end < $1 AND next_at < $1`,
		`DELETE FROM known_devices WHERE expires_at < $1`,
	} {
		n, err := s.exec(ctx, op, q, micros(t))
		if err != nil {
			return total, err
		}
		total += int64(n)
	}
	return total, nil
}

// RememberDevice records (or renews) a known device of account.
func (s *Store) RememberDevice(ctx context.Context, account, deviceHash string, until time.Time) error {
	const op = "remember device"
	if account == "" || deviceHash == "" {
		return fmt.Errorf("%s: empty account or device", op)
	}
	_, err := s.exec(ctx, op,
		`INSERT INTO known_devices (account, device, expires_at) VALUES ($1, $2, $3)
		 ON CONFLICT (account, device) DO UPDATE SET expires_at = excluded.expires_at`,
		account, deviceHash, micros(until))
	return err
}

// DeviceKnown reports whether device is remembered for account beyond now.
func (s *Store) DeviceKnown(ctx context.Context, account, deviceHash string, now time.Time) (bool, error) {
	var n int
	err := s.q.QueryRowContext(ctx,
		`SELECT count(*) FROM known_devices WHERE account = $1 AND device = $2 AND expires_at > $3`,
		account, deviceHash, micros(now)).Scan(&n)
	if err != nil {
		return false, s.wrap("device known", err)
	}
	return n > 0, nil
}
