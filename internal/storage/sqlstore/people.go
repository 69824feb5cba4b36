package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const personColumns = `id, username, given_name, family_name, usual_name, email, email_verified,
	phone, disabled, created_at, updated_at, version`

func scanPerson(r rowScanner) (storage.Person, error) {
	var p storage.Person
	err := r.Scan(&p.ID, &p.Username, &p.GivenName, &p.FamilyName, &p.UsualName, &p.Email,
		&p.EmailVerified, &p.Phone, &p.Disabled, ts(&p.CreatedAt), ts(&p.UpdatedAt), &p.Version)
	return p, err
}

// CreatePerson inserts p; ErrConflict on a duplicate username.
func (s *Store) CreatePerson(ctx context.Context, p *storage.Person) error {
	v := *p
	if v.ID == "" {
		v.ID = storage.NewID()
	}
	v.CreatedAt = s.timestamp()
	v.UpdatedAt = v.CreatedAt
	v.Version = 1
	_, err := s.exec(ctx, "create person",
		`INSERT INTO people (`+personColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		v.ID, v.Username, v.GivenName, v.FamilyName, v.UsualName, v.Email, v.EmailVerified,
		v.Phone, v.Disabled, micros(v.CreatedAt), micros(v.UpdatedAt), v.Version)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// GetPerson returns the person with that ID.
func (s *Store) GetPerson(ctx context.Context, id string) (storage.Person, error) {
	return queryOne(ctx, s, "get person", scanPerson,
		`SELECT `+personColumns+` FROM people WHERE id = $1`, id)
}

// GetPersonByUsername returns the person with that username (exact match;
// usernames are stored lowercase by the caller).
func (s *Store) GetPersonByUsername(ctx context.Context, username string) (storage.Person, error) {
	return queryOne(ctx, s, "get person by username", scanPerson,
		`SELECT `+personColumns+` FROM people WHERE username = $1`, username)
}

// GetPersonByEmail returns the one person whose e-mail address is email,
// ignoring case; ErrNotFound if none or several have it.
func (s *Store) GetPersonByEmail(ctx context.Context, email string) (storage.Person, error) {
	found, err := queryList(ctx, s, "get person by email", scanPerson,
		`SELECT `+personColumns+` FROM people WHERE email <> '' AND lower(email) = lower($1) LIMIT 2`, email)
	if err != nil {
		return storage.Person{}, err
	}
	if len(found) != 1 {
		return storage.Person{}, fmt.Errorf("get person by email: %w", storage.ErrNotFound)
	}
	return found[0], nil
}

// UpdatePerson updates every field but ID and CreatedAt, sets UpdatedAt and
// reads back CreatedAt.
func (s *Store) UpdatePerson(ctx context.Context, p *storage.Person) error {
	v := *p
	v.UpdatedAt = s.timestamp()
	err := s.writeRow(ctx, "update person",
		`UPDATE people SET username = $2, given_name = $3, family_name = $4, usual_name = $5,
		 email = $6, email_verified = $7, phone = $8, disabled = $9, updated_at = $10, version = version + 1
		 WHERE id = $1 AND (CAST($11 AS BIGINT) = 0 OR version = $11) RETURNING created_at, version`,
		[]any{v.ID, v.Username, v.GivenName, v.FamilyName, v.UsualName, v.Email, v.EmailVerified,
			v.Phone, v.Disabled, micros(v.UpdatedAt), v.Version}, ts(&v.CreatedAt), &v.Version)
	err = s.checkVersion(ctx, err, p.Version, "people", "id = $1", v.ID)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ListPeople returns every person, by username.
func (s *Store) ListPeople(ctx context.Context) ([]storage.Person, error) {
	return queryList(ctx, s, "list people", scanPerson,
		`SELECT `+personColumns+` FROM people ORDER BY username`)
}

// ListPeopleInOrganization returns, once each and by username, the people
// holding at least one membership (active or not) in orgID.
func (s *Store) ListPeopleInOrganization(ctx context.Context, orgID string) ([]storage.Person, error) {
	return queryList(ctx, s, "list people in organization", scanPerson,
		`SELECT `+personColumns+` FROM people
		 WHERE id IN (SELECT person_id FROM memberships WHERE org_id = $1)
		 ORDER BY username`, orgID)
}

// CountPeopleInOrganization counts the people with a membership in orgID.
func (s *Store) CountPeopleInOrganization(ctx context.Context, orgID string) (int, error) {
	return queryOne(ctx, s, "count people in organization", func(r rowScanner) (int, error) {
		var n int
		err := r.Scan(&n)
		return n, err
	}, `SELECT COUNT(DISTINCT person_id) FROM memberships WHERE org_id = $1`, orgID)
}

// SetPasswordHash sets (or replaces) a person's password hash; ErrNotFound
// if the person does not exist.
func (s *Store) SetPasswordHash(ctx context.Context, personID, phc string) error {
	_, err := s.exec(ctx, "set password hash",
		`INSERT INTO credentials (person_id, password_hash, updated_at) VALUES ($1, $2, $3)
		 ON CONFLICT (person_id) DO UPDATE SET password_hash = excluded.password_hash,
		 updated_at = excluded.updated_at`,
		personID, phc, micros(s.timestamp()))
	return err
}

// SetPasswordChangeRequired sets whether the person must choose a new
// password; ErrNotFound if they have no password.
func (s *Store) SetPasswordChangeRequired(ctx context.Context, personID string, required bool) error {
	return s.execOne(ctx, "set password change required",
		`UPDATE credentials SET must_change = $1 WHERE person_id = $2`, required, personID)
}

// PasswordChangeRequired tells whether the person must choose a new
// password; false if they have none.
func (s *Store) PasswordChangeRequired(ctx context.Context, personID string) (bool, error) {
	v, err := queryOne(ctx, s, "get password change required", func(r rowScanner) (bool, error) {
		var b bool
		err := r.Scan(&b)
		return b, err
	}, `SELECT must_change FROM credentials WHERE person_id = $1`, personID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return v, err
}

// GetPasswordHash returns a person's password hash; ErrNotFound if the
// person does not exist or has no password.
func (s *Store) GetPasswordHash(ctx context.Context, personID string) (string, error) {
	return queryOne(ctx, s, "get password hash", scanString,
		`SELECT password_hash FROM credentials WHERE person_id = $1`, personID)
}
