package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// listKeys returns tno keys list --json (with extra flags).
func (c *cli) listKeys(flags ...string) []keyView {
	c.t.Helper()
	out := c.ok(append([]string{"keys", "list", "--json"}, flags...)...)
	var ks []keyView
	if err := json.Unmarshal([]byte(out), &ks); err != nil {
		c.t.Fatalf("keys list --json: %v\n%s", err, out)
	}
	return ks
}

func TestKeysRotateAndList(t *testing.T) {
	c := newCLI(t)
	if ks := c.listKeys(); len(ks) != 0 {
		t.Fatalf("keys on a new database: %+v", ks)
	}
	if r := c.run("keys", "list"); r.code != 0 || !strings.Contains(r.stderr, "No key signs now") {
		t.Errorf("keys list without keys: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Nothing signs yet: the first key signs at once, whatever the delay.
	r := c.run("keys", "rotate")
	if r.code != 0 || !strings.Contains(r.stdout, "created key ") || !strings.Contains(r.stderr, "signs at once") {
		t.Fatalf("first rotate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ks := c.listKeys()
	if len(ks) != 1 || ks[0].State != "signing" || ks[0].Alg != "RS256" || ks[0].RetiredAt != nil || ks[0].ExpiresAt != nil {
		t.Fatalf("after the first rotate: %+v", ks)
	}
	first := ks[0]

	out := c.ok("keys", "rotate", "--publish-delay", "15m", "--keep", "48h", "--algorithm", "ES256")
	if !strings.Contains(out, "retiring key "+first.KID) || !strings.Contains(out, "(ES256): published now") {
		t.Errorf("second rotate:\n%s", out)
	}
	ks = c.listKeys()
	if len(ks) != 2 {
		t.Fatalf("after the second rotate: %d keys, want 2: %+v", len(ks), ks)
	}
	old, next := ks[0], ks[1]
	if old.KID != first.KID {
		t.Fatalf("first listed key %s, want the oldest %s", old.KID, first.KID)
	}
	if next.Alg != "ES256" || next.State != "next" || old.State != "signing" {
		t.Errorf("states: old %s %s, new %s %s; want signing RS256, next ES256", old.State, old.Alg, next.State, next.Alg)
	}
	if d := next.ActiveAt.Sub(next.CreatedAt); d != 15*time.Minute {
		t.Errorf("new key signs %v after its publication, want 15m", d)
	}
	if old.RetiredAt == nil || !old.RetiredAt.Equal(next.ActiveAt) {
		t.Errorf("old key retires at %v, want the new key's activation %v", old.RetiredAt, next.ActiveAt)
	}
	if old.ExpiresAt == nil || old.ExpiresAt.Sub(next.ActiveAt) != 48*time.Hour {
		t.Errorf("old key expires at %v, want 48h after %v", old.ExpiresAt, next.ActiveAt)
	}

	// The table shows the same, without private material.
	table := c.ok("keys", "list")
	for _, want := range []string{"KID", "ACTIVE_FROM", "RETIRED", "EXPIRES", old.KID, next.KID, "signing", "next"} {
		if !strings.Contains(table, want) {
			t.Errorf("keys list lacks %q:\n%s", want, table)
		}
	}
	for _, out := range []string{table, c.ok("keys", "list", "--json", "--all")} {
		for _, secret := range []string{`"d"`, `"p"`, `"q"`, "PRIVATE"} {
			if strings.Contains(out, secret) {
				t.Errorf("keys list prints %s:\n%s", secret, out)
			}
		}
	}
}

func TestKeysRotateRefused(t *testing.T) {
	c := newCLI(t)
	c.ok("keys", "rotate")
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"keep shorter than the tokens", []string{"--keep", "5m"}, 1, "--keep 5m0s is shorter than the token lifetime 10m0s"},
		{"negative delay", []string{"--publish-delay", "-1m"}, 1, "must not be negative"},
		{"unknown algorithm", []string{"--algorithm", "HS256"}, 1, `--algorithm: "HS256"`},
		{"not a duration", []string{"--keep", "1 day"}, 2, "invalid value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stderr := c.fail(tt.code, append([]string{"keys", "rotate"}, tt.args...)...)
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
		})
	}
	if ks := c.listKeys(); len(ks) != 1 {
		t.Errorf("refused rotations created keys: %+v", ks)
	}
	if r := c.run("keys", "rotate", "-h"); r.code != 0 || !strings.Contains(r.stderr, "--publish-delay should exceed") {
		t.Errorf("keys rotate -h: exit %d\n%s", r.code, r.stderr)
	}
}

func TestKeysSigningAlgorithmConfig(t *testing.T) {
	c := newCLI(t)
	c.env = []string{"TNO_SIGNING_ALGORITHM=ES256"}
	c.ok("keys", "rotate")
	if ks := c.listKeys(); len(ks) != 1 || ks[0].Alg != "ES256" {
		t.Errorf("with signing.algorithm ES256: %+v", ks)
	}
	c.ok("keys", "rotate", "--publish-delay", "0s", "--keep", "10m", "--algorithm", "RS256")
	ks := c.listKeys()
	if len(ks) != 2 || ks[1].Alg != "RS256" || ks[1].State != "signing" || ks[0].State != "retired" {
		t.Errorf("after an immediate RS256 rotation: %+v", ks)
	}
	c.env = []string{"TNO_SIGNING_ALGORITHM=RS512"}
	if stderr := c.fail(1, "keys", "list"); !strings.Contains(stderr, "signing.algorithm") {
		t.Errorf("bad signing.algorithm: %s", stderr)
	}
}

func TestKeysListHidesExpired(t *testing.T) {
	c := newCLI(t)
	// Tokens of a microsecond let a key expire as soon as it is retired.
	c.env = []string{"TNO_TOKENS_ID_TOKEN=1us", "TNO_TOKENS_ACCESS_TOKEN=1us"}
	c.ok("keys", "rotate")
	c.ok("keys", "rotate", "--publish-delay", "0s", "--keep", "1us")
	if ks := c.listKeys(); len(ks) != 1 || ks[0].State != "signing" {
		t.Errorf("keys list: %+v, want only the signing key", ks)
	}
	ks := c.listKeys("--all")
	if len(ks) != 2 || ks[0].State != "expired" {
		t.Errorf("keys list --all: %+v, want the expired key too", ks)
	}
}
