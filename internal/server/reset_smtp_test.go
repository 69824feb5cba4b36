package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/mail"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

// The reset tests against a real SMTP server: skipped unless
// TNO_TEST_SMTP is set (eval "$(bash scripts/smtp-test-server.sh)"; the
// variables are internal/mail's, see its package doc).

func smtpEnv(t *testing.T) (user, password, maildir string) {
	t.Helper()
	if os.Getenv("TNO_TEST_SMTP") == "" {
		if os.Getenv("TNO_TEST_REQUIRE_SMTP") == "1" {
			t.Fatal("TNO_TEST_REQUIRE_SMTP=1 but TNO_TEST_SMTP is not set (bash scripts/smtp-test-server.sh)")
		}
		t.Skip("TNO_TEST_SMTP not set: run eval \"$(bash scripts/smtp-test-server.sh)\"")
	}
	user, password, maildir = os.Getenv("TNO_TEST_SMTP_USER"), os.Getenv("TNO_TEST_SMTP_PASSWORD"), os.Getenv("TNO_TEST_SMTP_MAILDIR")
	if user == "" || password == "" || maildir == "" || os.Getenv("TNO_TEST_SMTP_CA") == "" {
		t.Fatal("TNO_TEST_SMTP needs TNO_TEST_SMTP_USER, TNO_TEST_SMTP_PASSWORD, TNO_TEST_SMTP_CA and TNO_TEST_SMTP_MAILDIR")
	}
	return user, password, maildir
}

func splitHostPort(t *testing.T, hostport string) (string, int) {
	t.Helper()
	host, p, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}

// delivered waits for the messages to addr in the maildir, and returns
// them decoded once there are n.
func delivered(t *testing.T, maildir, addr string, n int) []mail.Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out []mail.Message
		for _, sub := range []string{"new", "cur"} {
			files, _ := filepath.Glob(filepath.Join(maildir, sub, "*"))
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil || !bytes.Contains(b, []byte("<"+addr+">")) {
					continue
				}
				msg, err := netmail.ReadMessage(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
				if err != nil {
					t.Fatal(err)
				}
				if cte := msg.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
					t.Fatalf("Content-Transfer-Encoding %q", cte)
				}
				text, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
				if err != nil {
					t.Fatal(err)
				}
				to, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("To"))
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, mail.Message{To: to, Subject: subject, Text: string(text), Lang: msg.Header.Get("Content-Language")})
			}
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages to %s in %s after 20s, want %d", len(out), addr, maildir, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// resetOverSMTP runs a reset with the messages going through the real
// server: the link read from the delivered message sets the password.
func resetOverSMTP(t *testing.T, h *resetHarness, maildir string) {
	t.Helper()
	addr := "camille.lefevre+reset-" + strings.ToLower(rand.Text()[:10]) + "@ville-exemple.fr"
	p := storage.Person{Username: "camille", GivenName: "Camille", FamilyName: "Lefèvre", Email: addr, EmailVerified: true}
	if err := h.terr.CreatePerson(context.Background(), authz.CLI(), &p, territory.NewPerson{}); err != nil {
		t.Fatal(err)
	}
	if err := h.local.SetPassword(context.Background(), p.ID, password); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	if resp, _ := h.forgot(b, addr); resp.StatusCode != http.StatusOK {
		t.Fatalf("forgot: %d", resp.StatusCode)
	}
	m := delivered(t, maildir, addr, 1)[0]
	if m.Subject != "Réinitialisation de votre mot de passe — Métropole Exemple" || m.Lang != "fr" ||
		!strings.Contains(m.To, "Camille Lefèvre <"+addr+">") || !strings.Contains(m.Text, "identifiant\u00a0: camille") {
		t.Errorf("delivered = %+v", m)
	}
	link := resetLink(t, m)
	if !strings.HasPrefix(link, h.issuer+"/login/reset?token=") {
		t.Errorf("link %q, want under the issuer", link)
	}
	const next = "une phrase de passe par la poste"
	if resp, body := h.setPassword(b, link, next, next); resp.StatusCode != http.StatusOK {
		t.Fatalf("reset: %d\n%s", resp.StatusCode, body)
	}
	notice := delivered(t, maildir, addr, 2)
	if !strings.Contains(notice[0].Subject+notice[1].Subject, "Votre mot de passe a été modifié — Métropole Exemple") {
		t.Errorf("no notice among %q and %q", notice[0].Subject, notice[1].Subject)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("delivered:\n%s\n%s", m.Subject, m.Text)
	}
}

// TestResetSMTP sends the reset messages over STARTTLS with
// authentication, through Options.Mail (the configuration has no key for
// a private CA, which the test server's certificate needs).
func TestResetSMTP(t *testing.T) {
	user, pw, maildir := smtpEnv(t)
	pem, err := os.ReadFile(os.Getenv("TNO_TEST_SMTP_CA"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in TNO_TEST_SMTP_CA")
	}
	host, port := splitHostPort(t, os.Getenv("TNO_TEST_SMTP"))
	sender, err := mail.New(mail.Config{
		Host: host, Port: port, Security: mail.SecurityStartTLS, Username: user, Password: pw,
		From: "Métropole Exemple <no-reply@ville-exemple.fr>", HeloName: "tno.test", RootCAs: roots,
	})
	if err != nil {
		t.Fatal(err)
	}
	resetOverSMTP(t, newResetHarness(t, sender, nil), maildir)
}

// TestResetSMTPFromConfig builds the sender from the configuration, as
// tno serve does (mail.* keys, password_file), towards the cleartext port
// (security none, allowed to a loopback relay).
func TestResetSMTPFromConfig(t *testing.T) {
	user, pw, maildir := smtpEnv(t)
	plain := os.Getenv("TNO_TEST_SMTP_PLAIN")
	if plain == "" {
		t.Skip("TNO_TEST_SMTP_PLAIN not set")
	}
	host, port := splitHostPort(t, plain)
	pwFile := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newResetHarness(t, noMail, func(c *config.Config) {
		loaded, err := config.Load("", []string{
			"TNO_ISSUER=" + c.Issuer, "TNO_TERRITORY_NAME=" + c.Territory.Name,
			"TNO_MAIL_HOST=" + host, "TNO_MAIL_PORT=" + strconv.Itoa(port), "TNO_MAIL_SECURITY=none",
			"TNO_MAIL_USERNAME=" + user, "TNO_MAIL_PASSWORD_FILE=" + pwFile,
			"TNO_MAIL_FROM=Métropole Exemple <no-reply@ville-exemple.fr>", "TNO_MAIL_HELO_NAME=tno.test",
		})
		if err != nil {
			t.Fatal(err)
		}
		*c = loaded
	})
	resetOverSMTP(t, h, maildir)
}
