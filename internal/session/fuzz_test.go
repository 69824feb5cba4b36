package session

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// fuzzSecret is the cookie secret of the one session FuzzCurrent stores.
const fuzzSecret = "c2Vzc2lvbi1zZWNyZXQtZm9yLWZ1enppbmctb25seS4"

// FuzzCurrent feeds arbitrary Cookie headers to Current: it never panics
// or fails, and finds a session only for the exact secret of a stored one.
func FuzzCurrent(f *testing.F) {
	for _, s := range []string{
		"tno_session=" + fuzzSecret,
		"tno_session=" + fuzzSecret + "x",
		"other=1; tno_session=" + fuzzSecret,
		"tno_session=; tno_session=" + fuzzSecret,
		"tno_session=\"" + fuzzSecret + "\"",
		"tno_session=" + hashSecret(fuzzSecret),
		"TNO_SESSION=" + fuzzSecret,
		"",
		";;;=",
	} {
		f.Add(s)
	}
	fx := newFixture(f, Options{})
	now := fx.clock.Now()
	if err := fx.store.CreateSession(fx.ctx, &storage.Session{
		ID: hashSecret(fuzzSecret), PersonID: "person-1", AuthTime: now,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour),
	}); err != nil {
		f.Fatalf("CreateSession: %v", err)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", header)
		s, ok, err := fx.m.Current(fx.ctx, r)
		if err != nil {
			t.Fatalf("Current(Cookie: %q): %v", header, err)
		}
		c, cerr := r.Cookie(fx.m.CookieName())
		want := cerr == nil && c.Value == fuzzSecret
		if ok != want {
			t.Fatalf("Current(Cookie: %q) ok = %v, want %v", header, ok, want)
		}
		if ok && s.ID != hashSecret(fuzzSecret) {
			t.Fatalf("Current(Cookie: %q) = session %q", header, s.ID)
		}
	})
}
