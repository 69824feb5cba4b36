package territory

import (
	"context"
	"time"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// InvitationLifetime is how long an invitation link works.
const InvitationLifetime = 7 * 24 * time.Hour

// Invite creates a one-time link through which a person chooses their
// password (the sign-in engine's reset page, which also works for a
// person without one). It returns the link's token, shown or sent once
// and never stored in clear, and when it expires. Earlier links of the
// person stop working when one is used.
func (s *Service) Invite(ctx context.Context, a authz.Actor, orgID, personID string) (string, time.Time, error) {
	token, hash := storage.NewLinkToken()
	expires := s.now().UTC().Add(InvitationLifetime).Truncate(time.Second)
	err := s.tx(ctx, func(tx Store, log *audit.Log) error {
		p, err := s.checkPerson(ctx, tx, a, authz.Credentials, personID)
		if err != nil {
			return err
		}
		if p.Disabled {
			return field.New("person", "disabled", "the account is deactivated: reactivate it first")
		}
		if err := tx.CreatePasswordReset(ctx, &storage.PasswordReset{TokenHash: hash, PersonID: personID,
			ExpiresAt: expires, Purpose: storage.ResetInvitation}); err != nil {
			return err
		}
		return Record(ctx, log, a, Change{Type: audit.InvitationCreated, OrgID: orgID, Target: "person:" + personID,
			Details: map[string]string{"expires": expires.Format(time.RFC3339)}})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return token, expires, nil
}
