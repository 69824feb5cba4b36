package mail

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

const testPassword = "s3cr3t-Mot2Passe!"

func TestValidate(t *testing.T) {
	valid := Config{Host: "smtp.ville.fr", From: "no-reply@ville.fr"}
	tests := []struct {
		name string
		edit func(*Config)
		want []string // substrings of the error, in order; none: valid
	}{
		{name: "minimal starttls", edit: func(*Config) {}},
		{name: "display name", edit: func(c *Config) { c.From = "Métropole « Territoire » <no-reply@ville.fr>" }},
		{name: "quoted display name", edit: func(c *Config) { c.From = `"Mairie de Saint-Étienne, DSI" <dsi@ville.fr>` }},
		{name: "tls with auth", edit: func(c *Config) {
			c.Security, c.Port, c.Username, c.Password = SecurityTLS, 465, "tno", testPassword
		}},
		{name: "starttls with auth", edit: func(c *Config) { c.Security, c.Username, c.Password = SecurityStartTLS, "tno", testPassword }},
		{name: "none on 127.0.0.1 with auth", edit: func(c *Config) {
			c.Host, c.Security, c.Username, c.Password = "127.0.0.1", SecurityNone, "tno", testPassword
		}},
		{name: "none on 127.0.0.2", edit: func(c *Config) { c.Host, c.Security = "127.0.0.2", SecurityNone }},
		{name: "none on localhost", edit: func(c *Config) { c.Host, c.Security = "LocalHost", SecurityNone }},
		{name: "none on ::1", edit: func(c *Config) { c.Host, c.Security = "::1", SecurityNone }},
		{name: "IPv6 host", edit: func(c *Config) { c.Host = "2001:db8::25" }},
		{name: "username without password", edit: func(c *Config) { c.Username = "tno" }},

		{name: "missing host", edit: func(c *Config) { c.Host = " " }, want: []string{"mail: host: is required"}},
		{name: "missing from", edit: func(c *Config) { c.From = "" }, want: []string{"mail: from: is required"}},
		{name: "host with port", edit: func(c *Config) { c.Host = "smtp.ville.fr:587" }, want: []string{"host", "give the port in Port"}},
		{name: "host with space", edit: func(c *Config) { c.Host = "smtp ville.fr" }, want: []string{"host", "is not a host name"}},
		{name: "port out of range", edit: func(c *Config) { c.Port = 70000 }, want: []string{"port: 70000 is out of range"}},
		{name: "unknown security", edit: func(c *Config) { c.Security = "ssl" }, want: []string{`security: "ssl" is not one of starttls, tls, none`}},
		{name: "none on a remote host", edit: func(c *Config) { c.Security = SecurityNone }, want: []string{`security: "none" is allowed only when host is a loopback address`}},
		{name: "none on a name that merely starts with localhost", edit: func(c *Config) { c.Host, c.Security = "localhost.evil.example", SecurityNone }, want: []string{"loopback"}},
		{name: "auth in cleartext to a remote host", edit: func(c *Config) {
			c.Security, c.Username, c.Password = SecurityNone, "tno", testPassword
		}, want: []string{"loopback", "username: authentication over an unencrypted connection"}},
		{name: "password without username", edit: func(c *Config) { c.Password = testPassword }, want: []string{"username: is required when a password is set"}},
		{name: "from without domain", edit: func(c *Config) { c.From = "no-reply" }, want: []string{"from:", "not one address"}},
		{name: "from with two addresses", edit: func(c *Config) { c.From = "a@ville.fr, b@ville.fr" }, want: []string{"from:", "not one address"}},
		{name: "from injection", edit: func(c *Config) { c.From = "no-reply@ville.fr\r\nBcc: victim@example.org" }, want: []string{"from: line break in a header field"}},
		{name: "from not ASCII", edit: func(c *Config) { c.From = "né@ville.fr" }, want: []string{"from:", "ASCII"}},
		{name: "from with a quoted local part", edit: func(c *Config) { c.From = `"no reply"@ville.fr` }, want: []string{"from:", "unquoted ASCII"}},
		{name: "from address literal", edit: func(c *Config) { c.From = "root@[127.0.0.1]" }, want: []string{"from:"}},
		{name: "helo with space", edit: func(c *Config) { c.HeloName = "tno ville" }, want: []string{"helo_name"}},
		{name: "negative timeout", edit: func(c *Config) { c.Timeout = -time.Second }, want: []string{"timeout: -1s is negative"}},
		{name: "password with line break", edit: func(c *Config) { c.Username, c.Password = "tno", "a\r\nQUIT" }, want: []string{"password: holds a line break"}},
		{name: "every problem at once", edit: func(c *Config) { c.Host, c.From, c.Security = "", "", "x" }, want: []string{"host", "security", "from"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.edit(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				if _, err := New(c); err != nil {
					t.Fatalf("New() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error with %q", tt.want)
			}
			msg := err.Error()
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("Validate() = %q, want %q (in order %q)", msg, w, tt.want)
				}
				rest = rest[i+len(w):]
			}
			if strings.Contains(msg, testPassword) {
				t.Errorf("Validate() = %q shows the password", msg)
			}
			if _, err := New(c); err == nil {
				t.Errorf("New() accepted what Validate refuses")
			}
		})
	}
}

func TestValidateFromInjectionIs(t *testing.T) {
	err := Config{Host: "smtp.ville.fr", From: "a@ville.fr\nBcc: b@example.org"}.Validate()
	if !errors.Is(err, ErrHeaderInjection) {
		t.Errorf("Validate() = %v, want ErrHeaderInjection", err)
	}
}

func TestDefaults(t *testing.T) {
	tests := []struct {
		security string
		port     int
		want     string
	}{
		{"", 0, "smtp.ville.fr:587"},
		{SecurityStartTLS, 2525, "smtp.ville.fr:2525"},
		{SecurityTLS, 0, "smtp.ville.fr:465"},
	}
	for _, tt := range tests {
		s, err := New(Config{Host: "smtp.ville.fr", From: "a@ville.fr", Security: tt.security, Port: tt.port})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.cfg.address(); got != tt.want {
			t.Errorf("security %q port %d: address %q, want %q", tt.security, tt.port, got, tt.want)
		}
		if s.cfg.Timeout != DefaultTimeout || s.cfg.HeloName == "" {
			t.Errorf("defaults not applied: %v", s.cfg)
		}
	}
	s, err := New(Config{Host: "::1", Security: SecurityNone, From: "a@ville.fr"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.cfg.address(), "[::1]:25"; got != want {
		t.Errorf("address %q, want %q", got, want)
	}
}

func TestConfigHidesPassword(t *testing.T) {
	c := Config{Host: "smtp.ville.fr", Username: "tno", Password: testPassword, From: "a@ville.fr"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("mail", "config", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("mail", "config", c)
	for _, s := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), c.String(),
		fmt.Sprintf("%v", &c), buf.String(),
	} {
		if strings.Contains(s, testPassword) {
			t.Errorf("password shown in %q", s)
		}
		if !strings.Contains(s, "REDACTED") {
			t.Errorf("%q does not say a password is set", s)
		}
	}
}
