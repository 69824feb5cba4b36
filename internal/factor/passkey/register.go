package passkey

import (
	"encoding/json"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// algorithms are the public key algorithms offered at registration, in
// order of preference: EdDSA, ES256, RS256 (WebAuthn Level 3's
// recommendation). Finish refuses a key of any other algorithm.
func algorithms() []protocol.CredentialParameter {
	return webauthn.CredentialParametersRecommendedL3()
}

// BeginRegistration starts enrolling a passkey for u. It returns the
// options as JSON, {"publicKey": {...}}, whose publicKey member is the
// PublicKeyCredentialCreationOptionsJSON that
// PublicKeyCredential.parseCreationOptionsFromJSON takes, and the state
// for FinishRegistration.
//
// The options require a discoverable credential (resident key) and user
// verification, ask for no attestation, and exclude u's existing
// credentials so that an authenticator is not enrolled twice.
func (s *Service) BeginRegistration(u User) (options, state []byte, err error) {
	if err := checkHandle(u.Handle); err != nil {
		return nil, nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, len(u.Credentials))
	for i, c := range u.Credentials {
		l := c.lib()
		exclude[i] = l.Descriptor()
	}
	creation, sd, err := s.wa.BeginRegistration(libUser{u},
		webauthn.WithCredentialParameters(algorithms()),
		webauthn.WithExclusions(exclude),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: begin registration: %w", err)
	}
	return s.begin(ceremonyRegistration, creation, sd)
}

// FinishRegistration verifies the browser's response to the options of
// BeginRegistration (the PublicKeyCredential JSON, as posted) and returns
// the new credential, to be added to u's. The state must come from
// BeginRegistration for the same u; the caller deletes it after this call,
// whatever the result.
//
// Errors: ErrState, ErrExpired, ErrMalformed, ErrVerification,
// ErrUVRequired. The caller should also refuse a credential ID already
// registered to anyone.
func (s *Service) FinishRegistration(u User, state, response []byte) (Credential, error) {
	sd, err := s.decodeState(state, ceremonyRegistration)
	if err != nil {
		return Credential{}, err
	}
	if err := checkStateUser(sd, u); err != nil {
		return Credential{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return Credential{}, parseError(err)
	}
	uvMissing := requiresUV(sd) && !parsed.Response.AttestationObject.AuthData.Flags.HasUserVerified()
	if uvMissing {
		// Let the library check everything else, then refuse: the error
		// then tells a valid response without user verification from a
		// bad one.
		sd.UserVerification = protocol.VerificationPreferred
	}
	lc, err := s.wa.CreateCredential(libUser{u}, sd, parsed)
	if err != nil {
		return Credential{}, verifyError(err)
	}
	if uvMissing {
		return Credential{}, fail(ErrUVRequired, "registration without user verification")
	}
	if u.find(lc.ID) >= 0 {
		return Credential{}, fail(ErrVerification, "credential already registered")
	}
	return fromLib(lc), nil
}

// begin encodes what a Begin method returns.
func (s *Service) begin(c ceremony, options any, sd *webauthn.SessionData) ([]byte, []byte, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: encode options: %w", err)
	}
	st, err := s.encodeState(c, sd)
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: encode state: %w", err)
	}
	return o, st, nil
}

// requiresUV reports whether the ceremony of sd requires user
// verification.
func requiresUV(sd webauthn.SessionData) bool {
	return sd.UserVerification == protocol.VerificationRequired
}

// checkHandle checks a user handle before it reaches the library, so that
// the error is ours.
func checkHandle(h []byte) error {
	if len(h) < protocol.MinimumUserHandleLength || len(h) > protocol.MaximumUserHandleLength {
		return fmt.Errorf("passkey: user handle must be 1 to 64 bytes, not %d", len(h))
	}
	return nil
}
