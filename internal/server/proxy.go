package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// behindProxies takes a request from a trusted reverse proxy to come from
// the client its X-Forwarded-For names: the rightmost address that is
// not itself a trusted proxy (the ones to its left could be forged by
// the client). Requests from anywhere else, and every request when no
// proxy is trusted, keep their own address and X-Forwarded-For is
// ignored. Everything downstream (the per-address limits, logs) reads
// r.RemoteAddr.
func behindProxies(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if client, ok := forwardedClient(trusted, r); ok {
			r = r.WithContext(r.Context())
			r.RemoteAddr = net.JoinHostPort(client.String(), "0")
		}
		next.ServeHTTP(w, r)
	})
}

func trustedAddr(trusted []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedClient returns the client a trusted proxy forwarded r for.
func forwardedClient(trusted []netip.Prefix, r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !trustedAddr(trusted, peer) {
		return netip.Addr{}, false
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	var client netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: nothing to its left can be believed
		}
		client = a.Unmap()
		if !trustedAddr(trusted, client) {
			return client, true
		}
	}
	return client, client.IsValid()
}
