// Package audit owns TNO's security audit log: append-only events, each
// chained to the previous one by a SHA-256 hash, so that removing or
// altering a stored event is detected by Verify. Security events (sign-in
// failures, token reuse, ended sessions…) go here, not only to the logs.
//
// It imports internal/storage only.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// Event types.
const (
	LoginSucceeded       = "login_succeeded"
	LoginFailed          = "login_failed"
	CodeReuse            = "authorization_code_reuse"
	RefreshTokenReuse    = "refresh_token_reuse"
	SessionEnded         = "session_ended"
	ClientAuthFailed     = "client_authentication_failed"
	ClientAssertionReuse = "client_assertion_reuse"
	// SignInOtherBrowser: a pending sign-in was continued from a browser
	// other than the one that started it (a link handed on), and refused.
	SignInOtherBrowser = "sign_in_other_browser"
	// PasswordChanged: a person chose a new password.
	PasswordChanged = "password_changed"
	// StepUp: a session proved a second factor and reached a higher level.
	StepUp = "step_up"
	// SecondFactorFailed: a wrong one-time or recovery code.
	SecondFactorFailed = "second_factor_failed"
	// FactorEnrolled, FactorRemoved, RecoveryCodesRenewed: a person (or,
	// for FactorsReset, an administrator) changed their factors.
	FactorEnrolled       = "factor_enrolled"
	FactorRemoved        = "factor_removed"
	RecoveryCodesRenewed = "recovery_codes_renewed"
	FactorsReset         = "factors_reset"
	// SignInThrottled: a password or code attempt refused by the
	// brute-force limiter, before it was checked.
	SignInThrottled = "sign_in_throttled"
	// RecoveryCodeUsed: a single-use recovery code replaced the
	// authenticator app at sign-in.
	RecoveryCodeUsed = "recovery_code_used"
	// PasswordResetRequested: « Mot de passe oublié » was asked for an
	// identifier; Details say what came of it (a link sent, or why not).
	PasswordResetRequested = "password_reset_requested"
	// PasswordReset: a person chose a new password through a reset link;
	// their sessions were ended.
	PasswordReset = "password_reset"
)

// Administration events: Before and After hold the record's JSON.
const (
	OrgCreated         = "organization_created"
	OrgUpdated         = "organization_updated"
	PersonCreated      = "person_created"
	PersonUpdated      = "person_updated"
	PersonDisabled     = "person_disabled"
	PersonEnabled      = "person_enabled"
	PasswordSet        = "password_set" // by an administrator
	MembershipCreated  = "membership_created"
	MembershipUpdated  = "membership_updated"
	MandateAdded       = "mandate_added"
	MandateRemoved     = "mandate_removed"
	GroupCreated       = "group_created"
	GroupDeleted       = "group_deleted"
	GroupMemberAdded   = "group_member_added"
	GroupMemberRemoved = "group_member_removed"
	RoleGranted        = "role_granted"
	RoleRevoked        = "role_revoked"
	AppCreated         = "application_created"
	AppUpdated         = "application_updated"
	AppSecretRotated   = "application_secret_rotated"
	AppDeleted         = "application_deleted"
	SessionsEnded      = "sessions_ended" // by an administrator
	InvitationCreated  = "invitation_created"
)

// Event is what a caller records; the log adds time, sequence and hashes.
type Event struct {
	Type      string
	OrgID     string
	PersonID  string
	ClientID  string
	SessionID string
	Details   map[string]string // never secrets: no password, token or code
	// Administration events: who acted (ActorKind "person", "client",
	// "cli", "system", "source"; ActorID), from which address, on which
	// record (Target "person:ID"…), its JSON before and after.
	ActorKind string
	ActorID   string
	Address   string
	Target    string
	Before    string
	After     string
}

// Recorder records events; *Log implements it. Packages that record take
// this interface so tests can pass a fake.
type Recorder interface {
	Record(ctx context.Context, e Event) error
}

// Options configures a Log.
type Options struct {
	Store  storage.AuditEvents
	Now    func() time.Time
	Logger *slog.Logger
}

// Log is the audit log.
type Log struct {
	store storage.AuditEvents
	now   func() time.Time
	log   *slog.Logger
}

var _ Recorder = (*Log)(nil)

// New returns a Log.
func New(opts Options) (*Log, error) {
	if opts.Store == nil {
		return nil, errors.New("audit: nil store")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Log{store: opts.Store, now: opts.Now, log: opts.Logger}, nil
}

// In returns a Log that appends through st: a transaction's store, so
// that the event is written, or not, with the change it records.
func (l *Log) In(st storage.AuditEvents) *Log {
	c := *l
	c.store = st
	return &c
}

// Record appends e to the chain. Concurrent writers (several instances)
// take turns on the head of the log: none gives up.
func (l *Log) Record(ctx context.Context, e Event) error {
	ev := storage.AuditEvent{
		At: l.now().UTC().Truncate(time.Microsecond), Type: e.Type,
		OrgID: e.OrgID, PersonID: e.PersonID, ClientID: e.ClientID, SessionID: e.SessionID,
		Details: e.Details, ActorKind: e.ActorKind, ActorID: e.ActorID, Address: e.Address,
		Target: e.Target, Before: e.Before, After: e.After,
	}
	if err := l.store.AppendAuditEvent(ctx, &ev, func(ev *storage.AuditEvent) { ev.Hash = Hash(*ev) }); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	attrs := []any{"audit", ev.Type, "seq", ev.Seq}
	for _, kv := range [][2]string{{"org", ev.OrgID}, {"person_id", ev.PersonID}, {"client_id", ev.ClientID}, {"actor", ev.ActorKind}, {"target", ev.Target}} {
		if kv[1] != "" {
			attrs = append(attrs, kv[0], kv[1])
		}
	}
	l.log.InfoContext(ctx, "audit event", attrs...)
	return nil
}

// Hash computes an event's chained hash: SHA-256 of the canonical JSON
// of every field but Hash itself (PrevHash included).
func Hash(e storage.AuditEvent) string {
	details := e.Details
	if details == nil {
		details = map[string]string{}
	}
	b, err := json.Marshal(struct {
		Seq       int64             `json:"seq"`
		At        int64             `json:"at"`
		Type      string            `json:"type"`
		OrgID     string            `json:"org"`
		PersonID  string            `json:"person"`
		ClientID  string            `json:"client"`
		SessionID string            `json:"session"`
		Details   map[string]string `json:"details"` // encoding/json sorts map keys
		PrevHash  string            `json:"prev"`
		// Added with administration events: omitted when empty, so
		// that the events written before keep their hashes.
		ActorKind string `json:"actor_kind,omitempty"`
		ActorID   string `json:"actor_id,omitempty"`
		Address   string `json:"address,omitempty"`
		Target    string `json:"target,omitempty"`
		Before    string `json:"before,omitempty"`
		After     string `json:"after,omitempty"`
	}{e.Seq, e.At.UnixMicro(), e.Type, e.OrgID, e.PersonID, e.ClientID, e.SessionID, details, e.PrevHash,
		e.ActorKind, e.ActorID, e.Address, e.Target, e.Before, e.After})
	if err != nil { // strings and numbers only: cannot happen
		panic("audit: encode event: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ErrTampered reports a broken chain.
var ErrTampered = errors.New("audit: the log was altered")

// Verify walks the whole chain and returns how many events it checked,
// or an error wrapping ErrTampered at the first event whose sequence,
// link or hash does not match.
func (l *Log) Verify(ctx context.Context) (int64, error) {
	var n int64
	prev := storage.AuditEvent{}
	for {
		evs, err := l.store.ListAuditEvents(ctx, prev.Seq, 500)
		if err != nil {
			return n, fmt.Errorf("audit: %w", err)
		}
		if len(evs) == 0 {
			return n, nil
		}
		for _, e := range evs {
			switch {
			case e.Seq != prev.Seq+1:
				return n, fmt.Errorf("%w: event %d follows event %d", ErrTampered, e.Seq, prev.Seq)
			case e.PrevHash != prev.Hash:
				return n, fmt.Errorf("%w: event %d does not link to event %d", ErrTampered, e.Seq, prev.Seq)
			case Hash(e) != e.Hash:
				return n, fmt.Errorf("%w: event %d does not match its hash", ErrTampered, e.Seq)
			}
			prev = e
			n++
		}
	}
}
