package storagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func newCode(hash string) storage.AuthCode {
	return storage.AuthCode{
		Hash: hash, ClientID: "c", PersonID: "p", MembershipID: "m", SessionID: "s",
		RedirectURI: "https://c.example/cb", Scope: "openid organization", Nonce: "n",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CodeChallengeMethod: "S256",
		Claims: `{"userinfo":{"email":null}}`, AuthTime: t0, AMR: []string{"pwd", "otp"}, ACR: "eidas2",
		CreatedAt: t0, ExpiresAt: t0.Add(time.Minute),
	}
}

func authCodeTests() []test {
	return []test{
		{"consume once returns the code, used", func(t *testing.T, f fixture) {
			c := newCode("h")
			must(t, f.s.CreateAuthCode(f.ctx, &c))
			got, err := f.s.ConsumeAuthCode(f.ctx, "h", t0.Add(time.Second))
			must(t, err)
			c.UsedAt = ptr(t0.Add(time.Second))
			diff(t, c, got)
		}},
		{"consume twice is already used, with the code and first UsedAt", func(t *testing.T, f fixture) {
			c := newCode("h")
			c.AMR = nil
			must(t, f.s.CreateAuthCode(f.ctx, &c))
			get(f.s.ConsumeAuthCode(f.ctx, "h", t0.Add(time.Second)))(t)
			got, err := f.s.ConsumeAuthCode(f.ctx, "h", t0.Add(time.Minute))
			wantErr(t, err, storage.ErrAlreadyUsed)
			c.UsedAt = ptr(t0.Add(time.Second))
			diff(t, c, got)
		}},
		{"consume unknown is not found", func(t *testing.T, f fixture) {
			_, err := f.s.ConsumeAuthCode(f.ctx, "nope", t0)
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"concurrent consumers: exactly one wins", func(t *testing.T, f fixture) {
			for _, h := range []string{"h1", "h2", "h3"} {
				c := newCode(h)
				must(t, f.s.CreateAuthCode(f.ctx, &c))
				const n = 8
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						_, errs[i] = f.s.ConsumeAuthCode(f.ctx, h, t0.Add(time.Duration(i+1)*time.Second))
					})
				}
				wg.Wait()
				won := 0
				for _, err := range errs {
					switch {
					case err == nil:
						won++
					case !errors.Is(err, storage.ErrAlreadyUsed):
						t.Errorf("ConsumeAuthCode(%s) = %v, want nil or ErrAlreadyUsed", h, err)
					}
				}
				if won != 1 {
					t.Errorf("%s: %d winners, want exactly 1", h, won)
				}
			}
		}},
		{"create sets CreatedAt if zero; duplicate hash is a conflict; empty hash fails", func(t *testing.T, f fixture) {
			c := newCode("h")
			c.CreatedAt = time.Time{}
			clk := startClock()
			must(t, f.s.CreateAuthCode(f.ctx, &c))
			clk.check(t, "CreatedAt", c.CreatedAt)
			d := newCode("h")
			wantErr(t, f.s.CreateAuthCode(f.ctx, &d), storage.ErrConflict)
			if err := f.s.CreateAuthCode(f.ctx, &storage.AuthCode{}); err == nil {
				t.Error("CreateAuthCode with an empty hash succeeded")
			}
		}},
		{"delete expired: strictly before, used or not", func(t *testing.T, f fixture) {
			for i, exp := range []time.Duration{-time.Minute, -time.Second, 0} {
				c := newCode(string(rune('a' + i)))
				c.ExpiresAt = t0.Add(exp)
				must(t, f.s.CreateAuthCode(f.ctx, &c))
			}
			get(f.s.ConsumeAuthCode(f.ctx, "a", t0))(t)
			diff(t, 2, get(f.s.DeleteExpiredAuthCodes(f.ctx, t0))(t))
			_, err := f.s.ConsumeAuthCode(f.ctx, "a", t0)
			wantErr(t, err, storage.ErrNotFound)
			get(f.s.ConsumeAuthCode(f.ctx, "c", t0))(t)
		}},
	}
}

func newToken(hash, kind, codeHash string) storage.Token {
	return storage.Token{
		Hash: hash, Kind: kind, ClientID: "c", PersonID: "p", MembershipID: "m", SessionID: "s",
		Scope: "openid", CodeHash: codeHash, FamilyID: "fam", AuthTime: t0, CreatedAt: t0,
		ExpiresAt: t0.Add(time.Hour),
	}
}

func tokenTests() []test {
	return []test{
		{"create and get, revoked ones included", func(t *testing.T, f fixture) {
			a := newToken("a", storage.TokenAccess, "code")
			r := newToken("r", storage.TokenRefresh, "")
			r.RevokedAt = ptr(t0)
			for _, tok := range []*storage.Token{&a, &r} {
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
	}
}
