package keys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func newManager(t *testing.T, store storage.SigningKeys, clock *fakeClock, alg string) *Manager {
	t.Helper()
	m, err := New(Options{Store: store, Now: clock.Now, Algorithm: alg})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// verify parses token, checks its headers and signature against the JWKS
// and returns its kid.
func verify(t *testing.T, m *Manager, token, wantAlg, wantTyp string) string {
	t.Helper()
	ctx := context.Background()
	raw, err := m.JWKS(ctx)
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("parse JWKS: %v", err)
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(wantAlg)})
	if err != nil {
		t.Fatalf("ParseSignedCompact: %v", err)
	}
	if len(jws.Signatures) != 1 {
		t.Fatalf("got %d signatures, want 1", len(jws.Signatures))
	}
	h := jws.Signatures[0].Header
	if h.Algorithm != wantAlg {
		t.Errorf("alg = %q, want %q", h.Algorithm, wantAlg)
	}
	if got := h.ExtraHeaders[jose.HeaderType]; got != wantTyp {
		t.Errorf("typ = %v, want %q", got, wantTyp)
	}
	if h.KeyID == "" {
		t.Fatal("no kid in header")
	}
	ks := set.Key(h.KeyID)
	if len(ks) != 1 {
		t.Fatalf("JWKS has %d keys with kid %q, want 1", len(ks), h.KeyID)
	}
	if ks[0].Algorithm != wantAlg || ks[0].Use != "sig" {
		t.Errorf("JWK alg/use = %q/%q, want %q/sig", ks[0].Algorithm, ks[0].Use, wantAlg)
	}
	if _, err := jws.Verify(ks[0]); err != nil {
		t.Fatalf("Verify with JWKS key: %v", err)
	}
	return h.KeyID
}

func TestSignVerify(t *testing.T) {
	tests := []struct {
		name string
		alg  string // Options.Algorithm
		want string
		typ  string
	}{
		{name: "default is RS256", alg: "", want: RS256, typ: "JWT"},
		{name: "RS256", alg: RS256, want: RS256, typ: "JWT"},
		{name: "ES256", alg: ES256, want: ES256, typ: "JWT"},
		{name: "ES256 logout token", alg: ES256, want: ES256, typ: "logout+jwt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			m := newManager(t, newFakeStore(), newClock(), tt.alg)
			if created, err := m.Ensure(ctx); err != nil || !created {
				t.Fatalf("Ensure = %v, %v; want true, nil", created, err)
			}
			payload := []byte(`{"iss":"https://tno.example","sub":"p1"}`)
			token, err := m.Sign(ctx, payload, tt.typ)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			verify(t, m, token, tt.want, tt.typ)

			jws, _ := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tt.want)})
			pks, err := m.PublicKeys(ctx)
			if err != nil {
				t.Fatalf("PublicKeys: %v", err)
			}
			got, err := jws.Verify(&pks)
			if err != nil {
				t.Fatalf("Verify with PublicKeys: %v", err)
			}
			if !bytes.Equal(got, payload) {
				t.Errorf("payload = %s, want %s", got, payload)
			}
			alg, err := m.SigningAlgorithm(ctx)
			if err != nil || alg != tt.want {
				t.Errorf("SigningAlgorithm = %q, %v; want %q", alg, err, tt.want)
			}
		})
	}
}

func TestSignWithoutKey(t *testing.T) {
	m := newManager(t, newFakeStore(), newClock(), ES256)
	if _, err := m.Sign(context.Background(), []byte(`{}`), "JWT"); !errors.Is(err, ErrNoActiveKey) {
		t.Errorf("Sign err = %v, want ErrNoActiveKey", err)
	}
	if _, err := m.SigningAlgorithm(context.Background()); !errors.Is(err, ErrNoActiveKey) {
		t.Errorf("SigningAlgorithm err = %v, want ErrNoActiveKey", err)
	}
	raw, err := m.JWKS(context.Background())
	if err != nil || string(raw) != `{"keys":[]}` {
		t.Errorf("JWKS = %s, %v; want empty set", raw, err)
	}
}

func TestEnsureIdempotent(t *testing.T) {
	ctx := context.Background()
	store, clock := newFakeStore(), newClock()
	m := newManager(t, store, clock, ES256)
	if created, err := m.Ensure(ctx); err != nil || !created {
		t.Fatalf("first Ensure = %v, %v; want true, nil", created, err)
	}
	if created, err := m.Ensure(ctx); err != nil || created {
		t.Fatalf("second Ensure = %v, %v; want false, nil", created, err)
	}
	// Another instance starting on the same store creates nothing either.
	other := newManager(t, store, clock, RS256)
	if created, err := other.Ensure(ctx); err != nil || created {
		t.Fatalf("other instance Ensure = %v, %v; want false, nil", created, err)
	}
	if n := len(store.keys); n != 1 {
		t.Errorf("store holds %d keys, want 1", n)
	}
}

func TestEnsureAfterRetirement(t *testing.T) {
	ctx := context.Background()
	store, clock := newFakeStore(), newClock()
	m := newManager(t, store, clock, ES256)
	if _, err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	// Retire the only key by hand: Ensure must create a new one.
	for id, k := range store.keys {
		at := clock.Now()
		k.RetiredAt = &at
		store.keys[id] = k
	}
	clock.Advance(time.Second)
	if created, err := m.Ensure(ctx); err != nil || !created {
		t.Fatalf("Ensure = %v, %v; want true, nil", created, err)
	}
}

func TestRotate(t *testing.T) {
	const publishDelay, keepFor = time.Hour, 24 * time.Hour
	ctx := context.Background()
	store, clock := newFakeStore(), newClock()
	m := newManager(t, store, clock, RS256)
	if _, err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	sign := func() string {
		t.Helper()
		token, err := m.Sign(ctx, []byte(`{"sub":"p1"}`), "JWT")
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		return verify(t, m, token, RS256, "JWT")
	}
	jwksKIDs := func() []string {
		t.Helper()
		set, err := m.PublicKeys(ctx)
		if err != nil {
			t.Fatalf("PublicKeys: %v", err)
		}
		var ids []string
		for _, k := range set.Keys {
			ids = append(ids, k.KeyID)
		}
		slices.Sort(ids)
		return ids
	}
	oldKID := sign()

	clock.Advance(time.Minute)
	rotatedAt := clock.Now()
	if err := m.Rotate(ctx, publishDelay, keepFor); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	var newKID string
	for id := range store.keys {
		if id != oldKID {
			newKID = id
		}
	}
	both := []string{oldKID, newKID}
	slices.Sort(both)

	// Published at once, not yet used.
	if diff := cmp.Diff(both, jwksKIDs()); diff != "" {
		t.Errorf("JWKS after Rotate (-want +got):\n%s", diff)
	}
	if got := sign(); got != oldKID {
		t.Errorf("before activation signed with %s, want old key %s", got, oldKID)
	}
	clock.Advance(publishDelay - time.Second)
	if got := sign(); got != oldKID {
		t.Errorf("just before activation signed with %s, want old key %s", got, oldKID)
	}

	// Active: the new key signs, the old one stays published.
	clock.Advance(time.Second)
	if got := sign(); got != newKID {
		t.Errorf("after activation signed with %s, want new key %s", got, newKID)
	}
	if diff := cmp.Diff(both, jwksKIDs()); diff != "" {
		t.Errorf("JWKS after activation (-want +got):\n%s", diff)
	}
	old := store.get(oldKID)
	wantRetired, wantExpires := rotatedAt.Add(publishDelay), rotatedAt.Add(publishDelay+keepFor)
	if old.RetiredAt == nil || !old.RetiredAt.Equal(wantRetired) {
		t.Errorf("old RetiredAt = %v, want %v", old.RetiredAt, wantRetired)
	}
	if old.ExpiresAt == nil || !old.ExpiresAt.Equal(wantExpires) {
		t.Errorf("old ExpiresAt = %v, want %v", old.ExpiresAt, wantExpires)
	}

	clock.Advance(keepFor - time.Second)
	if diff := cmp.Diff(both, jwksKIDs()); diff != "" {
		t.Errorf("JWKS just before expiry (-want +got):\n%s", diff)
	}
	clock.Advance(time.Second)
	if diff := cmp.Diff([]string{newKID}, jwksKIDs()); diff != "" {
		t.Errorf("JWKS after expiry (-want +got):\n%s", diff)
	}
	if got := sign(); got != newKID {
		t.Errorf("signed with %s, want %s", got, newKID)
	}
	// The old key is gone from the JSON too.
	raw, _ := m.JWKS(ctx)
	if bytes.Contains(raw, []byte(oldKID)) {
		t.Errorf("JWKS still contains expired kid %s: %s", oldKID, raw)
	}
}

func TestRotateImmediate(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, newFakeStore(), newClock(), ES256)
	if _, err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := m.Sign(ctx, []byte(`{}`), "JWT")
	oldKID := verify(t, m, before, ES256, "JWT")
	if err := m.Rotate(ctx, 0, time.Hour); err != nil {
		t.Fatal(err)
	}
	after, _ := m.Sign(ctx, []byte(`{}`), "JWT")
	if newKID := verify(t, m, after, ES256, "JWT"); newKID == oldKID {
		t.Errorf("after Rotate(0) still signing with %s", oldKID)
	}
	if err := m.Rotate(ctx, -time.Second, time.Hour); err == nil {
		t.Error("Rotate with negative publishDelay: no error")
	}
}

// Another instance sees a rotation within RefreshEvery.
func TestRotationSeenByOtherInstance(t *testing.T) {
	ctx := context.Background()
	store, clock := newFakeStore(), newClock()
	a := newManager(t, store, clock, ES256)
	b := newManager(t, store, clock, ES256)
	if _, err := a.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	tok, _ := b.Sign(ctx, []byte(`{}`), "JWT")
	oldKID := verify(t, b, tok, ES256, "JWT")

	if err := a.Rotate(ctx, 0, time.Hour); err != nil {
		t.Fatal(err)
	}
	tok, _ = b.Sign(ctx, []byte(`{}`), "JWT")
	if kid := verify(t, b, tok, ES256, "JWT"); kid != oldKID {
		t.Errorf("b signed with %s before its refresh, want cached %s", kid, oldKID)
	}
	clock.Advance(time.Minute) // default RefreshEvery
	tok, _ = b.Sign(ctx, []byte(`{}`), "JWT")
	if kid := verify(t, b, tok, ES256, "JWT"); kid == oldKID {
		t.Errorf("b still signs with %s one RefreshEvery after rotation", kid)
	}
}

func TestJWKSNoPrivateMaterial(t *testing.T) {
	private := []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
	for _, alg := range []string{RS256, ES256} {
		t.Run(alg, func(t *testing.T) {
			ctx := context.Background()
			m := newManager(t, newFakeStore(), newClock(), alg)
			if _, err := m.Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			if err := m.Rotate(ctx, time.Hour, time.Hour); err != nil {
				t.Fatal(err)
			}
			raw, err := m.JWKS(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("JWKS is not JSON: %v\n%s", err, raw)
			}
			if len(doc.Keys) != 2 {
				t.Fatalf("JWKS has %d keys, want 2", len(doc.Keys))
			}
			for _, k := range doc.Keys {
				for _, member := range private {
					if _, ok := k[member]; ok {
						t.Errorf("JWKS key %v has private member %q", k["kid"], member)
					}
				}
				if k["use"] != "sig" || k["alg"] != alg || k["kid"] == "" {
					t.Errorf("JWKS key use/alg/kid = %v/%v/%v", k["use"], k["alg"], k["kid"])
				}
			}
		})
	}
}

// The JWKS JSON is built once per key set and the store is read at most
// once per RefreshEvery, whatever the number of requests.
func TestJWKSCached(t *testing.T) {
	ctx := context.Background()
	store, clock := newFakeStore(), newClock()
	m := newManager(t, store, clock, ES256)
	if _, err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	first, err := m.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	built := &m.jwksJSON[0]
	lists := store.listCalls()
	for range 100 {
		b, err := m.JWKS(ctx)
		if err != nil || !bytes.Equal(b, first) {
			t.Fatalf("JWKS = %s, %v; want %s", b, err, first)
		}
	}
	if &m.jwksJSON[0] != built {
		t.Error("JWKS JSON rebuilt although the key set did not change")
	}
	if got := store.listCalls(); got != lists {
		t.Errorf("store listed %d times during 100 JWKS calls, want 0", got-lists)
	}
	// A reload that finds the same keys keeps the cached JSON.
	clock.Advance(time.Minute)
	if _, err := m.JWKS(ctx); err != nil {
		t.Fatal(err)
	}
	if got := store.listCalls(); got != lists+1 {
		t.Errorf("store listed %d times after RefreshEvery, want 1", got-lists)
	}
	if &m.jwksJSON[0] != built {
		t.Error("JWKS JSON rebuilt after a reload of the same keys")
	}
	// Mutating the returned bytes does not touch the cache.
	first[0] = 'X'
	again, _ := m.JWKS(ctx)
	if again[0] != '{' {
		t.Error("JWKS returned the cached slice itself")
	}
}

func TestReloadFailureKeepsKeys(t *testing.T) {
	ctx := context.Background()
	store, clock := newFakeStore(), newClock()
	m := newManager(t, store, clock, ES256)
	if _, err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Sign(ctx, []byte(`{}`), "JWT"); err != nil {
		t.Fatal(err)
	}
	store.mu.Lock()
	store.err = errors.New("database down")
	store.mu.Unlock()
	clock.Advance(time.Minute)
	if _, err := m.Sign(ctx, []byte(`{}`), "JWT"); err != nil {
		t.Errorf("Sign during store outage: %v", err)
	}
	if _, err := m.Ensure(ctx); err == nil {
		t.Error("Ensure during store outage: no error")
	}
}

func TestUnusableStoredKeySkipped(t *testing.T) {
	ctx := context.Background()
	store, clock := newFakeStore(), newClock()
	m := newManager(t, store, clock, ES256)
	if _, err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	var good storage.SigningKey
	for _, k := range store.keys {
		good = k
	}
	bad := []storage.SigningKey{
		{ID: "garbage", Algorithm: ES256, PrivateJWK: []byte(`{not json`)},
		{ID: "public-only", Algorithm: ES256, PrivateJWK: mustPublicJWK(t, good.PrivateJWK)},
		{ID: "wrong-alg", Algorithm: RS256, PrivateJWK: good.PrivateJWK},
		{ID: "unknown-alg", Algorithm: "HS256", PrivateJWK: []byte(`{"kty":"oct","k":"c2VjcmV0"}`)},
	}
	for i := range bad {
		bad[i].CreatedAt = clock.Now().Add(time.Duration(i+1) * time.Second)
		bad[i].ActiveAt = bad[i].CreatedAt
		if err := store.CreateSigningKey(ctx, &bad[i]); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Hour)
	tok, err := m.Sign(ctx, []byte(`{}`), "JWT")
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if kid := verify(t, m, tok, ES256, "JWT"); kid != good.ID {
		t.Errorf("signed with %s, want the only usable key %s", kid, good.ID)
	}
	set, _ := m.PublicKeys(ctx)
	if len(set.Keys) != 1 {
		t.Errorf("published %d keys, want 1", len(set.Keys))
	}
}

func mustPublicJWK(t *testing.T, priv []byte) []byte {
	t.Helper()
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(priv); err != nil {
		t.Fatal(err)
	}
	b, err := k.Public().MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{name: "defaults", opts: Options{Store: newFakeStore()}},
		{name: "ES256", opts: Options{Store: newFakeStore(), Algorithm: ES256}},
		{name: "no store", opts: Options{}, wantErr: true},
		{name: "unsupported algorithm", opts: Options{Store: newFakeStore(), Algorithm: "HS256"}, wantErr: true},
		{name: "negative refresh", opts: Options{Store: newFakeStore(), RefreshEvery: -time.Second}, wantErr: true},
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

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	store, clock := newFakeStore(), newClock()
	m := newManager(t, store, clock, ES256)
	if _, err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				if _, err := m.Sign(ctx, []byte(`{}`), "JWT"); err != nil {
					t.Error(err)
				}
				if _, err := m.JWKS(ctx); err != nil {
					t.Error(err)
				}
				if i == 0 && j%5 == 0 {
					clock.Advance(time.Minute)
					if err := m.Rotate(ctx, 0, time.Hour); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
}
