package territory

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// NewPerson is what CreatePerson may create with the person, in the same
// transaction.
type NewPerson struct {
	// Membership, if set, is the person's first membership (its PersonID
	// is filled in). An organization's administrator creates people
	// through a membership of their organization; without one, only the
	// platform may.
	Membership *storage.Membership
	// Password, if set, is checked against the policy and hashed;
	// Temporary makes the person choose another at their next sign-in.
	Password  string
	Temporary bool
}

// CreatePerson normalizes, validates and stores p, with what n adds.
func (s *Service) CreatePerson(ctx context.Context, a authz.Actor, p *storage.Person, n NewPerson) error {
	var orgs []string
	if n.Membership != nil {
		orgs = []string{n.Membership.OrgID}
	}
	if err := authz.CheckPerson(a, authz.PeopleWrite, orgs, nil); err != nil {
		return err
	}
	p.Username = NormalizeUsername(p.Username)
	errs := []error{ValidatePerson(*p)}
	if n.Membership != nil {
		s.defaultFrom(n.Membership)
		n.Membership.PersonID = "pending" // set once the person exists
		errs = append(errs, ValidateMembership(*n.Membership))
	}
	var hash string
	if n.Password != "" {
		var err error
		if hash, err = s.hash(ctx, *p, n.Password); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		if err := tx.CreatePerson(ctx, p); err != nil {
			return personConflict(p.Username, err)
		}
		orgID := ""
		if n.Membership != nil {
			orgID = n.Membership.OrgID
		}
		if err := Record(ctx, log, a, Change{Type: audit.PersonCreated, OrgID: orgID, Target: "person:" + p.ID, After: ViewPerson(*p)}); err != nil {
			return err
		}
		if n.Membership != nil {
			n.Membership.PersonID = p.ID
			if err := s.createMembership(ctx, tx, log, a, n.Membership); err != nil {
				return err
			}
		}
		if hash != "" {
			return s.storePassword(ctx, tx, log, a, orgID, p.ID, hash, n.Temporary)
		}
		return nil
	})
}

func personConflict(username string, err error) error {
	if errors.Is(err, storage.ErrConflict) {
		return errors.Join(field.New("username", field.Taken, "the identifier %s is already taken", username).With("username", username), err)
	}
	return err
}

// checkPerson loads what authz.CheckPerson needs and checks p on the
// person. It also returns the person.
func (s *Service) checkPerson(ctx context.Context, st Store, a authz.Actor, p authz.Permission, personID string) (storage.Person, error) {
	person, err := st.GetPerson(ctx, personID)
	if err != nil {
		return person, notFound("person", err)
	}
	ms, err := st.ListPersonMemberships(ctx, personID)
	if err != nil {
		return person, err
	}
	if !authz.CanReadPerson(a, ms) && !a.IsPlatformAdmin() {
		return person, fmt.Errorf("person: %w", storage.ErrNotFound) // not theirs to know of
	}
	roles, err := st.ListRoles(ctx, personID)
	if err != nil {
		return person, err
	}
	return person, authz.CheckPerson(a, p, authz.PersonOrgs(ms, s.now()), roles)
}

// Person returns a person the actor may see: one with a membership (even
// ended) in an organization where the actor reads people.
func (s *Service) Person(ctx context.Context, a authz.Actor, id string) (storage.Person, error) {
	p, err := s.store.GetPerson(ctx, id)
	if err != nil {
		return p, notFound("person", err)
	}
	return p, s.canRead(ctx, a, p)
}

// PersonByUsername returns a person by identifier, if the actor may see
// them (one of their organizations is the actor's): an administrator
// learns nothing of the people of other organizations, not even that an
// identifier exists.
func (s *Service) PersonByUsername(ctx context.Context, a authz.Actor, username string) (storage.Person, error) {
	p, err := s.store.GetPersonByUsername(ctx, NormalizeUsername(username))
	if err != nil {
		return p, notFound("person "+username, err)
	}
	if err := s.canRead(ctx, a, p); err != nil {
		return storage.Person{}, err
	}
	return p, nil
}

func (s *Service) canRead(ctx context.Context, a authz.Actor, p storage.Person) error {
	if a.IsPlatformAdmin() {
		return nil
	}
	ms, err := s.store.ListPersonMemberships(ctx, p.ID)
	if err != nil {
		return err
	}
	if !authz.CanReadPerson(a, ms) {
		return fmt.Errorf("person: %w", storage.ErrNotFound)
	}
	return nil
}

// People lists the people holding a membership (current or not) in
// orgID, or every person for the platform when orgID is "".
func (s *Service) People(ctx context.Context, a authz.Actor, orgID string) ([]storage.Person, error) {
	if orgID == "" {
		if err := authz.Check(a, authz.PlatformRead, authz.Platform); err != nil {
			return nil, err
		}
		return s.store.ListPeople(ctx)
	}
	if err := authz.Check(a, authz.PeopleRead, authz.Org(orgID)); err != nil {
		return nil, err
	}
	return s.store.ListPeopleInOrganization(ctx, orgID)
}

// CountPeople counts the people holding a membership (current or not) in
// orgID.
func (s *Service) CountPeople(ctx context.Context, a authz.Actor, orgID string) (int, error) {
	if err := authz.Check(a, authz.PeopleRead, authz.Org(orgID)); err != nil {
		return 0, err
	}
	return s.store.CountPeopleInOrganization(ctx, orgID)
}

// UpdatePerson validates and stores what is the person's own: identity
// and contact (authz.CheckPerson). p.Version, when set, must be the
// stored one. orgID says on behalf of which organization the actor acts
// ("" for the platform), for the audit log.
func (s *Service) UpdatePerson(ctx context.Context, a authz.Actor, orgID string, p *storage.Person) error {
	p.Username = NormalizeUsername(p.Username)
	if err := ValidatePerson(*p); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		cur, err := s.checkPerson(ctx, tx, a, authz.PeopleWrite, p.ID)
		if err != nil {
			return err
		}
		p.Disabled = cur.Disabled // SetDisabled changes it, with its sessions
		if err := tx.UpdatePerson(ctx, p); err != nil {
			return stale(personConflict(p.Username, err))
		}
		return Record(ctx, log, a, Change{Type: audit.PersonUpdated, OrgID: orgID, Target: "person:" + p.ID,
			Before: ViewPerson(cur), After: ViewPerson(*p)})
	})
}

// SetDisabled forbids (or allows again) a person to sign in. Disabling
// ends their sessions and tells the applications they signed into
// (back-channel logout); it returns how many sessions ended, and whether
// anything changed.
func (s *Service) SetDisabled(ctx context.Context, a authz.Actor, orgID, personID string, disabled bool) (changed bool, ended int, err error) {
	if s.bound && disabled {
		return false, 0, errors.New("territory: disabling a person ends sessions: not inside a caller's transaction")
	}
	err = s.tx(ctx, func(tx Store, log *audit.Log) error {
		cur, err := s.checkPerson(ctx, tx, a, authz.PeopleWrite, personID)
		if err != nil {
			return err
		}
		if cur.Disabled == disabled {
			return nil
		}
		changed = true
		p := cur
		p.Disabled = disabled
		if err := tx.UpdatePerson(ctx, &p); err != nil {
			return err
		}
		typ := map[bool]string{true: audit.PersonDisabled, false: audit.PersonEnabled}[disabled]
		return Record(ctx, log, a, Change{Type: typ, OrgID: orgID, Target: "person:" + p.ID, Before: ViewPerson(cur), After: ViewPerson(p)})
	})
	if err != nil || !disabled || s.sessions == nil {
		return changed, 0, err
	}
	// Ended even when the person was already disabled: sessions revoked
	// by other means still reach their applications.
	ended, err = s.sessions.EndPersonSessions(ctx, personID, "person_disabled")
	return changed, ended, err
}

// EndSessions ends every session of a person, and tells their
// applications.
func (s *Service) EndSessions(ctx context.Context, a authz.Actor, orgID, personID string) (int, error) {
	if s.sessions == nil || s.bound {
		return 0, errors.New("territory: no session service here")
	}
	if _, err := s.checkPerson(ctx, s.store, a, authz.Credentials, personID); err != nil {
		return 0, err
	}
	n, err := s.sessions.EndPersonSessions(ctx, personID, "admin")
	if err != nil {
		return n, err
	}
	return n, Record(ctx, s.audit, a, Change{Type: audit.SessionsEnded, OrgID: orgID, Target: "person:" + personID,
		Details: map[string]string{"ended": strconv.Itoa(n)}})
}

// ResetFactors removes a person's authenticator app, recovery codes and
// passkeys (a lost phone): they sign in with their password and enrol new
// ones. It returns how many were removed.
func (s *Service) ResetFactors(ctx context.Context, a authz.Actor, orgID, personID string) (int, error) {
	var n int
	err := s.tx(ctx, func(tx Store, log *audit.Log) error {
		if _, err := s.checkPerson(ctx, tx, a, authz.Credentials, personID); err != nil {
			return err
		}
		var err error
		if n, err = tx.DeleteFactors(ctx, personID); err != nil {
			return err
		}
		return Record(ctx, log, a, Change{Type: audit.FactorsReset, OrgID: orgID, Target: "person:" + personID,
			Details: map[string]string{"removed": strconv.Itoa(n)}})
	})
	return n, err
}

// SetPassword sets a person's password, checked against the policy;
// temporary makes them choose another at their next sign-in.
func (s *Service) SetPassword(ctx context.Context, a authz.Actor, orgID, personID, password string, temporary bool) error {
	p, err := s.checkPerson(ctx, s.store, a, authz.Credentials, personID)
	if err != nil {
		return err
	}
	hash, err := s.hash(ctx, p, password) // outside the transaction: it takes time
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		if _, err := s.checkPerson(ctx, tx, a, authz.Credentials, personID); err != nil {
			return err
		}
		return s.storePassword(ctx, tx, log, a, orgID, personID, hash, temporary)
	})
}

func (s *Service) hash(ctx context.Context, p storage.Person, password string) (string, error) {
	if s.passwords == nil {
		return "", errors.New("territory: no password hasher configured")
	}
	if err := s.passwords.Check(password, p.Username, p.GivenName, p.FamilyName, p.UsualName, p.Email); err != nil {
		return "", field.New("password", "weak", "%v", err)
	}
	return s.passwords.Hash(ctx, password)
}

func (s *Service) storePassword(ctx context.Context, tx Store, log *audit.Log, a authz.Actor, orgID, personID, hash string, temporary bool) error {
	if err := tx.SetPasswordHash(ctx, personID, hash); err != nil {
		return err
	}
	if err := tx.SetPasswordChangeRequired(ctx, personID, temporary); err != nil {
		return err
	}
	return Record(ctx, log, a, Change{Type: audit.PasswordSet, OrgID: orgID, Target: "person:" + personID,
		Details: map[string]string{"temporary": strconv.FormatBool(temporary)}})
}
