package storage

import (
	"context"
	"time"
)

// AuditEvent is one security event of the append-only audit log. Seq
// numbers the log without gaps; Hash chains each event to the previous
// one (internal/audit computes it), so that a removed or altered event is
// detected.
type AuditEvent struct {
	Seq       int64 // 1, 2, 3…
	At        time.Time
	Type      string // "login_failed", "refresh_token_reuse"…
	OrgID     string
	PersonID  string
	ClientID  string
	SessionID string
	Details   map[string]string
	PrevHash  string // Hash of event Seq-1, "" for the first
	Hash      string
}

// AuditEvents stores the audit log.
type AuditEvents interface {
	// AppendAuditEvent inserts e with the Seq it carries: ErrConflict if
	// that Seq is taken (another writer appended first: read the last
	// event again and retry).
	AppendAuditEvent(ctx context.Context, e *AuditEvent) error
	// LastAuditEvent returns the event with the highest Seq, ErrNotFound
	// if the log is empty.
	LastAuditEvent(ctx context.Context) (AuditEvent, error)
	// ListAuditEvents returns up to limit events with Seq > afterSeq, in
	// Seq order.
	ListAuditEvents(ctx context.Context, afterSeq int64, limit int) ([]AuditEvent, error)
}
