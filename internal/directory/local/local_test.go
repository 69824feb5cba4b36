package local

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/directory"
	"github.com/territoires-ouverts/tno/internal/storage"
)

const goodPassword = "Correct-Horse-Battery-42"

type fixture struct {
	store  *fakeStore
	hasher *Hasher
	local  *Local
	logs   *bytes.Buffer
	alice  storage.Person
	bob    storage.Person // disabled
	carol  storage.Person // no password
}

func newFixture(t *testing.T, p Params) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{store: newFakeStore(), hasher: NewHasher(p, 2), logs: &bytes.Buffer{}}
	var err error
	f.local, err = New(Options{
		People:      f.store,
		Credentials: f.store,
		Hasher:      f.hasher,
		Logger:      slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, p := range []*storage.Person{
		{Username: "alice", GivenName: "Alice"},
		{Username: "bob", GivenName: "Bob", Disabled: true},
		{Username: "carol", GivenName: "Carol"},
	} {
		if err := f.store.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	f.alice, _ = f.store.GetPersonByUsername(ctx, "alice")
	f.bob, _ = f.store.GetPersonByUsername(ctx, "bob")
	f.carol, _ = f.store.GetPersonByUsername(ctx, "carol")
	for _, p := range []storage.Person{f.alice, f.bob} {
		if err := f.local.SetPassword(ctx, p.ID, goodPassword); err != nil {
			t.Fatalf("SetPassword(%s): %v", p.Username, err)
		}
	}
	return f
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t, TestParams())
	ctx := context.Background()
	if err := f.store.CreatePerson(ctx, &storage.Person{ID: "dave-id", Username: "dave"}); err != nil {
		t.Fatal(err)
	}
	f.store.hashes["dave-id"] = "$argon2id$v=19$m=64,t=2,p=1$bad" // corrupted row
	if err := f.store.CreatePerson(ctx, &storage.Person{ID: "erin-id", Username: "erin"}); err != nil {
		t.Fatal(err)
	}
	f.store.hashes["erin-id"] = "" // empty hash: no password

	tests := []struct {
		name       string
		identifier string
		password   string
		wantPerson string // username; "" when refused
		wantRuns   int64  // argon2id computations
	}{
		{name: "good", identifier: "alice", password: goodPassword, wantPerson: "alice", wantRuns: 1},
		{name: "good, identifier normalized", identifier: "  ALICE\t", password: goodPassword, wantPerson: "alice", wantRuns: 1},
		{name: "wrong password", identifier: "alice", password: "Correct-Horse-Battery-43", wantRuns: 1},
		{name: "empty password", identifier: "alice", password: "", wantRuns: 1},
		{name: "password is case-sensitive", identifier: "alice", password: strings.ToLower(goodPassword), wantRuns: 1},
		{name: "unknown user", identifier: "mallory", password: goodPassword, wantRuns: 1},
		{name: "empty identifier", identifier: "", password: goodPassword, wantRuns: 1},
		{name: "disabled, right password", identifier: "bob", password: goodPassword, wantRuns: 1},
		{name: "disabled, wrong password", identifier: "bob", password: "nope", wantRuns: 1},
		{name: "no password set", identifier: "carol", password: goodPassword, wantRuns: 1},
		{name: "empty stored hash", identifier: "erin", password: goodPassword, wantRuns: 1},
		{name: "malformed stored hash", identifier: "dave", password: goodPassword, wantRuns: 1},
		{name: "password over the policy maximum", identifier: "alice", password: strings.Repeat("a", MaxPasswordBytes+1), wantRuns: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.hasher.runs.Load()
			got, err := f.local.Authenticate(ctx, tt.identifier, tt.password)
			if runs := f.hasher.runs.Load() - before; runs != tt.wantRuns {
				t.Errorf("argon2id ran %d times, want %d", runs, tt.wantRuns)
			}
			if tt.wantPerson == "" {
				if !errors.Is(err, directory.ErrInvalidCredentials) {
					t.Errorf("Authenticate err = %v, want ErrInvalidCredentials", err)
				}
				if diff := cmp.Diff(storage.Person{}, got); diff != "" {
					t.Errorf("refused Authenticate returned a person (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if got.Username != tt.wantPerson {
				t.Errorf("Authenticate = %q, want %q", got.Username, tt.wantPerson)
			}
		})
	}
	if strings.Contains(f.logs.String(), goodPassword) {
		t.Errorf("logs contain a password:\n%s", f.logs)
	}
	if !strings.Contains(f.logs.String(), "malformed") {
		t.Errorf("malformed stored hash not logged:\n%s", f.logs)
	}
}

// An unknown identifier and a wrong password do the same work: each runs
// argon2id once, with the same parameters (the dummy hash uses the
// hasher's own).
func TestUnknownUserSameWorkAsWrongPassword(t *testing.T) {
	f := newFixture(t, TestParams())
	ctx := context.Background()
	work := func(identifier string) int64 {
		t.Helper()
		before := f.hasher.runs.Load()
		if _, err := f.local.Authenticate(ctx, identifier, "wrong-password-123"); !errors.Is(err, directory.ErrInvalidCredentials) {
			t.Fatalf("Authenticate(%s) err = %v, want ErrInvalidCredentials", identifier, err)
		}
		return f.hasher.runs.Load() - before
	}
	unknown, wrong, disabled, noPassword := work("nobody"), work("alice"), work("bob"), work("carol")
	if unknown != 1 || wrong != unknown || disabled != unknown || noPassword != unknown {
		t.Errorf("argon2id runs: unknown %d, wrong password %d, disabled %d, no password %d; want 1 each",
			unknown, wrong, disabled, noPassword)
	}
	dummy, _, _, err := parsePHC(f.local.dummyPHC)
	if err != nil {
		t.Fatalf("dummy hash: %v", err)
	}
	if dummy != f.hasher.Params() {
		t.Errorf("dummy hash params %+v, want the hasher's %+v", dummy, f.hasher.Params())
	}
}

func TestAuthenticateRehash(t *testing.T) {
	ctx := context.Background()
	old := TestParams()
	f := newFixture(t, old) // alice's hash made with old params
	oldPHC := f.store.hash(f.alice.ID)

	stronger := old
	stronger.Iterations, stronger.Memory = 2, 128
	h := NewHasher(stronger, 1)
	l, err := New(Options{People: f.store, Credentials: f.store, Hasher: h, Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := l.Authenticate(ctx, "alice", goodPassword); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	newPHC := f.store.hash(f.alice.ID)
	if newPHC == oldPHC {
		t.Fatal("hash not replaced after sign-in with old parameters")
	}
	if !strings.HasPrefix(newPHC, "$argon2id$v=19$m=128,t=2,p=1$") {
		t.Errorf("new hash %q does not use the new parameters", newPHC)
	}
	ok, rehash, err := h.Verify(ctx, newPHC, goodPassword)
	if err != nil || !ok || rehash {
		t.Errorf("Verify(new hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}

	// Next sign-in: nothing to rehash.
	calls := f.store.setHash
	if _, err := l.Authenticate(ctx, "alice", goodPassword); err != nil {
		t.Fatal(err)
	}
	if f.store.setHash != calls {
		t.Error("hash stored again although parameters are current")
	}

	// A wrong password or a disabled person never triggers a rehash.
	f.store.hashes[f.bob.ID] = oldPHC
	calls = f.store.setHash
	for _, c := range []struct{ id, pw string }{{"alice", "wrong-password-1"}, {"bob", goodPassword}} {
		if _, err := l.Authenticate(ctx, c.id, c.pw); !errors.Is(err, directory.ErrInvalidCredentials) {
			t.Errorf("Authenticate(%s) err = %v", c.id, err)
		}
	}
	if f.store.setHash != calls {
		t.Error("refused sign-in stored a hash")
	}
}

func TestAuthenticateRehashFailure(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, TestParams())
	stronger := TestParams()
	stronger.Iterations = 2
	l, err := New(Options{People: f.store, Credentials: f.store, Hasher: NewHasher(stronger, 1), Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	f.store.setErr = errors.New("database is read-only")
	got, err := l.Authenticate(ctx, "alice", goodPassword)
	if err != nil || got.ID != f.alice.ID {
		t.Fatalf("Authenticate = %q, %v; want alice despite the failed rehash", got.Username, err)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "rehash failed") || !strings.Contains(logs, f.alice.ID) {
		t.Errorf("rehash failure not logged with person_id:\n%s", logs)
	}
	if strings.Contains(logs, goodPassword) {
		t.Errorf("logs contain the password:\n%s", logs)
	}
}

func TestAuthenticateStorageError(t *testing.T) {
	f := newFixture(t, TestParams())
	dbErr := errors.New("connection refused")
	f.store.err = dbErr
	_, err := f.local.Authenticate(context.Background(), "alice", goodPassword)
	if !errors.Is(err, dbErr) || errors.Is(err, directory.ErrInvalidCredentials) {
		t.Errorf("Authenticate err = %v, want the storage error, not ErrInvalidCredentials", err)
	}
}

func TestAuthenticateCancelled(t *testing.T) {
	f := newFixture(t, TestParams())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, id := range []string{"alice", "nobody"} {
		if _, err := f.local.Authenticate(ctx, id, goodPassword); !errors.Is(err, context.Canceled) {
			t.Errorf("Authenticate(%s) err = %v, want context.Canceled", id, err)
		}
	}
}

func TestSetPassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
		wantCode string
	}{
		{name: "accepted", password: "a long enough passphrase"},
		{name: "too short", password: "short", wantCode: CodeTooShort},
		{name: "too long", password: strings.Repeat("x", MaxPasswordBytes+1), wantCode: CodeTooLong},
		{name: "common", password: "azertyuiop123", wantCode: CodeCommon},
		{name: "the username inside", password: "carol-carol-carol", wantCode: CodePersonal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, TestParams())
			before, runs := f.store.hash(f.carol.ID), f.hasher.runs.Load()
			err := f.local.SetPassword(ctx, f.carol.ID, tt.password)
			if tt.wantCode != "" {
				var pe *PolicyError
				if !errors.As(err, &pe) || pe.Code != tt.wantCode {
					t.Fatalf("SetPassword err = %v, want PolicyError %s", err, tt.wantCode)
				}
				if f.store.hash(f.carol.ID) != before || f.hasher.runs.Load() != runs {
					t.Error("refused password was hashed or stored")
				}
				return
			}
			if err != nil {
				t.Fatalf("SetPassword: %v", err)
			}
			if got, err := f.local.Authenticate(ctx, "carol", tt.password); err != nil || got.ID != f.carol.ID {
				t.Errorf("Authenticate after SetPassword = %q, %v", got.Username, err)
			}
		})
	}
}

func TestNew(t *testing.T) {
	s := newFakeStore()
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{name: "ok", opts: Options{People: s, Credentials: s, Hasher: NewHasher(TestParams(), 1)}},
		{name: "no people", opts: Options{Credentials: s, Hasher: NewHasher(TestParams(), 1)}, wantErr: true},
		{name: "no credentials", opts: Options{People: s, Hasher: NewHasher(TestParams(), 1)}, wantErr: true},
		{name: "invalid hasher params", opts: Options{People: s, Credentials: s, Hasher: NewHasher(Params{}, 1)}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if (err != nil) != tt.wantErr {
				t.Errorf("New err = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}
