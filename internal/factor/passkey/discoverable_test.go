package passkey_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/factor/passkey"
	"github.com/territoires-ouverts/tno/internal/factor/passkey/passkeytest"
)

func TestDiscoverableLogin(t *testing.T) {
	s := newService(t, newClock())
	a := passkeytest.New(origin)
	b := passkeytest.New(origin)
	camille, reg := register(t, s, newUser(t, "Camille"), a)
	dominique, _ := register(t, s, newUser(t, "Dominique"), b)
	people := []passkey.User{camille, dominique}

	opts, st, err := s.BeginDiscoverable()
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, opts)
	pk := o["publicKey"].(map[string]any)
	if o["mediation"] != "conditional" || pk["userVerification"] != "required" || pk["rpId"] != rpID || pk["allowCredentials"] != nil {
		t.Errorf("discoverable options: %s", opts)
	}

	resp, err := a.Get(opts)
	if err != nil {
		t.Fatal(err)
	}
	var gotHandle, gotID []byte
	u, c, err := s.FinishDiscoverable(st, resp, func(handle, id []byte) (passkey.User, error) {
		gotHandle, gotID = handle, id
		for _, p := range people {
			if bytes.Equal(p.Handle, handle) {
				return p, nil
			}
		}
		return passkey.User{}, passkey.ErrUnknownCredential
	})
	if err != nil {
		t.Fatalf("FinishDiscoverable: %v", err)
	}
	if !bytes.Equal(gotHandle, camille.Handle) || !bytes.Equal(gotID, reg.ID) {
		t.Errorf("lookup(%x, %x), want lookup(%x, %x)", gotHandle, gotID, camille.Handle, reg.ID)
	}
	if diff := cmp.Diff(camille, u); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
	want := reg
	want.SignCount = 1
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("credential (-want +got):\n%s", diff)
	}
}

func TestFinishDiscoverableRefusals(t *testing.T) {
	dbDown := errors.New("database unavailable")
	tests := []struct {
		name string
		// lookup replaces the lookup of the person registered, when set.
		lookup func(u passkey.User) func(h, id []byte) (passkey.User, error)
		// before sets the authenticator up, edit changes its answer.
		before func(a *passkeytest.Authenticator)
		edit   func(t *testing.T, resp []byte) []byte
		want   error
	}{
		{
			name:   "nobody holds the credential",
			lookup: func(passkey.User) func(h, id []byte) (passkey.User, error) { return notFound },
			want:   passkey.ErrUnknownCredential,
		},
		{
			name: "storage failure",
			lookup: func(passkey.User) func(h, id []byte) (passkey.User, error) {
				return func(_, _ []byte) (passkey.User, error) { return passkey.User{}, dbDown }
			},
			want: dbDown,
		},
		{
			name: "lookup finds the person but not the credential",
			lookup: func(u passkey.User) func(h, id []byte) (passkey.User, error) {
				return func(_, _ []byte) (passkey.User, error) { u.Credentials = nil; return u, nil }
			},
			want: passkey.ErrUnknownCredential,
		},
		{
			name: "credential of another person",
			lookup: func(u passkey.User) func(h, id []byte) (passkey.User, error) {
				return func(_, _ []byte) (passkey.User, error) {
					u.Handle = []byte("someone else")
					return u, nil
				}
			},
			want: passkey.ErrVerification,
		},
		{
			name: "no user handle",
			edit: func(t *testing.T, resp []byte) []byte {
				return editJSON(t, resp, func(m map[string]any) { delete(m["response"].(map[string]any), "userHandle") })
			},
			want: passkey.ErrMalformed,
		},
		{
			name:   "wrong origin",
			before: func(a *passkeytest.Authenticator) { a.Origin = "https://evil.example" },
			want:   passkey.ErrVerification,
		},
		{
			name:   "no user verification",
			before: func(a *passkeytest.Authenticator) { a.NoUserVerification = true },
			want:   passkey.ErrUVRequired,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t, newClock())
			a := passkeytest.New(origin)
			u, _ := register(t, s, newUser(t, "Camille"), a)
			opts, st, err := s.BeginDiscoverable()
			if err != nil {
				t.Fatal(err)
			}
			if tt.before != nil {
				tt.before(a)
			}
			resp, err := a.Get(opts)
			if err != nil {
				t.Fatal(err)
			}
			if tt.edit != nil {
				resp = tt.edit(t, resp)
			}
			lookup := func(_, _ []byte) (passkey.User, error) { return u, nil }
			if tt.lookup != nil {
				lookup = tt.lookup(u)
			}
			gotU, gotC, err := s.FinishDiscoverable(st, resp, lookup)
			if !errors.Is(err, tt.want) {
				t.Fatalf("FinishDiscoverable: %v, want %v", err, tt.want)
			}
			t.Logf("%v", err)
			if gotU.Handle != nil || gotC.ID != nil {
				t.Errorf("user or credential returned with error: %+v, %+v", gotU, gotC)
			}
		})
	}
}

func TestDiscoverableCloned(t *testing.T) {
	s := newService(t, newClock())
	a := passkeytest.New(origin)
	u, _ := register(t, s, newUser(t, "Camille"), a)
	clone := a.Clone()
	c, err := login(t, s, u, a, true)
	if err != nil {
		t.Fatal(err)
	}
	u = replace(u, c)

	opts, st, err := s.BeginDiscoverable()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := clone.Get(opts)
	if err != nil {
		t.Fatal(err)
	}
	gotU, gotC, err := s.FinishDiscoverable(st, resp, func(_, _ []byte) (passkey.User, error) { return u, nil })
	if !errors.Is(err, passkey.ErrCloned) {
		t.Fatalf("FinishDiscoverable with a clone: %v, want ErrCloned", err)
	}
	if !bytes.Equal(gotU.Handle, u.Handle) || !bytes.Equal(gotC.ID, c.ID) || gotC.SignCount != c.SignCount {
		t.Errorf("ErrCloned comes with the person and stored credential: %+v, %+v", gotU, gotC)
	}
}

func notFound(_, _ []byte) (passkey.User, error) { return passkey.User{}, passkey.ErrUnknownCredential }
