package oidc

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// Limits on what an unauthenticated caller can make TNO store: every
// authorization request is kept server-side until the person finishes
// signing in or it expires.
const (
	// maxFormBytes bounds every form body the browser endpoints read.
	maxFormBytes = 16 << 10
	// maxStoredRequest bounds the caller-chosen bytes one pending request
	// stores (state, nonce, claims, hints, scope, redirect URI).
	maxStoredRequest = 4 << 10
	// floodSlowAfter pending requests from one address, each new one waits
	// floodStep more, up to floodMaxDelay; from floodRefuseAfter on, new
	// ones are refused (temporarily_unavailable) until some expire or
	// finish. A whole town hall behind one address signing in at 9 o'clock
	// finishes its requests, which deletes them: it stays far below.
	floodSlowAfter   = 200
	floodRefuseAfter = 5000
	floodStep        = 5 * time.Millisecond
	floodMaxDelay    = 2 * time.Second
)

// floodLimits are the thresholds slowFlood applies (tests lower them).
// The count of an address's pending requests is read from the database at
// most once per refresh (every instance sees every instance's requests),
// and counted up in memory in between: a signed-in person's single
// sign-on costs no extra query.
type floodLimits struct {
	slowAfter, refuseAfter int
	step, maxDelay         time.Duration
	refresh                time.Duration
}

func defaultFloodLimits() floodLimits {
	return floodLimits{floodSlowAfter, floodRefuseAfter, floodStep, floodMaxDelay, time.Second}
}

// floodCounts caches the pending requests of each address.
type floodCounts struct {
	mu sync.Mutex
	m  map[string]floodCount
}

type floodCount struct {
	n  int
	at time.Time // when n was read from the database
}

// maxFloodAddresses bounds the cache: past it, stale entries are dropped.
const maxFloodAddresses = 10000

// pending returns the pending requests of source, not counting the one
// about to be stored: from the cache while it is fresh and below the
// slowing threshold, else from the database.
func (p *Provider) pending(ctx context.Context, source string, now time.Time) (int, error) {
	fc := &p.floodCounts
	fc.mu.Lock()
	c, ok := fc.m[source]
	// The estimate only grows between reads (finished requests are not
	// subtracted): once it reaches the slowing threshold, the database
	// decides.
	if ok && c.n < p.flood.slowAfter && now.Sub(c.at) < p.flood.refresh && !now.Before(c.at) {
		c.n++
		fc.m[source] = c
		fc.mu.Unlock()
		return c.n - 1, nil
	}
	fc.mu.Unlock()
	n, err := p.store.CountPendingAuthRequests(ctx, source, now)
	if err != nil {
		return 0, err
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.m == nil {
		fc.m = map[string]floodCount{}
	}
	if len(fc.m) >= maxFloodAddresses {
		for k, v := range fc.m {
			if now.Sub(v.at) >= p.flood.refresh {
				delete(fc.m, k)
			}
		}
	}
	if len(fc.m) < maxFloodAddresses {
		fc.m[source] = floodCount{n: n + 1, at: now}
	}
	return n, nil
}

// storedSize is the number of caller-chosen bytes req stores.
func storedSize(req storage.AuthRequest) int {
	return len(req.RedirectURI) + len(req.Scope) + len(req.State) + len(req.Nonce) +
		len(req.Prompt) + len(req.LoginHint) + len(req.Claims) + len(req.ACRValues) + len(req.SPName)
}

// clientAddress is the address a request came from: the IP address of
// the peer (a reverse proxy in front of TNO is that peer, for now).
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// slowFlood slows an address that keeps many authorization requests
// pending, and refuses new ones past floodRefuseAfter. It returns the
// error to send back, nil to go on.
func (p *Provider) slowFlood(r *http.Request, source string, now time.Time) *oauthError {
	ctx := r.Context()
	n, err := p.pending(ctx, source, now)
	if err != nil {
		// Counting is a defence, not a condition of service.
		p.log.WarnContext(ctx, "authorize: count pending requests", "err", err)
		return nil
	}
	lim := p.flood
	if n < lim.slowAfter {
		return nil
	}
	if n >= lim.refuseAfter {
		p.log.WarnContext(ctx, "authorize: too many pending requests from one address", "source", source, "pending", n)
		return errTemporarilyUnavailable("too many sign-ins pending from this address; try again later")
	}
	delay := min(time.Duration(n-lim.slowAfter+1)*lim.step, lim.maxDelay)
	p.log.InfoContext(ctx, "authorize: slowing an address", "source", source, "pending", n, "delay", delay)
	sleep(ctx, delay)
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
