package throttle

import (
	"math"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	account := DefaultAccountPolicy()
	for _, c := range []struct {
		name     string
		p        Policy
		failures int
		want     time.Duration
	}{
		{"no failure", account, 0, 0},
		{"first free failure", account, 1, 0},
		{"last free failure", account, 5, 0},
		{"first paid failure waits Base", account, 6, time.Second},
		{"then doubles", account, 7, 2 * time.Second},
		{"tenth paid failure", account, 15, 512 * time.Second},
		{"capped at Max", account, 16, 15 * time.Minute},
		{"stays at Max", account, 1000, 15 * time.Minute},
		{"no overflow", account, math.MaxInt, 15 * time.Minute},
		{"address: free for 30", DefaultAddressPolicy(), 30, 0},
		{"address: capped at a minute", DefaultAddressPolicy(), 37, time.Minute},
		{"device: free for 10", DefaultDevicePolicy(), 10, 0},
		{"device: below the cap", DefaultDevicePolicy(), 19, 256 * time.Second},
		{"device: capped at 5 minutes", DefaultDevicePolicy(), 20, 5 * time.Minute},
		{"nothing free", Policy{Base: time.Minute, Max: time.Hour, Window: time.Hour}, 1, time.Minute},
		{"Max below Base", Policy{Base: time.Minute, Max: time.Second, Window: time.Hour}, 1, time.Second},
		{"huge Max, no overflow", Policy{Base: time.Second, Max: math.MaxInt64, Window: time.Hour}, 200, math.MaxInt64},
		{"zero Base never waits", Policy{Max: time.Hour, Window: time.Hour}, 10, 0},
		{"zero Max never waits", Policy{Base: time.Second, Window: time.Hour}, 10, 0},
		{"negative count", account, -3, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.p.Delay(c.failures); got != c.want {
				t.Errorf("Delay(%d) = %v, want %v", c.failures, got, c.want)
			}
		})
	}
}

func TestGuessesPerHour(t *testing.T) {
	for _, c := range []struct {
		name string
		p    Policy
		want int
	}{
		// 6 at once, then after 1, 2, 4 … 512 s (10 more by 17 min), then
		// every 15 min (2 more); the count restarts 62 min in.
		{"default account", DefaultAccountPolicy(), 18},
		// 31 at once, 6 more in the first minute, then one a minute: 50
		// per window of 15 min 3 s, 4 windows an hour.
		{"default address", DefaultAddressPolicy(), 200},
		// 11 at once, 9 more by 8.5 min, then every 5 min (10 more).
		{"default device", DefaultDevicePolicy(), 30},
		{"one a minute", Policy{Base: time.Minute, Max: time.Minute, Window: time.Hour}, 60},
		{"one a minute, short window", Policy{Base: time.Minute, Max: time.Minute, Window: time.Second}, 60},
		{"a burst an hour", Policy{Free: 3, Base: time.Hour, Max: time.Hour, Window: time.Hour}, 4},
		// The wait set 30 min in runs past the window's end and delays
		// the restart: 4 at 0, 1 at 30 min, 4 at 60 min, 1 at 90 min …
		{"restart after a wait past the window", Policy{Free: 3, Base: 30 * time.Minute, Max: 30 * time.Minute, Window: 31 * time.Minute}, 5},
		{"never waits", Policy{Free: 3, Window: time.Hour}, math.MaxInt},
		{"no window, free failures", Policy{Free: 1, Base: time.Second, Max: time.Second}, math.MaxInt},
		{"too fast to count", Policy{Base: time.Nanosecond, Max: time.Nanosecond, Window: time.Hour}, math.MaxInt},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := GuessesPerHour(c.p); got != c.want {
				t.Errorf("GuessesPerHour(%+v) = %d, want %d", c.p, got, c.want)
			}
		})
	}
}
