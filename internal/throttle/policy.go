package throttle

import (
	"math"
	"time"
)

// A Policy is the schedule of one kind of key: the first Free failures
// within Window cost nothing; each further failure imposes, after it, a
// wait of min(Base × 2^(failures−Free−1), Max). The window starts at the
// first failure; the count starts again at the first failure after the
// window and the last wait have both ended.
type Policy struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Window time.Duration
}

// DefaultAccountPolicy is the limit of one account, tried from browsers it
// never signed in from.
func DefaultAccountPolicy() Policy {
	return Policy{Free: 5, Base: time.Second, Max: 15 * time.Minute, Window: time.Hour}
}

// DefaultAddressPolicy is the limit of one client address (an IPv6 /64).
// It is loose: a town hall behind one NAT must not be stopped by its own
// typos; it is there against credential stuffing, one address trying many
// accounts.
func DefaultAddressPolicy() Policy {
	return Policy{Free: 30, Base: time.Second, Max: time.Minute, Window: 15 * time.Minute}
}

// DefaultDevicePolicy is the limit of one account from one browser it
// signed in from before, which replaces the account's limit there.
func DefaultDevicePolicy() Policy {
	return Policy{Free: 10, Base: time.Second, Max: 5 * time.Minute, Window: time.Hour}
}

// Delay is the wait imposed after the failures-th failure of a window.
// It is 0 for a policy with no positive Base or Max.
func (p Policy) Delay(failures int) time.Duration {
	n := failures - p.Free
	if n <= 0 || p.Base <= 0 || p.Max <= 0 {
		return 0
	}
	d := p.Base
	for i := 1; i < n && d < p.Max; i++ {
		if d > p.Max/2 {
			return p.Max
		}
		d *= 2
	}
	return min(d, p.Max)
}

// maxSimulated bounds the attempts GuessesPerHour simulates.
const maxSimulated = 1 << 20

// GuessesPerHour is the greatest number of attempts made in any one hour
// against one key of policy p by an attacker trying, one at a time, as
// soon as each wait ends. It simulates that attacker, with the rules the
// Limiter and storage.Throttles apply, over enough time to see every
// phase of the schedule (it repeats from each restart of the count).
// (Skipping the last attempts of a window, so that the count restarts
// sooner, gives fewer attempts per hour with the default policies.)
//
// It returns math.MaxInt for a policy that never makes the attacker
// wait, or that lets too many attempts through to simulate (over 2^20
// in the simulated span of at least two hours).
func GuessesPerHour(p Policy) int {
	if p.Delay(p.Free+1) <= 0 || (p.Window <= 0 && p.Free > 0) {
		return math.MaxInt
	}
	const hour = time.Hour
	// A window with its last wait lasts at most Window + Max, and the
	// attempts repeat from there: an hour starting in the first such
	// period, and ending before the horizon, sees every phase.
	horizon := max(p.Window, 0) + p.Max + 2*hour
	var (
		times            []time.Duration
		now, start, next time.Duration
		failures         int
	)
	for {
		now = max(now, next)
		if now >= horizon {
			break
		}
		if failures == 0 || now >= start+p.Window { // and now >= next
			failures, start = 1, now
		} else {
			failures++
		}
		times = append(times, now)
		if len(times) > maxSimulated {
			return math.MaxInt
		}
		next = now + p.Delay(failures)
	}
	best, j := 0, 0
	for i, from := range times {
		if from+hour > horizon {
			break
		}
		for j < len(times) && times[j] < from+hour {
			j++
		}
		best = max(best, j-i)
	}
	return best
}
