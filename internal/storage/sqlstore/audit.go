package sqlstore

import (
	"context"
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

// AppendAuditEvent appends e under the lock of the audit head: the
// UPDATE of its single row holds a row lock (PostgreSQL) or the write
// lock (SQLite) until the transaction ends, so a concurrent appender
// waits, then reads the head this one left.
func (s *Store) AppendAuditEvent(ctx context.Context, e *storage.AuditEvent, seal func(*storage.AuditEvent)) error {
	return s.atomic(ctx, func(tx *Store) error {
		const op = "append audit event"
		type head struct {
			seq  int64
			hash string
		}
		h, err := queryOne(ctx, tx, op, func(r rowScanner) (head, error) {
			var h head
			err := r.Scan(&h.seq, &h.hash)
			return h, err
		}, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`)
		if err != nil {
			return err
		}
		v := *e
		v.Seq, v.PrevHash = h.seq, h.hash
		v.At = norm(v.At)
		if v.Details == nil {
			v.Details = map[string]string{}
		}
		seal(&v)
		if _, err := tx.exec(ctx, op,
			`INSERT INTO audit_events (`+auditColumns+`)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			v.Seq, micros(v.At), v.Type, v.OrgID, v.PersonID, v.ClientID, v.SessionID, doc(v.Details),
			v.ActorKind, v.ActorID, v.Address, v.Target, v.Before, v.After, v.PrevHash, v.Hash); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, op, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, v.Seq, v.Hash); err != nil {
			return err
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
