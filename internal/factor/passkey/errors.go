package passkey

import (
	"errors"
	"strconv"

	"github.com/go-webauthn/webauthn/protocol"
)

// Errors of the Finish methods, tested with errors.Is. The error returned
// wraps one of them and adds a reason for the log; messages hold no secret
// (challenges are public and single-use, keys are public).
var (
	// ErrMalformed: the browser's response is not a well-formed
	// PublicKeyCredential (JSON, base64url, CBOR, authenticator data).
	ErrMalformed = errors.New("passkey: malformed response")
	// ErrVerification: the response is well formed but does not verify:
	// wrong challenge (an old or replayed response), origin, RP ID,
	// ceremony type, signature, key algorithm or flags.
	ErrVerification = errors.New("passkey: verification failed")
	// ErrUnknownCredential: the credential used is not one of the
	// person's (2FA), or no person has it (discoverable login).
	ErrUnknownCredential = errors.New("passkey: unknown credential")
	// ErrCloned: the signature counter did not increase; the
	// authenticator may have been cloned. The caller should disable the
	// credential: FinishLogin returns it along with this error.
	ErrCloned = errors.New("passkey: signature counter went backwards, possible cloned authenticator")
	// ErrUVRequired: the response verifies but the authenticator did not
	// verify the user (PIN, biometrics) while the ceremony required it.
	ErrUVRequired = errors.New("passkey: user verification required")
	// ErrExpired: the state is older than the ceremony timeout.
	ErrExpired = errors.New("passkey: ceremony expired")
	// ErrState: the state was not produced by Begin for this ceremony, or
	// it is for another person. This is a caller bug, not a client error.
	ErrState = errors.New("passkey: invalid ceremony state")
)

// failure is an error of kind (one of the sentinels above) with a reason.
type failure struct {
	kind   error
	reason string
}

func (f *failure) Error() string { return f.kind.Error() + ": " + f.reason }
func (f *failure) Unwrap() error { return f.kind }

func fail(kind error, reason string) error { return &failure{kind: kind, reason: reason} }

// maxDetail bounds the library detail copied into a reason, part of which
// comes from the client.
const maxDetail = 200

// challengeMismatch is the library's message for a wrong challenge.
const challengeMismatch = "Error validating challenge"

// libReason renders a go-webauthn error for the log: its fixed message and,
// quoted and bounded, its developer information.
func libReason(err error) string {
	var pe *protocol.Error
	if !errors.As(err, &pe) {
		return "invalid encoding"
	}
	r := pe.Details
	if r == "" {
		r = pe.Type
	}
	// The developer information of a challenge mismatch is the two
	// challenges: not secrets, but nothing a log reader needs either.
	if info := pe.DevInfo; info != "" && pe.Details != challengeMismatch {
		if len(info) > maxDetail {
			info = info[:maxDetail] + "..."
		}
		r += " " + strconv.Quote(info)
	}
	return r
}

// parseError maps an error from parsing the browser's response.
func parseError(err error) error {
	return fail(ErrMalformed, libReason(err))
}

// verifyError maps an error from verifying a parsed response. Errors that
// are not the library's own come from decoding nested data (the COSE key).
func verifyError(err error) error {
	var unknown *protocol.ErrorUnknownCredential
	if errors.As(err, &unknown) {
		return fail(ErrUnknownCredential, libReason(unknown.Err))
	}
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Type == protocol.ErrParsingData.Type {
		return fail(ErrMalformed, libReason(err))
	}
	return fail(ErrVerification, libReason(err))
}
