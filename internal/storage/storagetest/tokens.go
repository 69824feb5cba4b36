package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func newToken(hash, kind, codeHash string) storage.Token {
	return storage.Token{
		Hash: hash, Kind: kind, ClientID: "c", PersonID: "p", MembershipID: "m", SessionID: "s",
		Scope: "openid", CodeHash: codeHash, AuthTime: t0, CreatedAt: t0,
		ExpiresAt: t0.Add(time.Hour),
	}
}

// inFamily returns a token of family fam.
func inFamily(hash, kind, fam string) storage.Token {
	t := newToken(hash, kind, "")
	t.FamilyID = fam
	return t
}

func tokenTests() []test {
	return []test{
		{"create and get, revoked and used ones included", func(t *testing.T, f fixture) {
			a := newToken("a", storage.TokenAccess, "code")
			a.AMR = []string{"pwd", "otp"}
			a.ACR, a.Claims = "eidas2", `{"userinfo":{"amr":null}}`
			r := inFamily("r", storage.TokenRefresh, "fam")
			r.RevokedAt, r.UsedAt = ptr(t0), ptr(t0.Add(time.Second))
			r.AMR = []string{}
			c := newToken("c", storage.TokenAccess, "")
			c.PersonID, c.MembershipID, c.SessionID = "", "", "" // client_credentials
			for _, tok := range []*storage.Token{&a, &r, &c} {
				must(t, f.s.CreateToken(f.ctx, tok))
				diff(t, *tok, get(f.s.GetToken(f.ctx, tok.Hash))(t))
			}
			_, err := f.s.GetToken(f.ctx, "nope")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"create sets CreatedAt if zero; duplicate hash is a conflict; empty hash fails", func(t *testing.T, f fixture) {
			a := newToken("a", storage.TokenAccess, "")
			a.CreatedAt = time.Time{}
			clk := startClock()
			must(t, f.s.CreateToken(f.ctx, &a))
			clk.check(t, "CreatedAt", a.CreatedAt)
			wantErr(t, f.s.CreateToken(f.ctx, &a), storage.ErrConflict)
			if err := f.s.CreateToken(f.ctx, &storage.Token{}); err == nil {
				t.Error("CreateToken with an empty hash succeeded")
			}
		}},
		{"revoke keeps the first revocation", func(t *testing.T, f fixture) {
			a := newToken("a", storage.TokenAccess, "")
			must(t, f.s.CreateToken(f.ctx, &a))
			must(t, f.s.RevokeToken(f.ctx, "a", t0.Add(time.Minute)))
			must(t, f.s.RevokeToken(f.ctx, "a", t0.Add(time.Hour)))
			a.RevokedAt = ptr(t0.Add(time.Minute))
			diff(t, a, get(f.s.GetToken(f.ctx, "a"))(t))
			wantErr(t, f.s.RevokeToken(f.ctx, "nope", t0), storage.ErrNotFound)
		}},
		{"revoke by code", func(t *testing.T, f fixture) {
			toks := []storage.Token{
				newToken("a1", storage.TokenAccess, "code-a"),
				newToken("a2", storage.TokenRefresh, "code-a"),
				newToken("a3", storage.TokenAccess, "code-a"), // already revoked: kept as is
				newToken("b1", storage.TokenAccess, "code-b"),
				newToken("n1", storage.TokenAccess, ""), // not from a code
			}
			toks[2].RevokedAt = ptr(t0)
			for i := range toks {
				must(t, f.s.CreateToken(f.ctx, &toks[i]))
			}
			at := t0.Add(time.Minute)
			diff(t, 2, get(f.s.RevokeTokensByCode(f.ctx, "code-a", at))(t))
			diff(t, 0, get(f.s.RevokeTokensByCode(f.ctx, "code-a", at.Add(time.Minute)))(t))
			diff(t, 0, get(f.s.RevokeTokensByCode(f.ctx, "", at))(t))
			diff(t, 0, get(f.s.RevokeTokensByCode(f.ctx, "nope", at))(t))
			toks[0].RevokedAt, toks[1].RevokedAt = ptr(at), ptr(at)
			for _, want := range toks {
				diff(t, want, get(f.s.GetToken(f.ctx, want.Hash))(t))
			}
		}},
		{"revoke session tokens spares offline_access", func(t *testing.T, f fixture) {
			toks := []storage.Token{
				newToken("s1", storage.TokenAccess, ""),
				newToken("s2", storage.TokenRefresh, ""),
				newToken("s3", storage.TokenAccess, ""),  // offline_access: outlives the session
				newToken("s4", storage.TokenRefresh, ""), // offline_access too
				newToken("o1", storage.TokenAccess, ""),  // another session
			}
			toks[1].Scope = "openid offline_accessx" // a look-alike scope is no offline_access
			toks[2].Scope = "openid offline_access profile"
			toks[3].Scope = "offline_access"
			toks[4].SessionID = "other"
			for i := range toks {
				must(t, f.s.CreateToken(f.ctx, &toks[i]))
			}
			at := t0.Add(time.Minute)
			diff(t, 2, get(f.s.RevokeSessionTokens(f.ctx, "s", at))(t))
			diff(t, 0, get(f.s.RevokeSessionTokens(f.ctx, "s", at.Add(time.Minute)))(t))
			diff(t, 0, get(f.s.RevokeSessionTokens(f.ctx, "", at))(t))
			toks[0].RevokedAt, toks[1].RevokedAt = ptr(at), ptr(at)
			for _, want := range toks {
				diff(t, want, get(f.s.GetToken(f.ctx, want.Hash))(t))
			}
		}},
		{"revoke a person's tokens for one client", func(t *testing.T, f fixture) {
			toks := []storage.Token{
				newToken("a1", storage.TokenAccess, ""),
				inFamily("r1", storage.TokenRefresh, "fam"),
				newToken("o1", storage.TokenRefresh, ""), // offline_access: revoked too
				newToken("x1", storage.TokenAccess, ""),  // another client
				newToken("y1", storage.TokenAccess, ""),  // another person
				newToken("k1", storage.TokenAccess, ""),  // client_credentials of the same client
				newToken("z1", storage.TokenAccess, ""),  // already revoked
			}
			toks[2].Scope = "openid offline_access"
			toks[3].ClientID = "other"
			toks[4].PersonID = "q"
			toks[5].PersonID, toks[5].MembershipID, toks[5].SessionID = "", "", ""
			toks[6].RevokedAt = ptr(t0)
			for i := range toks {
				must(t, f.s.CreateToken(f.ctx, &toks[i]))
			}
			at := t0.Add(time.Minute)
			diff(t, 3, get(f.s.RevokePersonClientTokens(f.ctx, "p", "c", at))(t))
			diff(t, 0, get(f.s.RevokePersonClientTokens(f.ctx, "p", "c", at.Add(time.Minute)))(t))
			diff(t, 0, get(f.s.RevokePersonClientTokens(f.ctx, "", "c", at))(t))
			diff(t, 0, get(f.s.RevokePersonClientTokens(f.ctx, "p", "", at))(t))
			for i := range 3 {
				toks[i].RevokedAt = ptr(at)
			}
			for _, want := range toks {
				diff(t, want, get(f.s.GetToken(f.ctx, want.Hash))(t))
			}
		}},
		{"revoke every token of a client", func(t *testing.T, f fixture) {
			toks := []storage.Token{
				newToken("a1", storage.TokenAccess, ""),
				inFamily("r1", storage.TokenRefresh, "fam"),
				newToken("k1", storage.TokenAccess, ""), // client_credentials
				newToken("x1", storage.TokenAccess, ""), // another client
			}
			toks[2].PersonID, toks[2].MembershipID, toks[2].SessionID = "", "", ""
			toks[3].ClientID = "other"
			for i := range toks {
				must(t, f.s.CreateToken(f.ctx, &toks[i]))
			}
			at := t0.Add(time.Minute)
			diff(t, 3, get(f.s.RevokeClientTokens(f.ctx, "c", at))(t))
			diff(t, 0, get(f.s.RevokeClientTokens(f.ctx, "c", at))(t))
			diff(t, 0, get(f.s.RevokeClientTokens(f.ctx, "", at))(t))
			for i := range 3 {
				toks[i].RevokedAt = ptr(at)
			}
			for _, want := range toks {
				diff(t, want, get(f.s.GetToken(f.ctx, want.Hash))(t))
			}
		}},
		{"revoke by code reaches the families the code started", func(t *testing.T, f fixture) {
			first := inFamily("r1", storage.TokenRefresh, "fam-a")
			first.CodeHash = "code-a"
			toks := []storage.Token{
				first,
				inFamily("at1", storage.TokenAccess, "fam-a"), // issued with r1, no code hash
				inFamily("r2", storage.TokenRefresh, "fam-a"), // rotated from r1
				inFamily("at2", storage.TokenAccess, "fam-a"),
				inFamily("other", storage.TokenRefresh, "fam-b"), // another family
				newToken("plain", storage.TokenAccess, ""),       // no family, no code
			}
			toks[0].UsedAt = ptr(t0)
			for i := range toks {
				must(t, f.s.CreateToken(f.ctx, &toks[i]))
			}
			at := t0.Add(time.Minute)
			diff(t, 4, get(f.s.RevokeTokensByCode(f.ctx, "code-a", at))(t))
			for i := range 4 {
				toks[i].RevokedAt = ptr(at)
			}
			for _, want := range toks {
				diff(t, want, get(f.s.GetToken(f.ctx, want.Hash))(t))
			}
		}},
		{"delete expired: strictly before", func(t *testing.T, f fixture) {
			for i, exp := range []time.Duration{-time.Hour, -time.Microsecond, 0, time.Hour} {
				tok := newToken(string(rune('a'+i)), storage.TokenAccess, "")
				tok.ExpiresAt = t0.Add(exp)
				must(t, f.s.CreateToken(f.ctx, &tok))
			}
			diff(t, 2, get(f.s.DeleteExpiredTokens(f.ctx, t0))(t))
			for id, want := range map[string]error{"a": storage.ErrNotFound, "b": storage.ErrNotFound, "c": nil, "d": nil} {
				if _, err := f.s.GetToken(f.ctx, id); !errorIs(err, want) {
					t.Errorf("GetToken(%s) = %v, want %v", id, err, want)
				}
			}
		}},
		{"delete expired keeps the refresh tokens of a live family", func(t *testing.T, f fixture) {
			mk := func(hash, kind, fam string, exp time.Duration, used bool) {
				tok := inFamily(hash, kind, fam)
				tok.ExpiresAt = t0.Add(exp)
				if used {
					tok.UsedAt = ptr(t0.Add(exp - time.Minute))
				}
				must(t, f.s.CreateToken(f.ctx, &tok))
			}
			mk("live-used", storage.TokenRefresh, "live", -time.Hour, true) // kept: its family lives
			mk("live-access", storage.TokenAccess, "live", -time.Hour, false)
			mk("live-current", storage.TokenRefresh, "live", time.Hour, false)
			mk("edge-used", storage.TokenRefresh, "edge", -time.Hour, true) // kept: a token expires at before
			mk("edge-current", storage.TokenRefresh, "edge", 0, false)
			mk("dead-used", storage.TokenRefresh, "dead", -2*time.Hour, true)
			mk("dead-last", storage.TokenRefresh, "dead", -time.Hour, false)
			mk("dead-access", storage.TokenAccess, "dead", -time.Hour, false)
			diff(t, 4, get(f.s.DeleteExpiredTokens(f.ctx, t0))(t))
			for id, want := range map[string]error{
				"live-used": nil, "live-access": storage.ErrNotFound, "live-current": nil,
				"edge-used": nil, "edge-current": nil,
				"dead-used": storage.ErrNotFound, "dead-last": storage.ErrNotFound, "dead-access": storage.ErrNotFound,
			} {
				if _, err := f.s.GetToken(f.ctx, id); !errorIs(err, want) {
					t.Errorf("GetToken(%s) = %v, want %v", id, err, want)
				}
			}
		}},
		{"use refresh token once returns it, used", func(t *testing.T, f fixture) {
			r := inFamily("r", storage.TokenRefresh, "fam")
			r.AMR = []string{"pwd"}
			must(t, f.s.CreateToken(f.ctx, &r))
			got, err := f.s.UseRefreshToken(f.ctx, "r", t0.Add(time.Second))
			must(t, err)
			r.UsedAt = ptr(t0.Add(time.Second))
			diff(t, r, got)
			diff(t, r, get(f.s.GetToken(f.ctx, "r"))(t))
		}},
		{"use refresh token twice is already used, with the token and first UsedAt", func(t *testing.T, f fixture) {
			r := inFamily("r", storage.TokenRefresh, "fam")
			must(t, f.s.CreateToken(f.ctx, &r))
			get(f.s.UseRefreshToken(f.ctx, "r", t0.Add(time.Second)))(t)
			got, err := f.s.UseRefreshToken(f.ctx, "r", t0.Add(time.Minute))
			wantErr(t, err, storage.ErrAlreadyUsed)
			r.UsedAt = ptr(t0.Add(time.Second))
			diff(t, r, got)
		}},
		{"use refresh token: unknown and access tokens are not found", func(t *testing.T, f fixture) {
			_, err := f.s.UseRefreshToken(f.ctx, "nope", t0)
			wantErr(t, err, storage.ErrNotFound)
			a := inFamily("a", storage.TokenAccess, "fam")
			must(t, f.s.CreateToken(f.ctx, &a))
			_, err = f.s.UseRefreshToken(f.ctx, "a", t0)
			wantErr(t, err, storage.ErrNotFound)
			diff(t, a, get(f.s.GetToken(f.ctx, "a"))(t)) // not marked used
		}},
		{"use refresh token returns an expired one: the caller checks", func(t *testing.T, f fixture) {
			r := inFamily("r", storage.TokenRefresh, "fam")
			r.ExpiresAt = t0.Add(-time.Hour)
			must(t, f.s.CreateToken(f.ctx, &r))
			got, err := f.s.UseRefreshToken(f.ctx, "r", t0.Add(time.Second))
			must(t, err)
			r.UsedAt = ptr(t0.Add(time.Second))
			diff(t, r, got)
		}},
		{"use refresh token: a revoked one is not found, and stays unused", func(t *testing.T, f fixture) {
			r := inFamily("r", storage.TokenRefresh, "fam")
			r.RevokedAt = ptr(t0)
			must(t, f.s.CreateToken(f.ctx, &r))
			_, err := f.s.UseRefreshToken(f.ctx, "r", t0.Add(time.Second))
			wantErr(t, err, storage.ErrNotFound)
			diff(t, r, get(f.s.GetToken(f.ctx, "r"))(t))
		}},
		{"rotate spends the token and stores the next ones", func(t *testing.T, f fixture) {
			r := inFamily("r", storage.TokenRefresh, "fam")
			must(t, f.s.CreateToken(f.ctx, &r))
			na, nr := inFamily("na", storage.TokenAccess, "fam"), inFamily("nr", storage.TokenRefresh, "fam")
			got, err := f.s.RotateRefreshToken(f.ctx, "r", t0.Add(time.Second), &na, &nr)
			must(t, err)
			r.UsedAt = ptr(t0.Add(time.Second))
			diff(t, r, got)
			diff(t, r, get(f.s.GetToken(f.ctx, "r"))(t))
			diff(t, na, get(f.s.GetToken(f.ctx, "na"))(t))
			diff(t, nr, get(f.s.GetToken(f.ctx, "nr"))(t))
		}},
		{"rotate stores nothing when the token is used, revoked or unknown", func(t *testing.T, f fixture) {
			used := inFamily("used", storage.TokenRefresh, "fam")
			used.UsedAt = ptr(t0)
			revoked := inFamily("revoked", storage.TokenRefresh, "fam")
			revoked.RevokedAt = ptr(t0)
			must(t, f.s.CreateToken(f.ctx, &used))
			must(t, f.s.CreateToken(f.ctx, &revoked))
			for hash, want := range map[string]error{"used": storage.ErrAlreadyUsed, "revoked": storage.ErrNotFound, "nope": storage.ErrNotFound} {
				n := inFamily("next-"+hash, storage.TokenRefresh, "fam")
				got, err := f.s.RotateRefreshToken(f.ctx, hash, t0.Add(time.Second), &n)
				wantErr(t, err, want)
				if want == storage.ErrAlreadyUsed {
					diff(t, used, got)
				}
				_, err = f.s.GetToken(f.ctx, n.Hash)
				wantErr(t, err, storage.ErrNotFound)
			}
		}},
		{"rotate is all or nothing", func(t *testing.T, f fixture) {
			r := inFamily("r", storage.TokenRefresh, "fam")
			taken := inFamily("taken", storage.TokenAccess, "fam")
			must(t, f.s.CreateToken(f.ctx, &r))
			must(t, f.s.CreateToken(f.ctx, &taken))
			fresh, dup := inFamily("fresh", storage.TokenAccess, "fam"), inFamily("taken", storage.TokenRefresh, "fam")
			_, err := f.s.RotateRefreshToken(f.ctx, "r", t0, &fresh, &dup)
			wantErr(t, err, storage.ErrConflict)
			diff(t, r, get(f.s.GetToken(f.ctx, "r"))(t)) // not spent
			_, err = f.s.GetToken(f.ctx, "fresh")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"rotation racing a family revocation: nothing of the family survives", func(t *testing.T, f fixture) {
			for i := range 20 {
				fam := fmt.Sprintf("fam%d", i)
				r := inFamily(fam+"-r", storage.TokenRefresh, fam)
				must(t, f.s.CreateToken(f.ctx, &r))
				next := inFamily(fam+"-next", storage.TokenRefresh, fam)
				var wg sync.WaitGroup
				var rotErr, revErr error
				wg.Go(func() { _, rotErr = f.s.RotateRefreshToken(f.ctx, r.Hash, t0, &next) })
				wg.Go(func() { _, revErr = f.s.RevokeTokenFamily(f.ctx, fam, t0) })
				wg.Wait()
				must(t, revErr)
				if rotErr != nil && !errors.Is(rotErr, storage.ErrNotFound) {
					t.Fatalf("rotate: %v", rotErr)
				}
				got, err := f.s.GetToken(f.ctx, next.Hash)
				switch {
				case rotErr != nil && !errors.Is(err, storage.ErrNotFound):
					t.Errorf("%s: rotation failed (%v) but stored %+v", fam, rotErr, got)
				case rotErr == nil && (err != nil || got.RevokedAt == nil):
					t.Errorf("%s: the rotated token survived the family revocation: %+v, %v", fam, got, err)
				}
			}
		}},
		{"concurrent refresh: exactly one wins", func(t *testing.T, f fixture) {
			for _, h := range []string{"r1", "r2", "r3"} {
				r := inFamily(h, storage.TokenRefresh, "fam-"+h)
				must(t, f.s.CreateToken(f.ctx, &r))
				const n = 8
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						_, errs[i] = f.s.UseRefreshToken(f.ctx, h, t0.Add(time.Duration(i+1)*time.Second))
					})
				}
				wg.Wait()
				won := 0
				for _, err := range errs {
					switch {
					case err == nil:
						won++
					case !errors.Is(err, storage.ErrAlreadyUsed):
						t.Errorf("UseRefreshToken(%s) = %v, want nil or ErrAlreadyUsed", h, err)
					}
				}
				if won != 1 {
					t.Errorf("%s: %d winners, want exactly 1", h, won)
				}
			}
		}},
		{"revoke family: refresh and access tokens of the family only", func(t *testing.T, f fixture) {
			toks := []storage.Token{
				inFamily("r1", storage.TokenRefresh, "fam"),
				inFamily("a1", storage.TokenAccess, "fam"),
				inFamily("r2", storage.TokenRefresh, "fam"),
				inFamily("a2", storage.TokenAccess, "fam"), // already revoked: kept as is
				inFamily("o1", storage.TokenRefresh, "other"),
				newToken("n1", storage.TokenAccess, ""), // no family
			}
			toks[0].UsedAt = ptr(t0)
			toks[3].RevokedAt = ptr(t0)
			for i := range toks {
				must(t, f.s.CreateToken(f.ctx, &toks[i]))
			}
			at := t0.Add(time.Minute)
			diff(t, 3, get(f.s.RevokeTokenFamily(f.ctx, "fam", at))(t))
			diff(t, 0, get(f.s.RevokeTokenFamily(f.ctx, "fam", at.Add(time.Minute)))(t))
			diff(t, 0, get(f.s.RevokeTokenFamily(f.ctx, "", at))(t))
			diff(t, 0, get(f.s.RevokeTokenFamily(f.ctx, "nope", at))(t))
			for i := range 3 {
				toks[i].RevokedAt = ptr(at)
			}
			for _, want := range toks {
				diff(t, want, get(f.s.GetToken(f.ctx, want.Hash))(t))
			}
		}},
	}
}
