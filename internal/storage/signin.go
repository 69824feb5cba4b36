package storage

import (
	"context"
	"time"
)

// SignIn is a pending sign-in transaction of the sign-in engine
// (internal/authflow), whatever the protocol that started it.
type SignIn struct {
	ID string
	// BrowserHash is the hex SHA-256 of the binding cookie of the browser
	// that started the sign-in: only that browser may continue it.
	BrowserHash string
	// Source is the network address that started it (an IP address).
	Source string
	// Protocol names the front end that receives the result ("oidc",
	// "portal", later "saml", "cas"), ProtocolRef its own pending request.
	Protocol    string
	ProtocolRef string
	// ClientID is the application signed into, "" for the portal.
	ClientID string
	// Data is the engine's state (JSON), opaque to storage.
	Data      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SignIns stores pending sign-in transactions.
type SignIns interface {
	// CreateSignIn inserts s, setting ID if empty and CreatedAt if zero.
	CreateSignIn(ctx context.Context, s *SignIn) error
	// GetSignIn returns a sign-in, expired or not.
	GetSignIn(ctx context.Context, id string) (SignIn, error)
	// UpdateSignIn replaces a sign-in's Data.
	UpdateSignIn(ctx context.Context, id string, data []byte) error
	DeleteSignIn(ctx context.Context, id string) error
	// DeleteExpiredSignIns deletes the sign-ins with ExpiresAt strictly
	// before before, and returns how many.
	DeleteExpiredSignIns(ctx context.Context, before time.Time) (int, error)
}

// Kinds of factors.
const (
	FactorTOTP     = "totp"
	FactorPasskey  = "passkey"
	FactorRecovery = "recovery"
)

// Factor is something a person proves besides (or instead of) a password:
// a TOTP application, a passkey, or one single-use recovery code.
type Factor struct {
	ID       string
	PersonID string
	Kind     string
	// Name is the person's name for it (« Téléphone pro »), "" for
	// recovery codes.
	Name string
	// Secret is the TOTP key (base32) or a recovery code's salted hash;
	// "" for a passkey.
	Secret string
	// CredentialID is a passkey's credential ID (base64url), unique; ""
	// for the other kinds.
	CredentialID string
	// Data is a passkey's stored credential (JSON), nil otherwise.
	Data []byte
	// LastStep is the last TOTP time step accepted: a code of that step or
	// an earlier one is refused (replay guard).
	LastStep   int64
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// Factors stores people's factors. Every method that names a factor takes
// the person's ID too and never touches another person's factors.
type Factors interface {
	// CreateFactor inserts f, setting ID if empty and CreatedAt if zero;
	// ErrConflict on a passkey credential ID already registered.
	CreateFactor(ctx context.Context, f *Factor) error
	// ListFactors returns a person's factors, oldest first.
	ListFactors(ctx context.Context, personID string) ([]Factor, error)
	// GetFactorByCredentialID returns the passkey with that credential ID.
	GetFactorByCredentialID(ctx context.Context, credentialID string) (Factor, error)
	RenameFactor(ctx context.Context, personID, id, name string) error
	DeleteFactor(ctx context.Context, personID, id string) error
	// DeleteFactors deletes a person's factors of the kinds given (all
	// kinds if none) and returns how many.
	DeleteFactors(ctx context.Context, personID string, kinds ...string) (int, error)
	// UseFactorStep records that a TOTP code of time step step was
	// accepted at at, only if step is after LastStep: of concurrent
	// callers with the same step exactly one succeeds, the others get
	// ErrAlreadyUsed.
	UseFactorStep(ctx context.Context, personID, id string, step int64, at time.Time) error
	// UseFactorData records a passkey's use at at, with its new stored
	// credential (sign count, backup state).
	UseFactorData(ctx context.Context, personID, id string, data []byte, at time.Time) error
	// ConsumeFactor deletes a single-use factor (a recovery code): of
	// concurrent callers exactly one succeeds, the others get ErrNotFound.
	ConsumeFactor(ctx context.Context, personID, id string) error
}
