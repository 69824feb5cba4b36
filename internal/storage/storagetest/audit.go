package storagetest

import (
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func auditTests() []test {
	ev := func(seq int64, typ string) storage.AuditEvent {
		return storage.AuditEvent{
			Seq: seq, At: t0.Add(time.Duration(seq) * time.Second), Type: typ,
			OrgID: "o", PersonID: "p", ClientID: "c", SessionID: "s",
			Details: map[string]string{"reason": typ}, PrevHash: "h" + string(rune('0'+seq-1)), Hash: "h" + string(rune('0'+seq)),
		}
	}
	return []test{
		{"empty log has no last event", func(t *testing.T, f fixture) {
			_, err := f.s.LastAuditEvent(f.ctx)
			wantErr(t, err, storage.ErrNotFound)
			diff(t, []storage.AuditEvent{}, get(f.s.ListAuditEvents(f.ctx, 0, 10))(t))
		}},
		{"append, last and list in order", func(t *testing.T, f fixture) {
			var want []storage.AuditEvent
			for i := int64(1); i <= 3; i++ {
				e := ev(i, "login_failed")
				must(t, f.s.AppendAuditEvent(f.ctx, &e))
				want = append(want, e)
			}
			diff(t, want[2], get(f.s.LastAuditEvent(f.ctx))(t))
			diff(t, want, get(f.s.ListAuditEvents(f.ctx, 0, 10))(t))
			diff(t, want[1:2], get(f.s.ListAuditEvents(f.ctx, 1, 1))(t))
		}},
		{"a taken seq is a conflict and changes nothing", func(t *testing.T, f fixture) {
			a := ev(1, "first")
			must(t, f.s.AppendAuditEvent(f.ctx, &a))
			b := ev(1, "second")
			wantErr(t, f.s.AppendAuditEvent(f.ctx, &b), storage.ErrConflict)
			diff(t, a, get(f.s.LastAuditEvent(f.ctx))(t))
		}},
		{"nil details read back empty", func(t *testing.T, f fixture) {
			e := ev(1, "x")
			e.Details = nil
			must(t, f.s.AppendAuditEvent(f.ctx, &e))
			diff(t, map[string]string{}, get(f.s.LastAuditEvent(f.ctx))(t).Details)
		}},
	}
}
