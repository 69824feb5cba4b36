package mail

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Security modes of Config.Security.
const (
	// SecurityStartTLS connects in cleartext and upgrades with STARTTLS
	// before anything else; a server that does not offer it is refused.
	SecurityStartTLS = "starttls"
	// SecurityTLS speaks TLS from the first byte (implicit TLS, RFC 8314).
	SecurityTLS = "tls"
	// SecurityNone never encrypts; allowed only towards a loopback
	// address (a relay on the same machine).
	SecurityNone = "none"
)

// Defaults applied by New.
const (
	DefaultTimeout  = 30 * time.Second
	portSubmission  = 587 // RFC 6409, with STARTTLS
	portSubmissions = 465 // RFC 8314, implicit TLS
	portSMTP        = 25
)

// Config says how to reach the submission server and who sends.
type Config struct {
	// Host is the server's name or IP address, without port.
	Host string
	// Port defaults to 587 for starttls, 465 for tls and 25 for none.
	Port int
	// Security is SecurityStartTLS (default when empty), SecurityTLS or
	// SecurityNone.
	Security string
	// Username, when set, authenticates with AUTH PLAIN (or LOGIN when the
	// server offers only that).
	Username string
	// Password goes with Username. Config's String and LogValue hide it.
	Password string
	// From is the sender, an RFC 5322 address with an optional display
	// name: "Territoire <no-reply@ville.fr>". It is also the envelope
	// sender, and its domain ends every Message-ID.
	From string
	// HeloName is the name given in EHLO; default the machine's host name.
	HeloName string
	// Timeout bounds each message's whole exchange, dial included;
	// default DefaultTimeout.
	Timeout time.Duration
	// RootCAs verifies the server certificate; nil means the system roots.
	RootCAs *x509.CertPool
}

// Validate reports every problem of c at once, joined with errors.Join.
// It does not change c; empty fields that have a default are valid.
func (c Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("mail: %s: %s", field, fmt.Sprintf(format, args...)))
	}

	host := c.Host
	switch {
	case strings.TrimSpace(host) == "":
		add("host", "is required")
	case strings.ContainsFunc(host, isForbiddenInName):
		add("host", "%q is not a host name or IP address", host)
	case strings.Contains(host, ":") && !isIP(host):
		add("host", "%q: give the port in Port, not in Host", host)
	}
	if c.Port < 0 || c.Port > 65535 {
		add("port", "%d is out of range 1-65535 (0 for the default)", c.Port)
	}

	security := c.security()
	encrypted := true
	switch security {
	case SecurityStartTLS, SecurityTLS:
	case SecurityNone:
		encrypted = false
		if host != "" && !isLoopback(host) {
			add("security", "%q is allowed only when host is a loopback address (localhost, 127.0.0.0/8, ::1), not %q", SecurityNone, host)
		}
	default:
		add("security", "%q is not one of %s, %s, %s", c.Security, SecurityStartTLS, SecurityTLS, SecurityNone)
	}

	if strings.ContainsAny(c.Username, "\r\n\x00") {
		add("username", "holds a line break or NUL")
	}
	if strings.ContainsAny(c.Password, "\r\n\x00") {
		add("password", "holds a line break or NUL")
	}
	switch {
	case c.Username == "" && c.Password != "":
		add("username", "is required when a password is set")
	case c.Username != "" && !encrypted && host != "" && !isLoopback(host):
		add("username", "authentication over an unencrypted connection to %q is refused", host)
	}

	if strings.TrimSpace(c.From) == "" {
		add("from", "is required")
	} else if _, err := parseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("mail: from: %w", err))
	}
	if c.HeloName != "" && strings.ContainsFunc(c.HeloName, isForbiddenInName) {
		add("helo_name", "%q is not a host name", c.HeloName)
	}
	if c.Timeout < 0 {
		add("timeout", "%v is negative", c.Timeout)
	}
	return errors.Join(errs...)
}

// security is c.Security with its default.
func (c Config) security() string {
	if c.Security == "" {
		return SecurityStartTLS
	}
	return c.Security
}

// port is c.Port with its default for the security mode.
func (c Config) port() int {
	if c.Port != 0 {
		return c.Port
	}
	switch c.security() {
	case SecurityTLS:
		return portSubmissions
	case SecurityNone:
		return portSMTP
	}
	return portSubmission
}

// address is the host:port to dial.
func (c Config) address() string {
	return joinHostPort(c.Host, c.port())
}

func joinHostPort(host string, port int) string {
	if isIP(host) && strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// String describes c without its password.
func (c Config) String() string {
	password := ""
	if c.Password != "" {
		password = "REDACTED"
	}
	return fmt.Sprintf("mail.Config{Host:%q Port:%d Security:%q Username:%q Password:%q From:%q HeloName:%q Timeout:%v}",
		c.Host, c.Port, c.Security, c.Username, password, c.From, c.HeloName, c.Timeout)
}

// GoString is String, so that %#v hides the password too.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer: the password logs as REDACTED.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("host", c.Host),
		slog.Int("port", c.port()),
		slog.String("security", c.security()),
		slog.String("from", c.From),
	}
	if c.Username != "" {
		attrs = append(attrs, slog.String("username", c.Username), slog.String("password", "REDACTED"))
	}
	return slog.GroupValue(attrs...)
}

var (
	_ slog.LogValuer = Config{}
	_ fmt.Stringer   = Config{}
)

// isLoopback tells whether host names the local machine: "localhost" or a
// loopback IP address. Send checks the address it actually connected to.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// isForbiddenInName is true for the runes a host or EHLO name never holds.
func isForbiddenInName(r rune) bool {
	return r <= ' ' || r == 0x7f || r == '/' || r == '<' || r == '>'
}

// parseAddress parses one RFC 5322 address (with an optional display
// name) for a header field and the envelope: exactly one address, an ASCII
// addr-spec with a domain, no line break (ErrHeaderInjection) or other
// control character.
func parseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, ErrHeaderInjection
	}
	if strings.ContainsFunc(s, isControl) {
		return nil, fmt.Errorf("address %q holds a control character", s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not one address: %v", s, err)
	}
	if strings.ContainsFunc(a.Name, isControl) || !utf8.ValidString(a.Name) {
		return nil, fmt.Errorf("display name %q holds a control character or invalid UTF-8", a.Name)
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 || at == len(a.Address)-1 {
		return nil, fmt.Errorf("address %q has no domain", a.Address)
	}
	local, domain := a.Address[:at], a.Address[at+1:]
	if !isDotAtom(local, isAtext) || !isDotAtom(domain, isDomainChar) {
		return nil, fmt.Errorf("address %q: only unquoted ASCII addresses (dot-atom@domain) are supported", a.Address)
	}
	return a, nil
}

// isDotAtom tells whether s is RFC 5322 dot-atom text over the bytes ok
// accepts: non-empty atoms separated by single dots.
func isDotAtom(s string, ok func(byte) bool) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && !ok(s[i]) {
			return false
		}
	}
	return true
}

// isAtext is RFC 5322 atext.
func isAtext(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// isDomainChar accepts the bytes of a DNS name (labels of letters, digits
// and hyphens); address literals are not supported.
func isDomainChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-'
}

// domainOf is the part of an addr-spec after its last @.
func domainOf(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}
