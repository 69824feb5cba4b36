// Package territory owns the territory's model and its use cases:
// organizations, people, memberships (agent or élu), mandates, groups and
// administration roles, with their validation rules (SIREN/SIRET Luhn
// check, identifiers, validity dates).
//
// Every use case takes the acting party first (authz.Actor), checks its
// permission with authz, changes the store in one transaction and records
// the change — who, on behalf of which organization, before and after —
// in the audit log inside that same transaction. The CLI, the console,
// the REST API, `tno apply` and the identity sources all call these.
//
// It imports internal/storage, internal/field, internal/authz and
// internal/audit. Every method that touches data owned by an organization
// takes the organization ID explicitly.
package territory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// Store is what the territory service needs from storage.
type Store = storage.Store

// Sessions ends a person's sessions and tells their applications
// (internal/logout).
type Sessions interface {
	EndPersonSessions(ctx context.Context, personID, reason string) (int, error)
}

// Passwords hashes and checks passwords (internal/directory/local).
type Passwords interface {
	Hash(ctx context.Context, password string) (string, error)
	// Check applies the password policy; personal lists the person's
	// names and identifiers, which the password must not contain.
	Check(password string, personal ...string) error
}

// Options configures a Service.
type Options struct {
	Store Store
	Now   func() time.Time
	// Audit records every change; nil builds a log on Store.
	Audit *audit.Log
	// Sessions ends the sessions of a disabled person; nil ends none
	// (tests).
	Sessions Sessions
	// Passwords is needed by SetPassword and CreatePerson with a password.
	Passwords Passwords
}

// Service runs the territory's use cases.
type Service struct {
	store     Store
	now       func() time.Time
	audit     *audit.Log
	sessions  Sessions
	passwords Passwords
	bound     bool // In: inside a caller's transaction
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("territory: nil store")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Audit == nil {
		var err error
		if opts.Audit, err = audit.New(audit.Options{Store: opts.Store, Now: opts.Now}); err != nil {
			return nil, err
		}
	}
	return &Service{store: opts.Store, now: opts.Now, audit: opts.Audit, sessions: opts.Sessions, passwords: opts.Passwords}, nil
}

// In returns the service working inside the caller's transaction tx
// (tno apply, a CSV import): each use case then runs under a savepoint
// of tx and its audit event commits, or not, with tx. Ending sessions
// needs its own transaction: SetDisabled refuses to disable inside one.
func (s *Service) In(tx Store) *Service {
	c := *s
	c.store, c.audit, c.bound = tx, s.audit.In(tx), true
	return &c
}

// Store returns the store the service works on.
func (s *Service) Store() Store { return s.store }

// tx runs fn in a transaction (a savepoint when bound) with the audit log
// writing into it.
func (s *Service) tx(ctx context.Context, fn func(tx Store, log *audit.Log) error) error {
	return s.store.WithTx(ctx, func(tx Store) error { return fn(tx, s.audit.In(tx)) })
}

// Change is one administration change for the audit log.
type Change struct {
	Type   string // audit event type: "person_created"…
	OrgID  string // on behalf of which organization ("" platform)
	Target string // "person:ID"…
	// PersonID is the person the change is about, when the target is
	// theirs but not them (a membership, a mandate).
	PersonID string
	Before   any // record before (nil when created); JSON-encoded
	After    any // record after (nil when removed)
	// Details add context (never secrets).
	Details map[string]string
}

// Record writes c to log with the actor's identity. Records are encoded
// with their JSON tags: give views without secrets.
func Record(ctx context.Context, log *audit.Log, a authz.Actor, c Change) error {
	enc := func(v any) (string, error) {
		if v == nil {
			return "", nil
		}
		b, err := json.Marshal(v)
		return string(b), err
	}
	before, err1 := enc(c.Before)
	after, err2 := enc(c.After)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("audit %s: %w", c.Type, err)
	}
	e := audit.Event{
		Type: c.Type, OrgID: c.OrgID, PersonID: c.PersonID, Details: c.Details, ActorKind: string(a.Kind), ActorID: a.ID,
		Address: a.Address, Target: c.Target, Before: before, After: after,
	}
	if a.Kind == authz.KindClient {
		e.ClientID = a.ID
	}
	return log.Record(ctx, e)
}

// notFound maps storage's ErrNotFound for the record named.
func notFound(what string, err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%s: %w", what, storage.ErrNotFound)
	}
	return err
}

// stale is the field error of an edit made from an outdated copy.
func stale(err error) error {
	if errors.Is(err, storage.ErrStale) {
		return errors.Join(field.New("version", field.Stale, "was changed by someone else meanwhile: reload it and make the change again"), err)
	}
	return err
}
