package passkey_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/factor/passkey"
	"github.com/territoires-ouverts/tno/internal/factor/passkey/passkeytest"
)

const (
	rpID   = "login.territoire.example"
	origin = "https://login.territoire.example"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newService(t testing.TB, clk *clock) *passkey.Service {
	t.Helper()
	s, err := passkey.New(passkey.Config{
		RPID:    rpID,
		RPName:  "Territoire ouvert",
		Origins: []string{origin},
		Now:     clk.now,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func newUser(t testing.TB, name string) passkey.User {
	t.Helper()
	h := make([]byte, 32)
	if _, err := rand.Read(h); err != nil {
		t.Fatal(err)
	}
	return passkey.User{Handle: h, Name: name + "@ville.example", DisplayName: name}
}

// register enrols a passkey of a for u and returns u with it added.
func register(t testing.TB, s *passkey.Service, u passkey.User, a *passkeytest.Authenticator) (passkey.User, passkey.Credential) {
	t.Helper()
	opts, st, err := s.BeginRegistration(u)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	resp, err := a.Create(opts)
	if err != nil {
		t.Fatalf("authenticator Create: %v", err)
	}
	c, err := s.FinishRegistration(u, st, resp)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	u.Credentials = append(u.Credentials, c)
	return u, c
}

// login runs a 2FA login of u with a and returns the credential used.
func login(t testing.TB, s *passkey.Service, u passkey.User, a *passkeytest.Authenticator, requireUV bool) (passkey.Credential, error) {
	t.Helper()
	opts, st, err := s.BeginLogin(u, requireUV)
	if err != nil {
		t.Fatalf("BeginLogin: %v", err)
	}
	resp, err := a.Get(opts)
	if err != nil {
		t.Fatalf("authenticator Get: %v", err)
	}
	return s.FinishLogin(u, st, resp)
}

// replace returns u with its credential of the same ID as c replaced by c,
// as the caller stores it after a login.
func replace(u passkey.User, c passkey.Credential) passkey.User {
	creds := make([]passkey.Credential, len(u.Credentials))
	copy(creds, u.Credentials)
	for i := range creds {
		if bytes.Equal(creds[i].ID, c.ID) {
			creds[i] = c
		}
	}
	u.Credentials = creds
	return u
}

// decode unmarshals JSON options into a generic value.
func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("options are not JSON: %v\n%s", err, b)
	}
	return m
}

// editJSON decodes b, applies f and encodes it again.
func editJSON(t testing.TB, b []byte, f func(m map[string]any)) []byte {
	t.Helper()
	m := decode(t, b)
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
