// Package storage defines TNO's persistent records, the per-concept store
// interfaces that every engine implements, and the sentinel errors they return.
//
// It imports only the standard library. Engines live in storage/sqlstore
// (the single SQL implementation), storage/sqlite and storage/postgres; the
// conformance suite every engine passes lives in storage/storagetest.
//
// Every method that reads or writes data owned by an organization takes the
// organization ID explicitly and never returns another organization's rows.
package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
)

// Sentinel errors. Engines wrap them; callers test with errors.Is.
var (
	// ErrNotFound means no row matched (including a row that exists but
	// belongs to another organization).
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict means a uniqueness constraint would be violated.
	ErrConflict = errors.New("storage: conflict")
	// ErrAlreadyUsed means a one-time value (authorization code) was
	// already consumed.
	ErrAlreadyUsed = errors.New("storage: already used")
	// ErrStale means an update carried a Version that is no longer the
	// record's: someone else changed it since it was read.
	ErrStale = errors.New("storage: changed since read")
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a new random 128-bit identifier, 26 lowercase characters.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("storage: crypto/rand failed: " + err.Error())
	}
	return idEncoding.EncodeToString(b[:])
}

// NewLinkToken returns the random token of a one-time link (256 bits,
// base64url) and the hex SHA-256 stored for it (HashLinkToken).
func NewLinkToken() (token, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("storage: crypto/rand failed: " + err.Error())
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashLinkToken(token)
}

// HashLinkToken is what is stored of a link's token.
func HashLinkToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ValidLinkToken accepts the shape of NewLinkToken's tokens only.
func ValidLinkToken(token string) bool {
	if len(token) != base64.RawURLEncoding.EncodedLen(32) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil
}

// Store is everything an engine provides. Consumers should depend on the
// narrow per-concept interfaces, not on Store.
type Store interface {
	Organizations
	People
	Credentials
	Memberships
	Mandates
	Groups
	Applications
	AdminRoles
	ClientRoles
	SigningKeys
	Sessions
	AuthRequests
	SignIns
	Factors
	AuthCodes
	Tokens
	ClientRequests
	Logout
	DeploymentSecrets
	Consents
	AuditEvents
	Throttles
	PasswordResets

	// WithTx runs fn in one transaction: committed if fn returns nil,
	// rolled back otherwise. The Store passed to fn must not escape it.
	WithTx(ctx context.Context, fn func(tx Store) error) error
	// Ping checks the database is reachable.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
