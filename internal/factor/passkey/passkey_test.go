package passkey_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/factor/passkey"
	"github.com/territoires-ouverts/tno/internal/factor/passkey/passkeytest"
)

func TestNew(t *testing.T) {
	good := passkey.Config{RPID: "territoire.example", RPName: "TNO", Origins: []string{"https://login.territoire.example"}}
	tests := []struct {
		name string
		edit func(c *passkey.Config)
		// wantErr lists substrings of the error; none means success.
		wantErr []string
	}{
		{name: "subdomain origin", edit: func(*passkey.Config) {}},
		{name: "origin with port", edit: func(c *passkey.Config) { c.Origins = []string{"https://territoire.example:8443"} }},
		{name: "http on localhost", edit: func(c *passkey.Config) {
			c.RPID, c.Origins = "localhost", []string{"http://localhost:8080"}
		}},
		{name: "empty RP ID", edit: func(c *passkey.Config) { c.RPID = "" }, wantErr: []string{"RP ID"}},
		{name: "IP address RP ID", edit: func(c *passkey.Config) {
			c.RPID, c.Origins = "192.0.2.1", []string{"https://192.0.2.1"}
		}, wantErr: []string{"RP ID"}},
		{name: "no RP name", edit: func(c *passkey.Config) { c.RPName = " " }, wantErr: []string{"RP name"}},
		{name: "no origin", edit: func(c *passkey.Config) { c.Origins = nil }, wantErr: []string{"no origin"}},
		{name: "origin on another site", edit: func(c *passkey.Config) {
			c.Origins = []string{"https://territoire.example.evil.example"}
		}, wantErr: []string{"not on RP ID"}},
		{name: "plain http", edit: func(c *passkey.Config) { c.Origins = []string{"http://login.territoire.example"} }, wantErr: []string{"https"}},
		{name: "origin with a path", edit: func(c *passkey.Config) { c.Origins = []string{"https://login.territoire.example/"} }, wantErr: []string{"scheme://host"}},
		{name: "negative timeout", edit: func(c *passkey.Config) { c.Timeout = -time.Second }, wantErr: []string{"timeout"}},
		{name: "every problem at once", edit: func(c *passkey.Config) {
			c.RPName, c.Origins, c.Timeout = "", []string{"http://evil.example/x"}, -1
		}, wantErr: []string{"RP name", "scheme://host", "timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			s, err := passkey.New(c)
			if len(tt.wantErr) == 0 {
				if err != nil || s == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestTimeoutConfig(t *testing.T) {
	clk := newClock()
	s, err := passkey.New(passkey.Config{RPID: rpID, RPName: "TNO", Origins: []string{origin}, Timeout: time.Minute, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	opts, st, err := s.BeginDiscoverable()
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, opts)["publicKey"].(map[string]any)["timeout"]; got != float64(60000) {
		t.Errorf("options timeout %v, want 60000 ms", got)
	}
	a := passkeytest.New(origin)
	if _, err := a.Get(opts); err == nil {
		t.Fatal("an empty authenticator answered")
	}
	clk.advance(time.Minute)
	_, _, err = s.FinishDiscoverable(st, []byte(`{}`), notFound)
	if !errors.Is(err, passkey.ErrExpired) {
		t.Errorf("FinishDiscoverable after the timeout: %v, want ErrExpired", err)
	}
}
