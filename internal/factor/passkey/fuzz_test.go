package passkey_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/territoires-ouverts/tno/internal/factor/passkey"
	"github.com/territoires-ouverts/tno/internal/factor/passkey/passkeytest"
)

// fuzzErrors are the errors a Finish method may return for a response:
// anything else (ErrState, ErrExpired with the clock stopped, an untyped
// error) is a bug.
var fuzzErrors = []error{passkey.ErrMalformed, passkey.ErrVerification, passkey.ErrUnknownCredential, passkey.ErrCloned, passkey.ErrUVRequired}

func isFuzzError(err error) bool {
	for _, e := range fuzzErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// fuzzSetup registers a passkey, starts a ceremony and returns a valid
// response to it with variants, as seeds. The clock does not move.
func fuzzSetup(f *testing.F, discoverable bool) (*passkey.Service, passkey.User, []byte) {
	s := newService(f, newClock())
	a := passkeytest.New(origin)
	u, _ := register(f, s, newUser(f, "Camille"), a)
	var opts, st []byte
	var err error
	if discoverable {
		opts, st, err = s.BeginDiscoverable()
	} else {
		opts, st, err = s.BeginLogin(u, true)
	}
	if err != nil {
		f.Fatal(err)
	}
	valid, err := a.Get(opts)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(bytes.Replace(valid, []byte(`"type":"public-key"`), []byte(`"type":"public-key","type":"x"`), 1))
	a.NoUserVerification = true
	if unverified, err := a.Get(opts); err == nil {
		f.Add(unverified)
	}
	return s, u, st
}

func FuzzFinishLogin(f *testing.F) {
	s, u, st := fuzzSetup(f, false)
	f.Fuzz(func(t *testing.T, response []byte) {
		c, err := s.FinishLogin(u, st, response)
		switch {
		case err == nil:
			if !bytes.Equal(c.ID, u.Credentials[0].ID) || c.SignCount <= u.Credentials[0].SignCount {
				t.Errorf("FinishLogin accepted %q: %+v", response, c)
			}
		case !isFuzzError(err):
			t.Errorf("FinishLogin(%q): unexpected error %v", response, err)
		}
	})
}

// FuzzFinishDiscoverable gives every response's credential ID the
// registered public key, so that mutated responses reach signature
// verification.
func FuzzFinishDiscoverable(f *testing.F) {
	s, u, st := fuzzSetup(f, true)
	f.Fuzz(func(t *testing.T, response []byte) {
		lookup := func(handle, id []byte) (passkey.User, error) {
			if len(handle) == 0 || len(id) == 0 {
				t.Errorf("lookup(%x, %x) called with an empty value", handle, id)
			}
			c := u.Credentials[0]
			c.ID = id
			return passkey.User{Handle: handle, Name: u.Name, DisplayName: u.DisplayName, Credentials: []passkey.Credential{c}}, nil
		}
		got, c, err := s.FinishDiscoverable(st, response, lookup)
		switch {
		case err == nil:
			if !bytes.Equal(got.Handle, u.Handle) || !bytes.Equal(c.ID, u.Credentials[0].ID) {
				t.Errorf("FinishDiscoverable accepted %q for %x, %x", response, got.Handle, c.ID)
			}
		case !isFuzzError(err):
			t.Errorf("FinishDiscoverable(%q): unexpected error %v", response, err)
		}
	})
}
