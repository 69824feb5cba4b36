package totp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
)

// Recovery codes are single-use codes a person prints or stores when
// enrolling, to sign in when the authenticator is lost.
const (
	// RecoveryCodeCount is how many codes to issue at a time.
	RecoveryCodeCount = 10
	// recoveryLen is the number of symbols of a code, shown in two
	// groups of five: "XXXXX-XXXXX".
	recoveryLen = 10
	// recoveryAlphabet has no 0, O, 1, I or L, which people confuse when
	// reading a printed code: 31 symbols, log2(31) ≈ 4.95 bits each, so
	// a code carries 10 × 4.95 ≈ 49.5 bits.
	recoveryAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	// recoveryReject is the largest multiple of the alphabet size that
	// fits in a byte: bytes at or above it are drawn again, so that
	// every symbol is equally likely.
	recoveryReject = 256 - 256%len(recoveryAlphabet)
	// recoveryMaxInput bounds the input MatchRecoveryCode looks at.
	recoveryMaxInput = 64
	hashScheme       = "sha256"
	saltSize         = 16
)

// NewRecoveryCodes returns n distinct random recovery codes formatted as
// "XXXXX-XXXXX" (RecoveryCodeCount when n <= 0), drawn uniformly from
// crypto/rand. Show them once; store only HashRecoveryCode of each.
func NewRecoveryCodes(n int) ([]string, error) {
	if n <= 0 {
		n = RecoveryCodeCount
	}
	codes := make([]string, 0, n)
	seen := make(map[string]bool, n)
	for len(codes) < n {
		c, err := newRecoveryCode()
		if err != nil {
			return nil, err
		}
		if !seen[c] {
			seen[c] = true
			codes = append(codes, c)
		}
	}
	return codes, nil
}

func newRecoveryCode() (string, error) {
	sym := make([]byte, 0, recoveryLen)
	buf := make([]byte, 2*recoveryLen)
	for len(sym) < recoveryLen {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("totp: generate recovery code: %w", err)
		}
		for _, b := range buf {
			if int(b) < recoveryReject && len(sym) < recoveryLen {
				sym = append(sym, recoveryAlphabet[int(b)%len(recoveryAlphabet)])
			}
		}
	}
	return string(sym[:5]) + "-" + string(sym[5:]), nil
}

// HashRecoveryCode returns the value to store for a recovery code:
// "sha256$<salt>$<digest>", the SHA-256 of a random 16-byte salt followed
// by the normalised code (see MatchRecoveryCode), both in unpadded base64.
//
// A fast hash is appropriate here, unlike for passwords: argon2id exists
// to slow down guessing of low-entropy secrets people choose, while these
// codes are ~49.5 random bits each, cannot be guessed online before the
// rate limit stops the attempt, and the per-code salt makes an offline
// search cost a full 2^49 hashes per code instead of one search for every
// stored code at once. (Whoever reads the database can read the TOTP
// secrets anyway, unless the caller encrypts them.)
func HashRecoveryCode(code string) string {
	salt := make([]byte, saltSize)
	// crypto/rand.Read never returns an error (it crashes the program
	// if the system generator fails).
	_, _ = rand.Read(salt)
	norm, _ := normalizeRecovery(code)
	return hashScheme + "$" + base64.RawStdEncoding.EncodeToString(salt) + "$" +
		base64.RawStdEncoding.EncodeToString(recoveryDigest(salt, norm))
}

// MatchRecoveryCode reports whether input is one of the recovery codes
// whose hashes (from HashRecoveryCode) are given, and which: index is the
// position in hashes of the first match, -1 when ok is false.
//
// The input is normalised: case is ignored, as are spaces and dashes
// ("abcde fghjk" matches "ABCDE-FGHJK"). Every hash is computed and
// compared in constant time, without stopping at the first match. The
// caller deletes the matched hash, so that a code works once.
func MatchRecoveryCode(input string, hashes []string) (index int, ok bool) {
	norm, valid := normalizeRecovery(input)
	if !valid {
		return -1, false
	}
	found := 0
	index = -1
	for i, h := range hashes {
		salt, want, parsed := parseRecoveryHash(h)
		if !parsed {
			continue
		}
		eq := subtle.ConstantTimeCompare(recoveryDigest(salt, norm), want)
		first := eq &^ found
		index = subtle.ConstantTimeSelect(first, i, index)
		found |= eq
	}
	return index, found == 1
}

func recoveryDigest(salt, norm []byte) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write(norm)
	return h.Sum(nil)
}

func parseRecoveryHash(h string) (salt, digest []byte, ok bool) {
	scheme, rest, ok1 := strings.Cut(h, "$")
	s, d, ok2 := strings.Cut(rest, "$")
	if !ok1 || !ok2 || scheme != hashScheme {
		return nil, nil, false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(s)
	digest, err2 := base64.RawStdEncoding.DecodeString(d)
	if err1 != nil || err2 != nil || len(salt) != saltSize || len(digest) != sha256.Size {
		return nil, nil, false
	}
	return salt, digest, true
}

// normalizeRecovery upper-cases ASCII letters, drops white space and
// dashes, and reports whether what remains is recoveryLen symbols of the
// alphabet.
func normalizeRecovery(input string) ([]byte, bool) {
	if len(input) > recoveryMaxInput {
		return nil, false
	}
	out := make([]byte, 0, recoveryLen)
	for _, r := range input {
		if unicode.IsSpace(r) || r == '-' {
			continue
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		if r > unicode.MaxASCII || !strings.ContainsRune(recoveryAlphabet, r) || len(out) == recoveryLen {
			return nil, false
		}
		out = append(out, byte(r))
	}
	return out, len(out) == recoveryLen
}
