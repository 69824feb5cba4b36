package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/storage"
)

func (c *Console) orgAuditExport(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.AuditRead, authz.Org(o.ID)); err != nil {
		return err
	}
	return c.exportAudit(w, r, a, &o)
}

func (c *Console) platformAuditExport(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	if err := authz.Check(a, authz.PlatformRead, authz.Platform); err != nil {
		return err
	}
	return c.exportAudit(w, r, a, nil)
}

// auditLine is one event of the export: every stored field, the records
// before and after as JSON, and the chain's hashes (to verify it).
type auditLine struct {
	Seq       int64             `json:"seq"`
	At        time.Time         `json:"at"`
	Type      string            `json:"type"`
	OrgID     string            `json:"org_id,omitempty"`
	PersonID  string            `json:"person_id,omitempty"`
	ClientID  string            `json:"client_id,omitempty"`
	SessionID string            `json:"session_id,omitempty"`
	ActorKind string            `json:"actor_kind,omitempty"`
	ActorID   string            `json:"actor_id,omitempty"`
	Address   string            `json:"address,omitempty"`
	Target    string            `json:"target,omitempty"`
	Before    any               `json:"before,omitempty"`
	After     any               `json:"after,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
	PrevHash  string            `json:"prev_hash"`
	Hash      string            `json:"hash"`
}

func newAuditLine(e storage.AuditEvent) auditLine {
	record := func(s string) any {
		switch {
		case s == "":
			return nil
		case json.Valid([]byte(s)):
			return json.RawMessage(s)
		}
		return s
	}
	return auditLine{Seq: e.Seq, At: e.At.UTC(), Type: e.Type, OrgID: e.OrgID, PersonID: e.PersonID, ClientID: e.ClientID,
		SessionID: e.SessionID, ActorKind: e.ActorKind, ActorID: e.ActorID, Address: e.Address, Target: e.Target,
		Before: record(e.Before), After: record(e.After), Details: e.Details, PrevHash: e.PrevHash, Hash: e.Hash}
}

// exportAudit streams the selection, newest first, as JSON Lines: it
// reads auditBatch events at a time, never the whole log at once.
func (c *Console) exportAudit(w http.ResponseWriter, r *http.Request, a authz.Actor, o *storage.Organization) error {
	ctx := r.Context()
	f, unknown, err := c.readAuditFilter(r, a)
	if err != nil {
		return err
	}
	if unknown {
		return errBadRequest
	}
	orgID, name := "", "plateforme"
	if o != nil {
		orgID, name = o.ID, o.Slug
	}
	q := f.query(orgID, auditBatch)
	evs, err := c.store.QueryAuditEvents(ctx, q)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Content-Disposition", `attachment; filename="journal-`+name+"-"+c.now().UTC().Format("20060102-150405")+`.jsonl"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	// From here on the answer has begun: an error can only end it.
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for {
		for _, e := range evs {
			if err := enc.Encode(newAuditLine(e)); err != nil {
				return nil // the client went away
			}
		}
		if len(evs) < auditBatch {
			return nil
		}
		_ = rc.Flush() // nothing to do if the writer cannot flush
		q.BeforeSeq = evs[len(evs)-1].Seq
		if evs, err = c.store.QueryAuditEvents(ctx, q); err != nil {
			if !errors.Is(err, context.Canceled) {
				c.log.ErrorContext(ctx, "audit export interrupted", "err", err, "seq", q.BeforeSeq)
			}
			return nil
		}
	}
}
