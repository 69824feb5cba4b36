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

// fuzzBrowser is the browser-binding cookie FuzzBound's pending request
// was started with (32 bytes, base64url).
const fuzzBrowser = "YnJvd3Nlci1iaW5kaW5nLWZvci1mdXp6aW5nLW9ubHk"

// FuzzBound feeds arbitrary Cookie headers to Bound and Bind: they never
// panic; Bound accepts only a header carrying the exact binding cookie;
// Bind returns the hash of a valid cookie it was sent, or of a new one
// (then set), never replacing a valid one.
func FuzzBound(f *testing.F) {
	for _, s := range []string{
		"tno_browser=" + fuzzBrowser,
		"tno_browser=x; tno_browser=" + fuzzBrowser,
		"tno_browser=" + fuzzBrowser + "A",
		"tno_browser=" + hashSecret(fuzzBrowser),
		"tno_browser=\"" + fuzzBrowser + "\"",
		"TNO_BROWSER=" + fuzzBrowser,
		"",
		"tno_browser=====",
	} {
		f.Add(s)
	}
	fx := newFixture(f, Options{})
	want := hashSecret(fuzzBrowser)
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", header)
		carries := false
		for _, c := range r.CookiesNamed("tno_browser") {
			carries = carries || c.Value == fuzzBrowser
		}
		if got := fx.m.Bound(r, want); got != carries {
			t.Fatalf("Bound(%q) = %v, want %v", header, got, carries)
		}
		rec := httptest.NewRecorder()
		hash, err := fx.m.Bind(rec, r)
		if err != nil {
			t.Fatal(err)
		}
		if !fx.m.Bound(r, hash) {
			t.Fatalf("Bind(%q) returned a hash the request is not bound to", header)
		}
		valid := map[string]bool{}
		for _, c := range r.CookiesNamed("tno_browser") {
			if validCookieValue(c.Value) {
				valid[hashSecret(c.Value)] = true
			}
		}
		if len(valid) > 0 && !valid[hash] {
			t.Fatalf("Bind(%q) replaced a valid cookie", header)
		}
	})
}
