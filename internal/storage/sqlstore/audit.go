package sqlstore

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const auditColumns = `seq, at, type, org_id, person_id, client_id, session_id, details,
	actor_kind, actor_id, address, target, before_doc, after_doc, prev_hash, hash`

func scanAudit(r rowScanner) (storage.AuditEvent, error) {
	var e storage.AuditEvent
	err := r.Scan(&e.Seq, ts(&e.At), &e.Type, &e.OrgID, &e.PersonID, &e.ClientID, &e.SessionID,
		jsonDoc(&e.Details), &e.ActorKind, &e.ActorID, &e.Address, &e.Target, &e.Before, &e.After,
		&e.PrevHash, &e.Hash)
	return e, err
}

// AppendAuditEvent appends e under the audit lock, held until the
// transaction ends: PostgreSQL's advisory lock (Dialect.AuditLock), or
// SQLite's write lock, which every writing transaction holds. A
// concurrent appender waits, then reads the event this one added. The
// statements run without a savepoint of their own and touch no shared
// row but the new event's, so that a transaction appending thousands of
// events (an import) stays fast.
func (s *Store) AppendAuditEvent(ctx context.Context, e *storage.AuditEvent, seal func(*storage.AuditEvent)) error {
	return s.atomic(ctx, func(tx *Store) error {
		const op = "append audit event"
		if tx.d.AuditLock != "" {
			if _, err := tx.q.ExecContext(ctx, tx.d.AuditLock); err != nil {
				return tx.wrap(op, err)
			}
		}
		v := *e
		v.Seq, v.PrevHash = 1, ""
		last, err := queryOne(ctx, tx, op, func(r rowScanner) (storage.AuditEvent, error) {
			var l storage.AuditEvent
			err := r.Scan(&l.Seq, &l.Hash)
			return l, err
		}, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`)
		switch {
		case err == nil:
			v.Seq, v.PrevHash = last.Seq+1, last.Hash
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
		v.At = norm(v.At)
		if v.Details == nil {
			v.Details = map[string]string{}
		}
		seal(&v)
		if _, err := tx.q.ExecContext(ctx,
			`INSERT INTO audit_events (`+auditColumns+`)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			v.Seq, micros(v.At), v.Type, v.OrgID, v.PersonID, v.ClientID, v.SessionID, doc(v.Details),
			v.ActorKind, v.ActorID, v.Address, v.Target, v.Before, v.After, v.PrevHash, v.Hash); err != nil {
			return tx.wrap(op, err)
		}
		*e = v
		return nil
	})
}

// LastAuditEvent returns the event with the highest Seq.
func (s *Store) LastAuditEvent(ctx context.Context) (storage.AuditEvent, error) {
	return queryOne(ctx, s, "last audit event", scanAudit,
		`SELECT `+auditColumns+` FROM audit_events ORDER BY seq DESC LIMIT 1`)
}

// ListAuditEvents returns up to limit events after afterSeq.
func (s *Store) ListAuditEvents(ctx context.Context, afterSeq int64, limit int) ([]storage.AuditEvent, error) {
	return queryList(ctx, s, "list audit events", scanAudit,
		`SELECT `+auditColumns+` FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, afterSeq, limit)
}

// QueryAuditEvents returns the events q selects, newest first.
func (s *Store) QueryAuditEvents(ctx context.Context, q storage.AuditQuery) ([]storage.AuditEvent, error) {
	var where []string
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if q.OrgID != "" {
		arg("org_id = ?", q.OrgID)
	}
	if q.Type != "" {
		arg("type = ?", q.Type)
	}
	if q.PersonID != "" {
		args = append(args, q.PersonID, "person:"+q.PersonID)
		n := len(args)
		where = append(where, "(person_id = $"+strconv.Itoa(n-1)+" OR target = $"+strconv.Itoa(n)+")")
	}
	if q.BeforeSeq > 0 {
		arg("seq < ?", q.BeforeSeq)
	}
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	query := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	query += ` ORDER BY seq DESC LIMIT $` + strconv.Itoa(len(args))
	return queryList(ctx, s, "query audit events", scanAudit, query, args...)
}
