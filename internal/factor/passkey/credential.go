package passkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Credential is a registered passkey: what verifying its assertions needs,
// and what the authenticator said about itself. It holds no secret. The
// caller stores it as an opaque blob (Marshal), next to its own columns
// (name, created, last used), and indexes it by ID for discoverable login.
type Credential struct {
	ID                []byte   // credential ID, chosen by the authenticator (at most 1023 bytes)
	PublicKey         []byte   // COSE_Key
	AttestationType   string   // "none": TNO asks for no attestation
	AttestationFormat string   // attestation statement format, "none" likewise
	AAGUID            []byte   // authenticator model, 16 bytes, often zero
	SignCount         uint32   // last signature counter seen, 0 for most synced passkeys
	Transports        []string // hints for the browser: "internal", "hybrid", "usb", "nfc", "ble"
	// BackupEligible means the key may be copied to other devices (a
	// synced passkey); it never changes over the credential's life.
	BackupEligible bool
	// BackupState means the key is currently backed up (synced).
	BackupState bool
	// UserVerified reports whether the authenticator verified the person
	// (PIN, biometrics) in the latest ceremony: at registration, then as
	// updated by each successful FinishLogin or FinishDiscoverable.
	UserVerified bool
}

// HardwareBound reports whether the private key cannot leave the
// authenticator (not backup eligible): amr "hwk" (RFC 8176) rather than
// "swk" for a synced passkey.
func (c Credential) HardwareBound() bool { return !c.BackupEligible }

// credentialVersion is the version of Marshal's encoding.
const credentialVersion = 1

// storedCredential is the JSON encoding of a Credential.
type storedCredential struct {
	V                 int      `json:"v"`
	ID                []byte   `json:"id"`
	PublicKey         []byte   `json:"publicKey"`
	AttestationType   string   `json:"attestationType,omitempty"`
	AttestationFormat string   `json:"attestationFormat,omitempty"`
	AAGUID            []byte   `json:"aaguid,omitempty"`
	SignCount         uint32   `json:"signCount"`
	Transports        []string `json:"transports,omitempty"`
	BackupEligible    bool     `json:"backupEligible"`
	BackupState       bool     `json:"backupState"`
	UserVerified      bool     `json:"userVerified"`
}

// ErrCredentialEncoding reports a stored credential UnmarshalCredential
// cannot read.
var ErrCredentialEncoding = errors.New("passkey: invalid stored credential")

// Marshal encodes c as versioned JSON for storage.
func (c Credential) Marshal() ([]byte, error) {
	if len(c.ID) == 0 || len(c.PublicKey) == 0 {
		return nil, fmt.Errorf("%w: empty ID or public key", ErrCredentialEncoding)
	}
	return json.Marshal(storedCredential{
		V:                 credentialVersion,
		ID:                c.ID,
		PublicKey:         c.PublicKey,
		AttestationType:   c.AttestationType,
		AttestationFormat: c.AttestationFormat,
		AAGUID:            c.AAGUID,
		SignCount:         c.SignCount,
		Transports:        c.Transports,
		BackupEligible:    c.BackupEligible,
		BackupState:       c.BackupState,
		UserVerified:      c.UserVerified,
	})
}

// UnmarshalCredential decodes what Marshal produced.
func UnmarshalCredential(b []byte) (Credential, error) {
	var s storedCredential
	// Unknown members are ignored, so that a rollback can read what a
	// newer release wrote: new optional members keep the version, a
	// change of meaning bumps it.
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&s); err != nil {
		return Credential{}, fmt.Errorf("%w: %v", ErrCredentialEncoding, err)
	}
	if d.More() {
		return Credential{}, fmt.Errorf("%w: trailing data", ErrCredentialEncoding)
	}
	switch {
	case s.V != credentialVersion:
		return Credential{}, fmt.Errorf("%w: version %d", ErrCredentialEncoding, s.V)
	case len(s.ID) == 0 || len(s.PublicKey) == 0:
		return Credential{}, fmt.Errorf("%w: empty ID or public key", ErrCredentialEncoding)
	}
	return Credential{
		ID:                s.ID,
		PublicKey:         s.PublicKey,
		AttestationType:   s.AttestationType,
		AttestationFormat: s.AttestationFormat,
		AAGUID:            s.AAGUID,
		SignCount:         s.SignCount,
		Transports:        s.Transports,
		BackupEligible:    s.BackupEligible,
		BackupState:       s.BackupState,
		UserVerified:      s.UserVerified,
	}, nil
}

// User is a person as the ceremonies see them.
type User struct {
	// Handle is the WebAuthn user handle: 1 to 64 random bytes, stable
	// for the person, never their ID in clear (authenticators show it to
	// anyone holding them and return it in every discoverable assertion).
	Handle []byte
	// Name is the account name the authenticator shows (an email address
	// or login); DisplayName the person's name.
	Name, DisplayName string
	// Credentials are the person's registered passkeys.
	Credentials []Credential
}

// find returns the index of the credential with ID id in u, or -1.
func (u User) find(id []byte) int {
	for i, c := range u.Credentials {
		if bytes.Equal(c.ID, id) {
			return i
		}
	}
	return -1
}

// libUser adapts a User to the library's interface.
type libUser struct{ u User }

var _ webauthn.User = libUser{}

func (l libUser) WebAuthnID() []byte          { return l.u.Handle }
func (l libUser) WebAuthnName() string        { return l.u.Name }
func (l libUser) WebAuthnDisplayName() string { return l.u.DisplayName }

func (l libUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(l.u.Credentials))
	for i, c := range l.u.Credentials {
		out[i] = c.lib()
	}
	return out
}

// lib converts c to the library's credential record.
func (c Credential) lib() webauthn.Credential {
	flags := protocol.FlagUserPresent
	if c.UserVerified {
		flags |= protocol.FlagUserVerified
	}
	if c.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if c.BackupState {
		flags |= protocol.FlagBackupState
	}
	transports := make([]protocol.AuthenticatorTransport, len(c.Transports))
	for i, t := range c.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:                c.ID,
		PublicKey:         c.PublicKey,
		AttestationType:   c.AttestationType,
		AttestationFormat: c.AttestationFormat,
		Transport:         transports,
		Flags:             webauthn.NewCredentialFlags(flags),
		Authenticator:     webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount},
	}
}

// fromLib converts a credential the library registered.
func fromLib(l *webauthn.Credential) Credential {
	var transports []string
	for _, t := range l.Transport {
		transports = append(transports, string(t))
	}
	return Credential{
		ID:                bytes.Clone(l.ID),
		PublicKey:         bytes.Clone(l.PublicKey),
		AttestationType:   l.AttestationType,
		AttestationFormat: l.AttestationFormat,
		AAGUID:            bytes.Clone(l.Authenticator.AAGUID),
		SignCount:         l.Authenticator.SignCount,
		Transports:        transports,
		BackupEligible:    l.Flags.BackupEligible,
		BackupState:       l.Flags.BackupState,
		UserVerified:      l.Flags.UserVerified,
	}
}
