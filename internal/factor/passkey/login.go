package passkey

import (
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// BeginLogin starts a login of the known person u with one of their
// passkeys (second factor, or sign-in after the identifier step). It
// returns the options as JSON, {"publicKey": {...}}, whose publicKey member
// is the PublicKeyCredentialRequestOptionsJSON that
// PublicKeyCredential.parseRequestOptionsFromJSON takes, listing u's
// credentials, and the state for FinishLogin.
//
// With requireUV the authenticator must verify the person (PIN,
// biometrics), so that the passkey alone is multi-factor; otherwise user
// verification is "preferred" and Credential.UserVerified tells afterwards
// whether it happened. u must have at least one credential
// (ErrUnknownCredential otherwise).
func (s *Service) BeginLogin(u User, requireUV bool) (options, state []byte, err error) {
	if err := checkHandle(u.Handle); err != nil {
		return nil, nil, err
	}
	if len(u.Credentials) == 0 {
		return nil, nil, fail(ErrUnknownCredential, "user has no passkey")
	}
	uv := protocol.VerificationPreferred
	if requireUV {
		uv = protocol.VerificationRequired
	}
	assertion, sd, err := s.wa.BeginLogin(libUser{u}, webauthn.WithUserVerification(uv))
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: begin login: %w", err)
	}
	return s.begin(ceremonyLogin, assertion, sd)
}

// FinishLogin verifies the browser's response to the options of BeginLogin
// for the same u, and returns the credential used, updated (sign count,
// backup state, user verification) for the caller to store again. The
// caller deletes the state after this call, whatever the result.
//
// Errors: ErrState, ErrExpired, ErrMalformed, ErrUnknownCredential (not one
// of u's), ErrVerification, ErrUVRequired, and ErrCloned, which comes with
// the stored credential, unchanged, so that the caller can disable it.
func (s *Service) FinishLogin(u User, state, response []byte) (Credential, error) {
	sd, err := s.decodeState(state, ceremonyLogin)
	if err != nil {
		return Credential{}, err
	}
	if err := checkStateUser(sd, u); err != nil {
		return Credential{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return Credential{}, parseError(err)
	}
	i := u.find(parsed.RawID)
	if i < 0 {
		return Credential{}, fail(ErrUnknownCredential, "not a credential of this user")
	}
	return s.finishLogin(u, i, sd, parsed, func(sd webauthn.SessionData) (*webauthn.Credential, error) {
		return s.wa.ValidateLogin(libUser{u}, sd, parsed)
	})
}

// BeginDiscoverable starts a passwordless login: the options list no
// credential, so the browser offers the passkeys it holds for the RP ID,
// in the autofill of the identifier field ("mediation": "conditional"; the
// script may drop it to show a modal dialog instead). User verification
// is required. Options and state are as for BeginLogin.
func (s *Service) BeginDiscoverable() (options, state []byte, err error) {
	assertion, sd, err := s.wa.BeginDiscoverableMediatedLogin(protocol.MediationConditional,
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: begin discoverable login: %w", err)
	}
	return s.begin(ceremonyDiscoverable, assertion, sd)
}

// FinishDiscoverable verifies the browser's response to the options of
// BeginDiscoverable. It calls lookup with the user handle and credential
// ID from the response, before any signature check, to find the person
// holding that credential; lookup returns an error wrapping
// ErrUnknownCredential when there is none, any other error is returned
// wrapped as is (a storage failure). It returns the person and the
// credential used, updated as by FinishLogin.
//
// Errors: as FinishLogin, and ErrMalformed for a response without a user
// handle (a credential that is not discoverable).
func (s *Service) FinishDiscoverable(state, response []byte, lookup func(userHandle, credentialID []byte) (User, error)) (User, Credential, error) {
	sd, err := s.decodeState(state, ceremonyDiscoverable)
	if err != nil {
		return User{}, Credential{}, err
	}
	if len(sd.UserID) != 0 {
		return User{}, Credential{}, fail(ErrState, "not a discoverable login")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return User{}, Credential{}, parseError(err)
	}
	handle := parsed.Response.UserHandle
	if len(handle) == 0 {
		return User{}, Credential{}, fail(ErrMalformed, "no user handle")
	}
	u, err := lookup(handle, parsed.RawID)
	switch {
	case errors.Is(err, ErrUnknownCredential):
		return User{}, Credential{}, fail(ErrUnknownCredential, "no user holds this credential")
	case err != nil:
		return User{}, Credential{}, fmt.Errorf("passkey: look up credential: %w", err)
	}
	i := u.find(parsed.RawID)
	if i < 0 {
		return User{}, Credential{}, fail(ErrUnknownCredential, "not a credential of the user found")
	}
	c, err := s.finishLogin(u, i, sd, parsed, func(sd webauthn.SessionData) (*webauthn.Credential, error) {
		_, lc, err := s.wa.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) {
			return libUser{u}, nil
		}, sd, parsed)
		return lc, err
	})
	if err != nil && !errors.Is(err, ErrCloned) {
		return User{}, Credential{}, err
	}
	return u, c, err
}

// finishLogin runs the library's validation of an assertion by u's i-th
// credential, then applies TNO's policy: refuse a counter that did not
// increase, then an assertion without user verification when it was
// required.
func (s *Service) finishLogin(u User, i int, sd webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData, validate func(webauthn.SessionData) (*webauthn.Credential, error)) (Credential, error) {
	flags := parsed.Response.AuthenticatorData.Flags
	uvMissing := requiresUV(sd) && !flags.HasUserVerified()
	if uvMissing {
		// As in FinishRegistration: check everything else first.
		sd.UserVerification = protocol.VerificationPreferred
	}
	lc, err := validate(sd)
	if err != nil {
		return Credential{}, verifyError(err)
	}
	stored := u.Credentials[i]
	if lc.Authenticator.CloneWarning {
		return stored, fail(ErrCloned, fmt.Sprintf("counter %d after %d", parsed.Response.AuthenticatorData.Counter, stored.SignCount))
	}
	if uvMissing {
		return Credential{}, fail(ErrUVRequired, "assertion without user verification")
	}
	updated := stored
	updated.SignCount = lc.Authenticator.SignCount
	updated.BackupState = flags.HasBackupState()
	updated.UserVerified = flags.HasUserVerified()
	return updated, nil
}
