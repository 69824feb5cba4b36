package sqlstore

import (
	"context"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const membershipColumns = `id, person_id, org_id, kind, service, title, email, phone,
	valid_from, valid_until, created_at, updated_at, version`

func scanMembership(r rowScanner) (storage.Membership, error) {
	var m storage.Membership
	err := r.Scan(&m.ID, &m.PersonID, &m.OrgID, &m.Kind, &m.Service, &m.Title, &m.Email, &m.Phone,
		ts(&m.ValidFrom), nts(&m.ValidUntil), ts(&m.CreatedAt), ts(&m.UpdatedAt), &m.Version)
	return m, err
}

// CreateMembership inserts m. ErrConflict if the person already holds a
// membership of that kind in the organization; ErrNotFound if the person
// or the organization does not exist.
func (s *Store) CreateMembership(ctx context.Context, m *storage.Membership) error {
	v := *m
	if v.ID == "" {
		v.ID = storage.NewID()
	}
	v.ValidFrom, v.ValidUntil = norm(v.ValidFrom), normp(v.ValidUntil)
	v.CreatedAt = s.timestamp()
	v.UpdatedAt = v.CreatedAt
	v.Version = 1
	_, err := s.exec(ctx, "create membership",
		`INSERT INTO memberships (`+membershipColumns+`)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		v.ID, v.PersonID, v.OrgID, v.Kind, v.Service, v.Title, v.Email, v.Phone,
		micros(v.ValidFrom), nullMicros(v.ValidUntil), micros(v.CreatedAt), micros(v.UpdatedAt), v.Version)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// GetMembership returns a membership of orgID.
func (s *Store) GetMembership(ctx context.Context, orgID, id string) (storage.Membership, error) {
	return queryOne(ctx, s, "get membership", scanMembership,
		`SELECT `+membershipColumns+` FROM memberships WHERE org_id = $1 AND id = $2`, orgID, id)
}

// UpdateMembership updates a membership of m.OrgID: kind, service, title,
// e-mail, phone and validity. A membership never changes person or
// organization: PersonID and CreatedAt are read back from the database.
func (s *Store) UpdateMembership(ctx context.Context, m *storage.Membership) error {
	v := *m
	v.ValidFrom, v.ValidUntil = norm(v.ValidFrom), normp(v.ValidUntil)
	v.UpdatedAt = s.timestamp()
	err := s.writeRow(ctx, "update membership",
		`UPDATE memberships SET kind = $3, service = $4, title = $5, email = $6, phone = $7,
		 valid_from = $8, valid_until = $9, updated_at = $10, version = version + 1
		 WHERE org_id = $1 AND id = $2 AND (CAST($11 AS BIGINT) = 0 OR version = $11) RETURNING person_id, created_at, version`,
		[]any{v.OrgID, v.ID, v.Kind, v.Service, v.Title, v.Email, v.Phone,
			micros(v.ValidFrom), nullMicros(v.ValidUntil), micros(v.UpdatedAt), v.Version},
		&v.PersonID, ts(&v.CreatedAt), &v.Version)
	err = s.checkVersion(ctx, err, m.Version, "memberships", "org_id = $1 AND id = $2", v.OrgID, v.ID)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// DeleteMembership deletes a membership of orgID with its mandates and
// group links (ON DELETE CASCADE).
func (s *Store) DeleteMembership(ctx context.Context, orgID, id string) error {
	return s.execOne(ctx, "delete membership",
		`DELETE FROM memberships WHERE org_id = $1 AND id = $2`, orgID, id)
}

// ListMemberships returns orgID's memberships, oldest first.
func (s *Store) ListMemberships(ctx context.Context, orgID string) ([]storage.Membership, error) {
	return queryList(ctx, s, "list memberships", scanMembership,
		`SELECT `+membershipColumns+` FROM memberships WHERE org_id = $1
		 ORDER BY created_at, id`, orgID)
}

// ListPersonMemberships returns a person's memberships in every
// organization, oldest first.
func (s *Store) ListPersonMemberships(ctx context.Context, personID string) ([]storage.Membership, error) {
	return queryList(ctx, s, "list person memberships", scanMembership,
		`SELECT `+membershipColumns+` FROM memberships WHERE person_id = $1
		 ORDER BY created_at, id`, personID)
}

const mandateColumns = `id, membership_id, org_id, function, delegations, starts_at, ends_at, created_at`

func scanMandate(r rowScanner) (storage.Mandate, error) {
	var m storage.Mandate
	err := r.Scan(&m.ID, &m.MembershipID, &m.OrgID, &m.Function, &m.Delegations,
		ts(&m.StartsAt), nts(&m.EndsAt), ts(&m.CreatedAt))
	return m, err
}

// CreateMandate inserts m; ErrNotFound unless m.MembershipID is a
// membership of m.OrgID (enforced by a composite foreign key).
func (s *Store) CreateMandate(ctx context.Context, m *storage.Mandate) error {
	v := *m
	if v.ID == "" {
		v.ID = storage.NewID()
	}
	v.StartsAt, v.EndsAt = norm(v.StartsAt), normp(v.EndsAt)
	v.CreatedAt = s.timestamp()
	_, err := s.exec(ctx, "create mandate",
		`INSERT INTO mandates (`+mandateColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		v.ID, v.MembershipID, v.OrgID, v.Function, v.Delegations,
		micros(v.StartsAt), nullMicros(v.EndsAt), micros(v.CreatedAt))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ListMandates returns the mandates of a membership of orgID, by start
// date. A membership outside orgID has none.
func (s *Store) ListMandates(ctx context.Context, orgID, membershipID string) ([]storage.Mandate, error) {
	return queryList(ctx, s, "list mandates", scanMandate,
		`SELECT `+mandateColumns+` FROM mandates WHERE org_id = $1 AND membership_id = $2
		 ORDER BY starts_at, id`, orgID, membershipID)
}

// DeleteMandate deletes a mandate of orgID.
func (s *Store) DeleteMandate(ctx context.Context, orgID, id string) error {
	return s.execOne(ctx, "delete mandate",
		`DELETE FROM mandates WHERE org_id = $1 AND id = $2`, orgID, id)
}
