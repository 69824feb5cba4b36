package keys

import (
	"context"
	"fmt"
	"time"
)

// Key states, as List reports them.
const (
	// StateSigning: the key signs now.
	StateSigning = "signing"
	// StateNext: published, signs from its ActiveAt.
	StateNext = "next"
	// StatePublished: published and within its signing period, but a key
	// activated later signs instead.
	StatePublished = "published"
	// StateRetired: no longer signs; published until its ExpiresAt so
	// that tokens it signed still verify.
	StateRetired = "retired"
	// StateExpired: no longer published.
	StateExpired = "expired"
	// StateUnusable: stored but cannot be parsed; never used.
	StateUnusable = "unusable"
)

// Info describes a stored signing key, without its private material.
type Info struct {
	ID        string // kid
	Algorithm string
	CreatedAt time.Time // published from
	ActiveAt  time.Time // signs from
	RetiredAt *time.Time
	ExpiresAt *time.Time
	State     string // one of the State constants, at the time of List
}

// List returns every stored key, in creation order, with its state now.
func (m *Manager) List(ctx context.Context) ([]Info, error) {
	recs, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list signing keys: %w", err)
	}
	ks, err := m.reload(ctx, true)
	if err != nil {
		return nil, err
	}
	usable := make(map[string]bool, len(ks))
	for _, k := range ks {
		usable[k.rec.ID] = true
	}
	now := m.now()
	var signing string
	if k := activeKey(ks, now); k != nil {
		signing = k.rec.ID
	}
	out := make([]Info, 0, len(recs))
	for _, r := range recs {
		in := Info{
			ID: r.ID, Algorithm: r.Algorithm, CreatedAt: r.CreatedAt, ActiveAt: r.ActiveAt,
			RetiredAt: r.RetiredAt, ExpiresAt: r.ExpiresAt,
		}
		switch {
		case !usable[r.ID]:
			in.State = StateUnusable
		case r.ExpiresAt != nil && !now.Before(*r.ExpiresAt):
			in.State = StateExpired
		case r.ID == signing:
			in.State = StateSigning
		case r.RetiredAt != nil && !now.Before(*r.RetiredAt):
			in.State = StateRetired
		case now.Before(r.ActiveAt):
			in.State = StateNext
		default:
			in.State = StatePublished
		}
		out = append(out, in)
	}
	return out, nil
}
