package totp

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// secretSize is the length of a generated secret in bytes: 160 bits, the
// length RFC 4226 section 4 recommends and the HMAC-SHA-1 block output.
const secretSize = 20

// minSecretSize is the shortest secret ParseSecret accepts (RFC 4226
// section 4: at least 128 bits).
const minSecretSize = 16

// b32 is the encoding of stored and displayed secrets: RFC 4648 base32,
// upper case, without padding, as authenticator apps expect.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// ErrSecret reports a secret that is not valid base32 or is too short, and
// a zero Secret given to Verify or KeyURI.
var ErrSecret = errors.New("totp: invalid secret")

// A Secret is the shared key of an enrolled authenticator. Its zero value
// is not a valid secret. It prints and logs as REDACTED; Base32 exposes
// the value for storage and enrolment.
type Secret struct {
	b32 string // canonical: upper-case base32, no padding
}

// NewSecret returns a new random 160-bit secret from crypto/rand.
func NewSecret() (Secret, error) {
	b := make([]byte, secretSize)
	if _, err := rand.Read(b); err != nil {
		return Secret{}, fmt.Errorf("totp: generate secret: %w", err)
	}
	return Secret{b32: b32.EncodeToString(b)}, nil
}

// ParseSecret reads a secret as stored by the caller (the value of
// Base32). It also accepts lower case, spaces and trailing padding, so
// that a secret typed by hand from FormatKey is understood.
func ParseSecret(s string) (Secret, error) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	s = strings.TrimRight(s, "=")
	b, err := b32.DecodeString(s)
	if err != nil || len(b) < minSecretSize {
		return Secret{}, ErrSecret
	}
	return Secret{b32: b32.EncodeToString(b)}, nil
}

// Base32 returns the secret in upper-case base32 without padding: the
// value to store (encrypted at rest, preferably) and to put in the
// enrolment URI. Never log it.
func (s Secret) Base32() string { return s.b32 }

// IsZero reports whether s is the zero Secret.
func (s Secret) IsZero() bool { return s.b32 == "" }

// String returns REDACTED so that the secret never reaches a page or a log
// by accident.
func (s Secret) String() string { return "REDACTED" }

// GoString returns REDACTED, for %#v.
func (s Secret) GoString() string { return "REDACTED" }

// LogValue implements slog.LogValuer: the secret logs as REDACTED.
func (s Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

var _ slog.LogValuer = Secret{}

// FormatKey returns the secret in groups of four characters separated by
// spaces ("JBSW Y3DP EHPK 3PXP"), for people who type the key into their
// app instead of scanning the QR code. Apps ignore the spaces.
func FormatKey(s Secret) string {
	k := s.b32
	var b strings.Builder
	b.Grow(len(k) + len(k)/4)
	for i := 0; i < len(k); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k[i:min(i+4, len(k))])
	}
	return b.String()
}
