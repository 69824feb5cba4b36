package oidc

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/territoires-ouverts/tno/internal/authflow"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
)

// newProviderOn returns a Provider on store, as another instance of the
// deployment would be; sessions live in db.
func newProviderOn(t testing.TB, store Store, db storage.Sessions) *Provider {
	t.Helper()
	now := func() time.Time { return testNow }
	sessions, err := session.New(session.Options{Store: db, Now: now, Secure: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{
		Issuer: testIssuer, Store: store, Signer: fakeSigner{}, Sessions: sessions,
		Flow: newTestFlow(t, testIssuer, db.(authflow.Store), sessions, &fakeRenderer{}, now), Renderer: &fakeRenderer{}, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pairwiseApp(clientID string, redirectURIs ...string) storage.Application {
	return storage.Application{
		ClientID: clientID, RedirectURIs: redirectURIs,
		Settings: storage.ClientSettings{SubjectType: "pairwise"},
	}
}

func TestSubject(t *testing.T) {
	ctx := t.Context()
	store := storagetest.NewStore(t)
	p := newProviderOn(t, store, store)
	sub := func(p *Provider, app storage.Application, personID string) string {
		t.Helper()
		s, err := p.subject(ctx, app, personID)
		if err != nil {
			t.Fatalf("subject(%s, %s): %v", app.ClientID, personID, err)
		}
		return s
	}
	var (
		public   = storage.Application{ClientID: "public", RedirectURIs: []string{"https://rh.ville-exemple.fr/cb"}}
		explicit = storage.Application{ClientID: "explicit", RedirectURIs: []string{"https://rh.ville-exemple.fr/cb"}, Settings: storage.ClientSettings{SubjectType: "public"}}
		rh       = pairwiseApp("rh", "https://rh.ville-exemple.fr/callback")
		rhAdmin  = pairwiseApp("rh-admin", "https://RH.ville-exemple.fr:8443/admin/cb", "https://rh.ville-exemple.fr/other")
		paie     = pairwiseApp("paie", "https://paie.ville-exemple.fr/callback")
	)
	const alice, bob = "personalice000000000000000", "personbob00000000000000000"

	if got := sub(p, public, alice); got != alice {
		t.Errorf("public application: sub = %q, want the person ID", got)
	}
	if got := sub(p, explicit, alice); got != alice {
		t.Errorf("explicitly public application: sub = %q, want the person ID", got)
	}
	s := sub(p, rh, alice)
	if raw, err := base64.RawURLEncoding.DecodeString(s); err != nil || len(raw) != sha256.Size || s == alice {
		t.Errorf("pairwise sub = %q (%v): want 32 bytes in base64url, not the person ID", s, err)
	}
	switch {
	case sub(p, rh, alice) != s:
		t.Error("pairwise sub not stable across calls")
	case sub(p, rhAdmin, alice) != s:
		t.Error("two applications of one sector (host) get different subs")
	case sub(p, paie, alice) == s:
		t.Error("two sectors get the same sub")
	case sub(p, rh, bob) == s:
		t.Error("two people get the same sub")
	}

	// The documented formula, with the key stored in the database.
	key, err := store.GetOrCreateSecret(ctx, pairwiseSecretName, []byte("not used: the key exists"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("rh.ville-exemple.fr|" + alice))
	if want := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)); s != want {
		t.Errorf("pairwise sub = %q, want base64url(HMAC-SHA256(key, sector|person)) = %q", s, want)
	}

	// Another instance of the deployment (same database) agrees; another
	// deployment does not.
	if got := sub(newProviderOn(t, store, store), rh, alice); got != s {
		t.Errorf("second instance: sub = %q, want %q", got, s)
	}
	otherStore := storagetest.NewStore(t)
	other := newProviderOn(t, otherStore, otherStore)
	if got := sub(other, rh, alice); got == s {
		t.Error("another deployment computes the same pairwise sub")
	}
	if got := sub(other, public, alice); got != alice {
		t.Errorf("another deployment, public application: sub = %q", got)
	}

	// A stored pairwise application whose redirect URIs span two hosts
	// (registered before the rule) gets an error, never the person ID.
	mixed := pairwiseApp("mixed", "https://rh.ville-exemple.fr/cb", "https://paie.ville-exemple.fr/cb")
	if got, err := p.subject(ctx, mixed, alice); err == nil {
		t.Errorf("pairwise application over two hosts: sub = %q, want an error", got)
	}
}

// countingStore counts pairwise key loads and can fail them.
type countingStore struct {
	Store
	loads atomic.Int32
	fail  atomic.Bool
}

func (s *countingStore) GetOrCreateSecret(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	s.loads.Add(1)
	if s.fail.Load() {
		return nil, errors.New("database unavailable")
	}
	return s.Store.GetOrCreateSecret(ctx, name, candidate)
}

// TestPairwiseKeyCached: the key is read once per process, even by
// concurrent first requests; a failed read is retried.
func TestPairwiseKeyCached(t *testing.T) {
	db := storagetest.NewStore(t)
	store := &countingStore{Store: db}
	p := newProviderOn(t, store, db)
	app := pairwiseApp("rh", "https://rh.ville-exemple.fr/callback")

	store.fail.Store(true)
	if _, err := p.subject(t.Context(), app, "alice"); err == nil {
		t.Fatal("subject succeeded without the key")
	}
	store.fail.Store(false)

	const n = 20
	subs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { subs[i], errs[i] = p.subject(t.Context(), app, "alice") })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if s != subs[0] {
			t.Fatalf("concurrent subs differ: %q and %q", subs[0], s)
		}
	}
	if got := store.loads.Load(); got != 2 {
		t.Errorf("key read %d times, want 2 (the failure, then once)", got)
	}
}

// TestSignedUserinfo: an application registered with
// userinfo_signed_response_alg gets application/jwt with iss, aud and
// iat; another algorithm than the current key's is signed anyway, with
// one warning per application and algorithm pair.
func TestSignedUserinfo(t *testing.T) {
	p, store, _ := newTestProvider(t, testIssuer)
	var logs bytes.Buffer
	p.log = slog.New(slog.NewJSONHandler(&logs, nil))
	ctx := t.Context()
	owner, err := store.GetApplicationByClientID(ctx, confidentialApp.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	person := storage.Person{Username: "jdupont", GivenName: "Jeanne", FamilyName: "Dupont"}
	if err := store.CreatePerson(ctx, &person); err != nil {
		t.Fatal(err)
	}
	m := storage.Membership{PersonID: person.ID, OrgID: owner.OrgID, Kind: storage.KindAgent, ValidFrom: testNow.Add(-time.Hour)}
	if err := store.CreateMembership(ctx, &m); err != nil {
		t.Fatal(err)
	}
	userinfo := func(clientID, alg, subjectType string) (*httptest.ResponseRecorder, map[string]any) {
		t.Helper()
		app := storage.Application{
			OrgID: owner.OrgID, ClientID: clientID, Name: clientID, ClientType: storage.ClientPublic,
			RedirectURIs: []string{"https://" + clientID + ".ville-exemple.fr/cb"},
			Settings:     storage.ClientSettings{UserinfoSignedResponseAlg: alg, SubjectType: subjectType},
		}
		if _, err := store.GetApplicationByClientID(ctx, clientID); errors.Is(err, storage.ErrNotFound) {
			if err := store.CreateApplication(ctx, &app); err != nil {
				t.Fatal(err)
			}
		}
		raw := "access-" + clientID + "-" + storage.NewID()
		tok := storage.Token{
			Hash: hashToken(raw), Kind: storage.TokenAccess, ClientID: clientID, PersonID: person.ID,
			MembershipID: m.ID, Scope: "openid profile uid", AuthTime: testNow, CreatedAt: testNow, ExpiresAt: testNow.Add(time.Hour),
		}
		if err := store.CreateToken(ctx, &tok); err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, "/userinfo", nil)
		r.Header.Set("Authorization", "Bearer "+raw)
		w := httptest.NewRecorder()
		p.handleUserinfo(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("userinfo: %d %s", w.Code, w.Body)
		}
		body := w.Body.String()
		if alg != "" { // fakeSigner: header.<payload as is>.sig
			body = strings.TrimSuffix(strings.TrimPrefix(body, "eyJhbGciOiJSUzI1NiJ9."), ".sig")
		}
		var claims map[string]any
		if err := json.Unmarshal([]byte(body), &claims); err != nil {
			t.Fatalf("userinfo body: %v: %s", err, w.Body)
		}
		return w, claims
	}
	warnings := func() int { return strings.Count(logs.String(), `"level":"WARN"`) }

	w, claims := userinfo("plain", "", "")
	if ct := w.Header().Get("Content-Type"); ct != "application/json" || claims["iss"] != nil || claims["sub"] != person.ID {
		t.Errorf("plain userinfo: %s %v", ct, claims)
	}
	for _, clientID := range []string{"signed", "signed"} { // RS256, as the key
		w, claims = userinfo(clientID, "RS256", "")
		if ct := w.Header().Get("Content-Type"); ct != "application/jwt" || w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("signed userinfo: Content-Type %q, Cache-Control %q", ct, w.Header().Get("Cache-Control"))
		}
		want := map[string]any{"iss": testIssuer, "aud": "signed", "iat": float64(testNow.Unix()), "sub": person.ID, "name": "Jeanne Dupont"}
		for k, v := range want {
			if claims[k] != v {
				t.Errorf("signed userinfo %s = %v, want %v", k, claims[k], v)
			}
		}
	}
	if n := warnings(); n != 0 {
		t.Errorf("%d warnings with matching algorithms: %s", n, logs.String())
	}
	for range 3 {
		_, claims = userinfo("es", "ES256", "pairwise")
		if claims["aud"] != "es" || claims["sub"] == person.ID || claims["uid"] != claims["sub"] {
			t.Errorf("pairwise signed userinfo: %v", claims)
		}
	}
	if n := warnings(); n != 1 || !strings.Contains(logs.String(), `"client_id":"es"`) {
		t.Errorf("%d warnings for an ES256 application and an RS256 key, want 1: %s", n, logs.String())
	}
}
