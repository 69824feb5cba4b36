package config

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written as Go writes durations: "90s",
// "10m", "1h30m". It is the same text in the YAML file and in TNO_*
// variables.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String returns d in time.Duration form ("1h30m0s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("invalid duration %q: want a number and a unit, such as 90s, 10m or 1h30m", text)
	}
	*d = Duration(v)
	return nil
}
