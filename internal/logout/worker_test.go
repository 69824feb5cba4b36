package logout

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// queue ends a session that signed into "rp" and returns the queued
// delivery.
func (e *env) queue(id string) storage.LogoutDelivery {
	e.t.Helper()
	e.session(id, "p", "rp")
	if _, err := e.svc.EndSession(e.t.Context(), id, ReasonAdmin); err != nil {
		e.t.Fatal(err)
	}
	for _, d := range e.deliveries("rp") {
		if d.SID == "sid-"+id {
			return d
		}
	}
	e.t.Fatal("no delivery queued")
	return storage.LogoutDelivery{}
}

func (e *env) get(id string) storage.LogoutDelivery {
	e.t.Helper()
	d, err := e.store.GetLogoutDelivery(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) deliverDue() int {
	e.t.Helper()
	n, err := e.svc.DeliverDue(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestDeliverOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		delivered bool
		lastError string
	}{
		{"200 delivered", http.StatusOK, true, ""},
		{"204 delivered", http.StatusNoContent, true, ""},
		{"400 retried", http.StatusBadRequest, false, "HTTP 400"},
		{"500 retried", http.StatusInternalServerError, false, "HTTP 500"},
		{"redirect not followed", http.StatusFound, false, "HTTP 302 (redirects are not followed)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rp := newRP(t, tc.status)
			e := newEnv(t)
			e.app("rp", storage.ClientSettings{BackchannelLogoutURI: rp.srv.URL + "/bc"})
			d := e.queue("s1")
			if n := e.deliverDue(); n != 1 {
				t.Fatalf("DeliverDue attempted %d, want 1", n)
			}
			got := e.get(d.ID)
			if (got.DeliveredAt != nil) != tc.delivered || got.LastError != tc.lastError || got.Attempts != 1 || !got.ClaimedUntil.IsZero() {
				t.Errorf("delivery = %+v; want delivered %v, last error %q", got, tc.delivered, tc.lastError)
			}
			if !tc.delivered && !got.NextAttemptAt.Equal(e.clock.now().Add(10*time.Second)) {
				t.Errorf("next attempt at %v, want now + 10s", got.NextAttemptAt)
			}
			if rp.count() != 1 {
				t.Errorf("RP got %d requests, want 1 (redirects are not followed)", rp.count())
			}
			if e.deliverDue() != 0 {
				t.Error("a second pass sent again before the retry delay")
			}
		})
	}
}

func TestDeliverTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	e := newEnv(t, func(o *Options) { o.RequestTimeout = 50 * time.Millisecond })
	e.app("rp", storage.ClientSettings{BackchannelLogoutURI: slow.URL})
	d := e.queue("s1")
	e.deliverDue()
	got := e.get(d.ID)
	if msg := strings.ToLower(got.LastError); got.DeliveredAt != nil || !strings.Contains(msg, "timeout") && !strings.Contains(msg, "deadline exceeded") {
		t.Errorf("delivery = %+v, want a timeout", got)
	}
}

// TestBackoffAndGiveUp: an application that never answers 2xx is retried
// after 10s, 30s, 2m, 10m, then hourly, and abandoned after 24 hours.
func TestBackoffAndGiveUp(t *testing.T) {
	rp := newRP(t, http.StatusServiceUnavailable)
	e := newEnv(t)
	e.app("rp", storage.ClientSettings{BackchannelLogoutURI: rp.srv.URL})
	d := e.queue("s1")
	queued := e.clock.now()
	var delays []time.Duration
	for range 100 {
		if e.deliverDue() != 1 {
			t.Fatal("nothing sent when due")
		}
		got := e.get(d.ID)
		if got.FailedAt != nil {
			break
		}
		delay := got.NextAttemptAt.Sub(e.clock.now())
		delays = append(delays, delay)
		e.clock.advance(delay - time.Second)
		if e.deliverDue() != 0 {
			t.Fatal("sent before the retry delay")
		}
		e.clock.advance(time.Second)
	}
	got := e.get(d.ID)
	if got.FailedAt == nil || got.LastError != "HTTP 503" {
		t.Fatalf("delivery = %+v, want abandoned", got)
	}
	want := []time.Duration{10 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute}
	if diff := cmp.Diff(want, delays[:4]); diff != "" {
		t.Errorf("first delays (-want +got):\n%s", diff)
	}
	for _, d := range delays[4:] {
		if d != time.Hour {
			t.Errorf("later delay %v, want 1h", d)
		}
	}
	if elapsed := got.FailedAt.Sub(queued); elapsed > 24*time.Hour || elapsed < 23*time.Hour {
		t.Errorf("abandoned after %v, want about 24h", elapsed)
	}
	if rp.count() != got.Attempts || got.Attempts != len(delays)+1 {
		t.Errorf("%d requests, %d attempts, %d retries", rp.count(), got.Attempts, len(delays))
	}
	e.clock.advance(48 * time.Hour)
	if e.deliverDue() != 0 {
		t.Error("an abandoned delivery was sent again")
	}
	if !strings.Contains(e.logs.String(), "back-channel logout abandoned") {
		t.Error("abandon not logged")
	}
}

// TestStaleTokenReminted: a delivery retried after its token expired gets
// a fresh token for the same session.
func TestStaleTokenReminted(t *testing.T) {
	rp := newRP(t, http.StatusInternalServerError)
	e := newEnv(t)
	e.app("rp", storage.ClientSettings{BackchannelLogoutURI: rp.srv.URL})
	d := e.queue("s1")
	e.deliverDue()
	first := <-rp.received
	if first != d.Token {
		t.Error("first attempt did not send the queued token")
	}
	rp.setStatus(http.StatusOK)
	e.clock.advance(10 * time.Second)
	e.deliverDue()
	if second := <-rp.received; second != d.Token {
		t.Error("a still fresh token was re-minted")
	}

	d2 := e.queue("s2")
	rp.setStatus(http.StatusOK)
	e.clock.advance(TokenLifetime - reuseMargin)
	e.deliverDue()
	tok := <-rp.received
	if tok == d2.Token {
		t.Fatal("a stale token was sent")
	}
	_, claims := e.verify(tok)
	if claims["sid"] != "sid-s2" || claims["aud"] != "rp" || claims["iat"] != float64(e.clock.now().Unix()) {
		t.Errorf("re-minted claims = %v", claims)
	}
}

// TestRunWake: the sender runs in the background and sends as soon as a
// session ends, without waiting for its poll interval.
func TestRunWake(t *testing.T) {
	rp := newRP(t, http.StatusOK)
	e := newEnv(t, func(o *Options) { o.PollInterval = time.Hour })
	e.app("rp", storage.ClientSettings{BackchannelLogoutURI: rp.srv.URL})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		e.svc.Run(ctx)
		close(done)
	}()
	d := e.queue("s1") // EndSession wakes the sender
	select {
	case tok := <-rp.received:
		if tok != d.Token {
			t.Error("unexpected token")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not delivered after a wake-up")
	}
	cancel()
	<-done
	if got := e.get(d.ID); got.DeliveredAt == nil {
		t.Errorf("delivery not recorded: %+v", got)
	}
}
