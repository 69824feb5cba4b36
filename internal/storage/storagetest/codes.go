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
		{"replay mark: unknown, unmarked, marked once", func(t *testing.T, f fixture) {
			wantErr(t, f.s.MarkAuthCodeReplayed(f.ctx, "nope", t0), storage.ErrNotFound)
			_, err := f.s.AuthCodeReplayed(f.ctx, "nope")
			wantErr(t, err, storage.ErrNotFound)
			c := newCode("h")
			must(t, f.s.CreateAuthCode(f.ctx, &c))
			diff(t, false, get(f.s.AuthCodeReplayed(f.ctx, "h"))(t))
			must(t, f.s.MarkAuthCodeReplayed(f.ctx, "h", t0))
			must(t, f.s.MarkAuthCodeReplayed(f.ctx, "h", t0.Add(time.Second)))
			diff(t, true, get(f.s.AuthCodeReplayed(f.ctx, "h"))(t))
			// The mark changes nothing else about the code.
			got, err := f.s.ConsumeAuthCode(f.ctx, "h", t0.Add(time.Minute))
			must(t, err)
			c.UsedAt = ptr(t0.Add(time.Minute))
			diff(t, c, got)
		}},
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
