package passkey_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/factor/passkey"
	"github.com/territoires-ouverts/tno/internal/factor/passkey/passkeytest"
)

func TestCredentialMarshalRoundTrip(t *testing.T) {
	s := newService(t, newClock())
	a := passkeytest.New(origin)
	a.Synced = true
	a.Transports = []string{"hybrid", "internal"}
	a.AAGUID = [16]byte{0xad, 0xce, 0x00, 0x02, 0x35, 0xbc, 0xc6, 0x0a, 0x64, 0x8b, 0x0b, 0x25, 0xf1, 0xf0, 0x55, 0x03}
	u, reg := register(t, s, newUser(t, "Camille"), a)

	b, err := reg.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	got, err := passkey.UnmarshalCredential(b)
	if err != nil {
		t.Fatalf("UnmarshalCredential: %v", err)
	}
	if diff := cmp.Diff(reg, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	// What was stored verifies the next login, whose result round-trips
	// too.
	u.Credentials = []passkey.Credential{got}
	c, err := login(t, s, u, a, true)
	if err != nil {
		t.Fatalf("login with the unmarshalled credential: %v", err)
	}
	b, err = c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := passkey.UnmarshalCredential(b)
	if err != nil || !cmp.Equal(c, again) {
		t.Errorf("after login: %v, %s", err, cmp.Diff(c, again))
	}
}

func TestUnmarshalCredentialErrors(t *testing.T) {
	for _, in := range []string{
		``,
		`null`,
		`[]`,
		`{"v":1,"id":"AQID"}`,
		`{"v":1,"publicKey":"AQID"}`,
		`{"v":2,"id":"AQID","publicKey":"AQID"}`,
		`{"id":"AQID","publicKey":"AQID"}`,
		`{"v":1,"id":"not base64!","publicKey":"AQID"}`,
		`{"v":1,"id":"AQID","publicKey":"AQID"} {}`,
	} {
		if _, err := passkey.UnmarshalCredential([]byte(in)); !errors.Is(err, passkey.ErrCredentialEncoding) {
			t.Errorf("UnmarshalCredential(%q): %v, want ErrCredentialEncoding", in, err)
		}
	}
	// Members a newer release may add are ignored.
	c, err := passkey.UnmarshalCredential([]byte(`{"v":1,"id":"AQID","publicKey":"BAUG","attachment":"platform"}`))
	if err != nil || string(c.ID) != "\x01\x02\x03" || string(c.PublicKey) != "\x04\x05\x06" {
		t.Errorf("UnmarshalCredential with an unknown member: %+v, %v", c, err)
	}
	if _, err := (passkey.Credential{}).Marshal(); !errors.Is(err, passkey.ErrCredentialEncoding) {
		t.Errorf("Marshal of a zero credential: %v, want ErrCredentialEncoding", err)
	}
}

func TestHardwareBound(t *testing.T) {
	for _, tt := range []struct {
		name   string
		synced bool
		want   bool
	}{
		{name: "device-bound security key", synced: false, want: true},
		{name: "synced passkey", synced: true, want: false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t, newClock())
			a := passkeytest.New(origin)
			a.Synced = tt.synced
			_, c := register(t, s, newUser(t, "Camille"), a)
			if got := c.HardwareBound(); got != tt.want {
				t.Errorf("HardwareBound() = %v, want %v (BackupEligible %v)", got, tt.want, c.BackupEligible)
			}
		})
	}
}
