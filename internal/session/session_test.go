package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
)

// clock is an injectable, settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a Manager on a real store, with a fake clock.
type fixture struct {
	ctx   context.Context
	store storage.Store
	clock *clock
	m     *Manager
}

func newFixture(t testing.TB, opts Options) fixture {
	t.Helper()
	f := fixture{ctx: context.Background(), store: storagetest.NewStore(t), clock: newClock()}
	opts.Store, opts.Now = f.store, f.clock.Now
	m, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.m = m
	return f
}

// create starts a session and returns it and its cookie.
func (f fixture) create(t *testing.T) (storage.Session, *http.Cookie) {
	t.Helper()
	rec := httptest.NewRecorder()
	s, err := f.m.Create(f.ctx, rec, "person-1", []string{"pwd"}, "eidas1")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("Create set %d cookies, want 1", len(cookies))
	}
	return s, cookies[0]
}

// request returns a GET carrying cookies.
func request(cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://tno.example.fr/authorize", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

func TestNew(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without a store succeeded")
	}
	tests := []struct {
		name   string
		secure bool
		want   string
	}{
		{"insecure", false, "tno_session"},
		{"secure", true, "__Host-tno_session"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{Secure: tt.secure})
			if got := f.m.CookieName(); got != tt.want {
				t.Errorf("CookieName() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		wantName   string
		wantSecure bool
		lifetime   time.Duration
	}{
		{"defaults", Options{}, "tno_session", false, 10 * time.Hour},
		{"secure", Options{Secure: true}, "__Host-tno_session", true, 10 * time.Hour},
		{"custom lifetime", Options{Lifetime: time.Hour}, "tno_session", false, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts)
			now := f.clock.Now()
			s, c := f.create(t)

			if c.Name != tt.wantName {
				t.Errorf("cookie name = %q, want %q", c.Name, tt.wantName)
			}
			if !c.HttpOnly {
				t.Error("cookie is not HttpOnly")
			}
			if c.SameSite != http.SameSiteLaxMode {
				t.Errorf("cookie SameSite = %v, want Lax", c.SameSite)
			}
			if c.Secure != tt.wantSecure {
				t.Errorf("cookie Secure = %v, want %v", c.Secure, tt.wantSecure)
			}
			if c.Path != "/" || c.Domain != "" {
				t.Errorf("cookie Path=%q Domain=%q, want / and none (needed by __Host-)", c.Path, c.Domain)
			}
			if want := now.Add(tt.lifetime); !c.Expires.Equal(want) {
				t.Errorf("cookie Expires = %v, want %v", c.Expires, want)
			}
			if len(c.Value) < 43 {
				t.Errorf("cookie value %q is shorter than 256 bits of base64", c.Value)
			}

			// The database holds only the hash of the cookie secret.
			sum := sha256.Sum256([]byte(c.Value))
			if want := hex.EncodeToString(sum[:]); s.ID != want {
				t.Errorf("session ID = %q, want hex SHA-256 of the cookie value %q", s.ID, want)
			}
			if s.ID == c.Value {
				t.Error("the cookie value is stored as the session ID")
			}
			if _, err := f.store.GetSession(f.ctx, c.Value); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("GetSession(cookie value) error = %v, want ErrNotFound", err)
			}
			stored, err := f.store.GetSession(f.ctx, s.ID)
			if err != nil {
				t.Fatalf("GetSession: %v", err)
			}
			want := storage.Session{
				ID: s.ID, CookieHash: s.ID, PersonID: "person-1", AuthTime: now, AMR: []string{"pwd"}, ACR: "eidas1",
				CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(tt.lifetime),
			}
			if diff := cmp.Diff(want, stored); diff != "" {
				t.Errorf("stored session (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, s); diff != "" {
				t.Errorf("returned session (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateTwiceDiffers(t *testing.T) {
	f := newFixture(t, Options{})
	s1, c1 := f.create(t)
	s2, c2 := f.create(t)
	if c1.Value == c2.Value || s1.ID == s2.ID {
		t.Errorf("two sessions share a secret or an ID")
	}
}

func TestCurrent(t *testing.T) {
	const (
		lifetime = 8 * time.Hour
		idle     = 30 * time.Minute
	)
	tests := []struct {
		name string
		// before runs after Create and before Current; it returns the
		// cookies to send.
		before func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie
		wantOK bool
	}{
		{"right after creation", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			return []*http.Cookie{c}
		}, true},
		{"just before expiry, kept active", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			for elapsed := time.Duration(0); elapsed < lifetime-idle; elapsed += idle {
				f.clock.Advance(idle)
				if _, ok, err := f.m.Current(f.ctx, request(c)); err != nil || !ok {
					t.Fatalf("Current after %v = %v, %v; want an active session", elapsed+idle, ok, err)
				}
			}
			f.clock.Advance(idle - time.Second)
			return []*http.Cookie{c}
		}, true},
		{"at expiry, kept active", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			for elapsed := time.Duration(0); elapsed < lifetime; elapsed += idle {
				f.clock.Advance(idle)
				if elapsed+idle < lifetime {
					if _, ok, err := f.m.Current(f.ctx, request(c)); err != nil || !ok {
						t.Fatalf("Current after %v = %v, %v; want an active session", elapsed+idle, ok, err)
					}
				}
			}
			return []*http.Cookie{c}
		}, false},
		{"exactly the idle timeout", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			f.clock.Advance(idle)
			return []*http.Cookie{c}
		}, true},
		{"after the idle timeout", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			f.clock.Advance(idle + time.Second)
			return []*http.Cookie{c}
		}, false},
		{"after End", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			if err := f.m.End(f.ctx, httptest.NewRecorder(), request(c)); err != nil {
				t.Fatalf("End: %v", err)
			}
			return []*http.Cookie{c}
		}, false},
		{"revoked by an administrator", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			if err := f.store.RevokeSession(f.ctx, hashSecret(c.Value), f.clock.Now()); err != nil {
				t.Fatalf("RevokeSession: %v", err)
			}
			return []*http.Cookie{c}
		}, false},
		{"no cookie", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie { return nil }, false},
		{"empty cookie", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			return []*http.Cookie{{Name: c.Name, Value: ""}}
		}, false},
		{"forged cookie", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			return []*http.Cookie{{Name: c.Name, Value: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}
		}, false},
		{"cookie altered by one character", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			v := []byte(c.Value)
			if v[0] == 'A' {
				v[0] = 'B'
			} else {
				v[0] = 'A'
			}
			return []*http.Cookie{{Name: c.Name, Value: string(v)}}
		}, false},
		{"cookie carrying the stored ID", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			return []*http.Cookie{{Name: c.Name, Value: hashSecret(c.Value)}}
		}, false},
		{"over-long cookie", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			return []*http.Cookie{{Name: c.Name, Value: strings.Repeat("A", 129)}}
		}, false},
		{"over-long cookie starting with the real secret", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			return []*http.Cookie{{Name: c.Name, Value: c.Value + strings.Repeat("A", 129-len(c.Value))}}
		}, false},
		{"right value under another name", func(t *testing.T, f fixture, c *http.Cookie) []*http.Cookie {
			return []*http.Cookie{{Name: "__Host-" + c.Name, Value: c.Value}}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{Lifetime: lifetime, IdleTimeout: idle})
			created, c := f.create(t)
			cookies := tt.before(t, f, c)
			s, ok, err := f.m.Current(f.ctx, request(cookies...))
			if err != nil {
				t.Fatalf("Current: %v", err)
			}
			if ok != tt.wantOK {
				t.Fatalf("Current ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				if diff := cmp.Diff(storage.Session{}, s); diff != "" {
					t.Errorf("Current returned a session with ok=false:\n%s", diff)
				}
				return
			}
			if s.ID != created.ID || s.PersonID != "person-1" {
				t.Errorf("Current = %+v, want the created session", s)
			}
		})
	}
}

func TestCurrentTouch(t *testing.T) {
	tests := []struct {
		name      string
		advance   time.Duration
		wantTouch bool
	}{
		{"after a second", time.Second, false},
		{"after exactly a minute", time.Minute, false},
		{"after a minute and a second", time.Minute + time.Second, true},
		{"after an hour", time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			created, c := f.create(t)
			f.clock.Advance(tt.advance)
			now := f.clock.Now()
			s, ok, err := f.m.Current(f.ctx, request(c))
			if err != nil || !ok {
				t.Fatalf("Current = %v, %v; want a session", ok, err)
			}
			stored, err := f.store.GetSession(f.ctx, created.ID)
			if err != nil {
				t.Fatalf("GetSession: %v", err)
			}
			want := created.LastSeenAt
			if tt.wantTouch {
				want = now
			}
			if !stored.LastSeenAt.Equal(want) {
				t.Errorf("stored LastSeenAt = %v, want %v", stored.LastSeenAt, want)
			}
			if !s.LastSeenAt.Equal(want) {
				t.Errorf("returned LastSeenAt = %v, want %v", s.LastSeenAt, want)
			}
		})
	}
}

// The idle timeout counts from the last touch, not from creation.
func TestCurrentTouchExtendsIdle(t *testing.T) {
	const idle = 10 * time.Minute
	f := newFixture(t, Options{IdleTimeout: idle})
	_, c := f.create(t)
	for i := range 5 {
		f.clock.Advance(idle - time.Second)
		if _, ok, err := f.m.Current(f.ctx, request(c)); err != nil || !ok {
			t.Fatalf("visit %d: Current = %v, %v; want the session kept alive", i, ok, err)
		}
	}
	f.clock.Advance(idle + time.Second)
	if _, ok, err := f.m.Current(f.ctx, request(c)); err != nil || ok {
		t.Fatalf("after idling: Current = %v, %v; want no session", ok, err)
	}
}

func TestValid(t *testing.T) {
	const lifetime = time.Hour
	tests := []struct {
		name   string
		before func(t *testing.T, f fixture, s storage.Session, c *http.Cookie)
		id     func(s storage.Session, c *http.Cookie) string
		want   bool
	}{
		{"fresh", nil, nil, true},
		{"before expiry, in use", func(t *testing.T, f fixture, s storage.Session, c *http.Cookie) {
			for range 2 {
				f.clock.Advance(lifetime / 3)
				if _, ok, err := f.m.Current(f.ctx, request(c)); err != nil || !ok {
					t.Fatalf("Current: %v %v", ok, err)
				}
			}
			f.clock.Advance(lifetime/3 - time.Second)
		}, nil, true},
		{"at expiry", func(t *testing.T, f fixture, s storage.Session, c *http.Cookie) {
			f.clock.Advance(lifetime)
		}, nil, false},
		{"ended", func(t *testing.T, f fixture, s storage.Session, c *http.Cookie) {
			if err := f.m.End(f.ctx, httptest.NewRecorder(), request(c)); err != nil {
				t.Fatalf("End: %v", err)
			}
		}, nil, false},
		{"idle up to the idle timeout", func(t *testing.T, f fixture, s storage.Session, c *http.Cookie) {
			f.clock.Advance(lifetime / 2)
		}, nil, true},
		{"idle past the idle timeout", func(t *testing.T, f fixture, s storage.Session, c *http.Cookie) {
			f.clock.Advance(lifetime/2 + time.Second)
		}, nil, false},
		{"in use, so not idle", func(t *testing.T, f fixture, s storage.Session, c *http.Cookie) {
			f.clock.Advance(lifetime / 3)
			if _, ok, err := f.m.Current(f.ctx, request(c)); err != nil || !ok {
				t.Fatalf("Current: %v %v", ok, err)
			}
			f.clock.Advance(lifetime / 3)
		}, nil, true},
		{"unknown ID", nil, func(storage.Session, *http.Cookie) string { return "unknown" }, false},
		{"cookie value is not an ID", nil, func(_ storage.Session, c *http.Cookie) string { return c.Value }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{Lifetime: lifetime, IdleTimeout: lifetime / 2})
			s, c := f.create(t)
			if tt.before != nil {
				tt.before(t, f, s, c)
			}
			id := s.ID
			if tt.id != nil {
				id = tt.id(s, c)
			}
			got, err := f.m.Valid(f.ctx, id)
			if err != nil {
				t.Fatalf("Valid: %v", err)
			}
			if got != tt.want {
				t.Errorf("Valid = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestBind: the first call sets a cookie and returns its hash; a request
// carrying it is bound to that hash and to no other; a malformed cookie is
// replaced; the cookie has the session cookie's attributes.
func TestBind(t *testing.T) {
	for _, secure := range []bool{false, true} {
		f := newFixture(t, Options{Secure: secure})
		rec := httptest.NewRecorder()
		r := request(&http.Cookie{Name: f.m.BrowserCookieName(), Value: "not-43-characters"})
		hash, err := f.m.Bind(rec, r)
		if err != nil {
			t.Fatal(err)
		}
		cookies := rec.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("Bind set %d cookies, want 1", len(cookies))
		}
		c := cookies[0]
		wantName := map[bool]string{false: "tno_browser", true: "__Host-tno_browser"}[secure]
		if c.Name != wantName || !c.HttpOnly || c.Secure != secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || !c.Expires.IsZero() {
			t.Errorf("cookie %+v", c)
		}
		if !f.m.Bound(r, hash) {
			t.Error("the request that got the cookie is not bound (later handlers of the same response must see it)")
		}
		again := request(c)
		if h2, err := f.m.Bind(httptest.NewRecorder(), again); err != nil || h2 != hash {
			t.Errorf("Bind with the cookie = %q, %v; want the same hash", h2, err)
		}
		if !f.m.Bound(again, hash) || f.m.Bound(again, "") || f.m.Bound(request(), hash) {
			t.Error("Bound: wrong answer for the cookie, an empty hash or no cookie")
		}
		other, _ := f.m.Bind(httptest.NewRecorder(), request())
		if other == hash || f.m.Bound(again, other) {
			t.Error("two browsers share a binding")
		}
	}
}

func TestEnd(t *testing.T) {
	tests := []struct {
		name    string
		secure  bool
		cookies func(c *http.Cookie) []*http.Cookie
		revoked bool
	}{
		{"with the session cookie", false, func(c *http.Cookie) []*http.Cookie { return []*http.Cookie{c} }, true},
		{"secure, with the session cookie", true, func(c *http.Cookie) []*http.Cookie { return []*http.Cookie{c} }, true},
		{"without a cookie", false, func(*http.Cookie) []*http.Cookie { return nil }, false},
		{"with an unknown cookie", false, func(c *http.Cookie) []*http.Cookie {
			return []*http.Cookie{{Name: c.Name, Value: "unknown"}}
		}, false},
		{"with an over-long cookie", false, func(c *http.Cookie) []*http.Cookie {
			return []*http.Cookie{{Name: c.Name, Value: strings.Repeat("x", 200)}}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{Secure: tt.secure})
			s, c := f.create(t)
			f.clock.Advance(5 * time.Minute)
			rec := httptest.NewRecorder()
			if err := f.m.End(f.ctx, rec, request(tt.cookies(c)...)); err != nil {
				t.Fatalf("End: %v", err)
			}
			cleared := rec.Result().Cookies()
			if len(cleared) != 1 {
				t.Fatalf("End set %d cookies, want 1", len(cleared))
			}
			cc := cleared[0]
			if cc.Name != f.m.CookieName() || cc.Value != "" || cc.MaxAge >= 0 || cc.Path != "/" {
				t.Errorf("End cookie = %+v, want %s cleared (empty, MaxAge<0, Path /)", cc, f.m.CookieName())
			}
			if !cc.HttpOnly || cc.Secure != tt.secure || cc.SameSite != http.SameSiteLaxMode {
				t.Errorf("End cookie attributes = HttpOnly %v Secure %v SameSite %v", cc.HttpOnly, cc.Secure, cc.SameSite)
			}
			stored, err := f.store.GetSession(f.ctx, s.ID)
			if err != nil {
				t.Fatalf("GetSession: %v", err)
			}
			switch {
			case tt.revoked && (stored.RevokedAt == nil || !stored.RevokedAt.Equal(f.clock.Now())):
				t.Errorf("RevokedAt = %v, want %v", stored.RevokedAt, f.clock.Now())
			case !tt.revoked && stored.RevokedAt != nil:
				t.Errorf("another session was revoked at %v", stored.RevokedAt)
			}
		})
	}
}

// Ending twice keeps the first revocation time and does not fail.
func TestEndTwice(t *testing.T) {
	f := newFixture(t, Options{})
	s, c := f.create(t)
	first := f.clock.Now()
	for range 2 {
		if err := f.m.End(f.ctx, httptest.NewRecorder(), request(c)); err != nil {
			t.Fatalf("End: %v", err)
		}
		f.clock.Advance(time.Minute)
	}
	stored, err := f.store.GetSession(f.ctx, s.ID)
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	if stored.RevokedAt == nil || !stored.RevokedAt.Equal(first) {
		t.Errorf("RevokedAt = %v, want %v", stored.RevokedAt, first)
	}
}

func TestDevice(t *testing.T) {
	for _, secure := range []bool{false, true} {
		f := newFixture(t, Options{Secure: secure})
		rec := httptest.NewRecorder()
		r := request(&http.Cookie{Name: map[bool]string{false: "tno_device", true: "__Host-tno_device"}[secure], Value: "forged"})
		hash, err := f.m.Device(rec, r)
		if err != nil {
			t.Fatal(err)
		}
		cookies := rec.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("Device set %d cookies, want 1", len(cookies))
		}
		c := cookies[0]
		wantName := map[bool]string{false: "tno_device", true: "__Host-tno_device"}[secure]
		if c.Name != wantName || !c.HttpOnly || c.Secure != secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge < 365*24*3600 {
			t.Errorf("cookie %+v", c)
		}
		if len(hash) != 64 || hash != hashSecret(c.Value) {
			t.Errorf("hash %q is not the hex SHA-256 of the cookie", hash)
		}
		// The same response's later handlers, and the browser's next
		// requests, see the same device.
		if h, _ := f.m.Device(httptest.NewRecorder(), r); h != hash {
			t.Error("the request that got the cookie does not see it")
		}
		next := httptest.NewRecorder()
		if h, _ := f.m.Device(next, request(c)); h != hash || len(next.Result().Cookies()) != 0 {
			t.Errorf("the next request: hash %q, %d cookies set", h, len(next.Result().Cookies()))
		}
		if other, _ := f.m.Device(httptest.NewRecorder(), request()); other == hash {
			t.Error("two browsers share a device")
		}
	}
}

func TestUpgrade(t *testing.T) {
	f := newFixture(t, Options{Secure: true})
	s, c := f.create(t)
	f.clock.Advance(3 * time.Minute)
	rec := httptest.NewRecorder()
	up, err := f.m.Upgrade(f.ctx, rec, s, []string{"pwd", "otp", "mfa"}, ACREidas2)
	if err != nil {
		t.Fatal(err)
	}
	if up.ID != s.ID || up.ACR != ACREidas2 || !up.AuthTime.Equal(f.clock.Now().UTC()) || up.CookieHash == s.CookieHash {
		t.Errorf("upgraded = %+v", up)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Value == c.Value || cookies[0].Name != c.Name {
		t.Fatalf("cookies after upgrade: %+v", cookies)
	}
	// The old cookie no longer opens the session (no fixation); the new
	// one opens the same session, at the new level.
	if _, ok, err := f.m.Current(f.ctx, request(c)); err != nil || ok {
		t.Errorf("old cookie: ok=%v err=%v", ok, err)
	}
	got, ok, err := f.m.Current(f.ctx, request(cookies[0]))
	if err != nil || !ok || got.ID != s.ID || got.ACR != ACREidas2 {
		t.Errorf("new cookie: %+v ok=%v err=%v", got, ok, err)
	}
	// A second upgrade from the stale record loses.
	if _, err := f.m.Upgrade(f.ctx, httptest.NewRecorder(), s, []string{"pwd"}, ACREidas1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("stale upgrade: %v, want ErrNotFound", err)
	}
}
