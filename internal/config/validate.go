package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Password parameter bounds. The floor follows OWASP's argon2id table,
// whose rows (46 MiB × 1 … 7 MiB × 5) all spend at least about 35 MiB·pass.
const (
	minPasswordMemoryKiB     = 7 * 1024
	minPasswordWorkKiB       = 35 * 1024 // memory_kib × iterations
	maxPasswordMemoryKiB     = 4 * 1024 * 1024
	maxPasswordIterations    = 100
	maxAuthorizationCodeLife = 10 * time.Minute // RFC 6749 section 4.1.2
)

// Validate reports every invalid setting of c at once, joined with
// errors.Join, each prefixed with its YAML key. It does not change c.
func (c *Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}

	if err := checkIssuer(c.Issuer); err != nil {
		add("issuer", "%v", err)
	}
	if err := checkListen(c.Listen); err != nil {
		add("listen", "%v", err)
	}
	if _, err := ParseTrustedProxies(c.TrustedProxies); err != nil {
		add("trusted_proxies", "%v", err)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		add("data_dir", "is required")
	}

	switch c.Database.Driver {
	case DriverSQLite:
	case DriverPostgres:
		if c.Database.DSN == "" && c.Database.DSNFile == "" {
			add("database.dsn", "is required when database.driver is %s (or set database.dsn_file)", DriverPostgres)
		}
	default:
		add("database.driver", "%s", oneOf(c.Database.Driver, DriverSQLite, DriverPostgres))
	}

	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		add("log.level", "%s", oneOf(c.Log.Level, "debug", "info", "warn", "error"))
	}
	if !slices.Contains([]string{"text", "json"}, c.Log.Format) {
		add("log.format", "%s", oneOf(c.Log.Format, "text", "json"))
	}

	durations := []struct {
		key string
		d   Duration
	}{
		{"session.lifetime", c.Session.Lifetime},
		{"session.idle_timeout", c.Session.IdleTimeout},
		{"tokens.access_token", c.Tokens.AccessToken},
		{"tokens.id_token", c.Tokens.IDToken},
		{"tokens.authorization_code", c.Tokens.AuthorizationCode},
		{"tokens.refresh_token", c.Tokens.RefreshToken},
		{"tokens.refresh_family", c.Tokens.RefreshFamily},
	}
	for _, d := range durations {
		if d.d <= 0 {
			add(d.key, "must be positive, got %s", d.d)
		}
	}
	if c.Session.IdleTimeout > c.Session.Lifetime && c.Session.Lifetime > 0 {
		add("session.idle_timeout", "%s is longer than session.lifetime %s", c.Session.IdleTimeout, c.Session.Lifetime)
	}
	if c.Tokens.AuthorizationCode.Std() > maxAuthorizationCodeLife {
		add("tokens.authorization_code", "%s is longer than the 10m that RFC 6749 allows", c.Tokens.AuthorizationCode)
	}

	if c.Signing.Algorithm != SigningRS256 && c.Signing.Algorithm != SigningES256 {
		add("signing.algorithm", "%s", oneOf(c.Signing.Algorithm, SigningRS256, SigningES256))
	}

	p := c.Password
	switch {
	case p.MemoryKiB < minPasswordMemoryKiB:
		add("password.memory_kib", "%d is below the minimum %d (7 MiB)", p.MemoryKiB, minPasswordMemoryKiB)
	case p.MemoryKiB > maxPasswordMemoryKiB:
		add("password.memory_kib", "%d is above the maximum %d (4 GiB)", p.MemoryKiB, maxPasswordMemoryKiB)
	}
	switch {
	case p.Iterations < 1:
		add("password.iterations", "must be at least 1")
	case p.Iterations > maxPasswordIterations:
		add("password.iterations", "%d is above the maximum %d", p.Iterations, maxPasswordIterations)
	}
	if p.MemoryKiB >= minPasswordMemoryKiB && p.Iterations >= 1 &&
		uint64(p.MemoryKiB)*uint64(p.Iterations) < minPasswordWorkKiB {
		add("password", "memory_kib × iterations = %d is below the OWASP minimum %d (for instance 19456 KiB × 2)",
			uint64(p.MemoryKiB)*uint64(p.Iterations), minPasswordWorkKiB)
	}
	if p.Parallelism < 1 {
		add("password.parallelism", "must be at least 1")
	}
	if p.MaxConcurrent < 0 {
		add("password.max_concurrent", "must be 0 (the number of CPUs) or more, got %d", p.MaxConcurrent)
	}
	c.Territory.validate(add)
	c.Mail.validate(add)
	return errors.Join(errs...)
}

func oneOf(got string, choices ...string) string {
	return fmt.Sprintf("%q is not one of %s", got, strings.Join(choices, ", "))
}

// checkIssuer applies OpenID Connect Discovery's rules to the issuer: an
// https URL with no query or fragment; plain http only on loopback, for
// development.
func checkIssuer(issuer string) error {
	if issuer == "" {
		return errors.New("is required")
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return fmt.Errorf("%q is not a URL", issuer)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q must be an absolute http or https URL", issuer)
	case u.Opaque != "" || u.Host == "":
		return fmt.Errorf("%q must be an absolute URL with a host", issuer)
	case u.User != nil:
		return fmt.Errorf("%q must not contain a user name or password", issuer)
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("%q must not contain a query", issuer)
	case u.Fragment != "" || strings.Contains(issuer, "#"):
		return fmt.Errorf("%q must not contain a fragment", issuer)
	case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		return fmt.Errorf("%q must use https (http is allowed only for localhost, 127.0.0.1 and ::1)", issuer)
	}
	if u.Port() != "" {
		if n, err := strconv.ParseUint(u.Port(), 10, 16); err != nil || n == 0 {
			return fmt.Errorf("%q has an invalid port", issuer)
		}
	}
	return nil
}

func isLoopbackHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// checkListen accepts host:port with a numeric port; an empty host means
// every interface, port 0 a port chosen by the system.
func checkListen(listen string) error {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("%q is not host:port", listen)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: port must be a number from 0 to 65535", listen)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q: invalid host", listen)
	}
	return nil
}
