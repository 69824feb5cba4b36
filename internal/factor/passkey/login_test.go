package passkey_test

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/factor/passkey"
	"github.com/territoires-ouverts/tno/internal/factor/passkey/passkeytest"
)

func TestRegisterThenLogin(t *testing.T) {
	for _, requireUV := range []bool{false, true} {
		s := newService(t, newClock())
		a := passkeytest.New(origin)
		u, reg := register(t, s, newUser(t, "Camille"), a)
		u, _ = register(t, s, u, passkeytest.New(origin)) // a second passkey, on another device

		opts, _, err := s.BeginLogin(u, requireUV)
		if err != nil {
			t.Fatal(err)
		}
		pk := decode(t, opts)["publicKey"].(map[string]any)
		var allowed []string
		for _, d := range pk["allowCredentials"].([]any) {
			allowed = append(allowed, d.(map[string]any)["id"].(string))
		}
		b64 := base64.RawURLEncoding.EncodeToString
		if diff := cmp.Diff([]string{b64(u.Credentials[0].ID), b64(u.Credentials[1].ID)}, allowed); diff != "" {
			t.Errorf("allowCredentials (-want +got):\n%s", diff)
		}
		wantUV := map[bool]string{false: "preferred", true: "required"}[requireUV]
		if pk["rpId"] != rpID || pk["userVerification"] != wantUV {
			t.Errorf("rpId %v, userVerification %v; want %s, %s", pk["rpId"], pk["userVerification"], rpID, wantUV)
		}

		for n := uint32(1); n <= 3; n++ {
			c, err := login(t, s, u, a, requireUV)
			if err != nil {
				t.Fatalf("requireUV=%v: login %d: %v", requireUV, n, err)
			}
			want := reg
			want.SignCount = n
			if diff := cmp.Diff(want, c); diff != "" {
				t.Errorf("requireUV=%v: login %d: credential (-want +got):\n%s", requireUV, n, diff)
			}
			u = replace(u, c)
		}
	}
}

func TestLoginUserVerificationRecorded(t *testing.T) {
	s := newService(t, newClock())
	a := passkeytest.New(origin)
	u, _ := register(t, s, newUser(t, "Camille"), a)

	a.NoUserVerification = true // a security key touched without its PIN
	c, err := login(t, s, u, a, false)
	if err != nil {
		t.Fatalf("login without UV when not required: %v", err)
	}
	if c.UserVerified {
		t.Error("UserVerified after a login without user verification")
	}
	u = replace(u, c)
	if _, err := login(t, s, u, a, true); !errors.Is(err, passkey.ErrUVRequired) {
		t.Errorf("login without UV when required: %v, want ErrUVRequired", err)
	}
	a.NoUserVerification = false
	c, err = login(t, s, u, a, true)
	if err != nil || !c.UserVerified {
		t.Errorf("login with UV: %+v, %v", c, err)
	}
}

func TestSyncedPasskeyCounterStaysZero(t *testing.T) {
	s := newService(t, newClock())
	a := passkeytest.New(origin)
	a.Synced = true
	u, _ := register(t, s, newUser(t, "Camille"), a)
	for range 3 {
		c, err := login(t, s, u, a, true)
		if err != nil {
			t.Fatalf("synced passkey login: %v", err)
		}
		if c.SignCount != 0 || !c.BackupState || c.HardwareBound() {
			t.Errorf("synced passkey after login: %+v", c)
		}
		u = replace(u, c)
	}
}

func TestClonedAuthenticator(t *testing.T) {
	s := newService(t, newClock())
	a := passkeytest.New(origin)
	u, _ := register(t, s, newUser(t, "Camille"), a)
	clone := a.Clone()

	for range 2 {
		c, err := login(t, s, u, a, true)
		if err != nil {
			t.Fatal(err)
		}
		u = replace(u, c)
	}
	stored := u.Credentials[0]
	c, err := login(t, s, u, clone, true) // counter 1 after 2
	if !errors.Is(err, passkey.ErrCloned) {
		t.Fatalf("login with a clone: %v, want ErrCloned", err)
	}
	if diff := cmp.Diff(stored, c); diff != "" {
		t.Errorf("ErrCloned comes with the stored credential (-want +got):\n%s", diff)
	}
}

func TestFinishLoginRefusals(t *testing.T) {
	tests := []struct {
		name string
		// prepare returns the user, state and response for FinishLogin;
		// u has one credential, held by a.
		prepare func(t *testing.T, s *passkey.Service, clk *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte)
		want    error
	}{
		{
			name: "wrong origin",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				a.Origin = "https://evil.example"
				return assert(t, s, u, a, false)
			},
			want: passkey.ErrVerification,
		},
		{
			name: "origin on another port",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				a.Origin = origin + ":8443"
				return assert(t, s, u, a, false)
			},
			want: passkey.ErrVerification,
		},
		{
			name: "wrong RP ID",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				a.RPID = "territoire.example"
				return assert(t, s, u, a, false)
			},
			want: passkey.ErrVerification,
		},
		{
			name: "replayed response to an older challenge",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				_, _, old := assert(t, s, u, a, false)
				_, st, _ := assert(t, s, u, a, false)
				return u, st, old
			},
			want: passkey.ErrVerification,
		},
		{
			name: "registration response",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				// The credential's own registration response, posted
				// as an assertion: it parses, but it is not a webauthn.get.
				other := passkeytest.New(origin)
				st, resp := begin(t, s, u, other)
				c, err := s.FinishRegistration(u, st, resp)
				if err != nil {
					t.Fatal(err)
				}
				u.Credentials = append(u.Credentials, c)
				_, st, _ = assert(t, s, u, a, false)
				return u, st, resp
			},
			want: passkey.ErrVerification,
		},
		{
			name: "expired",
			prepare: func(t *testing.T, s *passkey.Service, clk *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				u, st, resp := assert(t, s, u, a, false)
				clk.advance(passkey.DefaultTimeout + 1)
				return u, st, resp
			},
			want: passkey.ErrExpired,
		},
		{
			name: "no user verification",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				a.NoUserVerification = true
				return assert(t, s, u, a, true)
			},
			want: passkey.ErrUVRequired,
		},
		{
			name: "no user verification and wrong origin",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				a.NoUserVerification = true
				a.Origin = "https://evil.example"
				return assert(t, s, u, a, true)
			},
			want: passkey.ErrVerification,
		},
		{
			name: "credential removed meanwhile",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				other := passkeytest.New(origin)
				both, _ := register(t, s, u, other)
				opts, st, err := s.BeginLogin(both, false)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := other.Get(opts)
				if err != nil {
					t.Fatal(err)
				}
				return u, st, resp
			},
			want: passkey.ErrUnknownCredential,
		},
		{
			name: "bad signature",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				u, st, resp := assert(t, s, u, a, false)
				return u, st, editJSON(t, resp, func(m map[string]any) {
					r := m["response"].(map[string]any)
					sig, _ := base64.RawURLEncoding.DecodeString(r["signature"].(string))
					sig[len(sig)-1] ^= 1
					r["signature"] = base64.RawURLEncoding.EncodeToString(sig)
				})
			},
			want: passkey.ErrVerification,
		},
		{
			name: "signature of another credential",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				u, st, resp := assert(t, s, u, a, false)
				// Same credential ID, another key: the stored key does
				// not verify it.
				forged := u
				forged.Credentials = []passkey.Credential{u.Credentials[0]}
				_, other := register(t, s, newUser(t, "Other"), passkeytest.New(origin))
				forged.Credentials[0].PublicKey = other.PublicKey
				return forged, st, resp
			},
			want: passkey.ErrVerification,
		},
		{
			name: "user handle of someone else",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				u, st, resp := assert(t, s, u, a, false)
				return u, st, editJSON(t, resp, func(m map[string]any) {
					m["response"].(map[string]any)["userHandle"] = "b3RoZXI"
				})
			},
			want: passkey.ErrVerification,
		},
		{
			name: "state of another user",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				_, _, resp := assert(t, s, u, a, false)
				b, _ := register(t, s, newUser(t, "Other"), passkeytest.New(origin))
				_, st, err := s.BeginLogin(b, false)
				if err != nil {
					t.Fatal(err)
				}
				return u, st, resp
			},
			want: passkey.ErrState,
		},
		{
			name: "discoverable state",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				opts, st, err := s.BeginDiscoverable()
				if err != nil {
					t.Fatal(err)
				}
				resp, err := a.Get(opts)
				if err != nil {
					t.Fatal(err)
				}
				return u, st, resp
			},
			want: passkey.ErrState,
		},
		{
			name: "garbage state",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				_, _, resp := assert(t, s, u, a, false)
				return u, []byte(`{"v":1}`), resp
			},
			want: passkey.ErrState,
		},
		{
			name: "authenticator data truncated",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				u, st, resp := assert(t, s, u, a, false)
				return u, st, editJSON(t, resp, func(m map[string]any) {
					r := m["response"].(map[string]any)
					r["authenticatorData"] = r["authenticatorData"].(string)[:20]
				})
			},
			want: passkey.ErrMalformed,
		},
		{
			name: "client data not JSON",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) (passkey.User, []byte, []byte) {
				u, st, resp := assert(t, s, u, a, false)
				return u, st, editJSON(t, resp, func(m map[string]any) {
					m["response"].(map[string]any)["clientDataJSON"] = base64.RawURLEncoding.EncodeToString([]byte("{"))
				})
			},
			want: passkey.ErrMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			s := newService(t, clk)
			a := passkeytest.New(origin)
			u, _ := register(t, s, newUser(t, "Camille"), a)
			u, st, resp := tt.prepare(t, s, clk, u, a)
			c, err := s.FinishLogin(u, st, resp)
			if !errors.Is(err, tt.want) {
				t.Fatalf("FinishLogin: %v, want %v", err, tt.want)
			}
			t.Logf("%v", err)
			if c.ID != nil {
				t.Errorf("credential returned with error: %+v", c)
			}
		})
	}
}

func TestFinishLoginMalformed(t *testing.T) {
	s := newService(t, newClock())
	a := passkeytest.New(origin)
	u, _ := register(t, s, newUser(t, "Camille"), a)
	_, st, valid := assert(t, s, u, a, false)
	for _, resp := range []string{
		"",
		"null",
		"{",
		"[]",
		`{"id":"","type":"public-key"}`,
		`{"id":"AAAA","rawId":"AAAA","type":"password"}`,
		`{"id":"AA==","rawId":"AA","type":"public-key"}`,
		string(valid) + " trailing",
		string(valid[:len(valid)-1]),
	} {
		if _, err := s.FinishLogin(u, st, []byte(resp)); !errors.Is(err, passkey.ErrMalformed) {
			t.Errorf("FinishLogin(%.40q): %v, want ErrMalformed", resp, err)
		}
	}
	// The state is still good: the malformed attempts did not consume it
	// (the caller does, by deleting it).
	if _, err := s.FinishLogin(u, st, valid); err != nil {
		t.Errorf("FinishLogin after malformed attempts: %v", err)
	}
}

func TestBeginLoginWithoutCredential(t *testing.T) {
	s := newService(t, newClock())
	if _, _, err := s.BeginLogin(newUser(t, "Camille"), false); !errors.Is(err, passkey.ErrUnknownCredential) {
		t.Errorf("BeginLogin for a user without passkey: %v, want ErrUnknownCredential", err)
	}
}

// assert starts a 2FA login for u and has a answer it.
func assert(t *testing.T, s *passkey.Service, u passkey.User, a *passkeytest.Authenticator, requireUV bool) (passkey.User, []byte, []byte) {
	t.Helper()
	opts, st, err := s.BeginLogin(u, requireUV)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Get(opts)
	if err != nil {
		t.Fatal(err)
	}
	return u, st, resp
}

func TestConcurrentCeremonies(t *testing.T) {
	s := newService(t, newClock())
	// ceremony registers a passkey for u, then logs in with it.
	ceremony := func(u passkey.User) error {
		a := passkeytest.New(origin)
		opts, st, err := s.BeginRegistration(u)
		if err != nil {
			return err
		}
		resp, err := a.Create(opts)
		if err != nil {
			return err
		}
		c, err := s.FinishRegistration(u, st, resp)
		if err != nil {
			return err
		}
		u.Credentials = []passkey.Credential{c}
		if opts, st, err = s.BeginLogin(u, true); err != nil {
			return err
		}
		if resp, err = a.Get(opts); err != nil {
			return err
		}
		_, err = s.FinishLogin(u, st, resp)
		return err
	}
	const n = 8
	done := make(chan error, n)
	for range n {
		u := newUser(t, "Camille")
		go func() { done <- ceremony(u) }()
	}
	for range n {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
