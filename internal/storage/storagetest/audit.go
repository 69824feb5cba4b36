package storagetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// sealTest is a stand-in for internal/audit's hash: it links the event to
// its predecessor, so the tests can check the store gave the right one.
func sealTest(e *storage.AuditEvent) { e.Hash = fmt.Sprintf("h%d<%s", e.Seq, e.PrevHash) }

func auditTests() []test {
	ev := func(i int, typ string) storage.AuditEvent {
		return storage.AuditEvent{
			At: t0.Add(time.Duration(i) * time.Second), Type: typ,
			OrgID: "o", PersonID: "p", ClientID: "c", SessionID: "s",
			Details: map[string]string{"reason": typ},
		}
	}
	appendN := func(t *testing.T, f fixture, n int, typ string) []storage.AuditEvent {
		t.Helper()
		var out []storage.AuditEvent
		for i := range n {
			e := ev(i, typ)
			must(t, f.s.AppendAuditEvent(f.ctx, &e, sealTest))
			out = append(out, e)
		}
		return out
	}
	return []test{
		{"empty log has no last event", func(t *testing.T, f fixture) {
			_, err := f.s.LastAuditEvent(f.ctx)
			wantErr(t, err, storage.ErrNotFound)
			diff(t, []storage.AuditEvent{}, get(f.s.ListAuditEvents(f.ctx, 0, 10))(t))
		}},
		{"append numbers and links events; last and list in order", func(t *testing.T, f fixture) {
			want := appendN(t, f, 3, "login_failed")
			for i, e := range want {
				diff(t, int64(i+1), e.Seq)
			}
			diff(t, "", want[0].PrevHash)
			diff(t, want[0].Hash, want[1].PrevHash)
			diff(t, "h3<"+want[1].Hash, want[2].Hash)
			diff(t, want[2], get(f.s.LastAuditEvent(f.ctx))(t))
			diff(t, want, get(f.s.ListAuditEvents(f.ctx, 0, 10))(t))
			diff(t, want[1:2], get(f.s.ListAuditEvents(f.ctx, 1, 1))(t))
		}},
		{"administration fields round-trip", func(t *testing.T, f fixture) {
			e := ev(1, "person_updated")
			e.ActorKind, e.ActorID, e.Address = "person", "admin-id", "192.0.2.7"
			e.Target, e.Before, e.After = "person:p", `{"given_name":"Ana"}`, `{"given_name":"Anna"}`
			must(t, f.s.AppendAuditEvent(f.ctx, &e, sealTest))
			diff(t, e, get(f.s.LastAuditEvent(f.ctx))(t))
		}},
		{"an append rolled back with its transaction leaves no gap", func(t *testing.T, f fixture) {
			first := appendN(t, f, 1, "a")[0]
			err := f.s.WithTx(f.ctx, func(tx storage.Store) error {
				e := ev(2, "b")
				if err := tx.AppendAuditEvent(f.ctx, &e, sealTest); err != nil {
					return err
				}
				return errBoom
			})
			wantErr(t, err, errBoom)
			next := appendN(t, f, 1, "c")[0]
			diff(t, int64(2), next.Seq)
			diff(t, first.Hash, next.PrevHash)
		}},
		{"concurrent appenders all land in one unbroken chain", func(t *testing.T, f fixture) {
			const writers, each = 8, 10
			var wg sync.WaitGroup
			errs := make(chan error, writers*each)
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						e := ev(w*each+i, "concurrent")
						if w%2 == 0 { // half inside a transaction with another write
							errs <- f.s.WithTx(f.ctx, func(tx storage.Store) error {
								if err := tx.CreateOrganization(f.ctx, &storage.Organization{Slug: fmt.Sprintf("o-%d-%d", w, i)}); err != nil {
									return err
								}
								return tx.AppendAuditEvent(f.ctx, &e, sealTest)
							})
							continue
						}
						errs <- f.s.AppendAuditEvent(f.ctx, &e, sealTest)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				must(t, err)
			}
			all := get(f.s.ListAuditEvents(f.ctx, 0, 1000))(t)
			diff(t, writers*each, len(all))
			prev := ""
			for i, e := range all {
				if e.Seq != int64(i+1) || e.PrevHash != prev || e.Hash != fmt.Sprintf("h%d<%s", e.Seq, prev) {
					t.Fatalf("event %d: seq %d prev %q hash %q: chain broken", i, e.Seq, e.PrevHash, e.Hash)
				}
				prev = e.Hash
			}
			diff(t, writers/2*each, len(get(f.s.ListOrganizations(f.ctx))(t)))
		}},
		{"query filters, newest first, pages", func(t *testing.T, f fixture) {
			for i, x := range []struct{ org, typ, person, target string }{
				{"o1", "a", "p1", ""}, {"o2", "a", "p2", ""}, {"o1", "b", "", "person:p2"}, {"o1", "a", "p1", ""},
			} {
				e := storage.AuditEvent{At: t0.Add(time.Duration(i) * time.Second), Type: x.typ, OrgID: x.org, PersonID: x.person, Target: x.target}
				must(t, f.s.AppendAuditEvent(f.ctx, &e, sealTest))
			}
			seqs := func(q storage.AuditQuery) []int64 {
				out := []int64{}
				for _, e := range get(f.s.QueryAuditEvents(f.ctx, q))(t) {
					out = append(out, e.Seq)
				}
				return out
			}
			diff(t, []int64{4, 3, 2, 1}, seqs(storage.AuditQuery{}))
			diff(t, []int64{4, 3, 1}, seqs(storage.AuditQuery{OrgID: "o1"}))
			diff(t, []int64{4, 1}, seqs(storage.AuditQuery{OrgID: "o1", Type: "a"}))
			diff(t, []int64{3, 2}, seqs(storage.AuditQuery{PersonID: "p2"}))
			diff(t, []int64{3, 1}, seqs(storage.AuditQuery{OrgID: "o1", BeforeSeq: 4}))
			diff(t, []int64{4}, seqs(storage.AuditQuery{Limit: 1}))
			diff(t, []int64{}, seqs(storage.AuditQuery{OrgID: "nope"}))
		}},
		{"nil details read back empty", func(t *testing.T, f fixture) {
			e := ev(1, "x")
			e.Details = nil
			must(t, f.s.AppendAuditEvent(f.ctx, &e, sealTest))
			diff(t, map[string]string{}, get(f.s.LastAuditEvent(f.ctx))(t).Details)
		}},
	}
}
