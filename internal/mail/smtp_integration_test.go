package mail

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tests named TestSMTP* run against the real server described by the
// TNO_TEST_SMTP* variables (see the package doc and
// scripts/smtp-test-server.sh); they are skipped without TNO_TEST_SMTP.

type smtpServer struct {
	starttls, tls, plain string // host:port; tls and plain may be empty
	user, password       string
	roots                *x509.CertPool
	maildir              string
}

func smtpTestServer(t *testing.T) smtpServer {
	t.Helper()
	s := smtpServer{
		starttls: os.Getenv("TNO_TEST_SMTP"),
		tls:      os.Getenv("TNO_TEST_SMTP_TLS"),
		plain:    os.Getenv("TNO_TEST_SMTP_PLAIN"),
		user:     os.Getenv("TNO_TEST_SMTP_USER"),
		password: os.Getenv("TNO_TEST_SMTP_PASSWORD"),
		maildir:  os.Getenv("TNO_TEST_SMTP_MAILDIR"),
	}
	if s.starttls == "" {
		if os.Getenv("TNO_TEST_REQUIRE_SMTP") == "1" {
			t.Fatal("TNO_TEST_REQUIRE_SMTP=1 but TNO_TEST_SMTP is not set (bash scripts/smtp-test-server.sh)")
		}
		t.Skip("TNO_TEST_SMTP not set: run eval \"$(bash scripts/smtp-test-server.sh)\"")
	}
	if s.user == "" || s.password == "" || s.maildir == "" || os.Getenv("TNO_TEST_SMTP_CA") == "" {
		t.Fatal("TNO_TEST_SMTP needs TNO_TEST_SMTP_USER, TNO_TEST_SMTP_PASSWORD, TNO_TEST_SMTP_CA and TNO_TEST_SMTP_MAILDIR")
	}
	pem, err := os.ReadFile(os.Getenv("TNO_TEST_SMTP_CA"))
	if err != nil {
		t.Fatal(err)
	}
	s.roots = x509.NewCertPool()
	if !s.roots.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", os.Getenv("TNO_TEST_SMTP_CA"))
	}
	return s
}

// config is a Config for the server at hostport, authenticated.
func (s smtpServer) config(t *testing.T, hostport, security string) Config {
	t.Helper()
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatalf("%q: %v", hostport, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		t.Fatalf("%q: %v", hostport, err)
	}
	return Config{
		Host:     host,
		Port:     port,
		Security: security,
		Username: s.user,
		Password: s.password,
		From:     "Métropole « Territoire » <no-reply@ville-exemple.fr>",
		HeloName: "tno.test",
		Timeout:  20 * time.Second,
		RootCAs:  s.roots,
	}
}

// uniqueRecipient is an address no other test run delivers to.
func uniqueRecipient(name string) string {
	return "Camille Lefèvre <camille.lefevre+" + name + "-" + strings.ToLower(rand.Text()[:10]) + "@ville-exemple.fr>"
}

// delivered waits for the message whose envelope recipient is to in the
// maildir and returns it with CRLF line endings, as it traveled (a maildir
// stores lines ending with LF, the local convention).
func (s smtpServer) delivered(t *testing.T, to string) []byte {
	t.Helper()
	addr := mustAddress(to).Address
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, sub := range []string{"new", "cur"} {
			files, _ := filepath.Glob(filepath.Join(s.maildir, sub, "*"))
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err == nil && bytes.Contains(b, []byte("<"+addr+">")) {
					b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
					return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message to %s in %s after 20s", addr, s.maildir)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// receivedWith is the protocol the server's own Received field names
// (RFC 3848: ESMTPS with TLS, ESMTPA with AUTH, ESMTPSA with both).
func receivedWith(t *testing.T, p parsed) string {
	t.Helper()
	received := p.header.Get("Received")
	f := strings.Fields(strings.ToUpper(received))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "WITH" {
			return f[i+1]
		}
	}
	t.Fatalf("Received %q names no protocol", received)
	return ""
}

func TestSMTPDeliversFrenchMessageOverSTARTTLS(t *testing.T) {
	srv := smtpTestServer(t)
	s, err := New(srv.config(t, srv.starttls, SecurityStartTLS))
	if err != nil {
		t.Fatal(err)
	}
	html := "<!doctype html>\n<html lang=\"fr\"><body><p>Bonjour Camille,</p>\n<p>Suivez <a href=\"https://tno.ville-exemple.fr/mot-de-passe?code=abc%3D%3D\">ce lien</a> — « valable 30 minutes ».</p>\n.\n<p>L'équipe numérique</p></body></html>\n"
	m := Message{To: uniqueRecipient("starttls"), Subject: frenchSubject, Text: frenchText + ".\n..\n", HTML: html, Lang: "fr"}
	start := time.Now()
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	t.Logf("sent in %v", time.Since(start))

	raw := srv.delivered(t, m.To)
	p := parse(t, raw)
	if p.subject != m.Subject {
		t.Errorf("Subject %q, want %q", p.subject, m.Subject)
	}
	to, err := p.header.AddressList("To")
	if err != nil || len(to) != 1 || *to[0] != *mustAddress(m.To) {
		t.Errorf("To %v (%v), want %q", to, err, m.To)
	}
	from, err := p.header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Métropole « Territoire »" || from[0].Address != "no-reply@ville-exemple.fr" {
		t.Errorf("From %v (%v)", from, err)
	}
	if date, err := p.header.Date(); err != nil || time.Since(date).Abs() > time.Minute {
		t.Errorf("Date %v (%v)", date, err)
	}
	if id := p.header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@ville-exemple.fr>") {
		t.Errorf("Message-ID %q", id)
	}
	for key, want := range map[string]string{
		"Mime-Version":     "1.0",
		"Content-Language": "fr",
		"Auto-Submitted":   "auto-generated",
		"Return-Path":      "<no-reply@ville-exemple.fr>",
	} {
		if got := p.header.Get(key); got != want {
			t.Errorf("%s %q, want %q", key, got, want)
		}
	}
	if p.contentType != "multipart/alternative" {
		t.Errorf("Content-Type %q", p.contentType)
	}
	if p.text != crlf(m.Text) {
		t.Errorf("text:\n%q\nwant\n%q", p.text, crlf(m.Text))
	}
	if p.html != crlf(m.HTML) {
		t.Errorf("html:\n%q\nwant\n%q", p.html, crlf(m.HTML))
	}
	if got := receivedWith(t, p); got != "ESMTPSA" {
		t.Errorf("received with %s, want ESMTPSA (TLS and AUTH)", got)
	}
	if t.Failed() {
		t.Logf("delivered:\n%s", raw)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	srv := smtpTestServer(t)
	if srv.tls == "" {
		t.Skip("TNO_TEST_SMTP_TLS not set")
	}
	s, err := New(srv.config(t, srv.tls, SecurityTLS))
	if err != nil {
		t.Fatal(err)
	}
	m := Message{To: uniqueRecipient("tls"), Subject: "Alerte de sécurité : nouvelle connexion", Text: "Une connexion à votre compte a eu lieu depuis Saint-Étienne.\n"}
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	p := parse(t, srv.delivered(t, m.To))
	if p.subject != m.Subject || p.text != crlf(m.Text) {
		t.Errorf("subject %q text %q", p.subject, p.text)
	}
	if got := receivedWith(t, p); got != "ESMTPSA" {
		t.Errorf("received with %s, want ESMTPSA", got)
	}
}

func TestSMTPWrongPasswordRefused(t *testing.T) {
	srv := smtpTestServer(t)
	c := srv.config(t, srv.starttls, SecurityStartTLS)
	c.Password = "mauvais-" + srv.password
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), Message{To: uniqueRecipient("wrong"), Subject: "Ne doit pas partir", Text: "x"})
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("Send = %v, want ErrAuth", err)
	}
	tp, ok := errors.AsType[*textproto.Error](err)
	if !ok || tp.Code != 535 {
		t.Errorf("Send = %v, want the server's 535", err)
	}
	if strings.Contains(err.Error(), c.Password) || strings.Contains(err.Error(), srv.password) {
		t.Errorf("error shows the password: %v", err)
	}
	t.Logf("error: %v", err)
}

func TestSMTPWithoutAuthRefused(t *testing.T) {
	srv := smtpTestServer(t)
	c := srv.config(t, srv.starttls, SecurityStartTLS)
	c.Username, c.Password = "", ""
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), Message{To: uniqueRecipient("anonymous"), Subject: "Ne doit pas partir", Text: "x"})
	tp, ok := errors.AsType[*textproto.Error](err)
	if !ok || tp.Code/100 != 5 || !strings.Contains(err.Error(), "RCPT TO") {
		t.Errorf("Send without AUTH = %v, want the server's 5xx refusal at RCPT TO", err)
	}
}

func TestSMTPRefusesServerWithoutSTARTTLS(t *testing.T) {
	srv := smtpTestServer(t)
	if srv.plain == "" {
		t.Skip("TNO_TEST_SMTP_PLAIN not set")
	}
	s, err := New(srv.config(t, srv.plain, SecurityStartTLS))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), Message{To: uniqueRecipient("nostarttls"), Subject: "Ne doit pas partir", Text: "x"})
	if !errors.Is(err, ErrNoSTARTTLS) {
		t.Fatalf("Send = %v, want ErrNoSTARTTLS", err)
	}
	t.Logf("error: %v", err)
}

func TestSMTPUntrustedCertificateRefused(t *testing.T) {
	srv := smtpTestServer(t)
	for _, tt := range []struct{ name, hostport, security string }{
		{"starttls", srv.starttls, SecurityStartTLS},
		{"tls", srv.tls, SecurityTLS},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.hostport == "" {
				t.Skip("no such server")
			}
			c := srv.config(t, tt.hostport, tt.security)
			c.RootCAs = nil // the system roots do not know the test CA
			s, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(t.Context(), Message{To: uniqueRecipient("untrusted"), Subject: "Ne doit pas partir", Text: "x"})
			if _, ok := errors.AsType[*tls.CertificateVerificationError](err); !ok {
				t.Errorf("Send = %v, want a certificate verification error", err)
			}
		})
	}
}

func TestSMTPLoginInCleartextOnLoopback(t *testing.T) {
	srv := smtpTestServer(t)
	if srv.plain == "" {
		t.Skip("TNO_TEST_SMTP_PLAIN not set")
	}
	s, err := New(srv.config(t, srv.plain, SecurityNone))
	if err != nil {
		t.Fatal(err)
	}
	m := Message{To: uniqueRecipient("login"), Subject: "Invitation à rejoindre l'espace « agents »", Text: "Bienvenue !\n", Lang: "fr"}
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	p := parse(t, srv.delivered(t, m.To))
	if p.subject != m.Subject || p.text != crlf(m.Text) {
		t.Errorf("subject %q text %q", p.subject, p.text)
	}
	if got := receivedWith(t, p); got != "ESMTPA" {
		t.Errorf("received with %s, want ESMTPA (AUTH, no TLS)", got)
	}
}
