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
	// Who acted, for administration events: ActorKind "person" (ActorID
	// a person ID), "client" (a client_id), "cli", "system", "source"
	// (an identity source); empty for sign-in events, where PersonID
	// and ClientID say it. OrgID is the organization acted on behalf of.
	ActorKind string
	ActorID   string
	Address   string // the actor's IP address, when it came over HTTP
	// Target names the record changed ("person:ID", "application:ID"…);
	// Before and After are its JSON forms (secrets excluded), "" when
	// created or removed.
	Target   string
	Before   string
	After    string
	PrevHash string // Hash of event Seq-1, "" for the first
	Hash     string
}

// AuditQuery selects events for reading, newest first.
type AuditQuery struct {
	OrgID     string // "" for every organization
	Type      string // "" for every type
	PersonID  string // events about or by this person ("" for all)
	BeforeSeq int64  // only events with Seq < BeforeSeq; 0 for the newest
	Limit     int
}

// AuditEvents stores the audit log.
type AuditEvents interface {
	// AppendAuditEvent appends e to the chain: it locks the head of the
	// log until the surrounding transaction ends (its own transaction
	// outside one), sets e.Seq and e.PrevHash from it, calls seal to set
	// e.Hash, and stores e. Concurrent appenders wait for each other; no
	// event is dropped.
	AppendAuditEvent(ctx context.Context, e *AuditEvent, seal func(*AuditEvent)) error
	// LastAuditEvent returns the event with the highest Seq, ErrNotFound
	// if the log is empty.
	LastAuditEvent(ctx context.Context) (AuditEvent, error)
	// ListAuditEvents returns up to limit events with Seq > afterSeq, in
	// Seq order.
	ListAuditEvents(ctx context.Context, afterSeq int64, limit int) ([]AuditEvent, error)
	// QueryAuditEvents returns the events q selects, newest first.
	QueryAuditEvents(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
}
