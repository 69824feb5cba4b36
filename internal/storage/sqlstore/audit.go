package sqlstore

import (
	"context"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const auditColumns = `seq, at, type, org_id, person_id, client_id, session_id, details, prev_hash, hash`

func scanAudit(r rowScanner) (storage.AuditEvent, error) {
	var e storage.AuditEvent
	err := r.Scan(&e.Seq, ts(&e.At), &e.Type, &e.OrgID, &e.PersonID, &e.ClientID, &e.SessionID,
		jsonDoc(&e.Details), &e.PrevHash, &e.Hash)
	return e, err
}

// AppendAuditEvent inserts e; its Seq is the primary key, so two writers
// appending the same Seq conflict and one retries.
func (s *Store) AppendAuditEvent(ctx context.Context, e *storage.AuditEvent) error {
	v := *e
	v.At = norm(v.At)
	if v.Details == nil {
		v.Details = map[string]string{}
	}
	if _, err := s.exec(ctx, "append audit event",
		`INSERT INTO audit_events (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		v.Seq, micros(v.At), v.Type, v.OrgID, v.PersonID, v.ClientID, v.SessionID, doc(v.Details), v.PrevHash, v.Hash); err != nil {
		return err
	}
	*e = v
	return nil
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
