package territory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// defaultFrom sets a zero ValidFrom to now.
func (s *Service) defaultFrom(m *storage.Membership) {
	if m.ValidFrom.IsZero() {
		m.ValidFrom = s.now().UTC().Truncate(time.Second)
	}
}

// CreateMembership validates and stores m: each organization makes its
// own members, whoever they are elsewhere. A zero ValidFrom means now.
func (s *Service) CreateMembership(ctx context.Context, a authz.Actor, m *storage.Membership) error {
	if err := authz.Check(a, authz.PeopleWrite, authz.Org(m.OrgID)); err != nil {
		return err
	}
	s.defaultFrom(m)
	if err := ValidateMembership(*m); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error { return s.createMembership(ctx, tx, log, a, m) })
}

func (s *Service) createMembership(ctx context.Context, tx Store, log *audit.Log, a authz.Actor, m *storage.Membership) error {
	if _, err := tx.GetOrganization(ctx, m.OrgID); err != nil {
		return notFound("membership organization", err)
	}
	if _, err := tx.GetPerson(ctx, m.PersonID); err != nil {
		return notFound("membership person", err)
	}
	// A person who belongs elsewhere joins an organization only through
	// someone who administers every organization they belong to (or the
	// platform): otherwise a commune could attach anyone of the territory
	// and, sharing them, take their administration away from their own
	// organization.
	ms, err := tx.ListPersonMemberships(ctx, m.PersonID)
	if err != nil {
		return err
	}
	for _, org := range authz.PersonOrgs(ms, s.now()) {
		if org != m.OrgID {
			if err := authz.Check(a, authz.PeopleWrite, authz.Org(org)); err != nil {
				return field.New("person", "other_org", "this person belongs to another organization: the platform's administrator adds them")
			}
		}
	}
	if err := tx.CreateMembership(ctx, m); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return errors.Join(field.New("kind", field.Taken, "the person already has a %s membership in this organization", m.Kind).With("kind", m.Kind), err)
		}
		return fmt.Errorf("create membership: %w", err)
	}
	return Record(ctx, log, a, Change{Type: audit.MembershipCreated, OrgID: m.OrgID, PersonID: m.PersonID, Target: "membership:" + m.ID, After: ViewMembership(*m)})
}

// UpdateMembership validates and stores m (its kind, service, title,
// contact, dates). m.Version, when set, must be the stored one.
func (s *Service) UpdateMembership(ctx context.Context, a authz.Actor, m *storage.Membership) error {
	if err := authz.Check(a, authz.PeopleWrite, authz.Org(m.OrgID)); err != nil {
		return err
	}
	if err := ValidateMembership(*m); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		cur, err := tx.GetMembership(ctx, m.OrgID, m.ID)
		if err != nil {
			return notFound("membership", err)
		}
		if cur.PersonID != m.PersonID {
			return field.New("person", field.Invalid, "a membership cannot move to another person")
		}
		if err := tx.UpdateMembership(ctx, m); err != nil {
			return stale(err)
		}
		return Record(ctx, log, a, Change{Type: audit.MembershipUpdated, OrgID: m.OrgID, PersonID: m.PersonID, Target: "membership:" + m.ID,
			Before: ViewMembership(cur), After: ViewMembership(*m)})
	})
}

// EndMembership ends a membership at t (exclusive). Access through it
// ends then.
func (s *Service) EndMembership(ctx context.Context, a authz.Actor, orgID, id string, t time.Time) (storage.Membership, error) {
	if err := authz.Check(a, authz.PeopleWrite, authz.Org(orgID)); err != nil {
		return storage.Membership{}, err
	}
	var m storage.Membership
	err := s.tx(ctx, func(tx Store, log *audit.Log) error {
		cur, err := tx.GetMembership(ctx, orgID, id)
		if err != nil {
			return notFound("membership", err)
		}
		m = cur
		m.ValidUntil = &t
		if err := ValidateMembership(m); err != nil {
			return err
		}
		if err := tx.UpdateMembership(ctx, &m); err != nil {
			return stale(err)
		}
		return Record(ctx, log, a, Change{Type: audit.MembershipUpdated, OrgID: orgID, PersonID: m.PersonID, Target: "membership:" + id,
			Before: ViewMembership(cur), After: ViewMembership(m), Details: map[string]string{"ended": t.UTC().Format(time.RFC3339)}})
	})
	return m, err
}

// Memberships lists an organization's memberships.
func (s *Service) Memberships(ctx context.Context, a authz.Actor, orgID string) ([]storage.Membership, error) {
	if err := authz.Check(a, authz.PeopleRead, authz.Org(orgID)); err != nil {
		return nil, err
	}
	return s.store.ListMemberships(ctx, orgID)
}

// PersonMemberships lists a person's memberships the actor may see: all
// of them for the platform, those of the actor's organizations otherwise.
func (s *Service) PersonMemberships(ctx context.Context, a authz.Actor, personID string) ([]storage.Membership, error) {
	ms, err := s.store.ListPersonMemberships(ctx, personID)
	if err != nil {
		return nil, err
	}
	out := ms[:0]
	for _, m := range ms {
		if a.Can(authz.PeopleRead, authz.Org(m.OrgID)) {
			out = append(out, m)
		}
	}
	return out, nil
}

// AddMandate validates and stores an élu's mandate.
func (s *Service) AddMandate(ctx context.Context, a authz.Actor, md *storage.Mandate) error {
	if err := authz.Check(a, authz.PeopleWrite, authz.Org(md.OrgID)); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		m, err := tx.GetMembership(ctx, md.OrgID, md.MembershipID)
		if err != nil {
			return notFound("mandate membership", err)
		}
		if err := validateMandate(m, md); err != nil {
			return err
		}
		if err := tx.CreateMandate(ctx, md); err != nil {
			return err
		}
		return Record(ctx, log, a, Change{Type: audit.MandateAdded, OrgID: md.OrgID, PersonID: m.PersonID, Target: "membership:" + m.ID, After: ViewMandate(*md)})
	})
}

func validateMandate(m storage.Membership, md *storage.Mandate) error {
	var errs []error
	if m.Kind != storage.KindElu {
		errs = append(errs, fieldErr("membership", "not_elu", "mandates belong to élus' memberships"))
	}
	if strings.TrimSpace(md.Function) == "" {
		errs = append(errs, fieldErr("function", "required", "is required"))
	}
	if md.StartsAt.IsZero() {
		md.StartsAt = m.ValidFrom
	}
	if md.StartsAt.Before(m.ValidFrom) {
		if sameDay(md.StartsAt, m.ValidFrom) {
			// "--from today" for a membership created a moment ago: the
			// mandate starts with the membership.
			md.StartsAt = m.ValidFrom
		} else {
			errs = append(errs, fieldErr("starts_at", "before_membership", "must not be before the membership starts (%s)", m.ValidFrom.Local().Format(time.DateOnly)))
		}
	}
	if md.EndsAt != nil && !md.EndsAt.After(md.StartsAt) {
		errs = append(errs, fieldErr("ends_at", "before_start", "must be after starts_at"))
	}
	return errors.Join(errs...)
}

// RemoveMandate deletes a mandate.
func (s *Service) RemoveMandate(ctx context.Context, a authz.Actor, orgID, membershipID, id string) error {
	if err := authz.Check(a, authz.PeopleWrite, authz.Org(orgID)); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		mds, err := tx.ListMandates(ctx, orgID, membershipID)
		if err != nil {
			return err
		}
		for _, md := range mds {
			if md.ID == id {
				if err := tx.DeleteMandate(ctx, orgID, id); err != nil {
					return err
				}
				return Record(ctx, log, a, Change{Type: audit.MandateRemoved, OrgID: orgID, Target: "membership:" + membershipID, Before: ViewMandate(md)})
			}
		}
		return fmt.Errorf("mandate: %w", storage.ErrNotFound)
	})
}

// Mandates lists a membership's mandates.
func (s *Service) Mandates(ctx context.Context, a authz.Actor, orgID, membershipID string) ([]storage.Mandate, error) {
	if err := authz.Check(a, authz.PeopleRead, authz.Org(orgID)); err != nil {
		return nil, err
	}
	return s.store.ListMandates(ctx, orgID, membershipID)
}

// ActiveMandates returns the mandates of a membership in force at t.
func (s *Service) ActiveMandates(ctx context.Context, orgID, membershipID string, t time.Time) ([]storage.Mandate, error) {
	all, err := s.store.ListMandates(ctx, orgID, membershipID)
	if err != nil {
		return nil, err
	}
	var out []storage.Mandate
	for _, md := range all {
		if md.ActiveAt(t) {
			out = append(out, md)
		}
	}
	return out, nil
}
