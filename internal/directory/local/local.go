// Package local owns local accounts: argon2id password hashing in PHC
// format and password authentication that takes the same time whether or
// not the account exists.
//
// It imports storage and directory, and golang.org/x/crypto/argon2.
package local

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/territoires-ouverts/tno/internal/directory"
	"github.com/territoires-ouverts/tno/internal/storage"
)

var (
	_ directory.PasswordAuthenticator = (*Local)(nil)
	_ directory.PasswordChanger       = (*Local)(nil)
)

// Options configures a Local.
type Options struct {
	People      storage.People
	Credentials storage.Credentials
	Hasher      *Hasher      // default: NewHasher(DefaultParams(), 0)
	Logger      *slog.Logger // default: discard
}

// Local authenticates people against password hashes in the store.
type Local struct {
	people storage.People
	creds  storage.Credentials
	hasher *Hasher
	log    *slog.Logger
	// dummyPHC is the hash of a random secret with the hasher's params.
	// Refused sign-ins that have no hash to check verify against it, so
	// they cost the same as a wrong password.
	dummyPHC string
}

// New returns a Local.
func New(opts Options) (*Local, error) {
	if opts.People == nil || opts.Credentials == nil {
		return nil, errors.New("local: Options.People and Options.Credentials are required")
	}
	l := &Local{people: opts.People, creds: opts.Credentials, hasher: opts.Hasher, log: opts.Logger}
	if l.hasher == nil {
		l.hasher = NewHasher(DefaultParams(), 0)
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	// The dummy is a well-formed PHC string with the hasher's parameters
	// and random salt and key: verifying against it costs one argon2id
	// run, like a real account, but building it costs nothing at start-up.
	p := l.hasher.Params()
	salt, key := make([]byte, p.SaltLen), make([]byte, p.KeyLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("local: dummy salt: %w", err)
	}
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("local: dummy key: %w", err)
	}
	l.dummyPHC = formatPHC(p, salt, key)
	if _, _, _, err := parsePHC(l.dummyPHC); err != nil {
		return nil, fmt.Errorf("local: dummy hash: %w", err)
	}
	return l, nil
}

// NormalizeIdentifier returns the form of a sign-in identifier that is
// looked up: trimmed and lowercased.
func NormalizeIdentifier(identifier string) string {
	return strings.ToLower(strings.TrimSpace(identifier))
}

// Authenticate verifies identifier (a username, or the e-mail address of
// exactly one person; normalized) and password.
// Unknown person, no password set, wrong password and disabled person all
// return directory.ErrInvalidCredentials after one argon2id computation.
// Other errors are storage failures or ctx's. After a successful sign-in
// with a hash made with other parameters, the password is rehashed and
// stored (best effort).
func (l *Local) Authenticate(ctx context.Context, identifier, password string) (storage.Person, error) {
	if len(password) > MaxPasswordBytes {
		// No account can have such a password; refusing before any lookup
		// tells nothing about who exists.
		return storage.Person{}, directory.ErrInvalidCredentials
	}
	id := NormalizeIdentifier(identifier)
	person, err := l.people.GetPersonByUsername(ctx, id)
	if errors.Is(err, storage.ErrNotFound) && strings.Contains(id, "@") {
		// An e-mail address (ProConnect's login_hint): the one person who
		// has it. Unknown ones go on to the same refusal.
		person, err = l.people.GetPersonByEmail(ctx, id)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Person{}, l.refuse(ctx, password)
	}
	if err != nil {
		return storage.Person{}, fmt.Errorf("local: look up person: %w", err)
	}
	phc, err := l.creds.GetPasswordHash(ctx, person.ID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && phc == "") {
		return storage.Person{}, l.refuse(ctx, password)
	}
	if err != nil {
		return storage.Person{}, fmt.Errorf("local: get password hash of %s: %w", person.ID, err)
	}

	ok, needsRehash, err := l.hasher.Verify(ctx, phc, password)
	if errors.Is(err, ErrMalformedHash) {
		l.log.ErrorContext(ctx, "stored password hash is malformed", "person_id", person.ID, "err", err)
		return storage.Person{}, l.refuse(ctx, password)
	}
	if err != nil {
		return storage.Person{}, fmt.Errorf("local: verify password: %w", err)
	}
	if !ok || person.Disabled {
		return storage.Person{}, directory.ErrInvalidCredentials
	}
	if needsRehash {
		l.rehash(ctx, person.ID, password)
	}
	return person, nil
}

// refuse verifies password against the dummy hash, so that a sign-in
// refused without a hash to check costs what a wrong password costs, and
// returns ErrInvalidCredentials (or ctx's error).
func (l *Local) refuse(ctx context.Context, password string) error {
	if _, _, err := l.hasher.Verify(ctx, l.dummyPHC, password); err != nil {
		return fmt.Errorf("local: verify password: %w", err)
	}
	return directory.ErrInvalidCredentials
}

// rehash stores a new hash of password with the current parameters. A
// failure is logged and otherwise ignored: the old hash still works.
func (l *Local) rehash(ctx context.Context, personID, password string) {
	phc, err := l.hasher.Hash(ctx, password)
	if err == nil {
		err = l.creds.SetPasswordHash(ctx, personID, phc)
	}
	if err != nil {
		l.log.WarnContext(ctx, "password rehash failed", "person_id", personID, "err", err)
		return
	}
	l.log.InfoContext(ctx, "password rehashed with new parameters", "person_id", personID)
}

// SetPassword checks password against the policy (ValidatePassword), then
// stores its hash for personID as a password the person chose: no change
// is required at the next sign-in.
func (l *Local) SetPassword(ctx context.Context, personID, password string) error {
	return l.setPassword(ctx, personID, password, false)
}

// SetTemporaryPassword is SetPassword for a password someone else chose
// (generated at installation, given by an administrator): the person must
// choose a new one at their next sign-in.
func (l *Local) SetTemporaryPassword(ctx context.Context, personID, password string) error {
	return l.setPassword(ctx, personID, password, true)
}

func (l *Local) setPassword(ctx context.Context, personID, password string, temporary bool) error {
	person, err := l.people.GetPerson(ctx, personID)
	if err != nil {
		return fmt.Errorf("local: person %s: %w", personID, err)
	}
	if err := ValidatePassword(password, person.Username, person.Email); err != nil {
		return err
	}
	phc, err := l.hasher.Hash(ctx, password)
	if err != nil {
		return fmt.Errorf("local: hash password: %w", err)
	}
	if err := l.creds.SetPasswordHash(ctx, personID, phc); err != nil {
		return fmt.Errorf("local: store password hash of %s: %w", personID, err)
	}
	if err := l.creds.SetPasswordChangeRequired(ctx, personID, temporary); err != nil {
		return fmt.Errorf("local: store password change requirement of %s: %w", personID, err)
	}
	return nil
}

// PasswordChangeRequired tells whether the person must choose a new
// password before a session opens.
func (l *Local) PasswordChangeRequired(ctx context.Context, personID string) (bool, error) {
	required, err := l.creds.PasswordChangeRequired(ctx, personID)
	if err != nil {
		return false, fmt.Errorf("local: password change requirement of %s: %w", personID, err)
	}
	return required, nil
}
