package server

import (
	"context"
	"time"
)

// RunJanitor deletes expired authorization requests, codes, tokens and
// sessions every minute until ctx ends. Several instances may run it
// at once: deletions are idempotent. It also runs the back-channel logout
// sender (logout.Service.Run), which instances share through the database,
// and returns once the sender has stopped.
func (s *Server) RunJanitor(ctx context.Context) {
	sender := make(chan struct{})
	go func() { defer close(sender); s.Logout.Run(ctx) }()
	defer func() { <-sender }()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		s.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) sweep(ctx context.Context) {
	// Keep expired rows a day: a reused code must still be recognized as
	// reused (and revoke its tokens) for a while after it expired.
	// DeleteExpiredTokens also keeps spent refresh tokens while their
	// family lives, so that their reuse still revokes the family.
	before := s.now().UTC().Add(-24 * time.Hour)
	// A pending authorization request has nothing left to tell once it
	// expired: it goes at once, so that requests left unfinished on
	// purpose do not pile up.
	// Pending sign-ins likewise, and throttle counters whose window and
	// wait are over (with the devices no longer remembered).
	now := s.now().UTC()
	for name, f := range map[string]func(context.Context, time.Time) (int, error){
		"auth_requests":   s.store.DeleteExpiredAuthRequests,
		"sign_ins":        s.store.DeleteExpiredSignIns,
		"password_resets": s.store.DeleteExpiredPasswordResets,
		"throttles": func(ctx context.Context, t time.Time) (int, error) {
			n, err := s.store.DeleteThrottlesBefore(ctx, t)
			return int(n), err
		},
	} {
		if n, err := f(ctx, now); err != nil {
			s.log.WarnContext(ctx, "janitor", "table", name, "err", err)
		} else if n > 0 {
			s.log.DebugContext(ctx, "janitor", "table", name, "deleted", n)
		}
	}
	for name, f := range map[string]func(context.Context, time.Time) (int, error){
		"auth_codes":        s.store.DeleteExpiredAuthCodes,
		"tokens":            s.store.DeleteExpiredTokens,
		"sessions":          s.store.DeleteExpiredSessions,
		"logout_deliveries": s.store.DeleteFinishedLogoutDeliveries,
		"client_requests":   s.store.DeleteExpiredClientRequests,
	} {
		if n, err := f(ctx, before); err != nil {
			s.log.WarnContext(ctx, "janitor", "table", name, "err", err)
		} else if n > 0 {
			s.log.DebugContext(ctx, "janitor", "table", name, "deleted", n)
		}
	}
}
