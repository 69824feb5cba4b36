package local

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id parameters.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLen     uint32 // bytes
	KeyLen      uint32 // bytes
}

// Bounds accepted for parameters, in Params and in stored PHC strings. A
// stored hash is data: these bounds keep a corrupted or hostile row from
// making Verify allocate gigabytes or run for minutes.
const (
	maxMemory      = 1 << 20 // KiB: 1 GiB
	maxIterations  = 20
	minSaltLen     = 8
	maxSaltLen     = 64
	minKeyLen      = 16
	maxKeyLen      = 64
	maxPHCLen      = 256 // longest accepted PHC string, bytes
	argon2Version  = argon2.Version
	phcAlgorithmID = "argon2id"
)

// DefaultParams returns the RFC 9106 second recommended option: argon2id,
// 64 MiB, 3 passes, 4 lanes, 16-byte salt, 32-byte hash.
func DefaultParams() Params {
	return Params{Memory: 64 * 1024, Iterations: 3, Parallelism: 4, SaltLen: 16, KeyLen: 32}
}

// TestParams returns the cheapest parameters argon2id accepts (64 KiB, one
// pass, one lane), for tests of other packages. Never use them in
// production.
func TestParams() Params {
	return Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
}

// Validate reports whether p is within the accepted bounds.
func (p Params) Validate() error {
	var errs []error
	if p.Parallelism < 1 {
		errs = append(errs, errors.New("parallelism must be at least 1"))
	}
	if p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemory {
		errs = append(errs, fmt.Errorf("memory %d KiB out of range [8×parallelism, %d]", p.Memory, maxMemory))
	}
	if p.Iterations < 1 || p.Iterations > maxIterations {
		errs = append(errs, fmt.Errorf("iterations %d out of range [1, %d]", p.Iterations, maxIterations))
	}
	if p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen {
		errs = append(errs, fmt.Errorf("salt length %d out of range [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen))
	}
	if p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen {
		errs = append(errs, fmt.Errorf("key length %d out of range [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("argon2id parameters: %w", err)
	}
	return nil
}

// ErrMalformedHash means a stored password hash is not an argon2id PHC
// string TNO accepts.
var ErrMalformedHash = errors.New("local: malformed password hash")

// Hasher hashes and verifies passwords with argon2id, bounding the number
// of computations running at once (each takes Params.Memory). It is safe
// for concurrent use.
type Hasher struct {
	params Params
	err    error         // invalid params, returned by Hash and Verify
	sem    chan struct{} // one token per running computation
	runs   atomic.Int64  // argon2id computations, for tests
}

// NewHasher returns a Hasher producing hashes with p, running at most
// maxConcurrent computations at once (runtime.NumCPU() if maxConcurrent
// <= 0). Invalid params make Hash and Verify fail; check them first with
// Params.Validate.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	return &Hasher{params: p, err: p.Validate(), sem: make(chan struct{}, maxConcurrent)}
}

// Params returns the parameters new hashes use.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC string of password with a fresh random salt:
// $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash> (unpadded standard base64).
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if h.err != nil {
		return "", h.err
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("local: salt: %w", err)
	}
	key, err := h.derive(ctx, password, salt, h.params)
	if err != nil {
		return "", err
	}
	return formatPHC(h.params, salt, key), nil
}

// Verify reports whether password matches the PHC string, recomputing it
// with the parameters the string holds, and whether the hash should be
// recomputed because those parameters differ from h's. A malformed PHC
// string gives an error wrapping ErrMalformedHash; a cancelled ctx gives
// ctx.Err().
func (h *Hasher) Verify(ctx context.Context, phc, password string) (ok, needsRehash bool, err error) {
	if h.err != nil {
		return false, false, h.err
	}
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, false, err
	}
	got, err := h.derive(ctx, password, salt, p)
	if err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(got, want) == 1
	return ok, p != h.params, nil
}

// derive runs argon2id once a concurrency slot is free.
func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p Params) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.sem }()
	h.runs.Add(1)
	return argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen), nil
}

func formatPHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s",
		phcAlgorithmID, argon2Version, p.Memory, p.Iterations, p.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
}

// parsePHC parses an argon2id PHC string strictly (fields in the order
// Hash writes them) and rejects parameters out of bounds before anything
// is allocated for them.
func parsePHC(s string) (p Params, salt, key []byte, err error) {
	bad := func(what string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, what)
	}
	if len(s) > maxPHCLen {
		return bad("too long")
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("not a PHC string")
	}
	if parts[1] != phcAlgorithmID {
		return bad("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2Version) {
		return bad("unsupported version")
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return bad("want parameters m,t,p")
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(params[i], name+"=")
		if !ok {
			return bad("want parameters m,t,p")
		}
		n, err := parseDecimal(v)
		if err != nil {
			return bad("parameter " + name + " is not a decimal number")
		}
		vals[i] = n
	}
	if vals[0] > maxMemory || vals[1] > maxIterations || vals[2] > 255 {
		return bad("parameters out of range")
	}
	p = Params{Memory: uint32(vals[0]), Iterations: uint32(vals[1]), Parallelism: uint8(vals[2])}

	enc := base64.RawStdEncoding.Strict()
	if len(parts[4]) > enc.EncodedLen(maxSaltLen) || len(parts[5]) > enc.EncodedLen(maxKeyLen) {
		return bad("salt or hash too long")
	}
	// The decoder skips CR and LF: insist on the canonical encoding.
	if salt, err = enc.DecodeString(parts[4]); err != nil || enc.EncodeToString(salt) != parts[4] {
		return bad("salt is not unpadded standard base64")
	}
	if key, err = enc.DecodeString(parts[5]); err != nil || enc.EncodeToString(key) != parts[5] {
		return bad("hash is not unpadded standard base64")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.Validate(); err != nil {
		return bad(err.Error())
	}
	return p, salt, key, nil
}

// parseDecimal parses a canonical unsigned decimal: digits only, no sign,
// no leading zero, at most 10 digits.
func parseDecimal(s string) (uint64, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseUint(s, 10, 64)
}
