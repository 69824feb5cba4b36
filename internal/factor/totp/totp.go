package totp

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// Parameters of the codes, fixed to what every authenticator app supports
// (RFC 6238 defaults, and the Google Authenticator key URI format).
const (
	Digits = 6                // code length
	Period = 30 * time.Second // length of a time step
	// Skew is how many steps before and after the current one Verify
	// accepts, for the drift between the server's and the phone's clocks.
	Skew = 1
)

// maxInput bounds the input Verify looks at: longer input is malformed
// without further work.
const maxInput = 64

// Errors of Verify. They are distinct so that the caller can tell a typo
// (ErrMalformed: ask again) from a wrong or reused code (count a failure).
var (
	ErrMalformed = errors.New("totp: code must be 6 digits")
	ErrInvalid   = errors.New("totp: wrong code")
	ErrReplayed  = errors.New("totp: code already used")
)

// ErrLabel reports an issuer or account name KeyURI cannot put in the URI.
var ErrLabel = errors.New("totp: issuer and account must be non-empty and contain no colon")

// KeyURI returns the otpauth://totp/ URI an authenticator app enrols from:
// the label "issuer:account", and the secret, issuer, algorithm, digits
// and period parameters, as Google Authenticator and FreeOTP expect.
// Issuer and account must be non-empty and contain no colon (the label
// separator); the error is ErrLabel, or ErrSecret for a zero Secret.
func KeyURI(issuer, account string, s Secret) (string, error) {
	if issuer == "" || account == "" || strings.Contains(issuer, ":") || strings.Contains(account, ":") {
		return "", ErrLabel
	}
	key, err := s.bytes()
	if err != nil {
		return "", err
	}
	k, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      uint(Period / time.Second),
		Secret:      key,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", fmt.Errorf("totp: key URI: %w", err)
	}
	return k.URL(), nil
}

// Verify checks a code typed by a person against secret s at time now.
//
// The input is normalised first: surrounding and inner white space and
// dashes are ignored ("123 456", "123-456"); what remains must be exactly
// six ASCII digits, else the error is ErrMalformed.
//
// The code of the current time step and of Skew steps either side are all
// computed and compared in constant time, whichever matches. A matching
// step at or before lastStep is refused with ErrReplayed: each time step
// is accepted once. On success Verify returns the matched step, which the
// caller stores as the new lastStep (0 before the first use). A code
// matching no step is ErrInvalid.
func Verify(s Secret, input string, now time.Time, lastStep int64) (step int64, err error) {
	code, ok := normalizeCode(input)
	if !ok {
		return 0, ErrMalformed
	}
	if s.IsZero() {
		return 0, ErrSecret
	}
	opts := hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	cur := stepAt(now)
	var accepted, seen int64 = -1, 0
	for c := cur - Skew; c <= cur+Skew; c++ {
		want := ""
		if c >= 0 {
			if want, err = hotp.GenerateCodeCustom(s.b32, uint64(c), opts); err != nil {
				return 0, ErrSecret
			}
		}
		eq := int64(subtle.ConstantTimeCompare([]byte(want), code))
		fresh := int64(0)
		if c > lastStep {
			fresh = 1
		}
		seen |= eq
		mask := -(eq & fresh) // all ones when this step matches and is fresh
		accepted = accepted&^mask | c&mask
	}
	switch {
	case accepted >= 0:
		return accepted, nil
	case seen == 1:
		return 0, ErrReplayed
	default:
		return 0, ErrInvalid
	}
}

// stepAt returns the RFC 6238 time step T = floor(unix / period).
func stepAt(t time.Time) int64 {
	p := int64(Period / time.Second)
	u := t.Unix()
	if u < 0 {
		return (u - p + 1) / p
	}
	return u / p
}

// normalizeCode drops white space and dashes and reports whether exactly
// Digits ASCII digits remain.
func normalizeCode(input string) ([]byte, bool) {
	if len(input) > maxInput {
		return nil, false
	}
	code := make([]byte, 0, Digits)
	for _, r := range input {
		switch {
		case unicode.IsSpace(r) || r == '-':
		case r >= '0' && r <= '9' && len(code) < Digits:
			code = append(code, byte(r))
		default:
			return nil, false
		}
	}
	return code, len(code) == Digits
}

// bytes decodes the secret for the URI.
func (s Secret) bytes() ([]byte, error) {
	if s.IsZero() {
		return nil, ErrSecret
	}
	b, err := b32.DecodeString(s.b32)
	if err != nil {
		return nil, ErrSecret
	}
	return b, nil
}
