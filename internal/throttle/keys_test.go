package throttle

import (
	"regexp"
	"strings"
	"testing"
)

func TestNormalizeAddress(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"192.0.2.1:443", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:DB8:1:2::ffff", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::1]:8443", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"not an address", "not an address"},
		{"", ""},
		{"192.0.2.256", "192.0.2.256"},
	} {
		if got := normalizeAddress(c.in); got != c.want {
			t.Errorf("normalizeAddress(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestKeys(t *testing.T) {
	same := []struct {
		name string
		a, b Key
	}{
		{"account: case and spaces", Account(" Alice.Martin@Mairie-Exemple.FR\t"), Account("alice.martin@mairie-exemple.fr")},
		{"address: one IPv6 /64", Address("2001:db8:1:2:3:4:5:6"), Address("2001:db8:1:2:ffff::1")},
		{"address: mapped IPv4", Address("::ffff:192.0.2.1"), Address("192.0.2.1")},
		{"address: invalid is the raw string", Address("unknown"), hashed(addressPrefix, "unknown")},
		{"device: account normalized", Device("Alice ", "d"), Device("alice", "d")},
	}
	for _, c := range same {
		if c.a != c.b {
			t.Errorf("%s: %s != %s", c.name, c.a, c.b)
		}
	}
	different := []struct {
		name string
		a, b Key
	}{
		{"accounts", Account("alice"), Account("alicia")},
		{"IPv4 addresses", Address("192.0.2.1"), Address("192.0.2.2")},
		{"IPv6 /64s", Address("2001:db8:1:2::1"), Address("2001:db8:1:3::1")},
		{"kinds", Account("192.0.2.1"), Address("192.0.2.1")},
		{"devices of one account", Device("alice", "d1"), Device("alice", "d2")},
		{"one device, two accounts", Device("alice", "d"), Device("bob", "d")},
		{"parts do not run together", Device("ab", "c"), Device("a", "bc")},
	}
	for _, c := range different {
		if c.a == c.b {
			t.Errorf("%s: both %s", c.name, c.a)
		}
	}
	shape := regexp.MustCompile(`^(acct|addr|dev):[0-9a-f]{64}$`)
	for _, k := range []Key{
		Account("Alice.Martin@mairie-exemple.fr"), Address("192.0.2.77"), Address("2001:db8::1"),
		Address("garbage"), Device("alice.martin@mairie-exemple.fr", "cookie"),
	} {
		if !shape.MatchString(string(k)) {
			t.Errorf("key %q is not a prefix and a SHA-256", k)
		}
		for _, clear := range []string{"alice", "mairie", "192.0.2", "2001:db8", "garbage", "cookie"} {
			if strings.Contains(string(k), clear) {
				t.Errorf("key %q contains %q", k, clear)
			}
		}
	}
}
