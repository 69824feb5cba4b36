package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

// ErrInvalid means a plan with refused rows was given to Apply: nothing
// was written.
var ErrInvalid = errors.New("provision: the plan has rows in error, nothing was applied")

// LineError is a use case's refusal of one row while applying (someone
// changed the person since the plan was made, say): the whole import was
// rolled back.
type LineError struct {
	Line     int
	Username string
	Err      error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d (%s): %v", e.Line, e.Username, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Result is what Apply wrote.
type Result struct {
	Created, Updated, Unchanged int
}

// Apply writes a plan made by Plan for the organization orgID, in one
// transaction: every row, or none. It refuses a plan with a row in error
// (ErrInvalid). Each change goes through the territory's use cases
// (CreatePerson with its membership, UpdatePerson, CreateMembership,
// UpdateMembership), which check the actor's permissions, validate, and
// record the change in the audit log inside the same transaction. The
// records' versions are those Plan read: a person or membership changed
// since is refused (field error "version/stale").
//
// progress, if not nil, is called after each row written with the
// number written so far and Changeset.Writes().
func Apply(ctx context.Context, svc *territory.Service, a authz.Actor, orgID string, p *Changeset, progress func(done, total int)) (Result, error) {
	if err := authz.Check(a, authz.PeopleImport, authz.Org(orgID)); err != nil {
		return Result{}, err
	}
	if p.OrgID != orgID {
		return Result{}, fmt.Errorf("provision: a plan for organization %s applied to %s", p.OrgID, orgID)
	}
	if p.Errors > 0 {
		return Result{}, fmt.Errorf("%w (%d)", ErrInvalid, p.Errors)
	}
	var res Result
	total := p.Writes()
	err := svc.Store().WithTx(ctx, func(tx storage.Store) error {
		s := svc.In(tx)
		res = Result{}
		for _, it := range p.Items {
			if it.Action == Unchanged {
				res.Unchanged++
				continue
			}
			if err := applyItem(ctx, s, a, orgID, it); err != nil {
				return &LineError{Line: it.Line, Username: it.Username, Err: err}
			}
			if it.Action == Create {
				res.Created++
			} else {
				res.Updated++
			}
			if progress != nil {
				progress(res.Created+res.Updated, total)
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

func applyItem(ctx context.Context, s *territory.Service, a authz.Actor, orgID string, it Item) error {
	switch it.Action {
	case Create:
		p, m := it.Person, it.Membership
		return s.CreatePerson(ctx, a, &p, territory.NewPerson{Membership: &m})
	case Update:
		if it.Identity {
			p := it.Person
			if err := s.UpdatePerson(ctx, a, orgID, &p); err != nil {
				return err
			}
		}
		m := it.Membership
		m.PersonID = it.Person.ID
		switch {
		case it.NewMembership:
			return s.CreateMembership(ctx, a, &m)
		case it.MembershipChanged:
			return s.UpdateMembership(ctx, a, &m)
		}
		return nil
	}
	return fmt.Errorf("provision: line %d: cannot apply %q", it.Line, it.Action)
}
