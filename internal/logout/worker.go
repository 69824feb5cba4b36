package logout

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// NewHTTPClient returns the client that POSTs logout tokens: its own
// transport (proxy from the environment, TLS ≥ 1.2), every phase bounded
// by timeout, and redirects never followed (a 3xx is a failed delivery:
// the token must reach the registered URI only).
func NewHTTPClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: noRedirect}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Wake makes Run look for due deliveries now. It never blocks.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends due back-channel deliveries until ctx ends: at once, when
// woken, and every PollInterval (deliveries queued by other instances,
// retries). Several instances may run it on one database: each delivery
// is claimed by one sender at a time.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.poll)
	defer t.Stop()
	for {
		if _, err := s.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "back-channel logout: claim deliveries", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// maxBatches bounds one DeliverDue pass (against a clock that stands still
// while deliveries keep failing at once).
const maxBatches = 64

// DeliverDue claims and sends the deliveries due now, batch after batch,
// and returns how many it attempted. Run calls it; tests and one-shot
// commands may too.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	total := 0
	for range maxBatches {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		now := s.now().UTC()
		ds, err := s.store.ClaimLogoutDeliveries(ctx, now, now.Add(s.lease), s.batch)
		if err != nil {
			return total, err
		}
		if len(ds) == 0 {
			break
		}
		var wg sync.WaitGroup
		for _, d := range ds {
			wg.Go(func() { s.deliver(ctx, d) })
		}
		wg.Wait()
		total += len(ds)
	}
	return total, nil
}

// reuseMargin: a queued token is re-minted when it would expire within
// this margin, so that the application receives a valid one.
const reuseMargin = 30 * time.Second

// deliver POSTs one logout token and records the outcome. It ignores the
// cancellation of ctx (its work is bounded by RequestTimeout): a delivery
// under way when shutdown begins is finished and recorded, not sent again
// later.
func (s *Service) deliver(ctx context.Context, d storage.LogoutDelivery) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout+5*time.Second)
	defer cancel()
	now := s.now().UTC()
	tok := d.Token
	var err error
	if tok == "" || !now.Before(d.CreatedAt.Add(TokenLifetime-reuseMargin)) {
		tok, err = s.mint(ctx, d.ClientID, d.Subject, d.SID, now)
	}
	if err == nil {
		err = s.post(ctx, d.URI, tok)
	}
	if err == nil {
		if err := s.store.CompleteLogoutDelivery(ctx, d.ID, s.now().UTC()); err != nil {
			s.log.WarnContext(ctx, "back-channel logout: record delivery", "client_id", d.ClientID, "err", err)
			return
		}
		s.log.InfoContext(ctx, "back-channel logout delivered", "client_id", d.ClientID, "attempts", d.Attempts)
		return
	}
	msg := truncate(err.Error(), 500)
	now = s.now().UTC()
	next := now.Add(s.delay(d.Attempts))
	if next.After(d.CreatedAt.Add(s.giveUp)) {
		if err := s.store.FailLogoutDelivery(ctx, d.ID, now, msg); err != nil && !errors.Is(err, storage.ErrNotFound) {
			s.log.WarnContext(ctx, "back-channel logout: record failure", "client_id", d.ClientID, "err", err)
		}
		s.log.ErrorContext(ctx, "back-channel logout abandoned", "client_id", d.ClientID,
			"attempts", d.Attempts, "queued_at", d.CreatedAt, "err", msg)
		return
	}
	if err := s.store.RetryLogoutDelivery(ctx, d.ID, next, msg); err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.WarnContext(ctx, "back-channel logout: schedule retry", "client_id", d.ClientID, "err", err)
	}
	s.log.WarnContext(ctx, "back-channel logout failed, will retry", "client_id", d.ClientID,
		"attempts", d.Attempts, "next_attempt_at", next, "err", msg)
}

// delay returns the wait after the attempts-th failed attempt.
func (s *Service) delay(attempts int) time.Duration {
	i := min(max(attempts-1, 0), len(s.backoff)-1)
	return s.backoff[i]
}

// post sends logout_token to uri (Back-Channel Logout 1.0 section 2.5):
// any 2xx is a delivery.
func (s *Service) post(ctx context.Context, uri, token string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cache-Control", "no-store")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			return fmt.Errorf("HTTP %d (redirects are not followed)", resp.StatusCode)
		}
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// truncate cuts s to at most n bytes, on a character boundary (the column
// is UTF-8 text).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
