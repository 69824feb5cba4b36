package oidc

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/authflow"
	"github.com/territoires-ouverts/tno/internal/directory"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
)

// fakeSigner signs nothing: tests here never verify signatures.
type fakeSigner struct{}

func (fakeSigner) Sign(_ context.Context, payload []byte, typ string) (string, error) {
	return "eyJhbGciOiJSUzI1NiJ9." + string(payload) + ".sig", nil
}
func (fakeSigner) SigningAlgorithm(context.Context) (string, error) { return "RS256", nil }
func (fakeSigner) JWKS(context.Context) ([]byte, error)             { return []byte(`{"keys":[]}`), nil }

// fakeRenderer records what it was asked to render.
type fakeRenderer struct {
	mu     sync.Mutex
	status int
	page   any
}

func (r *fakeRenderer) Render(w http.ResponseWriter, _ *http.Request, status int, page any) {
	r.mu.Lock()
	r.status, r.page = status, page
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *fakeRenderer) Error(w http.ResponseWriter, _ *http.Request, status int, titleKey, messageKey string, cause error) {
	r.Render(w, nil, status, messagePage(status, titleKey, messageKey, ""))
}

// fakePasswords refuses everyone.
type fakePasswords struct{}

func (fakePasswords) Authenticate(context.Context, string, string) (storage.Person, error) {
	return storage.Person{}, directory.ErrInvalidCredentials
}

var testNow = time.Date(2026, 3, 15, 9, 30, 0, 0, time.UTC)

const testIssuer = "https://tno.ville-exemple.fr"

// Registered applications of the test provider.
var (
	confidentialApp = storage.Application{
		ClientID: "portail-rh", Name: "Portail RH", ClientType: storage.ClientConfidential,
		SecretHash: "sha256:00", RedirectURIs: []string{"https://rh.ville-exemple.fr/callback", "https://rh.ville-exemple.fr/cb?tenant=42"},
		Scopes:     []string{"openid", "profile", "email", "siret"},
		FirstParty: true, // no consent screen: consent_test.go turns it off
	}
	publicApp = storage.Application{
		ClientID: "mobile", Name: "Application mobile", ClientType: storage.ClientPublic,
		RedirectURIs: []string{"http://127.0.0.1:8080/cb"},
	}
	nativeApp = storage.Application{
		ClientID: "natif", Name: "Application native", ClientType: storage.ClientPublic,
		RedirectURIs: []string{"fr.ville-exemple.app:/cb"},
	}
	disabledApp = storage.Application{
		ClientID: "ancien", Name: "Ancien portail", ClientType: storage.ClientConfidential,
		SecretHash: "sha256:00", RedirectURIs: []string{"https://ancien.ville-exemple.fr/cb"}, Disabled: true,
	}
	testApps = []storage.Application{confidentialApp, publicApp, nativeApp, disabledApp}
)

// newTestFlow returns a sign-in engine for a test provider.
func newTestFlow(t testing.TB, issuer string, store authflow.Store, sessions *session.Manager, web *fakeRenderer, now func() time.Time) *authflow.Engine {
	t.Helper()
	f, err := authflow.New(authflow.Options{
		Issuer: issuer, Store: store, Sessions: sessions, Passwords: fakePasswords{}, Renderer: web, Now: now,
		Eligible: apps.Eligible,
	})
	if err != nil {
		t.Fatalf("authflow.New: %v", err)
	}
	return f
}

// registerAll mounts the provider's browser pages and the engine's.
func registerAll(p *Provider, mux *http.ServeMux) {
	p.flow.RegisterBrowser(mux)
	p.RegisterBrowser(mux)
}

// newTestProvider returns a Provider on a real store holding testApps.
func newTestProvider(t testing.TB, issuer string) (*Provider, storage.Store, *fakeRenderer) {
	t.Helper()
	ctx := context.Background()
	store := storagetest.NewStore(t)
	org := storage.Organization{Slug: "ville-exemple", Name: "Ville d'Exemple", SIREN: "123456782"}
	if err := store.CreateOrganization(ctx, &org); err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	for _, a := range testApps {
		a.OrgID = org.ID
		if err := store.CreateApplication(ctx, &a); err != nil {
			t.Fatalf("CreateApplication %s: %v", a.ClientID, err)
		}
	}
	now := func() time.Time { return testNow }
	sessions, err := session.New(session.Options{Store: store, Now: now, Secure: true})
	if err != nil {
		t.Fatalf("session.New: %v", err)
	}
	web := &fakeRenderer{}
	// The engine reads the provider's clock, which tests move.
	var p *Provider
	flowNow := func() time.Time { return p.now() }
	p, err = New(Options{
		Issuer: issuer, Store: store, Signer: fakeSigner{}, Sessions: sessions,
		Flow: newTestFlow(t, issuer, store, sessions, web, flowNow), Renderer: web, Now: now,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p, store, web
}

func TestNewRefuses(t *testing.T) {
	store := storagetest.NewStore(t)
	sessions, err := session.New(session.Options{Store: store})
	if err != nil {
		t.Fatalf("session.New: %v", err)
	}
	full := Options{
		Issuer: testIssuer, Store: store, Signer: fakeSigner{}, Sessions: sessions,
		Flow: newTestFlow(t, testIssuer, store, sessions, &fakeRenderer{}, time.Now), Renderer: &fakeRenderer{},
	}
	tests := []struct {
		name string
		edit func(o *Options)
	}{
		{"no store", func(o *Options) { o.Store = nil }},
		{"no signer", func(o *Options) { o.Signer = nil }},
		{"no sessions", func(o *Options) { o.Sessions = nil }},
		{"no sign-in engine", func(o *Options) { o.Flow = nil }},
		{"no renderer", func(o *Options) { o.Renderer = nil }},
		{"relative issuer", func(o *Options) { o.Issuer = "/tno" }},
		{"empty issuer", func(o *Options) { o.Issuer = "" }},
		{"unparsable issuer", func(o *Options) { o.Issuer = "https://tno.example.fr:port" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := full
			tt.edit(&o)
			if p, err := New(o); err == nil {
				t.Errorf("New succeeded: %+v", p)
			}
		})
	}
	if _, err := New(full); err != nil {
		t.Errorf("New with every dependency: %v", err)
	}
}

// Paths of the sign-in engine's pages, which the provider's tests reach.
const (
	pathLogin   = authflow.PathLogin
	pathSelect  = authflow.PathSelect
	pathConsent = authflow.PathConsent
)

// authRequestOf returns the authorization request a sign-in (named in the
// engine's page URLs) was started for.
func authRequestOf(t testing.TB, store storage.Store, signInID string) (storage.AuthRequest, error) {
	t.Helper()
	si, err := store.GetSignIn(t.Context(), signInID)
	if err != nil {
		return storage.AuthRequest{}, err
	}
	return store.GetAuthRequest(t.Context(), si.ProtocolRef)
}
