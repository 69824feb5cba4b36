package storagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func newPushedRequest(id, clientID string) storage.PushedRequest {
	return storage.PushedRequest{
		ID: id, ClientID: clientID,
		Params:    "client_id=" + clientID + "&redirect_uri=https%3A%2F%2Fc.example%2Fcb&response_type=code&scope=openid+profile&state=%C3%A9t%C3%A9",
		CreatedAt: t0, ExpiresAt: t0.Add(time.Minute),
	}
}

// winners runs n calls of fn at once and returns how many succeeded,
// failing the test on an error that does not wrap loser.
func winners(t *testing.T, n int, loser error, fn func(i int) error) int {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, loser):
			t.Errorf("err = %v, want nil or %v", err, loser)
		}
	}
	return won
}

func clientRequestTests() []test {
	return []test{
		{"pushed request: consume once returns it", func(t *testing.T, f fixture) {
			r := newPushedRequest("h", "c")
			must(t, f.s.CreatePushedRequest(f.ctx, &r))
			diff(t, r, get(f.s.ConsumePushedRequest(f.ctx, "h", "c"))(t))
			_, err := f.s.ConsumePushedRequest(f.ctx, "h", "c")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"pushed request: another client cannot consume it, nor spoil it", func(t *testing.T, f fixture) {
			r := newPushedRequest("h", "c")
			must(t, f.s.CreatePushedRequest(f.ctx, &r))
			_, err := f.s.ConsumePushedRequest(f.ctx, "h", "other")
			wantErr(t, err, storage.ErrNotFound)
			_, err = f.s.ConsumePushedRequest(f.ctx, "unknown", "c")
			wantErr(t, err, storage.ErrNotFound)
			diff(t, r, get(f.s.ConsumePushedRequest(f.ctx, "h", "c"))(t))
		}},
		{"pushed request: create sets CreatedAt; duplicate ID is a conflict; empty ID fails", func(t *testing.T, f fixture) {
			r := newPushedRequest("h", "c")
			r.CreatedAt = time.Time{}
			clk := startClock()
			must(t, f.s.CreatePushedRequest(f.ctx, &r))
			clk.check(t, "CreatedAt", r.CreatedAt)
			d := newPushedRequest("h", "d")
			wantErr(t, f.s.CreatePushedRequest(f.ctx, &d), storage.ErrConflict)
			if err := f.s.CreatePushedRequest(f.ctx, &storage.PushedRequest{ClientID: "c"}); err == nil {
				t.Error("CreatePushedRequest with an empty ID succeeded")
			}
		}},
		{"pushed request: concurrent consumers, exactly one wins", func(t *testing.T, f fixture) {
			for _, id := range []string{"h1", "h2", "h3"} {
				r := newPushedRequest(id, "c")
				must(t, f.s.CreatePushedRequest(f.ctx, &r))
				won := winners(t, 8, storage.ErrNotFound, func(int) error {
					_, err := f.s.ConsumePushedRequest(f.ctx, id, "c")
					return err
				})
				if won != 1 {
					t.Errorf("%s: %d winners, want exactly 1", id, won)
				}
			}
		}},
		{"client assertion: a jti once per client until it expires", func(t *testing.T, f fixture) {
			exp := t0.Add(time.Minute)
			must(t, f.s.UseClientAssertion(f.ctx, "c", "jti-1", exp, t0))
			wantErr(t, f.s.UseClientAssertion(f.ctx, "c", "jti-1", exp, t0.Add(time.Second)), storage.ErrAlreadyUsed)
			// A replay with a later expiry is a replay still.
			wantErr(t, f.s.UseClientAssertion(f.ctx, "c", "jti-1", exp.Add(time.Hour), exp.Add(-time.Microsecond)), storage.ErrAlreadyUsed)
			must(t, f.s.UseClientAssertion(f.ctx, "other", "jti-1", exp, t0)) // per client
			must(t, f.s.UseClientAssertion(f.ctx, "c", "jti-2", exp, t0))
			// Once the record expired, the jti may serve again, and is
			// remembered anew.
			must(t, f.s.UseClientAssertion(f.ctx, "c", "jti-1", exp.Add(time.Hour), exp))
			wantErr(t, f.s.UseClientAssertion(f.ctx, "c", "jti-1", exp.Add(time.Hour), exp.Add(time.Minute)), storage.ErrAlreadyUsed)
		}},
		{"client assertion: concurrent uses, exactly one wins", func(t *testing.T, f fixture) {
			for _, jti := range []string{"a", "b", "c"} {
				won := winners(t, 8, storage.ErrAlreadyUsed, func(int) error {
					return f.s.UseClientAssertion(f.ctx, "c", jti, t0.Add(time.Minute), t0)
				})
				if won != 1 {
					t.Errorf("%s: %d winners, want exactly 1", jti, won)
				}
			}
		}},
		{"delete expired: strictly before, both kinds", func(t *testing.T, f fixture) {
			for i, exp := range []time.Duration{-time.Minute, -time.Second, 0} {
				id := string(rune('a' + i))
				r := newPushedRequest(id, "c")
				r.ExpiresAt = t0.Add(exp)
				must(t, f.s.CreatePushedRequest(f.ctx, &r))
				must(t, f.s.UseClientAssertion(f.ctx, "c", id, t0.Add(exp), t0.Add(-time.Hour)))
			}
			diff(t, 4, get(f.s.DeleteExpiredClientRequests(f.ctx, t0))(t))
			diff(t, 0, get(f.s.DeleteExpiredClientRequests(f.ctx, t0))(t))
			_, err := f.s.ConsumePushedRequest(f.ctx, "a", "c")
			wantErr(t, err, storage.ErrNotFound)
			get(f.s.ConsumePushedRequest(f.ctx, "c", "c"))(t)
			// The record kept still detects a replay.
			wantErr(t, f.s.UseClientAssertion(f.ctx, "c", "c", t0, t0.Add(-time.Second)), storage.ErrAlreadyUsed)
			// The deleted ones are forgotten.
			must(t, f.s.UseClientAssertion(f.ctx, "c", "a", t0, t0.Add(-time.Hour)))
		}},
	}
}
