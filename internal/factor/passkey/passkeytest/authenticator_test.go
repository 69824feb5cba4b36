package passkeytest

import (
	"errors"
	"testing"
)

func TestCreateRefusals(t *testing.T) {
	a := New("https://login.territoire.example")
	for _, tt := range []struct {
		name    string
		options string
		want    error
	}{
		{name: "not JSON", options: `{`, want: ErrOptions},
		{name: "no challenge", options: `{"publicKey":{"user":{"id":"AQ"},"pubKeyCredParams":[{"type":"public-key","alg":-7}]}}`, want: ErrOptions},
		{name: "RS256 only", options: `{"publicKey":{"challenge":"AQID","user":{"id":"AQ"},"pubKeyCredParams":[{"type":"public-key","alg":-257}]}}`, want: ErrNotSupported},
	} {
		if _, err := a.Create([]byte(tt.options)); !errors.Is(err, tt.want) {
			t.Errorf("%s: Create: %v, want %v", tt.name, err, tt.want)
		}
	}
	if len(a.Credentials()) != 0 {
		t.Error("a refused Create kept a credential")
	}
}

func TestGetScopedToRPID(t *testing.T) {
	a := New("https://login.territoire.example")
	create := `{"publicKey":{"challenge":"AQID","user":{"id":"AQ"},"pubKeyCredParams":[{"type":"public-key","alg":-7}]}}`
	if _, err := a.Create([]byte(create)); err != nil {
		t.Fatal(err)
	}
	held := a.Credentials()
	if len(held) != 1 || held[0].RPID != "login.territoire.example" || string(held[0].UserHandle) != "\x01" {
		t.Fatalf("credentials after Create: %+v", held)
	}
	if _, err := a.Get([]byte(`{"publicKey":{"challenge":"AQID","rpId":"other.example"}}`)); !errors.Is(err, ErrNoCredential) {
		t.Errorf("Get for another RP ID: %v, want ErrNoCredential", err)
	}
	if _, err := a.Get([]byte(`{"publicKey":{"challenge":"AQID","allowCredentials":[{"type":"public-key","id":"AAAA"}]}}`)); !errors.Is(err, ErrNoCredential) {
		t.Errorf("Get with an unknown allowed credential: %v, want ErrNoCredential", err)
	}
	if _, err := a.Get([]byte(`{"publicKey":{"challenge":"AQID"}}`)); err != nil {
		t.Errorf("discoverable Get: %v", err)
	}
	if got := a.Credentials()[0].SignCount; got != 1 {
		t.Errorf("sign count after one Get: %d, want 1", got)
	}
}
