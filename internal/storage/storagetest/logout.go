package storagetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func (f fixture) session(id string) storage.Session {
	f.t.Helper()
	s := storage.Session{
		ID: id, PersonID: "p", AuthTime: t0, AMR: []string{"pwd"}, CreatedAt: t0,
		LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour),
	}
	must(f.t, f.s.CreateSession(f.ctx, &s))
	return s
}

func sessionClientTests() []test {
	return []test{
		{"record, update, list and take", func(t *testing.T, f fixture) {
			f.session("s1")
			f.session("s2")
			a := storage.SessionClient{SessionID: "s1", ClientID: "a", SID: "sid1", Subject: "sub", FirstAt: t0, LastAt: t0}
			b := storage.SessionClient{SessionID: "s1", ClientID: "b", SID: "sid1", Subject: "sub-b", FirstAt: t0.Add(time.Second), LastAt: t0.Add(time.Second)}
			other := storage.SessionClient{SessionID: "s2", ClientID: "a", SID: "sid2", Subject: "sub", FirstAt: t0, LastAt: t0}
			for _, c := range []*storage.SessionClient{&a, &b, &other} {
				must(t, f.s.RecordSessionClient(f.ctx, c))
			}
			// Signing into a again: FirstAt kept, the rest updated.
			again := storage.SessionClient{SessionID: "s1", ClientID: "a", SID: "sid1bis", Subject: "sub2", FirstAt: t0.Add(time.Hour), LastAt: t0.Add(time.Minute)}
			must(t, f.s.RecordSessionClient(f.ctx, &again))
			a.SID, a.Subject, a.LastAt = "sid1bis", "sub2", t0.Add(time.Minute)
			diff(t, a, again)
			// LastAt never goes back.
			late := storage.SessionClient{SessionID: "s1", ClientID: "a", SID: "sid1bis", Subject: "sub2", LastAt: t0.Add(30 * time.Second)}
			must(t, f.s.RecordSessionClient(f.ctx, &late))
			diff(t, a, late)

			diff(t, []storage.SessionClient{a, b}, get(f.s.ListSessionClients(f.ctx, "s1"))(t))
			diff(t, []storage.SessionClient{a, b}, get(f.s.TakeSessionClients(f.ctx, "s1"))(t))
			diff(t, []storage.SessionClient{}, get(f.s.ListSessionClients(f.ctx, "s1"))(t))
			diff(t, []storage.SessionClient{}, get(f.s.TakeSessionClients(f.ctx, "s1"))(t))
			diff(t, []storage.SessionClient{other}, get(f.s.ListSessionClients(f.ctx, "s2"))(t))
			diff(t, []storage.SessionClient{}, get(f.s.ListSessionClients(f.ctx, "nope"))(t))
		}},
		{"record sets times from the clock if zero", func(t *testing.T, f fixture) {
			f.session("s1")
			c := storage.SessionClient{SessionID: "s1", ClientID: "a", SID: "x"}
			clk := startClock()
			must(t, f.s.RecordSessionClient(f.ctx, &c))
			clk.check(t, "LastAt", c.LastAt)
			diff(t, c.LastAt, c.FirstAt)
		}},
		{"record for an unknown session is not found", func(t *testing.T, f fixture) {
			c := storage.SessionClient{SessionID: "nope", ClientID: "a", SID: "x", FirstAt: t0, LastAt: t0}
			wantErr(t, f.s.RecordSessionClient(f.ctx, &c), storage.ErrNotFound)
		}},
		{"deleting a session deletes its clients", func(t *testing.T, f fixture) {
			f.session("s1")
			c := storage.SessionClient{SessionID: "s1", ClientID: "a", SID: "x", FirstAt: t0, LastAt: t0}
			must(t, f.s.RecordSessionClient(f.ctx, &c))
			diff(t, 1, get(f.s.DeleteExpiredSessions(f.ctx, t0.Add(2*time.Hour)))(t))
			diff(t, []storage.SessionClient{}, get(f.s.ListSessionClients(f.ctx, "s1"))(t))
		}},
		{"concurrent takers: each row goes to one", func(t *testing.T, f fixture) {
			f.session("s1")
			for _, id := range []string{"a", "b", "c"} {
				c := storage.SessionClient{SessionID: "s1", ClientID: id, SID: "x", FirstAt: t0, LastAt: t0}
				must(t, f.s.RecordSessionClient(f.ctx, &c))
			}
			const n = 8
			got := make([][]storage.SessionClient, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { got[i], errs[i] = f.s.TakeSessionClients(f.ctx, "s1") })
			}
			wg.Wait()
			var ids []string
			for i := range n {
				must(t, errs[i])
				for _, c := range got[i] {
					ids = append(ids, c.ClientID)
				}
			}
			slices.Sort(ids)
			diff(t, []string{"a", "b", "c"}, ids)
		}},
	}
}

func newDelivery(clientID string, next time.Time) storage.LogoutDelivery {
	return storage.LogoutDelivery{
		ClientID: clientID, URI: "https://" + clientID + ".example/backchannel", Token: "eyJ.x.y",
		Subject: "sub", SID: "sid", NextAttemptAt: next, CreatedAt: t0,
	}
}

func (f fixture) enqueue(d storage.LogoutDelivery) storage.LogoutDelivery {
	f.t.Helper()
	must(f.t, f.s.EnqueueLogoutDelivery(f.ctx, &d))
	return d
}

// ids returns the IDs of deliveries.
func ids(ds []storage.LogoutDelivery) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func logoutDeliveryTests() []test {
	return []test{
		{"enqueue sets defaults; get; unknown is not found", func(t *testing.T, f fixture) {
			d := storage.LogoutDelivery{ClientID: "a", URI: "https://a.example/bc", Token: "tok", Subject: "s", SID: "x"}
			clk := startClock()
			must(t, f.s.EnqueueLogoutDelivery(f.ctx, &d))
			clk.check(t, "CreatedAt", d.CreatedAt)
			if d.ID == "" || !d.NextAttemptAt.Equal(d.CreatedAt) {
				t.Errorf("ID %q, NextAttemptAt %v, CreatedAt %v", d.ID, d.NextAttemptAt, d.CreatedAt)
			}
			diff(t, d, get(f.s.GetLogoutDelivery(f.ctx, d.ID))(t))

			full := storage.LogoutDelivery{
				ID: "full", ClientID: "a", URI: "https://a.example/bc", Token: "tok", Subject: "s", SID: "x",
				Attempts: 3, NextAttemptAt: t0.Add(time.Minute), ClaimedUntil: t0.Add(time.Second), CreatedAt: t0,
				DeliveredAt: ptr(t0.Add(time.Hour)), LastError: "HTTP 500",
			}
			f.enqueue(full)
			diff(t, full, get(f.s.GetLogoutDelivery(f.ctx, "full"))(t))
			wantErr(t, f.s.EnqueueLogoutDelivery(f.ctx, &full), storage.ErrConflict)
			_, err := f.s.GetLogoutDelivery(f.ctx, "nope")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"claim takes due pending deliveries under a lease and counts attempts", func(t *testing.T, f fixture) {
			due := f.enqueue(newDelivery("a", t0))
			later := f.enqueue(newDelivery("a", t0.Add(time.Minute)))
			done := newDelivery("a", t0)
			done.DeliveredAt = ptr(t0)
			f.enqueue(done)
			failed := newDelivery("a", t0)
			failed.FailedAt = ptr(t0)
			f.enqueue(failed)

			lease := t0.Add(time.Minute)
			got := get(f.s.ClaimLogoutDeliveries(f.ctx, t0, lease, 10))(t)
			due.Attempts, due.ClaimedUntil = 1, lease
			diff(t, []storage.LogoutDelivery{due}, got)
			diff(t, due, get(f.s.GetLogoutDelivery(f.ctx, due.ID))(t))
			// Leased: nobody else gets it until the lease ends.
			diff(t, []string{}, ids(get(f.s.ClaimLogoutDeliveries(f.ctx, t0.Add(59*time.Second), lease, 10))(t)))
			// Lease over: claimed again, with the delivery now due.
			got = get(f.s.ClaimLogoutDeliveries(f.ctx, lease, lease.Add(time.Minute), 10))(t)
			diff(t, []string{due.ID, later.ID}, ids(got))
			diff(t, []int{2, 1}, []int{got[0].Attempts, got[1].Attempts})
			diff(t, []string{}, ids(get(f.s.ClaimLogoutDeliveries(f.ctx, lease, lease, 0))(t)))
		}},
		{"claim honours the limit, earliest first", func(t *testing.T, f fixture) {
			var want []string
			for i, off := range []time.Duration{3, 1, 4, 0, 2} {
				d := newDelivery("a", t0.Add(off*time.Second))
				d.ID = fmt.Sprintf("d%d", i)
				f.enqueue(d)
			}
			want = []string{"d3", "d1"}
			diff(t, want, ids(get(f.s.ClaimLogoutDeliveries(f.ctx, t0.Add(time.Minute), t0.Add(2*time.Minute), 2))(t)))
			diff(t, []string{"d4", "d0", "d2"}, ids(get(f.s.ClaimLogoutDeliveries(f.ctx, t0.Add(time.Minute), t0.Add(2*time.Minute), 5))(t)))
		}},
		{"retry, complete and fail", func(t *testing.T, f fixture) {
			d := f.enqueue(newDelivery("a", t0))
			e := f.enqueue(newDelivery("b", t0))
			get(f.s.ClaimLogoutDeliveries(f.ctx, t0, t0.Add(time.Minute), 10))(t)

			must(t, f.s.RetryLogoutDelivery(f.ctx, d.ID, t0.Add(10*time.Second), "HTTP 500"))
			got := get(f.s.GetLogoutDelivery(f.ctx, d.ID))(t)
			d.Attempts, d.NextAttemptAt, d.LastError = 1, t0.Add(10*time.Second), "HTTP 500"
			diff(t, d, got)
			diff(t, []string{}, ids(get(f.s.ClaimLogoutDeliveries(f.ctx, t0.Add(9*time.Second), t0.Add(time.Minute), 10))(t)))
			diff(t, []string{d.ID}, ids(get(f.s.ClaimLogoutDeliveries(f.ctx, t0.Add(10*time.Second), t0.Add(time.Minute), 10))(t)))

			must(t, f.s.CompleteLogoutDelivery(f.ctx, d.ID, t0.Add(11*time.Second)))
			must(t, f.s.CompleteLogoutDelivery(f.ctx, d.ID, t0.Add(time.Hour))) // keeps the first
			got = get(f.s.GetLogoutDelivery(f.ctx, d.ID))(t)
			d.Attempts, d.DeliveredAt, d.LastError = 2, ptr(t0.Add(11*time.Second)), ""
			diff(t, d, got)
			wantErr(t, f.s.RetryLogoutDelivery(f.ctx, d.ID, t0, "x"), storage.ErrNotFound)
			wantErr(t, f.s.FailLogoutDelivery(f.ctx, d.ID, t0, "x"), storage.ErrNotFound)

			must(t, f.s.FailLogoutDelivery(f.ctx, e.ID, t0.Add(24*time.Hour), "HTTP 503"))
			got = get(f.s.GetLogoutDelivery(f.ctx, e.ID))(t)
			e.Attempts, e.FailedAt, e.LastError = 1, ptr(t0.Add(24*time.Hour)), "HTTP 503"
			diff(t, e, got)
			wantErr(t, f.s.RetryLogoutDelivery(f.ctx, e.ID, t0, "x"), storage.ErrNotFound)
			diff(t, []string{}, ids(get(f.s.ClaimLogoutDeliveries(f.ctx, t0.Add(48*time.Hour), t0.Add(49*time.Hour), 10))(t)))

			wantErr(t, f.s.CompleteLogoutDelivery(f.ctx, "nope", t0), storage.ErrNotFound)
			wantErr(t, f.s.RetryLogoutDelivery(f.ctx, "nope", t0, "x"), storage.ErrNotFound)
		}},
		{"concurrent claimers: each delivery goes to one", func(t *testing.T, f fixture) {
			const deliveries, claimers = 20, 8
			for range deliveries {
				f.enqueue(newDelivery("a", t0))
			}
			got := make([][]string, claimers)
			errs := make([]error, claimers)
			var wg sync.WaitGroup
			for i := range claimers {
				wg.Go(func() {
					for {
						ds, err := f.s.ClaimLogoutDeliveries(f.ctx, t0, t0.Add(time.Minute), 3)
						if err != nil || len(ds) == 0 {
							errs[i] = err
							return
						}
						got[i] = append(got[i], ids(ds)...)
					}
				})
			}
			wg.Wait()
			var all []string
			for i := range claimers {
				must(t, errs[i])
				all = append(all, got[i]...)
			}
			slices.Sort(all)
			if len(all) != deliveries || len(slices.Compact(slices.Clone(all))) != deliveries {
				t.Errorf("claimed %d deliveries (%d distinct), want each of %d once", len(all), len(slices.Compact(all)), deliveries)
			}
			for _, id := range all {
				if d := get(f.s.GetLogoutDelivery(f.ctx, id))(t); d.Attempts != 1 {
					t.Errorf("%s: %d attempts, want 1", id, d.Attempts)
				}
			}
		}},
		{"list by client; delete finished strictly before", func(t *testing.T, f fixture) {
			mk := func(id, client string, delivered, failed *time.Time) {
				d := newDelivery(client, t0)
				d.ID, d.DeliveredAt, d.FailedAt = id, delivered, failed
				f.enqueue(d)
			}
			mk("old-delivered", "a", ptr(t0.Add(-time.Hour)), nil)
			mk("old-failed", "a", nil, ptr(t0.Add(-time.Second)))
			mk("at-cutoff", "b", ptr(t0), nil)
			mk("pending", "a", nil, nil)
			mk("new-delivered", "b", ptr(t0.Add(time.Hour)), nil)
			diff(t, []string{"old-delivered", "old-failed", "pending"}, ids(get(f.s.ListLogoutDeliveries(f.ctx, "a"))(t)))
			diff(t, 2, get(f.s.DeleteFinishedLogoutDeliveries(f.ctx, t0))(t))
			diff(t, []string{"pending"}, ids(get(f.s.ListLogoutDeliveries(f.ctx, "a"))(t)))
			diff(t, []string{"at-cutoff", "new-delivered"}, ids(get(f.s.ListLogoutDeliveries(f.ctx, "b"))(t)))
			diff(t, []string{}, ids(get(f.s.ListLogoutDeliveries(f.ctx, "nope"))(t)))
		}},
	}
}
