package throttle

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/postgres"
	"github.com/territoires-ouverts/tno/internal/storage/sqlite"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
)

// start is the fake clock's first reading.
var start = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// clock is a fake clock, moved by the test only.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// newLimiter returns a Limiter on a fresh real store (PostgreSQL when
// TNO_TEST_POSTGRES_DSN is set, else SQLite) and its clock.
func newLimiter(t *testing.T) (*Limiter, *clock) {
	clk := &clock{t: start}
	return New(storagetest.NewStore(t), clk.now), clk
}

func check(t *testing.T, l *Limiter, a Attempt) Decision {
	t.Helper()
	d, err := l.Check(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed != (d.Wait == 0) || d.Allowed != (d.Reason == "") {
		t.Fatalf("inconsistent decision %+v", d)
	}
	return d
}

// reserve is Reserve, failing the test on error or on an inconsistent
// Decision.
func reserve(t *testing.T, l *Limiter, a Attempt) Decision {
	t.Helper()
	d, err := l.Reserve(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed != (d.Wait == 0) || d.Allowed != (d.Reason == "") {
		t.Fatalf("inconsistent decision %+v", d)
	}
	return d
}

// failures is the count of key, 0 without a state.
func failures(t *testing.T, l *Limiter, key Key) int {
	t.Helper()
	states, err := l.store.ThrottleStates(t.Context(), []string{string(key)})
	must(t, err)
	if len(states) == 0 {
		return 0
	}
	return states[0].Failures
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// maxPerHour is the greatest number of times in any hour ending by end.
func maxPerHour(times []time.Time, end time.Time) int {
	best, j := 0, 0
	for i, from := range times {
		if from.Add(time.Hour).After(end) {
			break
		}
		for j < len(times) && times[j].Before(from.Add(time.Hour)) {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// attack makes attempts from next(i), each reserved (and so counted as a
// failure) as soon as it is allowed, until end, and returns when each was
// made. Each refusal must be for reason, and Check must preview each
// Decision.
func attack(t *testing.T, l *Limiter, clk *clock, end time.Time, reason string, next func(i int) Attempt, during func()) []time.Time {
	t.Helper()
	var times []time.Time
	for clk.t.Before(end) {
		a := next(len(times))
		preview := check(t, l, a)
		d := reserve(t, l, a)
		if d != preview {
			t.Fatalf("attempt %d: Reserve decided %+v, Check previewed %+v", len(times)+1, d, preview)
		}
		if !d.Allowed {
			if d.Reason != reason {
				t.Fatalf("attempt %d refused for %q, want %q", len(times)+1, d.Reason, reason)
			}
			clk.advance(d.Wait)
			continue
		}
		times = append(times, clk.t)
		if during != nil {
			during()
		}
	}
	return times
}

// signIn is a successful sign-in: Reserve, which must allow a, then
// Succeeded.
func signIn(t *testing.T, l *Limiter, a Attempt, rememberFor time.Duration) {
	t.Helper()
	if d := reserve(t, l, a); !d.Allowed {
		t.Fatalf("sign-in %+v refused: %+v", a, d)
	}
	must(t, l.Succeeded(t.Context(), a, rememberFor))
}

func TestAttackOnOneAccount(t *testing.T) {
	l, clk := newLimiter(t)
	const remember = 30 * 24 * time.Hour
	owner := Attempt{Account: "alice.martin@mairie-exemple.fr", Address: "192.0.2.10", DeviceHash: "owner-browser"}
	signIn(t, l, owner, remember)
	elsewhere := Attempt{Account: owner.Account, Address: "192.0.2.10", DeviceHash: "new-browser"}

	const hours = 4
	end := start.Add(hours * time.Hour)
	attacker := Attempt{Account: " Alice.Martin@Mairie-Exemple.fr", Address: "203.0.113.7", DeviceHash: "attacker"}
	ownerSignIns := 0
	times := attack(t, l, clk, end, ReasonAccount, func(int) Attempt { return attacker }, func() {
		// Right after each failure: the account is locked for new
		// browsers once the free failures are spent, but its owner
		// signs in from their browser, and that does not end the
		// account's count (which would give the attacker free guesses
		// again).
		before := failures(t, l, Account(owner.Account))
		signIn(t, l, owner, remember)
		if after := failures(t, l, Account(owner.Account)); after != before {
			t.Fatalf("at %v the owner's sign-in took the account's count from %d to %d", clk.t.Sub(start), before, after)
		}
		ownerSignIns++
		if d := check(t, l, elsewhere); d.Allowed {
			if n := failures(t, l, Account(owner.Account)); n > l.AccountPolicy.Free {
				t.Fatalf("at %v a new browser is allowed after %d failures", clk.t.Sub(start), n)
			}
		} else if d.Reason != ReasonAccount {
			t.Fatalf("new browser refused for %q", d.Reason)
		}
	})
	got, want := maxPerHour(times, end), GuessesPerHour(l.AccountPolicy)
	t.Logf("account policy %+v: %d guesses in %d h, at most %d in one hour; GuessesPerHour = %d",
		l.AccountPolicy, len(times), hours, got, want)
	if got > want {
		t.Errorf("%d guesses in one hour, more than GuessesPerHour = %d", got, want)
	}
	if got != want {
		t.Errorf("%d guesses in one hour, want exactly GuessesPerHour = %d (the figure models the Limiter)", got, want)
	}
	if ownerSignIns != len(times) {
		t.Errorf("owner signed in %d times, want %d", ownerSignIns, len(times))
	}
}

func TestCredentialStuffing(t *testing.T) {
	l, clk := newLimiter(t)
	end := start.Add(90 * time.Minute)
	const address = "198.51.100.1"
	times := attack(t, l, clk, end, ReasonAddress, func(i int) Attempt {
		return Attempt{Account: fmt.Sprintf("agent%d@mairie-exemple.fr", i), Address: address}
	}, func() {
		// A colleague at another address, even on an account the
		// attacker tried, is not slowed down.
		signIn(t, l, Attempt{Account: "agent0@mairie-exemple.fr", Address: "198.51.100.2"}, 0)
	})
	got, want := maxPerHour(times, end), GuessesPerHour(l.AddressPolicy)
	t.Logf("address policy %+v: %d accounts tried in 90 min, at most %d in one hour; GuessesPerHour = %d",
		l.AddressPolicy, len(times), got, want)
	if got != want {
		t.Errorf("%d guesses in one hour, want GuessesPerHour = %d", got, want)
	}
	if limit := l.AddressPolicy.Free + 1; len(times) <= limit {
		t.Errorf("%d attempts: the test never went past the free ones", len(times))
	}
}

func TestSuccessesFromOneAddress(t *testing.T) {
	// A town hall behind one NAT: its sign-ins, one after the other,
	// are taken back from the address's count; its typos are not.
	l, _ := newLimiter(t)
	const address = "192.0.2.99"
	for i := range 3 * l.AddressPolicy.Free {
		signIn(t, l, Attempt{Account: fmt.Sprintf("agent%d@mairie-exemple.fr", i), Address: address, DeviceHash: fmt.Sprintf("browser%d", i)}, time.Hour)
	}
	if n := failures(t, l, Address(address)); n != 0 {
		t.Errorf("after successes only, the address counts %d failures", n)
	}
	reserve(t, l, Attempt{Account: "typo@mairie-exemple.fr", Address: address})
	signIn(t, l, Attempt{Account: "agent0@mairie-exemple.fr", Address: address, DeviceHash: "browser0"}, time.Hour)
	if n := failures(t, l, Address(address)); n != 1 {
		t.Errorf("after a typo and a success, the address counts %d failures, want 1", n)
	}
}

func TestAddressIPv6Aggregation(t *testing.T) {
	l, _ := newLimiter(t)
	free := l.AddressPolicy.Free
	// An attacker rotating through its /64 is one address.
	for i := range free + 1 {
		a := Attempt{Account: fmt.Sprintf("u%d", i), Address: fmt.Sprintf("2001:db8:1:2::%x", i+1)}
		if d := reserve(t, l, a); !d.Allowed {
			t.Fatalf("attempt %d refused: %+v", i+1, d)
		}
	}
	if d := reserve(t, l, Attempt{Address: "2001:db8:1:2:ffff:ffff:ffff:ffff"}); d.Allowed || d.Reason != ReasonAddress || d.Wait != l.AddressPolicy.Base {
		t.Errorf("same /64: %+v, want refused for %v", d, l.AddressPolicy.Base)
	}
	if d := reserve(t, l, Attempt{Address: "2001:db8:1:3::1"}); !d.Allowed {
		t.Errorf("next /64: %+v, want allowed", d)
	}
}

func TestKnownDevice(t *testing.T) {
	l, clk := newLimiter(t)
	ctx := t.Context()
	const account = "bob@mairie-exemple.fr"
	owner := Attempt{Account: account, Address: "192.0.2.20", DeviceHash: "bob-laptop"}
	remember := 30 * 24 * time.Hour

	// Before any sign-in, the browser is not known: the account's limit
	// applies (free failures, then a refusal for the account).
	for i := range l.AccountPolicy.Free + 1 {
		if d := reserve(t, l, owner); !d.Allowed {
			t.Fatalf("unknown browser, attempt %d: %+v", i+1, d)
		}
	}
	if d := reserve(t, l, owner); d.Allowed || d.Reason != ReasonAccount {
		t.Fatalf("unknown browser: %+v, want refused for the account", d)
	}
	clk.advance(l.AccountPolicy.Base)
	signIn(t, l, owner, remember)
	// The success, from a browser not known yet, cleared the account's
	// count, and took its own attempt back from the address's, which
	// keeps the failures.
	states, err := l.store.ThrottleStates(ctx, []string{string(Account(account)), string(Device(account, owner.DeviceHash)), string(Address(owner.Address))})
	must(t, err)
	if len(states) != 1 || states[0].Key != string(Address(owner.Address)) || states[0].Failures != l.AccountPolicy.Free+1 {
		t.Errorf("states after success = %+v, want the address's only, with %d failures", states, l.AccountPolicy.Free+1)
	}

	// An attacker locks the account for every other browser.
	attacker := Attempt{Account: account, Address: "203.0.113.9"}
	for range l.AccountPolicy.Free + 1 {
		reserve(t, l, attacker)
	}
	newBrowser := Attempt{Account: account, Address: "192.0.2.21", DeviceHash: "other"}
	if d := reserve(t, l, newBrowser); d.Allowed || d.Reason != ReasonAccount {
		t.Errorf("new browser during the attack: %+v, want refused for the account", d)
	}
	// The owner's browser has its own limit: typos count there, free
	// first, then refused for the device.
	for i := range l.DevicePolicy.Free + 1 {
		if d := reserve(t, l, owner); !d.Allowed {
			t.Fatalf("owner's typo %d refused: %+v", i+1, d)
		}
	}
	if d := reserve(t, l, owner); d.Allowed || d.Reason != ReasonDevice || d.Wait != l.DevicePolicy.Base {
		t.Errorf("owner after %d typos: %+v, want refused for the device, %v", l.DevicePolicy.Free+1, d, l.DevicePolicy.Base)
	}
	if n := failures(t, l, Account(account)); n != l.AccountPolicy.Free+1 {
		t.Errorf("the account counts %d failures, want the attacker's %d only", n, l.AccountPolicy.Free+1)
	}
	// The owner signing in there ends the device's count, not the
	// account's: the attacker gets no fresh guesses.
	clk.advance(l.DevicePolicy.Base)
	signIn(t, l, owner, remember)
	if n := failures(t, l, Device(account, owner.DeviceHash)); n != 0 {
		t.Errorf("the device counts %d failures after a sign-in", n)
	}
	if n := failures(t, l, Account(account)); n != l.AccountPolicy.Free+1 {
		t.Errorf("the account counts %d failures after the owner's sign-in, want %d", n, l.AccountPolicy.Free+1)
	}
	// The wait ended meanwhile: the attacker gets one guess, not the
	// free ones again.
	if d := reserve(t, l, attacker); !d.Allowed {
		t.Errorf("attacker after the wait: %+v, want allowed", d)
	}
	if d := reserve(t, l, attacker); d.Allowed || d.Reason != ReasonAccount || d.Wait != 2*l.AccountPolicy.Base {
		t.Errorf("attacker's next guess: %+v, want refused for the account, %v", d, 2*l.AccountPolicy.Base)
	}

	// The device is known for that account only.
	if d := reserve(t, l, Attempt{Account: "other@mairie-exemple.fr", DeviceHash: owner.DeviceHash}); !d.Allowed {
		t.Errorf("other account: %+v", d)
	}
	known, err := l.store.DeviceKnown(ctx, string(Account("OTHER@mairie-exemple.fr")), string(Device("other@mairie-exemple.fr", owner.DeviceHash)), clk.t)
	must(t, err)
	if known {
		t.Error("device known for another account")
	}

	// A caller vouching for the device skips the lookup.
	vouched := Attempt{Account: account, Address: "192.0.2.22", DeviceHash: "signed-cookie", KnownDevice: true}
	if d := reserve(t, l, vouched); !d.Allowed {
		t.Errorf("vouched device: %+v, want allowed", d)
	}
	// Without DeviceHash, KnownDevice is meaningless: the account's limit.
	if d := reserve(t, l, Attempt{Account: account, KnownDevice: true}); d.Allowed || d.Reason != ReasonAccount {
		t.Errorf("KnownDevice without DeviceHash: %+v, want refused for the account", d)
	}

	// Once remembered for too long ago, the browser is a stranger again:
	// the account's limit applies to it.
	clk.advance(remember)
	for range l.AccountPolicy.Free + 1 {
		reserve(t, l, owner)
	}
	if d := reserve(t, l, owner); d.Allowed || d.Reason != ReasonAccount {
		t.Errorf("after %v: %+v, want refused for the account", remember, d)
	}
}

func TestReserveRefusedCountsNothing(t *testing.T) {
	l, _ := newLimiter(t)
	// The address spends its free failures on other accounts...
	const address = "198.51.100.7"
	for i := range l.AddressPolicy.Free + 1 {
		reserve(t, l, Attempt{Account: fmt.Sprintf("u%d", i), Address: address})
	}
	// ...then a new account from it is refused for the address, and not
	// counted.
	fresh := Attempt{Account: "fresh@mairie-exemple.fr", Address: address}
	if d := reserve(t, l, fresh); d.Allowed || d.Reason != ReasonAddress {
		t.Fatalf("fresh account from a refused address: %+v", d)
	}
	if n := failures(t, l, Account(fresh.Account)); n != 0 {
		t.Errorf("a refused attempt counted %d against its account", n)
	}
	// An account refusing keeps the address's count as it was.
	locked := Attempt{Account: "locked@mairie-exemple.fr", Address: "198.51.100.8"}
	for range l.AccountPolicy.Free + 1 {
		reserve(t, l, locked)
	}
	other := Attempt{Account: locked.Account, Address: "198.51.100.9"}
	if d := reserve(t, l, other); d.Allowed || d.Reason != ReasonAccount {
		t.Fatalf("locked account: %+v", d)
	}
	if n := failures(t, l, Address(other.Address)); n != 0 {
		t.Errorf("a refused attempt counted %d against its address", n)
	}
}

// forEachEngine runs test on SQLite and, when TNO_TEST_POSTGRES_DSN is
// set, on PostgreSQL; open opens one more store (one more TNO instance)
// on the test's database.
func forEachEngine(t *testing.T, test func(t *testing.T, open func() storage.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "tno.db")
		test(t, func() storage.Store {
			s, err := sqlite.Open(context.Background(), path)
			must(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, ok := storagetest.PostgresDSN(t)
		if !ok {
			t.Skip(storagetest.EnvPostgresDSN + " is not set")
		}
		test(t, func() storage.Store {
			s, err := postgres.Open(context.Background(), dsn)
			must(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

// together makes n attempts at once, each with the next of limiters in
// turn, at the same instant of their clock, and returns the decisions.
func together(t *testing.T, limiters []*Limiter, n int, attempt func(i int) Attempt) []Decision {
	t.Helper()
	decisions := make([]Decision, n)
	errs := make([]error, n)
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-ready
			decisions[i], errs[i] = limiters[i%len(limiters)].Reserve(t.Context(), attempt(i))
		})
	}
	close(ready)
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	return decisions
}

// allowed counts the allowed decisions and checks that every refusal is
// for reason, with wait.
func allowed(t *testing.T, ds []Decision, reason string, wait time.Duration) int {
	t.Helper()
	n := 0
	for _, d := range ds {
		switch {
		case d.Allowed:
			n++
		case d.Reason != reason || d.Wait != wait:
			t.Errorf("refused %+v, want for %q, %v", d, reason, wait)
		}
	}
	return n
}

// sequentialBudget is how many attempts a, made one after the other at
// the clock's instant, get before the first refusal.
func sequentialBudget(t *testing.T, l *Limiter, a Attempt) int {
	t.Helper()
	n := 0
	for reserve(t, l, a).Allowed {
		n++
	}
	return n
}

func TestReserveConcurrent(t *testing.T) {
	const n = 50
	forEachEngine(t, func(t *testing.T, open func() storage.Store) {
		clk := &clock{t: start}
		// Two instances on one database.
		limiters := []*Limiter{New(open(), clk.now), New(open(), clk.now)}
		l := limiters[0]
		policy := l.AccountPolicy
		if policy.Free != 5 {
			t.Fatalf("account policy %+v, want Free 5", policy)
		}

		t.Run("one account from one address", func(t *testing.T) {
			a := Attempt{Account: "carole@mairie-exemple.fr", Address: "203.0.113.50", DeviceHash: "attacker"}
			want := sequentialBudget(t, l, Attempt{Account: "sequential@mairie-exemple.fr", Address: "203.0.113.51"})
			got := allowed(t, together(t, limiters, n, func(int) Attempt { return a }), ReasonAccount, policy.Base)
			t.Logf("%d of %d simultaneous attempts allowed (Free %d; %d one after the other)", got, n, policy.Free, want)
			if got != want || got != policy.Free+1 {
				t.Fatalf("%d of %d simultaneous attempts allowed, want %d as one after the other: the %d free, and the one that imposes the first wait",
					got, n, policy.Free+1, policy.Free)
			}
			// The refused ones were counted against neither key.
			if na, nd := failures(t, l, Account(a.Account)), failures(t, l, Address(a.Address)); na != got || nd != got {
				t.Errorf("account counts %d, address %d, want %d each", na, nd, got)
			}
			// After the wait, the next attempt goes ahead, and imposes a
			// longer one.
			clk.advance(policy.Base)
			if d := reserve(t, limiters[1], a); !d.Allowed {
				t.Fatalf("after the wait: %+v", d)
			}
			if d := reserve(t, l, a); d.Allowed || d.Wait != 2*policy.Base {
				t.Errorf("right after: %+v, want refused for %v", d, 2*policy.Base)
			}
		})

		t.Run("many accounts from one address", func(t *testing.T) {
			const address = "198.51.100.60"
			account := func(i int) string { return fmt.Sprintf("agent%d@mairie-exemple.fr", i) }
			got := allowed(t, together(t, limiters, n, func(i int) Attempt {
				return Attempt{Account: account(i), Address: address}
			}), ReasonAddress, l.AddressPolicy.Base)
			t.Logf("%d of %d simultaneous attempts on %d accounts allowed (address Free %d)", got, n, n, l.AddressPolicy.Free)
			if got != l.AddressPolicy.Free+1 {
				t.Fatalf("%d allowed, want %d", got, l.AddressPolicy.Free+1)
			}
			counted := 0
			for i := range n {
				counted += failures(t, l, Account(account(i)))
			}
			if counted != got {
				t.Errorf("%d failures counted against the accounts, want %d: refused attempts count nowhere", counted, got)
			}
		})

		t.Run("a known device", func(t *testing.T) {
			owner := Attempt{Account: "denis@mairie-exemple.fr", Address: "192.0.2.70", DeviceHash: "denis-laptop"}
			signIn(t, l, owner, time.Hour)
			got := allowed(t, together(t, limiters, n, func(int) Attempt { return owner }), ReasonDevice, l.DevicePolicy.Base)
			t.Logf("%d of %d simultaneous attempts from a known device allowed (device Free %d)", got, n, l.DevicePolicy.Free)
			if got != l.DevicePolicy.Free+1 {
				t.Fatalf("%d allowed, want %d", got, l.DevicePolicy.Free+1)
			}
			if na := failures(t, l, Account(owner.Account)); na != 0 {
				t.Errorf("the account counts %d failures from its known device", na)
			}
			clk.advance(l.DevicePolicy.Base)
			signIn(t, limiters[1], owner, time.Hour)
		})
	})
}

func TestNoAttempt(t *testing.T) {
	l, _ := newLimiter(t)
	must(t, l.Failed(t.Context(), Attempt{}))
	must(t, l.Succeeded(t.Context(), Attempt{}, time.Hour))
	if d := check(t, l, Attempt{}); !d.Allowed {
		t.Errorf("empty attempt: %+v", d)
	}
	if d := reserve(t, l, Attempt{}); !d.Allowed {
		t.Errorf("empty attempt reserved: %+v", d)
	}
}

// TestStoredKeysHideIdentifiers reads the SQLite file behind the store:
// nothing an attacker typed is there in clear.
func TestStoredKeysHideIdentifiers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tno.db")
	s, err := sqlite.Open(ctx, path)
	must(t, err)
	t.Cleanup(func() { s.Close() })
	clk := &clock{t: start}
	l := New(s, clk.now)
	clear := []string{"Alice.Martin@Mairie-Exemple.fr", "192.0.2.77", "2001:db8:1:2::5", "device-cookie-secret"}
	for _, addr := range []string{clear[1], clear[2]} {
		a := Attempt{Account: clear[0], Address: addr, DeviceHash: clear[3]}
		if d, err := l.Reserve(ctx, a); err != nil || !d.Allowed {
			t.Fatalf("Reserve = %+v, %v", d, err)
		}
		must(t, l.Succeeded(ctx, a, time.Hour))
		must(t, l.Failed(ctx, a))
	}

	db, err := sql.Open("sqlite", path)
	must(t, err)
	defer db.Close()
	var stored []string
	for _, q := range []string{`SELECT key FROM throttles`, `SELECT account FROM known_devices`, `SELECT device FROM known_devices`} {
		rows, err := db.QueryContext(ctx, q)
		must(t, err)
		for rows.Next() {
			var v string
			must(t, rows.Scan(&v))
			stored = append(stored, v)
		}
		must(t, rows.Err())
		rows.Close()
	}
	if len(stored) != 4+2 { // 2 addresses, account, device; a known device's 2 columns
		t.Errorf("stored %d values, want 6: %q", len(stored), stored)
	}
	shape := regexp.MustCompile(`^(acct|addr|dev):[0-9a-f]{64}$`)
	for _, v := range stored {
		if !shape.MatchString(v) {
			t.Errorf("stored %q, want a prefix and a SHA-256", v)
		}
		for _, c := range clear {
			if strings.Contains(strings.ToLower(v), strings.ToLower(c)) {
				t.Errorf("stored %q contains %q", v, c)
			}
		}
	}
}
