package passkey_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/factor/passkey"
	"github.com/territoires-ouverts/tno/internal/factor/passkey/passkeytest"
)

func TestRegistrationOptions(t *testing.T) {
	s := newService(t, newClock())
	u := newUser(t, "Camille")
	a := passkeytest.New(origin)
	u, first := register(t, s, u, a)
	u, second := register(t, s, u, passkeytest.New(origin))

	opts, _, err := s.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	pk, ok := decode(t, opts)["publicKey"].(map[string]any)
	if !ok {
		t.Fatalf("no publicKey member in %s", opts)
	}
	b64 := base64.RawURLEncoding.EncodeToString

	got := map[string]any{
		"rp":                     pk["rp"],
		"user":                   pk["user"],
		"authenticatorSelection": pk["authenticatorSelection"],
		"attestation":            pk["attestation"],
		"timeout":                pk["timeout"],
	}
	want := map[string]any{
		"rp":   map[string]any{"id": rpID, "name": "Territoire ouvert"},
		"user": map[string]any{"id": b64(u.Handle), "name": u.Name, "displayName": u.DisplayName},
		"authenticatorSelection": map[string]any{
			"residentKey":        "required",
			"requireResidentKey": true,
			"userVerification":   "required",
		},
		"attestation": "none",
		"timeout":     float64(passkey.DefaultTimeout / time.Millisecond),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}

	var algs []float64
	for _, p := range pk["pubKeyCredParams"].([]any) {
		p := p.(map[string]any)
		if p["type"] != "public-key" {
			t.Errorf("pubKeyCredParams type %v", p["type"])
		}
		algs = append(algs, p["alg"].(float64))
	}
	// EdDSA, ES256, RS256 (COSE algorithm identifiers, RFC 9053).
	if diff := cmp.Diff([]float64{-8, -7, -257}, algs); diff != "" {
		t.Errorf("algorithms (-want +got):\n%s", diff)
	}

	var excluded []string
	for _, d := range pk["excludeCredentials"].([]any) {
		excluded = append(excluded, d.(map[string]any)["id"].(string))
	}
	if diff := cmp.Diff([]string{b64(first.ID), b64(second.ID)}, excluded); diff != "" {
		t.Errorf("excludeCredentials (-want +got):\n%s", diff)
	}

	// A browser refuses to enrol an authenticator that holds an excluded
	// credential.
	if _, err := a.Create(opts); !errors.Is(err, passkeytest.ErrExcluded) {
		t.Errorf("Create with an excluded credential: %v, want ErrExcluded", err)
	}
}

func TestRegistrationCredential(t *testing.T) {
	for _, synced := range []bool{false, true} {
		s := newService(t, newClock())
		a := passkeytest.New(origin)
		a.Synced = synced
		a.AAGUID = [16]byte{0xea, 0x9b, 0x8d, 0x66, 0x4d, 0x01, 0x1d, 0x21, 0x3c, 0xe4, 0xb6, 0xb4, 0x8c, 0xb5, 0x75, 0xd4}
		_, c := register(t, s, newUser(t, "Dominique"), a)

		held := a.Credentials()
		if len(held) != 1 {
			t.Fatalf("authenticator holds %d credentials", len(held))
		}
		want := passkey.Credential{
			ID:                held[0].ID,
			AttestationType:   "none",
			AttestationFormat: "none",
			AAGUID:            a.AAGUID[:],
			Transports:        []string{"internal"},
			BackupEligible:    synced,
			BackupState:       synced,
			UserVerified:      true,
		}
		if diff := cmp.Diff(want, c, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "PublicKey" }, cmp.Ignore())); diff != "" {
			t.Errorf("synced=%v: credential (-want +got):\n%s", synced, diff)
		}
		if len(c.PublicKey) == 0 {
			t.Error("no public key")
		}
		if c.HardwareBound() == synced {
			t.Errorf("synced=%v: HardwareBound() = %v", synced, c.HardwareBound())
		}
	}
}

func TestFinishRegistrationRefusals(t *testing.T) {
	tests := []struct {
		name string
		// prepare sets up the authenticator and returns what to pass
		// to FinishRegistration.
		prepare func(t *testing.T, s *passkey.Service, clk *clock, u passkey.User, a *passkeytest.Authenticator) (state, response []byte)
		want    error
	}{
		{
			name: "wrong origin",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) ([]byte, []byte) {
				a.Origin = "https://login.territoire.example.evil.example"
				return begin(t, s, u, a)
			},
			want: passkey.ErrVerification,
		},
		{
			name: "wrong RP ID",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) ([]byte, []byte) {
				a.RPID = "evil.example"
				return begin(t, s, u, a)
			},
			want: passkey.ErrVerification,
		},
		{
			name: "response to another challenge",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) ([]byte, []byte) {
				_, old := begin(t, s, u, a)
				st, _ := begin(t, s, u, passkeytest.New(origin))
				return st, old
			},
			want: passkey.ErrVerification,
		},
		{
			name: "login response",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) ([]byte, []byte) {
				u, _ = register(t, s, u, a)
				opts, _, err := s.BeginLogin(u, true)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := a.Get(opts)
				if err != nil {
					t.Fatal(err)
				}
				st, _ := begin(t, s, u, passkeytest.New(origin))
				return st, resp
			},
			want: passkey.ErrMalformed,
		},
		{
			name: "no user verification",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) ([]byte, []byte) {
				a.NoUserVerification = true
				return begin(t, s, u, a)
			},
			want: passkey.ErrUVRequired,
		},
		{
			name: "expired",
			prepare: func(t *testing.T, s *passkey.Service, clk *clock, u passkey.User, a *passkeytest.Authenticator) ([]byte, []byte) {
				st, resp := begin(t, s, u, a)
				clk.advance(passkey.DefaultTimeout)
				return st, resp
			},
			want: passkey.ErrExpired,
		},
		{
			name: "state of another user",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, _ passkey.User, a *passkeytest.Authenticator) ([]byte, []byte) {
				return begin(t, s, newUser(t, "Other"), a)
			},
			want: passkey.ErrState,
		},
		{
			name: "login state",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) ([]byte, []byte) {
				_, resp := begin(t, s, u, a)
				_, st, err := s.BeginDiscoverable()
				if err != nil {
					t.Fatal(err)
				}
				return st, resp
			},
			want: passkey.ErrState,
		},
		{
			name: "not JSON",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) ([]byte, []byte) {
				st, resp := begin(t, s, u, a)
				return st, resp[:len(resp)/2]
			},
			want: passkey.ErrMalformed,
		},
		{
			name: "attestation object not CBOR",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) ([]byte, []byte) {
				st, resp := begin(t, s, u, a)
				return st, editJSON(t, resp, func(m map[string]any) {
					m["response"].(map[string]any)["attestationObject"] = "oWNmbXQ"
				})
			},
			want: passkey.ErrMalformed,
		},
		{
			name: "id and rawId differ",
			prepare: func(t *testing.T, s *passkey.Service, _ *clock, u passkey.User, a *passkeytest.Authenticator) ([]byte, []byte) {
				st, resp := begin(t, s, u, a)
				return st, editJSON(t, resp, func(m map[string]any) { m["id"] = "AAAA" })
			},
			want: passkey.ErrMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			s := newService(t, clk)
			u := newUser(t, "Camille")
			st, resp := tt.prepare(t, s, clk, u, passkeytest.New(origin))
			c, err := s.FinishRegistration(u, st, resp)
			if !errors.Is(err, tt.want) {
				t.Fatalf("FinishRegistration: %v, want %v", err, tt.want)
			}
			t.Logf("%v", err)
			if c.ID != nil {
				t.Errorf("credential returned with error: %+v", c)
			}
		})
	}
}

func TestRegistrationJustBeforeTimeout(t *testing.T) {
	clk := newClock()
	s := newService(t, clk)
	u := newUser(t, "Camille")
	st, resp := begin(t, s, u, passkeytest.New(origin))
	clk.advance(passkey.DefaultTimeout - time.Second)
	if _, err := s.FinishRegistration(u, st, resp); err != nil {
		t.Fatalf("FinishRegistration within the timeout: %v", err)
	}
}

func TestBeginRegistrationHandle(t *testing.T) {
	s := newService(t, newClock())
	for _, n := range []int{0, 65} {
		u := passkey.User{Handle: bytes.Repeat([]byte{1}, n), Name: "x", DisplayName: "x"}
		if _, _, err := s.BeginRegistration(u); err == nil {
			t.Errorf("BeginRegistration with a %d-byte handle succeeded", n)
		}
	}
}

// begin starts a registration for u and has a answer it.
func begin(t *testing.T, s *passkey.Service, u passkey.User, a *passkeytest.Authenticator) (state, response []byte) {
	t.Helper()
	opts, st, err := s.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	return st, resp
}

func TestFinishRegistrationTwice(t *testing.T) {
	s := newService(t, newClock())
	u := newUser(t, "Camille")
	st, resp := begin(t, s, u, passkeytest.New(origin))
	c, err := s.FinishRegistration(u, st, resp)
	if err != nil {
		t.Fatal(err)
	}
	// The caller should have deleted the state; if it did not, the same
	// credential is still not added twice.
	u.Credentials = append(u.Credentials, c)
	if _, err := s.FinishRegistration(u, st, resp); !errors.Is(err, passkey.ErrVerification) {
		t.Errorf("second FinishRegistration: %v, want ErrVerification", err)
	}
}

func TestCorruptState(t *testing.T) {
	s := newService(t, newClock())
	a := passkeytest.New(origin)
	u, _ := register(t, s, newUser(t, "Camille"), a)
	_, good, resp := assert(t, s, u, a, false)
	for _, st := range []string{
		``,
		`not json`,
		`{"v":2,"ceremony":"login","expires":"2999-01-01T00:00:00Z","session":{"challenge":"AAAAAAAAAAAAAAAAAAAAAA"}}`,
		`{"v":1,"ceremony":"login","expires":"2999-01-01T00:00:00Z","session":{}}`,
		`{"v":1,"ceremony":"registration","expires":"2999-01-01T00:00:00Z","session":{"challenge":"AAAAAAAAAAAAAAAAAAAAAA"}}`,
	} {
		if _, err := s.FinishLogin(u, []byte(st), resp); !errors.Is(err, passkey.ErrState) {
			t.Errorf("FinishLogin with state %q: %v, want ErrState", st, err)
		}
	}
	if _, err := s.FinishLogin(u, good, resp); err != nil {
		t.Errorf("FinishLogin with the good state: %v", err)
	}
}
