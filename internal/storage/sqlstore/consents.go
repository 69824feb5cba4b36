package sqlstore

import (
	"context"
	"fmt"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const consentColumns = `person_id, client_id, scopes, created_at, updated_at`

func scanConsent(r rowScanner) (storage.Consent, error) {
	var c storage.Consent
	err := r.Scan(&c.PersonID, &c.ClientID, lst(&c.Scopes), ts(&c.CreatedAt), ts(&c.UpdatedAt))
	return c, err
}

// GetConsent returns personID's consent to clientID.
func (s *Store) GetConsent(ctx context.Context, personID, clientID string) (storage.Consent, error) {
	return queryOne(ctx, s, "get consent", scanConsent,
		`SELECT `+consentColumns+` FROM consents WHERE person_id = $1 AND client_id = $2`, personID, clientID)
}

// SaveConsent inserts c or replaces the scopes of the existing consent,
// in one statement, keeping its CreatedAt. The foreign keys make an
// unknown person or application ErrNotFound.
func (s *Store) SaveConsent(ctx context.Context, c *storage.Consent) error {
	const op = "save consent"
	if c.PersonID == "" || c.ClientID == "" {
		return fmt.Errorf("%s: empty person or client ID", op)
	}
	v := *c
	v.UpdatedAt = s.timestamp()
	if v.CreatedAt.IsZero() {
		v.CreatedAt = v.UpdatedAt
	} else {
		v.CreatedAt = norm(v.CreatedAt)
	}
	err := s.writeRow(ctx, op,
		`INSERT INTO consents (`+consentColumns+`) VALUES ($1, $2, $3, $4, $5)
		 ON CONFLICT (person_id, client_id) DO UPDATE
		 SET scopes = excluded.scopes, updated_at = excluded.updated_at
		 RETURNING created_at`,
		[]any{v.PersonID, v.ClientID, list(v.Scopes), micros(v.CreatedAt), micros(v.UpdatedAt)}, ts(&v.CreatedAt))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ListPersonConsents returns personID's consents, by client ID.
func (s *Store) ListPersonConsents(ctx context.Context, personID string) ([]storage.Consent, error) {
	return queryList(ctx, s, "list person consents", scanConsent,
		`SELECT `+consentColumns+` FROM consents WHERE person_id = $1 ORDER BY client_id`, personID)
}

// DeleteConsent deletes personID's consent to clientID.
func (s *Store) DeleteConsent(ctx context.Context, personID, clientID string) error {
	return s.execOne(ctx, "delete consent",
		`DELETE FROM consents WHERE person_id = $1 AND client_id = $2`, personID, clientID)
}
