package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// doubling is a throttle schedule: free for two failures, then one second
// doubling per failure.
func doubling(failures int) time.Duration {
	if failures <= 2 {
		return 0
	}
	return time.Second << min(failures-3, 20)
}

func throttleTests() []test {
	const window = time.Hour
	return []test{
		{"record: counts, sets NextAt from the schedule, keys apart", func(t *testing.T, f fixture) {
			for i, want := range []storage.ThrottleState{
				{Key: "k", Failures: 1, WindowStart: t0, LastFailure: t0, NextAt: t0},
				{Key: "k", Failures: 2, WindowStart: t0, LastFailure: t0.Add(time.Second), NextAt: t0.Add(time.Second)},
				{Key: "k", Failures: 3, WindowStart: t0, LastFailure: t0.Add(2 * time.Second), NextAt: t0.Add(3 * time.Second)},
				{Key: "k", Failures: 4, WindowStart: t0, LastFailure: t0.Add(3 * time.Second), NextAt: t0.Add(5 * time.Second)},
			} {
				now := t0.Add(time.Duration(i) * time.Second)
				diff(t, want, get(f.s.RecordThrottleFailure(f.ctx, "k", now, window, doubling))(t))
			}
			other := get(f.s.RecordThrottleFailure(f.ctx, "other", t0, window, doubling))(t)
			diff(t, 1, other.Failures)
			diff(t, []storage.ThrottleState{
				{Key: "k", Failures: 4, WindowStart: t0, LastFailure: t0.Add(3 * time.Second), NextAt: t0.Add(5 * time.Second)},
				other,
			}, get(f.s.ThrottleStates(f.ctx, []string{"other", "missing", "k"}))(t))
			diff(t, []storage.ThrottleState{}, get(f.s.ThrottleStates(f.ctx, nil))(t))
			diff(t, []storage.ThrottleState{}, get(f.s.ThrottleStates(f.ctx, []string{"missing"}))(t))
			if _, err := f.s.RecordThrottleFailure(f.ctx, "", t0, window, doubling); err == nil {
				t.Error("RecordThrottleFailure with an empty key succeeded")
			}
		}},
		{"record: times come back UTC at the microsecond", func(t *testing.T, f fixture) {
			now := time.Date(2026, 3, 14, 10, 26, 53, 589793238, time.FixedZone("CET", 3600))
			got := get(f.s.RecordThrottleFailure(f.ctx, "k", now, window, func(int) time.Duration { return time.Nanosecond }))(t)
			want := storage.ThrottleState{Key: "k", Failures: 1, WindowStart: t0, LastFailure: t0, NextAt: t0}
			diff(t, want, got)
			diff(t, []storage.ThrottleState{want}, get(f.s.ThrottleStates(f.ctx, []string{"k"}))(t))
		}},
		{"record: the count starts again once the window and the wait ended", func(t *testing.T, f fixture) {
			for range 3 {
				get(f.s.RecordThrottleFailure(f.ctx, "k", t0, window, doubling))(t)
			}
			// Still in the window.
			got := get(f.s.RecordThrottleFailure(f.ctx, "k", t0.Add(window-time.Microsecond), window, doubling))(t)
			diff(t, 4, got.Failures)
			diff(t, t0, got.WindowStart)
			// The window ended, but the wait set by the last failure runs
			// on: the failure counts in the old window.
			got = get(f.s.RecordThrottleFailure(f.ctx, "k", t0.Add(window), window, doubling))(t)
			diff(t, 5, got.Failures)
			diff(t, t0.Add(window+4*time.Second), got.NextAt)
			// Both passed: a new window.
			later := got.NextAt
			diff(t, storage.ThrottleState{Key: "k", Failures: 1, WindowStart: later, LastFailure: later, NextAt: later},
				get(f.s.RecordThrottleFailure(f.ctx, "k", later, window, doubling))(t))
			diff(t, 2, get(f.s.RecordThrottleFailure(f.ctx, "k", later.Add(window-time.Second), window, doubling))(t).Failures)
		}},
		{"record: LastFailure never moves backwards", func(t *testing.T, f fixture) {
			get(f.s.RecordThrottleFailure(f.ctx, "k", t0.Add(time.Minute), window, doubling))(t)
			got := get(f.s.RecordThrottleFailure(f.ctx, "k", t0, window, func(int) time.Duration { return time.Second }))(t)
			diff(t, storage.ThrottleState{Key: "k", Failures: 2, WindowStart: t0.Add(time.Minute),
				LastFailure: t0.Add(time.Minute), NextAt: t0.Add(time.Minute + time.Second)}, got)
		}},
		{"record: 20 concurrent callers lose no increment", func(t *testing.T, f fixture) {
			const n = 20
			got := make([]int, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					var st storage.ThrottleState
					st, errs[i] = f.s.RecordThrottleFailure(f.ctx, "k", t0, window, doubling)
					got[i] = st.Failures
				})
			}
			wg.Wait()
			for _, err := range errs {
				must(t, err)
			}
			// Each caller saw its own count, and the last one's NextAt
			// stayed.
			slices.Sort(got)
			want := make([]int, n)
			for i := range want {
				want[i] = i + 1
			}
			diff(t, want, got)
			diff(t, []storage.ThrottleState{{Key: "k", Failures: n, WindowStart: t0, LastFailure: t0, NextAt: t0.Add(doubling(n))}},
				get(f.s.ThrottleStates(f.ctx, []string{"k"}))(t))
		}},
		{"record: concurrent callers on several keys, inside and outside transactions", func(t *testing.T, f fixture) {
			const keys, per = 4, 10
			var wg sync.WaitGroup
			errs := make([]error, keys*per)
			for i := range keys * per {
				key := fmt.Sprintf("k%d", i%keys)
				wg.Go(func() {
					if i%2 == 0 {
						_, errs[i] = f.s.RecordThrottleFailure(f.ctx, key, t0, window, doubling)
						return
					}
					errs[i] = f.s.WithTx(f.ctx, func(tx storage.Store) error {
						_, err := tx.RecordThrottleFailure(f.ctx, key, t0, window, doubling)
						return err
					})
				})
			}
			wg.Wait()
			for _, err := range errs {
				must(t, err)
			}
			for _, st := range get(f.s.ThrottleStates(f.ctx, []string{"k0", "k1", "k2", "k3"}))(t) {
				if st.Failures != per {
					t.Errorf("%s: %d failures, want %d", st.Key, st.Failures, per)
				}
			}
		}},
		{"reserve: counts like record while allowed, then refuses without counting", func(t *testing.T, f fixture) {
			// free 2 matches doubling: the 3rd failure is the first with a wait.
			k := []storage.ThrottleLimit{{Key: "k", Window: window, Free: 2, Delay: doubling}}
			for i, want := range []storage.ThrottleState{
				{Key: "k", Failures: 1, WindowStart: t0, LastFailure: t0, NextAt: t0},
				{Key: "k", Failures: 2, WindowStart: t0, LastFailure: t0, NextAt: t0},
				{Key: "k", Failures: 3, WindowStart: t0, LastFailure: t0, NextAt: t0.Add(time.Second)},
			} {
				ok, states, err := f.s.ReserveThrottles(f.ctx, t0, k)
				must(t, err)
				if !ok {
					t.Fatalf("reservation %d refused", i+1)
				}
				diff(t, []storage.ThrottleState{want}, states)
			}
			// Refused until NextAt, the state unchanged.
			after3 := storage.ThrottleState{Key: "k", Failures: 3, WindowStart: t0, LastFailure: t0, NextAt: t0.Add(time.Second)}
			for _, now := range []time.Time{t0, t0.Add(time.Second - time.Microsecond)} {
				ok, states, err := f.s.ReserveThrottles(f.ctx, now, k)
				must(t, err)
				diff(t, false, ok)
				diff(t, []storage.ThrottleState{after3}, states)
				diff(t, true, states[0].Refuses(now, 2))
			}
			diff(t, []storage.ThrottleState{after3}, get(f.s.ThrottleStates(f.ctx, []string{"k"}))(t))
			// At NextAt: allowed, counted, a longer wait.
			ok, states, err := f.s.ReserveThrottles(f.ctx, t0.Add(time.Second), k)
			must(t, err)
			diff(t, true, ok)
			diff(t, []storage.ThrottleState{{Key: "k", Failures: 4, WindowStart: t0, LastFailure: t0.Add(time.Second), NextAt: t0.Add(3 * time.Second)}}, states)
			// Once the window and the wait ended, the count starts again.
			later := t0.Add(window)
			ok, states, err = f.s.ReserveThrottles(f.ctx, later, k)
			must(t, err)
			diff(t, true, ok)
			diff(t, []storage.ThrottleState{{Key: "k", Failures: 1, WindowStart: later, LastFailure: later, NextAt: later}}, states)
		}},
		{"reserve: fewer than free failures are never refused (clocks ahead elsewhere)", func(t *testing.T, f fixture) {
			ahead := t0.Add(time.Minute)
			get(f.s.RecordThrottleFailure(f.ctx, "k", ahead, window, doubling))(t)
			ok, states, err := f.s.ReserveThrottles(f.ctx, t0, []storage.ThrottleLimit{{Key: "k", Window: window, Free: 2, Delay: doubling}})
			must(t, err)
			diff(t, true, ok)
			diff(t, []storage.ThrottleState{{Key: "k", Failures: 2, WindowStart: ahead, LastFailure: ahead, NextAt: ahead}}, states)
			// Two failures: NextAt (ahead) refuses now.
			ok, _, err = f.s.ReserveThrottles(f.ctx, t0, []storage.ThrottleLimit{{Key: "k", Window: window, Free: 2, Delay: doubling}})
			must(t, err)
			diff(t, false, ok)
		}},
		{"reserve: all keys or none, states in the order asked", func(t *testing.T, f fixture) {
			free := func(int) time.Duration { return 0 }
			locked := func(int) time.Duration { return time.Hour }
			get(f.s.RecordThrottleFailure(f.ctx, "locked", t0, window, locked))(t)
			get(f.s.RecordThrottleFailure(f.ctx, "b-counted", t0, window, free))(t)
			limits := []storage.ThrottleLimit{
				{Key: "z-new", Window: window, Delay: free},
				{Key: "locked", Window: window, Delay: locked},
				{Key: "b-counted", Window: window, Delay: free},
			}
			ok, states, err := f.s.ReserveThrottles(f.ctx, t0.Add(time.Minute), limits)
			must(t, err)
			diff(t, false, ok)
			diff(t, []storage.ThrottleState{
				{Key: "z-new"},
				{Key: "locked", Failures: 1, WindowStart: t0, LastFailure: t0, NextAt: t0.Add(time.Hour)},
				{Key: "b-counted", Failures: 1, WindowStart: t0, LastFailure: t0, NextAt: t0},
			}, states)
			// Nothing counted, nothing created.
			diff(t, []string{"b-counted", "locked"}, keysOf(get(f.s.ThrottleStates(f.ctx, []string{"z-new", "locked", "b-counted"}))(t)))
			diff(t, 1, get(f.s.ThrottleStates(f.ctx, []string{"b-counted"}))(t)[0].Failures)

			// Without the locked key: both counted.
			now := t0.Add(time.Minute)
			ok, states, err = f.s.ReserveThrottles(f.ctx, now, []storage.ThrottleLimit{limits[0], limits[2]})
			must(t, err)
			diff(t, true, ok)
			diff(t, []storage.ThrottleState{
				{Key: "z-new", Failures: 1, WindowStart: now, LastFailure: now, NextAt: now},
				{Key: "b-counted", Failures: 2, WindowStart: t0, LastFailure: now, NextAt: now},
			}, states)
			ok, states, err = f.s.ReserveThrottles(f.ctx, now, nil)
			must(t, err)
			diff(t, true, ok)
			diff(t, 0, len(states))
		}},
		{"reserve: rejects empty and duplicate keys, a missing schedule", func(t *testing.T, f fixture) {
			for _, limits := range [][]storage.ThrottleLimit{
				{{Key: "", Window: window, Delay: doubling}},
				{{Key: "k", Window: window}},
				{{Key: "k", Window: window, Delay: doubling}, {Key: "j", Window: window, Delay: doubling}, {Key: "k", Window: window, Delay: doubling}},
			} {
				if _, _, err := f.s.ReserveThrottles(f.ctx, t0, limits); err == nil {
					t.Errorf("ReserveThrottles(%v) succeeded", limits)
				}
			}
			diff(t, []storage.ThrottleState{}, get(f.s.ThrottleStates(f.ctx, []string{"k", "j"}))(t))
		}},
		{"reserve: 50 callers at one instant, exactly the budget passes", func(t *testing.T, f fixture) {
			// 5 free failures, the 5th imposing a wait: 5 reservations
			// pass at one instant; the address-like "shared" key, with a
			// budget of 100, is counted for those 5 only.
			const n, free = 50, 5
			delay := func(failures int) time.Duration {
				if failures < free {
					return 0
				}
				return time.Second << min(failures-free, 20)
			}
			limits := []storage.ThrottleLimit{
				{Key: "shared", Window: window, Free: 100, Delay: func(int) time.Duration { return 0 }},
				{Key: "k", Window: window, Free: free, Delay: delay},
			}
			allowed := make([]bool, n)
			errs := make([]error, n)
			ready := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-ready
					if i%2 == 0 {
						allowed[i], _, errs[i] = f.s.ReserveThrottles(f.ctx, t0, limits)
						return
					}
					errs[i] = f.s.WithTx(f.ctx, func(tx storage.Store) error {
						var err error
						allowed[i], _, err = tx.ReserveThrottles(f.ctx, t0, limits)
						return err
					})
				})
			}
			close(ready)
			wg.Wait()
			count := 0
			for i := range n {
				must(t, errs[i])
				if allowed[i] {
					count++
				}
			}
			t.Logf("%d of %d concurrent reservations allowed, budget %d", count, n, free)
			if count != free {
				t.Fatalf("%d of %d concurrent reservations allowed, want exactly %d", count, n, free)
			}
			diff(t, []storage.ThrottleState{
				{Key: "k", Failures: free, WindowStart: t0, LastFailure: t0, NextAt: t0.Add(time.Second)},
				{Key: "shared", Failures: free, WindowStart: t0, LastFailure: t0, NextAt: t0},
			}, get(f.s.ThrottleStates(f.ctx, []string{"k", "shared"}))(t))
			// After the wait, the next one goes ahead.
			ok, states, err := f.s.ReserveThrottles(f.ctx, t0.Add(time.Second), limits)
			must(t, err)
			diff(t, true, ok)
			diff(t, free+1, states[1].Failures)
			diff(t, t0.Add(3*time.Second), states[1].NextAt)
		}},
		{"reserve: callers naming keys in either order do not deadlock", func(t *testing.T, f fixture) {
			const n = 40
			free := func(int) time.Duration { return 0 }
			a := storage.ThrottleLimit{Key: "a", Window: window, Delay: free}
			b := storage.ThrottleLimit{Key: "b", Window: window, Delay: free}
			errs := make([]error, n)
			ready := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				limits := []storage.ThrottleLimit{a, b}
				if i%2 == 1 {
					limits = []storage.ThrottleLimit{b, a}
				}
				wg.Go(func() {
					<-ready
					var ok bool
					ok, _, errs[i] = f.s.ReserveThrottles(f.ctx, t0, limits)
					if errs[i] == nil && !ok {
						errs[i] = fmt.Errorf("reservation %d refused", i)
					}
				})
			}
			close(ready)
			wg.Wait()
			for _, err := range errs {
				must(t, err)
			}
			for _, st := range get(f.s.ThrottleStates(f.ctx, []string{"a", "b"}))(t) {
				diff(t, n, st.Failures)
			}
		}},
		{"reserve: inside a transaction, refused or rolled back", func(t *testing.T, f fixture) {
			locked := func(int) time.Duration { return time.Hour }
			get(f.s.RecordThrottleFailure(f.ctx, "locked", t0, window, locked))(t)
			limits := []storage.ThrottleLimit{{Key: "new", Window: window, Delay: locked}, {Key: "locked", Window: window, Delay: locked}}
			// A refusal leaves the transaction usable.
			must(t, f.s.WithTx(f.ctx, func(tx storage.Store) error {
				ok, _, err := tx.ReserveThrottles(f.ctx, t0, limits)
				if err != nil || ok {
					return fmt.Errorf("reserve = %v, %v; want refused", ok, err)
				}
				_, err = tx.RecordThrottleFailure(f.ctx, "after", t0, window, locked)
				return err
			}))
			diff(t, []string{"after", "locked"}, keysOf(get(f.s.ThrottleStates(f.ctx, []string{"after", "locked", "new"}))(t)))
			// A reservation rolled back with its transaction is undone.
			errBoom := errors.New("boom")
			wantErr(t, f.s.WithTx(f.ctx, func(tx storage.Store) error {
				ok, _, err := tx.ReserveThrottles(f.ctx, t0, limits[:1])
				if err != nil || !ok {
					return fmt.Errorf("reserve = %v, %v; want allowed", ok, err)
				}
				return errBoom
			}), errBoom)
			diff(t, []string{}, keysOf(get(f.s.ThrottleStates(f.ctx, []string{"new"}))(t)))
		}},
		{"refund: one failure less, NextAt from the schedule, gone at zero", func(t *testing.T, f fixture) {
			for i := range 4 {
				get(f.s.RecordThrottleFailure(f.ctx, "k", t0.Add(time.Duration(i)*time.Second), window, doubling))(t)
			}
			// 4 failures, the last at t0+3s, NextAt t0+5s.
			must(t, f.s.RefundThrottle(f.ctx, "k", doubling))
			diff(t, []storage.ThrottleState{{Key: "k", Failures: 3, WindowStart: t0, LastFailure: t0.Add(3 * time.Second), NextAt: t0.Add(4 * time.Second)}},
				get(f.s.ThrottleStates(f.ctx, []string{"k"}))(t))
			for range 3 {
				must(t, f.s.RefundThrottle(f.ctx, "k", doubling))
			}
			diff(t, []storage.ThrottleState{}, get(f.s.ThrottleStates(f.ctx, []string{"k"}))(t))
			must(t, f.s.RefundThrottle(f.ctx, "k", doubling))
			must(t, f.s.RefundThrottle(f.ctx, "missing", doubling))
			diff(t, 1, get(f.s.RecordThrottleFailure(f.ctx, "k", t0, window, doubling))(t).Failures)
		}},
		{"refund: concurrent with reservations, none lost", func(t *testing.T, f fixture) {
			const n = 20
			free := func(int) time.Duration { return 0 }
			limits := []storage.ThrottleLimit{{Key: "k", Window: window, Free: 1000, Delay: free}}
			for range n {
				if ok, _, err := f.s.ReserveThrottles(f.ctx, t0, limits); err != nil || !ok {
					t.Fatalf("reserve = %v, %v", ok, err)
				}
			}
			errs := make([]error, 2*n)
			var wg sync.WaitGroup
			for i := range 2 * n {
				wg.Go(func() {
					if i%2 == 0 {
						errs[i] = f.s.RefundThrottle(f.ctx, "k", free)
						return
					}
					_, _, errs[i] = f.s.ReserveThrottles(f.ctx, t0, limits)
				})
			}
			wg.Wait()
			for _, err := range errs {
				must(t, err)
			}
			diff(t, n, get(f.s.ThrottleStates(f.ctx, []string{"k"}))(t)[0].Failures)
		}},
		{"reset: forgets the key only", func(t *testing.T, f fixture) {
			get(f.s.RecordThrottleFailure(f.ctx, "k", t0, window, doubling))(t)
			other := get(f.s.RecordThrottleFailure(f.ctx, "other", t0, window, doubling))(t)
			must(t, f.s.ResetThrottle(f.ctx, "k"))
			must(t, f.s.ResetThrottle(f.ctx, "missing"))
			diff(t, []storage.ThrottleState{other}, get(f.s.ThrottleStates(f.ctx, []string{"k", "other"}))(t))
			diff(t, 1, get(f.s.RecordThrottleFailure(f.ctx, "k", t0, window, doubling))(t).Failures)
		}},
		{"devices: known per account until they expire", func(t *testing.T, f fixture) {
			until := t0.Add(30 * 24 * time.Hour)
			must(t, f.s.RememberDevice(f.ctx, "a", "d", until))
			for _, c := range []struct {
				account, device string
				now             time.Time
				want            bool
			}{
				{"a", "d", t0, true},
				{"a", "d", until.Add(-time.Microsecond), true},
				{"a", "d", until, false},
				{"b", "d", t0, false},
				{"a", "e", t0, false},
			} {
				if got := get(f.s.DeviceKnown(f.ctx, c.account, c.device, c.now))(t); got != c.want {
					t.Errorf("DeviceKnown(%s, %s, %v) = %v, want %v", c.account, c.device, c.now, got, c.want)
				}
			}
			// Remembering again renews.
			must(t, f.s.RememberDevice(f.ctx, "a", "d", until.Add(time.Hour)))
			diff(t, true, get(f.s.DeviceKnown(f.ctx, "a", "d", until))(t))
			if err := f.s.RememberDevice(f.ctx, "", "d", until); err == nil {
				t.Error("RememberDevice with an empty account succeeded")
			}
		}},
		{"delete before: ended windows and waits, expired devices", func(t *testing.T, f fixture) {
			short := func(int) time.Duration { return 0 }
			long := func(int) time.Duration { return 2 * window }
			get(f.s.RecordThrottleFailure(f.ctx, "ended", t0, window, short))(t)
			get(f.s.RecordThrottleFailure(f.ctx, "waiting", t0, window, long))(t)
			get(f.s.RecordThrottleFailure(f.ctx, "current", t0.Add(time.Minute), window, short))(t)
			must(t, f.s.RememberDevice(f.ctx, "a", "expired", t0.Add(time.Minute)))
			must(t, f.s.RememberDevice(f.ctx, "a", "at", t0.Add(window+time.Second)))
			must(t, f.s.RememberDevice(f.ctx, "a", "kept", t0.Add(3*window)))

			diff(t, int64(0), get(f.s.DeleteThrottlesBefore(f.ctx, t0.Add(time.Minute)))(t))
			diff(t, int64(2), get(f.s.DeleteThrottlesBefore(f.ctx, t0.Add(window+time.Second)))(t))
			diff(t, []string{"current", "waiting"}, keysOf(get(f.s.ThrottleStates(f.ctx, []string{"ended", "waiting", "current"}))(t)))
			diff(t, true, get(f.s.DeviceKnown(f.ctx, "a", "at", t0))(t))
			diff(t, false, get(f.s.DeviceKnown(f.ctx, "a", "expired", t0))(t))
			diff(t, int64(3), get(f.s.DeleteThrottlesBefore(f.ctx, t0.Add(2*window+time.Second)))(t))
			diff(t, []string{}, keysOf(get(f.s.ThrottleStates(f.ctx, []string{"waiting"}))(t)))
			diff(t, true, get(f.s.DeviceKnown(f.ctx, "a", "kept", t0))(t))
			diff(t, int64(1), get(f.s.DeleteThrottlesBefore(f.ctx, t0.Add(3*window+time.Second)))(t))
			diff(t, false, get(f.s.DeviceKnown(f.ctx, "a", "kept", t0))(t))
		}},
	}
}

func keysOf(states []storage.ThrottleState) []string {
	out := []string{}
	for _, s := range states {
		out = append(out, s.Key)
	}
	return out
}
