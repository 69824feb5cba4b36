// Package directory defines how TNO talks to identity sources: the local
// account store (directory/local), LDAP and Active Directory
// (directory/ldap) and upstream OpenID providers (directory/upstream).
//
// Modelled on dex connectors: a source implements only the capability
// interfaces it supports, each small and optional (PasswordAuthenticator
// today; callback and refresh capabilities for upstream providers later),
// and callers discover them with a type assertion. Each source asserts the
// capabilities it provides at compile time:
//
//	var _ directory.PasswordAuthenticator = (*local.Local)(nil)
//
// Sources return the errors defined here so that callers show the same
// message whatever the source and whatever the reason (unknown person,
// wrong password, disabled account): the reason never reaches the person.
//
// This package imports storage only; sources import it, never the reverse.
package directory

import (
	"context"
	"errors"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// ErrInvalidCredentials means the identifier and password do not open a
// session. Sources return it for every refused sign-in; which check
// failed may go to the audit log, never to the person.
var ErrInvalidCredentials = errors.New("directory: invalid credentials")

// PasswordAuthenticator verifies an identifier and password. Unknown
// identifier, wrong password, disabled person and no password set all
// return ErrInvalidCredentials, after the same work.
type PasswordAuthenticator interface {
	Authenticate(ctx context.Context, identifier, password string) (storage.Person, error)
}

// PasswordChanger is the capability of a source whose passwords TNO
// itself keeps (local accounts): it can require a person to choose a new
// password at their next sign-in, and store the one they choose
// (checked against the password policy, whose errors it returns).
type PasswordChanger interface {
	PasswordChangeRequired(ctx context.Context, personID string) (bool, error)
	SetPassword(ctx context.Context, personID, password string) error
}
