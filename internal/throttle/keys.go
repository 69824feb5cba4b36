package throttle

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
)

// A Key names one throttle counter: a kind prefix ("acct:", "addr:",
// "dev:") and the hex SHA-256 of what it counts, so that the database
// never holds an identifier or an address an attacker typed in clear.
type Key string

// Key prefixes.
const (
	accountPrefix = "acct:"
	addressPrefix = "addr:"
	devicePrefix  = "dev:"
)

func hashed(prefix string, parts ...string) Key {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0}) // parts cannot run into each other
		}
		h.Write([]byte(p))
	}
	return Key(prefix + hex.EncodeToString(h.Sum(nil)))
}

// normalizeAccount is the form of an identifier that Account hashes:
// "Alice@Example.fr " and "alice@example.fr" are one account.
func normalizeAccount(identifier string) string {
	return strings.ToLower(strings.TrimSpace(identifier))
}

// Account is the key of the failures against one account, named by the
// identifier typed (username or e-mail address; known or not, so that
// throttling tells nothing about which accounts exist).
func Account(identifier string) Key {
	return hashed(accountPrefix, normalizeAccount(identifier))
}

// Address is the key of the failures from one client address: an IPv4
// address as is, an IPv6 address aggregated to its /64 (what one
// subscriber or site usually holds), an IPv4-mapped IPv6 address as the
// IPv4 one. An "address:port" is read as its address; anything else
// counts as the raw string.
func Address(ip string) Key {
	return hashed(addressPrefix, normalizeAddress(ip))
}

func normalizeAddress(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		ap, perr := netip.ParseAddrPort(ip)
		if perr != nil {
			return ip
		}
		a = ap.Addr()
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil { // cannot happen for an IPv6 address
		return ip
	}
	return p.String()
}

// Device is the key of the failures against account from one browser,
// named by the hash of its device cookie.
func Device(account, deviceHash string) Key {
	return hashed(devicePrefix, normalizeAccount(account), deviceHash)
}
