package apps

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
)

// serviceFixture is a Service on a real, empty store with two
// organizations.
type serviceFixture struct {
	ctx            context.Context
	store          storage.Store
	svc            *Service
	owner, granted storage.Organization
}

func newServiceFixture(t *testing.T) serviceFixture {
	t.Helper()
	f := serviceFixture{ctx: context.Background(), store: storagetest.NewStore(t)}
	var err error
	if f.svc, err = New(Options{Store: f.store}); err != nil {
		t.Fatal(err)
	}
	f.owner = storage.Organization{Slug: "ville-exemple", Name: "Ville d'Exemple", SIREN: "123456782"}
	f.granted = storage.Organization{Slug: "metropole", Name: "Métropole", SIREN: "732829320"}
	for _, o := range []*storage.Organization{&f.owner, &f.granted} {
		if err := f.store.CreateOrganization(f.ctx, o); err != nil {
			t.Fatalf("CreateOrganization: %v", err)
		}
	}
	return f
}

func (f serviceFixture) app(clientType string) storage.Application {
	a := validApp()
	a.OrgID = f.owner.ID
	a.ClientType = clientType
	a.GrantedOrgIDs = []string{f.granted.ID}
	return a
}

// ignoreTimes compares applications as stored: timestamps are the store's,
// and a nil list reads back as nil or empty.
var ignoreTimes = cmp.Options{cmpopts.IgnoreFields(storage.Application{}, "CreatedAt", "UpdatedAt"), cmpopts.EquateEmpty()}

func TestServiceCreate(t *testing.T) {
	tests := []struct {
		name       string
		clientType string
		settings   storage.ClientSettings
		wantSecret bool
	}{
		{"confidential gets a secret", storage.ClientConfidential, storage.ClientSettings{}, true},
		{"public has no secret", storage.ClientPublic, storage.ClientSettings{}, false},
		{"private_key_jwt has no secret", storage.ClientConfidential, storage.ClientSettings{
			TokenEndpointAuthMethod: AuthPrivateKeyJWT, JWKSURI: "https://rh.ville-exemple.fr/jwks.json",
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newServiceFixture(t)
			a := f.app(tt.clientType)
			a.Settings = tt.settings
			a.SecretHash = "sha256:caller-supplied" // must be ignored
			secret, err := f.svc.Create(f.ctx, authz.CLI(), &a)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if a.ID == "" {
				t.Errorf("Create did not set the ID")
			}
			stored, err := f.store.GetApplication(f.ctx, f.owner.ID, a.ID)
			if err != nil {
				t.Fatalf("GetApplication: %v", err)
			}
			if diff := cmp.Diff(a, stored, ignoreTimes); diff != "" {
				t.Errorf("stored application differs from the one returned (-returned +stored):\n%s", diff)
			}
			if !tt.wantSecret {
				if secret != "" || stored.SecretHash != "" {
					t.Errorf("secret %q, stored hash %q; want none", secret, stored.SecretHash)
				}
				return
			}
			switch {
			case secret == "":
				t.Fatal("no secret returned")
			case stored.SecretHash == secret:
				t.Error("the secret itself is stored")
			case stored.SecretHash != HashSecret(secret):
				t.Errorf("stored hash %q is not HashSecret(secret)", stored.SecretHash)
			case !VerifySecret(stored, secret):
				t.Error("VerifySecret(stored, secret) = false")
			}
		})
	}
}

func TestServiceCreateRefused(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(f serviceFixture, a *storage.Application)
		wantIs  error // errors.Is target, or nil
		wantFld string
	}{
		{"invalid application", func(f serviceFixture, a *storage.Application) { a.RedirectURIs = []string{"http://rh.fr/cb"} }, nil, "redirect_uris"},
		{"unknown owner", func(f serviceFixture, a *storage.Application) { a.OrgID = "no-such-org" }, storage.ErrNotFound, ""},
		{"unknown granted organization", func(f serviceFixture, a *storage.Application) {
			a.GrantedOrgIDs = []string{f.granted.ID, "no-such-org"}
		}, storage.ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newServiceFixture(t)
			a := f.app(storage.ClientConfidential)
			tt.edit(f, &a)
			secret, err := f.svc.Create(f.ctx, authz.CLI(), &a)
			if err == nil {
				t.Fatal("Create succeeded")
			}
			if secret != "" {
				t.Errorf("Create returned a secret with an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Create error = %v, want %v", err, tt.wantIs)
			}
			if tt.wantFld != "" {
				if diff := cmp.Diff([]string{tt.wantFld}, fields(fieldErrors(t, err))); diff != "" {
					t.Errorf("fields (-want +got):\n%s", diff)
				}
			}
			if _, err := f.store.GetApplicationByClientID(f.ctx, a.ClientID); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("application stored after a refused Create (lookup error %v)", err)
			}
		})
	}
}

func TestServiceCreateDuplicateClientID(t *testing.T) {
	f := newServiceFixture(t)
	first := f.app(storage.ClientConfidential)
	if _, err := f.svc.Create(f.ctx, authz.CLI(), &first); err != nil {
		t.Fatalf("first Create: %v", err)
	}
	second := f.app(storage.ClientPublic)
	second.OrgID = f.granted.ID // another owner: client IDs are territory-wide
	second.GrantedOrgIDs = nil
	_, err := f.svc.Create(f.ctx, authz.CLI(), &second)
	if !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("second Create error = %v, want storage.ErrConflict", err)
	}
	got, err := f.store.GetApplicationByClientID(f.ctx, first.ClientID)
	if err != nil {
		t.Fatalf("GetApplicationByClientID: %v", err)
	}
	if got.ID != first.ID || got.SecretHash != first.SecretHash {
		t.Errorf("the first application was changed by the refused duplicate")
	}
}

func TestServiceUpdate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(f serviceFixture, a *storage.Application)
		wantIs  error
		wantFld string
	}{
		{"rename and new redirect URI", func(f serviceFixture, a *storage.Application) {
			a.Name = "Portail RH (nouveau)"
			a.RedirectURIs = append(a.RedirectURIs, "http://127.0.0.1:8080/cb")
		}, nil, ""},
		{"remove grants", func(f serviceFixture, a *storage.Application) { a.GrantedOrgIDs = nil }, nil, ""},
		{"invalid field", func(f serviceFixture, a *storage.Application) { a.Scopes = []string{"admin"} }, nil, "scopes"},
		{"unknown granted organization", func(f serviceFixture, a *storage.Application) {
			a.GrantedOrgIDs = []string{"no-such-org"}
		}, storage.ErrNotFound, ""},
		{"unknown application", func(f serviceFixture, a *storage.Application) { a.ID = "no-such-app" }, storage.ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newServiceFixture(t)
			a := f.app(storage.ClientConfidential)
			secret, err := f.svc.Create(f.ctx, authz.CLI(), &a)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			before, err := f.store.GetApplication(f.ctx, f.owner.ID, a.ID)
			if err != nil {
				t.Fatalf("GetApplication: %v", err)
			}
			upd := before
			tt.edit(f, &upd)
			_, err = f.svc.Update(f.ctx, authz.CLI(), &upd)
			after, gerr := f.store.GetApplication(f.ctx, f.owner.ID, a.ID)
			if gerr != nil {
				t.Fatalf("GetApplication: %v", gerr)
			}
			if tt.wantIs == nil && tt.wantFld == "" {
				if err != nil {
					t.Fatalf("Update: %v", err)
				}
				if diff := cmp.Diff(upd, after, ignoreTimes); diff != "" {
					t.Errorf("stored application (-want +got):\n%s", diff)
				}
				if !VerifySecret(after, secret) {
					t.Error("Update lost the secret")
				}
				return
			}
			if err == nil {
				t.Fatal("Update succeeded")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Update error = %v, want %v", err, tt.wantIs)
			}
			if tt.wantFld != "" {
				if diff := cmp.Diff([]string{tt.wantFld}, fields(fieldErrors(t, err))); diff != "" {
					t.Errorf("fields (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("a refused Update changed the application (-before +after):\n%s", diff)
			}
		})
	}
}

func TestServiceRotateSecret(t *testing.T) {
	f := newServiceFixture(t)
	conf := f.app(storage.ClientConfidential)
	oldSecret, err := f.svc.Create(f.ctx, authz.CLI(), &conf)
	if err != nil {
		t.Fatalf("Create confidential: %v", err)
	}
	pub := f.app(storage.ClientPublic)
	pub.ClientID = "mobile"
	if _, err := f.svc.Create(f.ctx, authz.CLI(), &pub); err != nil {
		t.Fatalf("Create public: %v", err)
	}
	keyed := f.app(storage.ClientConfidential)
	keyed.ClientID = "keyed"
	keyed.Settings = storage.ClientSettings{TokenEndpointAuthMethod: AuthPrivateKeyJWT, JWKSURI: "https://rh.ville-exemple.fr/jwks.json"}
	if _, err := f.svc.Create(f.ctx, authz.CLI(), &keyed); err != nil {
		t.Fatalf("Create private_key_jwt: %v", err)
	}

	t.Run("confidential", func(t *testing.T) {
		newSecret, err := f.svc.RotateSecret(f.ctx, authz.CLI(), f.owner.ID, conf.ID)
		if err != nil {
			t.Fatalf("RotateSecret: %v", err)
		}
		if newSecret == "" || newSecret == oldSecret {
			t.Fatalf("RotateSecret returned %q, want a new secret", newSecret)
		}
		stored, err := f.store.GetApplication(f.ctx, f.owner.ID, conf.ID)
		if err != nil {
			t.Fatalf("GetApplication: %v", err)
		}
		if stored.SecretHash != HashSecret(newSecret) {
			t.Errorf("stored hash %q is not the new secret's hash", stored.SecretHash)
		}
		if VerifySecret(stored, oldSecret) {
			t.Error("the old secret still verifies")
		}
		if diff := cmp.Diff(conf, stored, ignoreTimes, cmpopts.IgnoreFields(storage.Application{}, "SecretHash", "Version")); diff != "" {
			t.Errorf("RotateSecret changed other fields (-before +after):\n%s", diff)
		}
	})

	tests := []struct {
		name      string
		orgID, id string
		wantIs    error
		wantField string
	}{
		{"public application", f.owner.ID, pub.ID, nil, "type"},
		{"private_key_jwt application", f.owner.ID, keyed.ID, nil, "token_endpoint_auth_method"},
		{"unknown application", f.owner.ID, "no-such-app", storage.ErrNotFound, ""},
		{"application of another organization", f.granted.ID, conf.ID, storage.ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret, err := f.svc.RotateSecret(f.ctx, authz.CLI(), tt.orgID, tt.id)
			if err == nil || secret != "" {
				t.Fatalf("RotateSecret = %q, %v; want an error and no secret", secret, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error = %v, want %v", err, tt.wantIs)
			}
			if tt.wantField != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantField {
					t.Errorf("error = %v, want a FieldError on %s", err, tt.wantField)
				}
			}
		})
	}
	stored, err := f.store.GetApplication(f.ctx, f.owner.ID, pub.ID)
	if err != nil {
		t.Fatalf("GetApplication: %v", err)
	}
	if stored.SecretHash != "" {
		t.Errorf("public application got a secret hash %q", stored.SecretHash)
	}
}
