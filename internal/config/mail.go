package config

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Mail is the submission server TNO sends e-mail through: the « Mot de
// passe oublié » links and the security notices. Without Host TNO sends
// no e-mail, and the forgotten-password page tells people to contact the
// support (territory.support) instead of offering its form.
//
// Validate checks what needs no knowledge of SMTP (the keys that go
// together, the security mode, the port range); the server checks the
// rest (host and sender syntax, cleartext only towards a loopback
// address) with mail.Config.Validate when it starts.
type Mail struct {
	// Host is the server's name or IP address, without port.
	Host string `yaml:"host"`
	// Port defaults to 587 for starttls, 465 for tls and 25 for none.
	Port int `yaml:"port"`
	// Security is MailStartTLS (the default when empty), MailTLS
	// (implicit TLS) or MailNone (no encryption: only towards a loopback
	// address, a relay on the same machine).
	Security string `yaml:"security"`
	// Username, when set, authenticates (AUTH PLAIN, or LOGIN when the
	// server offers only that) with the password of PasswordFile.
	Username string `yaml:"username"`
	// PasswordFile names a file holding the password (a secret). Load
	// reads it into Password, without its final line break.
	PasswordFile string `yaml:"password_file"`
	// From is the sender, an address with an optional display name:
	// "Métropole Exemple <no-reply@metropole-exemple.fr>".
	From string `yaml:"from"`
	// HeloName is the name given in EHLO; the machine's host name if
	// empty.
	HeloName string `yaml:"helo_name"`
	// Password is the content of PasswordFile: never read from the file
	// or the environment directly, and never printed (Secret).
	Password Secret `yaml:"-"`
}

// Mail security modes (those of internal/mail).
const (
	MailStartTLS = "starttls"
	MailTLS      = "tls"
	MailNone     = "none"
)

// Enabled reports whether TNO sends e-mail.
func (m Mail) Enabled() bool { return m.Host != "" }

// Secret is a value read from a *_file setting. It prints and logs as
// REDACTED; convert it to a string to use it.
type Secret string

// String hides the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "REDACTED"
}

// GoString hides the secret from %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

var (
	_ fmt.Stringer   = Secret("")
	_ slog.LogValuer = Secret("")
)

// resolve reads password_file into Password.
func (m *Mail) resolve() []error {
	if m.PasswordFile == "" {
		return nil
	}
	data, err := os.ReadFile(m.PasswordFile)
	if err != nil {
		return []error{fmt.Errorf("mail.password_file: %w", err)}
	}
	// Only the line break that editors and echo add is dropped: spaces
	// may belong to the password.
	pw := strings.TrimRight(string(data), "\r\n")
	if pw == "" {
		return []error{fmt.Errorf("mail.password_file: %s is empty", m.PasswordFile)}
	}
	m.Password = Secret(pw)
	return nil
}

func (m Mail) validate(add func(key, format string, args ...any)) {
	if m.Host == "" {
		var set []string
		for _, f := range []struct {
			key string
			set bool
		}{
			{"mail.port", m.Port != 0}, {"mail.security", m.Security != ""}, {"mail.username", m.Username != ""},
			{"mail.password_file", m.PasswordFile != ""}, {"mail.from", m.From != ""}, {"mail.helo_name", m.HeloName != ""},
		} {
			if f.set {
				set = append(set, f.key)
			}
		}
		if len(set) > 0 {
			add("mail.host", "is required when %s is set (without mail.host TNO sends no e-mail)", strings.Join(set, ", "))
		}
		return
	}
	switch m.Security {
	case "", MailStartTLS, MailTLS, MailNone:
	default:
		add("mail.security", "%s", oneOf(m.Security, MailStartTLS, MailTLS, MailNone))
	}
	if m.Port < 0 || m.Port > 65535 {
		add("mail.port", "%d is out of range 1-65535 (0 for the default of mail.security)", m.Port)
	}
	if strings.TrimSpace(m.From) == "" {
		add("mail.from", "is required when mail.host is set")
	}
	if m.PasswordFile != "" && m.Username == "" {
		add("mail.username", "is required when mail.password_file is set")
	}
}
