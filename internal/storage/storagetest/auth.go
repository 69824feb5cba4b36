package storagetest

import (
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func signingKeyTests() []test {
	return []test{
		{"create, list by CreatedAt, update retirement", func(t *testing.T, f fixture) {
			if got := get(f.s.ListSigningKeys(f.ctx))(t); len(got) != 0 {
				t.Fatalf("ListSigningKeys = %v, want none", got)
			}
			newer := storage.SigningKey{ID: "kid-2", Algorithm: "ES256", PrivateJWK: []byte(`{"kty":"EC"}`),
				CreatedAt: t0.Add(time.Hour), ActiveAt: t0.Add(2 * time.Hour)}
			older := storage.SigningKey{ID: "kid-1", Algorithm: "RS256", PrivateJWK: []byte(`{"kty":"RSA","d":"\u0000\xff"}`),
				CreatedAt: t0, ActiveAt: t0, RetiredAt: ptr(t0.Add(time.Hour)), ExpiresAt: ptr(t0.Add(48 * time.Hour))}
			must(t, f.s.CreateSigningKey(f.ctx, &newer))
			must(t, f.s.CreateSigningKey(f.ctx, &older))
			diff(t, []storage.SigningKey{older, newer}, get(f.s.ListSigningKeys(f.ctx))(t))

			u := newer
			u.Algorithm, u.ActiveAt = "changed", t0 // ignored: only RetiredAt and ExpiresAt change
			u.RetiredAt, u.ExpiresAt = ptr(t0.Add(3*time.Hour)), ptr(t0.Add(72*time.Hour))
			must(t, f.s.UpdateSigningKey(f.ctx, &u))
			newer.RetiredAt, newer.ExpiresAt = u.RetiredAt, u.ExpiresAt
			older.RetiredAt, older.ExpiresAt = nil, nil
			must(t, f.s.UpdateSigningKey(f.ctx, &older))
			diff(t, []storage.SigningKey{older, newer}, get(f.s.ListSigningKeys(f.ctx))(t))
		}},
		{"create sets a missing ID and CreatedAt", func(t *testing.T, f fixture) {
			k := storage.SigningKey{Algorithm: "ES256", PrivateJWK: []byte("{}"), ActiveAt: t0}
			clk := startClock()
			must(t, f.s.CreateSigningKey(f.ctx, &k))
			clk.check(t, "CreatedAt", k.CreatedAt)
			if k.ID == "" {
				t.Error("ID not set")
			}
			diff(t, []storage.SigningKey{k}, get(f.s.ListSigningKeys(f.ctx))(t))
		}},
		{"duplicate ID is a conflict", func(t *testing.T, f fixture) {
			must(t, f.s.CreateSigningKey(f.ctx, &storage.SigningKey{ID: "k", PrivateJWK: []byte("{}")}))
			wantErr(t, f.s.CreateSigningKey(f.ctx, &storage.SigningKey{ID: "k", PrivateJWK: []byte("{}")}), storage.ErrConflict)
		}},
		{"update unknown is not found", func(t *testing.T, f fixture) {
			wantErr(t, f.s.UpdateSigningKey(f.ctx, &storage.SigningKey{ID: "nope"}), storage.ErrNotFound)
		}},
	}
}

func newSession(id, personID string, created time.Time, amr []string) storage.Session {
	return storage.Session{ID: id, PersonID: personID, AuthTime: created, AMR: amr, ACR: "eidas1",
		CreatedAt: created, LastSeenAt: created, ExpiresAt: created.Add(8 * time.Hour)}
}

func sessionTests() []test {
	return []test{
		{"create and get; AMR nil, empty, values", func(t *testing.T, f fixture) {
			for i, amr := range [][]string{nil, {}, {"pwd"}, {"pwd", "otp"}} {
				s := newSession(string(rune('a'+i)), "p", t0, amr)
				s.RevokedAt = ptr(t0.Add(time.Minute))
				must(t, f.s.CreateSession(f.ctx, &s))
				diff(t, s, get(f.s.GetSession(f.ctx, s.ID))(t))
			}
		}},
		{"create fills ID, CreatedAt and LastSeenAt", func(t *testing.T, f fixture) {
			s := storage.Session{PersonID: "p", AuthTime: t0, ExpiresAt: t0.Add(time.Hour)}
			clk := startClock()
			must(t, f.s.CreateSession(f.ctx, &s))
			clk.check(t, "CreatedAt", s.CreatedAt)
			if s.ID == "" || !s.LastSeenAt.Equal(s.CreatedAt) {
				t.Errorf("ID = %q, LastSeenAt = %v; want an ID and LastSeenAt = CreatedAt", s.ID, s.LastSeenAt)
			}
			diff(t, s, get(f.s.GetSession(f.ctx, s.ID))(t))
		}},
		{"duplicate ID is a conflict", func(t *testing.T, f fixture) {
			s := newSession("h", "p", t0, nil)
			must(t, f.s.CreateSession(f.ctx, &s))
			wantErr(t, f.s.CreateSession(f.ctx, &s), storage.ErrConflict)
		}},
		{"unknown is not found", func(t *testing.T, f fixture) {
			_, err := f.s.GetSession(f.ctx, "nope")
			wantErr(t, err, storage.ErrNotFound)
			wantErr(t, f.s.TouchSession(f.ctx, "nope", t0), storage.ErrNotFound)
			wantErr(t, f.s.RevokeSession(f.ctx, "nope", t0), storage.ErrNotFound)
		}},
		{"touch moves LastSeenAt forward only", func(t *testing.T, f fixture) {
			s := newSession("h", "p", t0, nil)
			must(t, f.s.CreateSession(f.ctx, &s))
			must(t, f.s.TouchSession(f.ctx, "h", t0.Add(time.Minute)))
			must(t, f.s.TouchSession(f.ctx, "h", t0.Add(time.Second))) // late, concurrent request
			s.LastSeenAt = t0.Add(time.Minute)
			diff(t, s, get(f.s.GetSession(f.ctx, "h"))(t))
		}},
		{"revoke keeps the first revocation", func(t *testing.T, f fixture) {
			s := newSession("h", "p", t0, nil)
			must(t, f.s.CreateSession(f.ctx, &s))
			must(t, f.s.RevokeSession(f.ctx, "h", t0.Add(time.Minute)))
			must(t, f.s.RevokeSession(f.ctx, "h", t0.Add(time.Hour)))
			s.RevokedAt = ptr(t0.Add(time.Minute))
			diff(t, s, get(f.s.GetSession(f.ctx, "h"))(t))
		}},
		{"list a person's sessions, revoked and expired included", func(t *testing.T, f fixture) {
			a := newSession("a", "p", t0.Add(time.Hour), []string{"pwd"})
			b := newSession("b", "p", t0, nil)
			b.RevokedAt, b.ExpiresAt = ptr(t0), t0.Add(time.Second)
			o := newSession("o", "other", t0, nil)
			for _, s := range []*storage.Session{&a, &b, &o} {
				must(t, f.s.CreateSession(f.ctx, s))
			}
			diff(t, []storage.Session{b, a}, get(f.s.ListPersonSessions(f.ctx, "p"))(t))
			if got := get(f.s.ListPersonSessions(f.ctx, "nope"))(t); len(got) != 0 {
				t.Errorf("ListPersonSessions(unknown) = %v, want none", got)
			}
		}},
		{"delete expired: strictly before", func(t *testing.T, f fixture) {
			for i, exp := range []time.Duration{-time.Hour, -time.Microsecond, 0, time.Hour} {
				s := newSession(string(rune('a'+i)), "p", t0.Add(-2*time.Hour), nil)
				s.ExpiresAt = t0.Add(exp)
				must(t, f.s.CreateSession(f.ctx, &s))
			}
			diff(t, 2, get(f.s.DeleteExpiredSessions(f.ctx, t0))(t))
			diff(t, 0, get(f.s.DeleteExpiredSessions(f.ctx, t0))(t))
			for id, want := range map[string]error{"a": storage.ErrNotFound, "b": storage.ErrNotFound, "c": nil, "d": nil} {
				if _, err := f.s.GetSession(f.ctx, id); !errorIs(err, want) {
					t.Errorf("GetSession(%s) = %v, want %v", id, err, want)
				}
			}
		}},
	}
}

func authRequestTests() []test {
	return []test{
		{"create, get, delete; MaxAge nil, zero, set", func(t *testing.T, f fixture) {
			for _, maxAge := range []*int{nil, ptr(0), ptr(3600)} {
				r := storage.AuthRequest{
					ClientID: "c", RedirectURI: "https://c.example/cb", Scope: "openid profile", State: "st",
					Nonce: "n", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CodeChallengeMethod: "S256",
					ResponseMode: "form_post", Prompt: "login", MaxAge: maxAge, LoginHint: "marie",
					Claims: `{"id_token":{"acr":null}}`, ACRValues: "eidas2", ExpiresAt: t0.Add(10 * time.Minute),
					BrowserHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Source: "192.0.2.7",
					SPName: "Bases Adresses Locales", SiretHint: "21750001600019",
				}
				clk := startClock()
				must(t, f.s.CreateAuthRequest(f.ctx, &r))
				clk.check(t, "CreatedAt", r.CreatedAt)
				if r.ID == "" {
					t.Fatal("ID not set")
				}
				diff(t, r, get(f.s.GetAuthRequest(f.ctx, r.ID))(t))
				must(t, f.s.DeleteAuthRequest(f.ctx, r.ID))
				_, err := f.s.GetAuthRequest(f.ctx, r.ID)
				wantErr(t, err, storage.ErrNotFound)
				wantErr(t, f.s.DeleteAuthRequest(f.ctx, r.ID), storage.ErrNotFound)
			}
		}},
		{"duplicate ID is a conflict", func(t *testing.T, f fixture) {
			must(t, f.s.CreateAuthRequest(f.ctx, &storage.AuthRequest{ID: "r"}))
			wantErr(t, f.s.CreateAuthRequest(f.ctx, &storage.AuthRequest{ID: "r"}), storage.ErrConflict)
		}},
		{"count pending per source: unexpired only, that source only", func(t *testing.T, f fixture) {
			for i, r := range []struct {
				source string
				exp    time.Duration
			}{{"192.0.2.7", -time.Second}, {"192.0.2.7", 0}, {"192.0.2.7", time.Minute}, {"2001:db8::1", time.Minute}} {
				must(t, f.s.CreateAuthRequest(f.ctx, &storage.AuthRequest{ID: string(rune('a' + i)), Source: r.source, ExpiresAt: t0.Add(r.exp)}))
			}
			diff(t, 2, get(f.s.CountPendingAuthRequests(f.ctx, "192.0.2.7", t0))(t))
			diff(t, 1, get(f.s.CountPendingAuthRequests(f.ctx, "2001:db8::1", t0))(t))
			diff(t, 0, get(f.s.CountPendingAuthRequests(f.ctx, "198.51.100.1", t0))(t))
		}},
		{"delete expired: strictly before", func(t *testing.T, f fixture) {
			for i, exp := range []time.Duration{-time.Minute, 0, time.Minute} {
				must(t, f.s.CreateAuthRequest(f.ctx, &storage.AuthRequest{ID: string(rune('a' + i)), ExpiresAt: t0.Add(exp)}))
			}
			diff(t, 1, get(f.s.DeleteExpiredAuthRequests(f.ctx, t0))(t))
			_, err := f.s.GetAuthRequest(f.ctx, "a")
			wantErr(t, err, storage.ErrNotFound)
			get(f.s.GetAuthRequest(f.ctx, "b"))(t)
			get(f.s.GetAuthRequest(f.ctx, "c"))(t)
		}},
	}
}
