package local

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	base := TestParams()
	stronger := base
	stronger.Iterations = 2
	longer := base
	longer.KeyLen = 64

	tests := []struct {
		name       string
		hashWith   Params // params the hash is made with
		verifyWith Params // params of the verifying Hasher
		password   string
		attempt    string
		wantOK     bool
		wantRehash bool
	}{
		{name: "round trip", hashWith: base, verifyWith: base, password: "correct horse battery", attempt: "correct horse battery", wantOK: true},
		{name: "wrong password", hashWith: base, verifyWith: base, password: "correct horse battery", attempt: "correct horse batterY", wantOK: false},
		{name: "empty attempt", hashWith: base, verifyWith: base, password: "correct horse battery", attempt: "", wantOK: false},
		{name: "unicode", hashWith: base, verifyWith: base, password: "mot de passe été ✓ ünïcödé", attempt: "mot de passe été ✓ ünïcödé", wantOK: true},
		{name: "prefix is not enough", hashWith: base, verifyWith: base, password: "correct horse battery", attempt: "correct horse", wantOK: false},
		{name: "needs rehash: iterations raised", hashWith: base, verifyWith: stronger, password: "correct horse battery", attempt: "correct horse battery", wantOK: true, wantRehash: true},
		{name: "needs rehash: key length changed", hashWith: longer, verifyWith: base, password: "correct horse battery", attempt: "correct horse battery", wantOK: true, wantRehash: true},
		{name: "needs rehash reported on wrong password too", hashWith: base, verifyWith: stronger, password: "correct horse battery", attempt: "nope", wantOK: false, wantRehash: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phc, err := NewHasher(tt.hashWith, 1).Hash(ctx, tt.password)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			ok, rehash, err := NewHasher(tt.verifyWith, 1).Verify(ctx, phc, tt.attempt)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tt.wantOK || rehash != tt.wantRehash {
				t.Errorf("Verify = ok %v, needsRehash %v; want %v, %v", ok, rehash, tt.wantOK, tt.wantRehash)
			}
		})
	}
}

func TestHashFormat(t *testing.T) {
	h := NewHasher(DefaultParams(), 1)
	phc, err := h.Hash(context.Background(), "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "$argon2id$v=19$m=65536,t=3,p=4$"
	if !strings.HasPrefix(phc, prefix) {
		t.Fatalf("PHC %q does not start with %q", phc, prefix)
	}
	parts := strings.Split(strings.TrimPrefix(phc, prefix), "$")
	if len(parts) != 2 {
		t.Fatalf("PHC %q: want salt$hash after the parameters", phc)
	}
	for i, want := range []int{16, 32} {
		b, err := base64.RawStdEncoding.DecodeString(parts[i])
		if err != nil || len(b) != want {
			t.Errorf("part %d = %q: %d bytes, %v; want %d bytes of unpadded base64", i, parts[i], len(b), err, want)
		}
	}
	// Two hashes of one password differ (random salt).
	again, _ := h.Hash(context.Background(), "correct horse battery")
	if again == phc {
		t.Error("two hashes of the same password are equal: salt not random")
	}
}

// Hashes made by the reference implementation (Debian's argon2 command,
// libargon2 20190702) verify.
func TestVerifyReferenceHashes(t *testing.T) {
	tests := []struct {
		name     string
		phc      string
		password string
	}{
		{name: "m=64 t=2 p=1", phc: "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQxMjM0$/iN2LxvXtmAvpQSXrULXOTV4NtHkgE3ezi1u+UXFQJo", password: "correct horse battery staple"},
		{name: "m=1024 t=2 p=4", phc: "$argon2id$v=19$m=1024,t=2,p=4$c29tZXNhbHQ$812J6Ir9aX4PVtwMQsWwAkclP17LHYWPdn5+1mXzfEQ", password: "password"},
		{name: "unicode, 16-byte hash", phc: "$argon2id$v=19$m=128,t=3,p=2$MDEyMzQ1Njc4OWFiY2RlZg$Io5V66Mur1wzRTNwECs3mg", password: "mot de passe été ✓"},
	}
	h := NewHasher(TestParams(), 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), tt.phc, tt.password)
			if err != nil || !ok || !rehash {
				t.Errorf("Verify = %v, %v, %v; want true, true (params differ), nil", ok, rehash, err)
			}
			if ok, _, _ := h.Verify(context.Background(), tt.phc, tt.password+"x"); ok {
				t.Error("wrong password accepted")
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	const salt, key = "c29tZXNhbHQxMjM0", "/iN2LxvXtmAvpQSXrULXOTV4NtHkgE3ezi1u+UXFQJo"
	tests := []struct {
		name string
		phc  string
	}{
		{name: "empty", phc: ""},
		{name: "not PHC", phc: "hunter2"},
		{name: "bcrypt", phc: "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{name: "argon2i", phc: "$argon2i$v=19$m=64,t=2,p=1$" + salt + "$" + key},
		{name: "argon2d", phc: "$argon2d$v=19$m=64,t=2,p=1$" + salt + "$" + key},
		{name: "old version", phc: "$argon2id$v=16$m=64,t=2,p=1$" + salt + "$" + key},
		{name: "no version", phc: "$argon2id$m=64,t=2,p=1$" + salt + "$" + key},
		{name: "missing hash", phc: "$argon2id$v=19$m=64,t=2,p=1$" + salt},
		{name: "trailing field", phc: "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + key + "$"},
		{name: "no leading dollar", phc: "argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + key + "$x"},
		{name: "params out of order", phc: "$argon2id$v=19$t=2,m=64,p=1$" + salt + "$" + key},
		{name: "extra param", phc: "$argon2id$v=19$m=64,t=2,p=1,keyid=x$" + salt + "$" + key},
		{name: "negative", phc: "$argon2id$v=19$m=-64,t=2,p=1$" + salt + "$" + key},
		{name: "plus sign", phc: "$argon2id$v=19$m=+64,t=2,p=1$" + salt + "$" + key},
		{name: "leading zero", phc: "$argon2id$v=19$m=064,t=2,p=1$" + salt + "$" + key},
		{name: "hex", phc: "$argon2id$v=19$m=0x40,t=2,p=1$" + salt + "$" + key},
		{name: "zero iterations", phc: "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{name: "zero parallelism", phc: "$argon2id$v=19$m=64,t=2,p=0$" + salt + "$" + key},
		{name: "memory below 8 per lane", phc: "$argon2id$v=19$m=15,t=2,p=2$" + salt + "$" + key},
		{name: "memory over 1 GiB", phc: "$argon2id$v=19$m=1048577,t=2,p=1$" + salt + "$" + key},
		{name: "memory overflows uint32", phc: "$argon2id$v=19$m=4294967297,t=2,p=1$" + salt + "$" + key},
		{name: "iterations over 20", phc: "$argon2id$v=19$m=64,t=21,p=1$" + salt + "$" + key},
		{name: "parallelism over 255", phc: "$argon2id$v=19$m=4096,t=2,p=256$" + salt + "$" + key},
		{name: "salt too short", phc: "$argon2id$v=19$m=64,t=2,p=1$c2FsdA$" + key},
		{name: "hash too short", phc: "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$c2hvcnQ"},
		{name: "hash too long", phc: "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + strings.Repeat("A", 100)},
		{name: "padded base64", phc: "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ=$" + key},
		{name: "URL base64", phc: "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$_iN2LxvXtmAvpQSXrULXOTV4NtHkgE3ezi1u-UXFQJo"},
		{name: "non-canonical base64", phc: "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$/iN2LxvXtmAvpQSXrULXOTV4NtHkgE3ezi1u+UXFQJp"},
		{name: "newline in base64", phc: "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$/iN2LxvXtmAvpQSXrULXOTV4\nNtHkgE3ezi1u+UXFQJo"},
		{name: "huge", phc: "$argon2id$v=19$m=64,t=2,p=1$" + strings.Repeat("A", 1<<20) + "$" + key},
	}
	h := NewHasher(TestParams(), 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.runs.Load()
			ok, rehash, err := h.Verify(context.Background(), tt.phc, "correct horse battery staple")
			if !errors.Is(err, ErrMalformedHash) || ok || rehash {
				t.Errorf("Verify = %v, %v, %v; want false, false, ErrMalformedHash", ok, rehash, err)
			}
			if n := h.runs.Load() - before; n != 0 {
				t.Errorf("ran argon2id %d times on a malformed hash, want 0", n)
			}
		})
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		name    string
		p       Params
		wantErr bool
	}{
		{name: "default", p: DefaultParams()},
		{name: "test", p: TestParams()},
		{name: "zero", p: Params{}, wantErr: true},
		{name: "memory too low for lanes", p: Params{Memory: 16, Iterations: 1, Parallelism: 4, SaltLen: 16, KeyLen: 32}, wantErr: true},
		{name: "memory over 1 GiB", p: Params{Memory: 2 << 20, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}, wantErr: true},
		{name: "salt too short", p: Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 4, KeyLen: 32}, wantErr: true},
		{name: "key too short", p: Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 8}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if (err != nil) != tt.wantErr {
				t.Errorf("Validate = %v, wantErr %v", err, tt.wantErr)
			}
			// A Hasher with invalid params refuses to work.
			h := NewHasher(tt.p, 1)
			_, hashErr := h.Hash(context.Background(), "correct horse battery")
			_, _, verifyErr := h.Verify(context.Background(), "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQxMjM0$/iN2LxvXtmAvpQSXrULXOTV4NtHkgE3ezi1u+UXFQJo", "x")
			if (hashErr != nil) != tt.wantErr || (verifyErr != nil) != tt.wantErr {
				t.Errorf("Hash err = %v, Verify err = %v, wantErr %v", hashErr, verifyErr, tt.wantErr)
			}
		})
	}
}

func TestHashContext(t *testing.T) {
	h := NewHasher(TestParams(), 1)
	phc, err := h.Hash(context.Background(), "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := h.Hash(ctx, "correct horse battery"); !errors.Is(err, context.Canceled) {
			t.Errorf("Hash err = %v, want context.Canceled", err)
		}
		if _, _, err := h.Verify(ctx, phc, "correct horse battery"); !errors.Is(err, context.Canceled) {
			t.Errorf("Verify err = %v, want context.Canceled", err)
		}
	})

	t.Run("waiting for a slot", func(t *testing.T) {
		h.sem <- struct{}{} // the only slot is busy
		defer func() { <-h.sem }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		before := h.runs.Load()
		if _, err := h.Hash(ctx, "correct horse battery"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Hash err = %v, want context.DeadlineExceeded", err)
		}
		if n := h.runs.Load() - before; n != 0 {
			t.Errorf("ran argon2id %d times without a slot", n)
		}
	})
}

func TestNewHasherDefaultConcurrency(t *testing.T) {
	if h := NewHasher(TestParams(), 0); cap(h.sem) < 1 {
		t.Errorf("maxConcurrent 0 gave %d slots", cap(h.sem))
	}
	if h := NewHasher(TestParams(), 3); cap(h.sem) != 3 {
		t.Errorf("maxConcurrent 3 gave %d slots", cap(h.sem))
	}
}

func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQxMjM0NTY3OA$/iN2LxvXtmAvpQSXrULXOTV4NtHkgE3ezi1u+UXFQJo")
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=255$c29tZXNhbHQ$c29tZXNhbHQxMjM0NTY3OA")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("error %v does not wrap ErrMalformedHash", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted params fail Validate: %v", err)
		}
		if p.Memory > maxMemory || p.Iterations > maxIterations {
			t.Fatalf("accepted absurd params %+v", p)
		}
		if int(p.SaltLen) != len(salt) || int(p.KeyLen) != len(key) {
			t.Fatalf("params %+v disagree with salt %d and key %d bytes", p, len(salt), len(key))
		}
		// Parsing is strict: what it accepts is exactly what Hash writes.
		if got := formatPHC(p, salt, key); got != s {
			t.Fatalf("formatPHC(parsePHC(%q)) = %q", s, got)
		}
	})
}
