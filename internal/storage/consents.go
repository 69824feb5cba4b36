package storage

import (
	"context"
	"time"
)

// Consent records that a person allowed an application that is not
// first-party to receive the claims of some scopes. The person may take it
// back (DeleteConsent); later authorization requests whose scopes it
// covers skip the consent screen.
type Consent struct {
	PersonID  string
	ClientID  string
	Scopes    []string // the scopes allowed, in the order first allowed
	CreatedAt time.Time
	UpdatedAt time.Time // when Scopes last changed
}

// Consents stores consents: one per person and application. They are the
// person's, not an organization's: a consent spans the person's
// memberships.
type Consents interface {
	// GetConsent returns personID's consent to clientID, ErrNotFound if
	// there is none.
	GetConsent(ctx context.Context, personID, clientID string) (Consent, error)
	// SaveConsent creates c, or replaces the scopes of the consent
	// c.PersonID gave c.ClientID. On creation CreatedAt is set if zero;
	// on replacement the stored CreatedAt is kept (and read back).
	// UpdatedAt is set to now. ErrNotFound if the person or the
	// application does not exist.
	SaveConsent(ctx context.Context, c *Consent) error
	// ListPersonConsents returns personID's consents, by client ID.
	ListPersonConsents(ctx context.Context, personID string) ([]Consent, error)
	// DeleteConsent deletes personID's consent to clientID, ErrNotFound
	// if there is none.
	DeleteConsent(ctx context.Context, personID, clientID string) error
}
