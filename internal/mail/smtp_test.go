package mail

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is a scripted SMTP server on a loopback port for unit tests:
// it records what the client sends. The integration test (TNO_TEST_SMTP)
// runs against a real server.
type fakeServer struct {
	t        *testing.T
	addr     netip.AddrPort
	starttls *tls.Config // offer STARTTLS with it when set
	implicit bool        // speak TLS from the first byte (needs starttls's config)
	auth     string      // AUTH mechanisms offered ("" for none)
	greet    bool        // send the greeting; false: stay silent
	// authReply answers the credentials (decoded) of AUTH PLAIN or LOGIN.
	authReply func(user, password, wire string) string

	mu       sync.Mutex
	commands []string // lines received, "[tls] " prefixed once encrypted
	data     []string // messages received, dot-stuffed as on the wire
}

func newFakeServer(t *testing.T, configure func(*fakeServer)) *fakeServer {
	t.Helper()
	s := &fakeServer{t: t, auth: "PLAIN LOGIN", greet: true}
	s.authReply = func(user, password, _ string) string {
		if user == "tno" && password == testPassword {
			return "235 2.7.0 Authentication succeeded"
		}
		return "535 5.7.8 Authentication credentials invalid"
	}
	if configure != nil {
		configure(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if s.implicit {
		ln = tls.NewListener(ln, s.starttls)
	}
	s.addr = netip.MustParseAddrPort(ln.Addr().String())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(conn) })
		}
	})
	return s
}

func (s *fakeServer) config() Config {
	return Config{
		Host:     "127.0.0.1",
		Port:     int(s.addr.Port()),
		Security: SecurityNone,
		From:     "Métropole <no-reply@ville.fr>",
		HeloName: "tno.test",
		Timeout:  5 * time.Second,
	}
}

func (s *fakeServer) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if !s.greet {
		_, _ = bufio.NewReader(conn).ReadString('\n')
		return
	}
	encrypted := s.implicit
	text := textproto.NewConn(conn)
	reply := func(lines ...string) { _ = text.PrintfLine("%s", strings.Join(lines, "\r\n")) }
	read := func() (string, bool) {
		line, err := text.ReadLine()
		if err != nil {
			return "", false
		}
		s.mu.Lock()
		if encrypted {
			s.commands = append(s.commands, "[tls] "+line)
		} else {
			s.commands = append(s.commands, line)
		}
		s.mu.Unlock()
		return line, true
	}
	decode := func(s string) string {
		b, _ := base64.StdEncoding.DecodeString(s)
		return string(b)
	}
	reply("220 fake.test ESMTP")
	for {
		line, ok := read()
		if !ok {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			lines := []string{"250-fake.test"}
			if s.starttls != nil && !encrypted {
				lines = append(lines, "250-STARTTLS")
			}
			if s.auth != "" {
				lines = append(lines, "250-AUTH "+s.auth)
			}
			reply(append(lines, "250-SMTPUTF8", "250 8BITMIME")...)
		case "STARTTLS":
			if s.starttls == nil || encrypted {
				reply("502 5.5.1 no")
				continue
			}
			reply("220 2.0.0 go ahead")
			tc := tls.Server(conn, s.starttls)
			if tc.Handshake() != nil {
				return
			}
			conn, encrypted = tc, true
			text = textproto.NewConn(conn)
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			switch strings.ToUpper(mech) {
			case "PLAIN":
				_, rest, _ := strings.Cut(decode(initial), "\x00")
				user, password, _ := strings.Cut(rest, "\x00")
				reply(s.authReply(user, password, initial))
			case "LOGIN":
				reply("334 " + base64.StdEncoding.EncodeToString([]byte("Username:")))
				u, ok := read()
				if !ok {
					return
				}
				reply("334 " + base64.StdEncoding.EncodeToString([]byte("Password:")))
				p, ok := read()
				if !ok {
					return
				}
				reply(s.authReply(decode(u), decode(p), p))
			default:
				reply("504 5.5.4 unknown mechanism")
			}
		case "MAIL", "RCPT", "RSET", "NOOP":
			reply("250 2.0.0 OK")
		case "DATA":
			reply("354 go ahead")
			var msg strings.Builder
			for {
				l, err := text.ReadLine()
				if err != nil {
					return
				}
				if l == "." {
					break
				}
				msg.WriteString(l + "\r\n")
			}
			s.mu.Lock()
			s.data = append(s.data, msg.String())
			s.mu.Unlock()
			reply("250 2.0.0 queued")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("500 5.5.2 what?")
		}
	}
}

func (s *fakeServer) session() (commands, data []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...), append([]string(nil), s.data...)
}

// testCert is a self-signed certificate for 127.0.0.1 and the pool that
// trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fake.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

var testMessage = Message{
	To:      "Camille Lefèvre <camille@ville.fr>",
	Subject: frenchSubject,
	Text:    frenchText,
	Lang:    "fr",
}

func newSMTP(t *testing.T, c Config) *SMTP {
	t.Helper()
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return testNow }
	s.newID = func() string { return "ID123" }
	return s
}

func TestSendSession(t *testing.T) {
	srv := newFakeServer(t, nil)
	c := srv.config()
	c.Username, c.Password = "tno", testPassword
	if err := newSMTP(t, c).Send(t.Context(), testMessage); err != nil {
		t.Fatal(err)
	}
	commands, data := srv.session()
	plain := base64.StdEncoding.EncodeToString([]byte("\x00tno\x00" + testPassword))
	want := []string{
		"EHLO tno.test",
		"AUTH PLAIN " + plain,
		"MAIL FROM:<no-reply@ville.fr>", // no SMTPUTF8, no BODY=8BITMIME
		"RCPT TO:<camille@ville.fr>",
		"DATA",
		"QUIT",
	}
	if strings.Join(commands, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(commands, "\n"), strings.Join(want, "\n"))
	}
	if len(data) != 1 {
		t.Fatalf("%d messages, want 1", len(data))
	}
	env, err := compose(testFrom, testMessage, testNow, "ID123")
	if err != nil {
		t.Fatal(err)
	}
	// Dot-stuffing: a line that starts with a dot travels with two.
	want1 := strings.ReplaceAll(string(env.data), "\r\n.", "\r\n..")
	want1 = strings.Replace(want1, "From: =?utf-8?q?M=C3=A9tropole_=C2=AB_Territoire_=C2=BB?=", "From: =?utf-8?q?M=C3=A9tropole?=", 1)
	if data[0] != want1 {
		t.Errorf("DATA:\n%s\nwant:\n%s", data[0], want1)
	}
	if !strings.Contains(data[0], "\r\n..Cette ligne commence par un point.") {
		t.Errorf("line starting with a dot not stuffed:\n%s", data[0])
	}
}

func TestSendLoginWhenOnlyOffered(t *testing.T) {
	srv := newFakeServer(t, func(s *fakeServer) { s.auth = "CRAM-MD5 LOGIN" })
	c := srv.config()
	c.Username, c.Password = "tno", testPassword
	if err := newSMTP(t, c).Send(t.Context(), testMessage); err != nil {
		t.Fatal(err)
	}
	commands, _ := srv.session()
	if len(commands) < 4 || commands[1] != "AUTH LOGIN" || commands[2] != base64.StdEncoding.EncodeToString([]byte("tno")) {
		t.Errorf("commands %q, want AUTH LOGIN then the username", commands)
	}
}

func TestSendAuthUnsupported(t *testing.T) {
	for _, auth := range []string{"", "CRAM-MD5 XOAUTH2"} {
		srv := newFakeServer(t, func(s *fakeServer) { s.auth = auth })
		c := srv.config()
		c.Username, c.Password = "tno", testPassword
		err := newSMTP(t, c).Send(t.Context(), testMessage)
		if !errors.Is(err, ErrAuth) {
			t.Errorf("AUTH %q: Send = %v, want ErrAuth", auth, err)
		}
		if _, data := srv.session(); len(data) != 0 {
			t.Errorf("AUTH %q: message sent anyway", auth)
		}
	}
}

// TestSendHidesPassword has a server echo the credentials in its refusal,
// in every form they travel: the error must not show them, however it is
// printed or unwrapped.
func TestSendHidesPassword(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			srv := newFakeServer(t, func(s *fakeServer) {
				s.auth = mech
				s.authReply = func(user, password, wire string) string {
					return fmt.Sprintf("535 5.7.8 refused %s / %s / %s", user, password, wire)
				}
			})
			c := srv.config()
			c.Username, c.Password = "tno", testPassword
			err := newSMTP(t, c).Send(t.Context(), testMessage)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if !errors.Is(err, ErrAuth) {
				t.Errorf("%v is not ErrAuth", err)
			}
			tp, ok := errors.AsType[*textproto.Error](err)
			if !ok || tp.Code != 535 {
				t.Errorf("%v: no textproto.Error 535", err)
			}
			if !strings.Contains(err.Error(), "535") || !strings.Contains(err.Error(), "REDACTED") {
				t.Errorf("error %q: want the server's refusal, redacted", err)
			}
			secrets := []string{
				testPassword,
				base64.StdEncoding.EncodeToString([]byte(testPassword)),
				base64.StdEncoding.EncodeToString([]byte("\x00tno\x00" + testPassword)),
			}
			var walk func(error)
			walk = func(e error) {
				if e == nil {
					return
				}
				for _, s := range []string{e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
					for _, secret := range secrets {
						if strings.Contains(s, secret) {
							t.Errorf("error shows %q: %s", secret, s)
						}
					}
				}
				switch u := e.(type) {
				case interface{ Unwrap() error }:
					walk(u.Unwrap())
				case interface{ Unwrap() []error }:
					for _, e := range u.Unwrap() {
						walk(e)
					}
				}
			}
			walk(err)
		})
	}
}

func TestSendWrongPassword(t *testing.T) {
	srv := newFakeServer(t, nil)
	c := srv.config()
	c.Username, c.Password = "tno", "not-"+testPassword
	err := newSMTP(t, c).Send(t.Context(), testMessage)
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("Send = %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), c.Password) {
		t.Errorf("error shows the password: %v", err)
	}
	if _, data := srv.session(); len(data) != 0 {
		t.Errorf("message sent after a failed AUTH")
	}
}

func TestSendSTARTTLS(t *testing.T) {
	cert, pool := testCert(t)
	srv := newFakeServer(t, func(s *fakeServer) {
		s.starttls = &tls.Config{Certificates: []tls.Certificate{cert}}
	})
	c := srv.config()
	c.Security, c.RootCAs = SecurityStartTLS, pool
	c.Username, c.Password = "tno", testPassword
	if err := newSMTP(t, c).Send(t.Context(), testMessage); err != nil {
		t.Fatal(err)
	}
	commands, data := srv.session()
	if len(data) != 1 || len(commands) < 3 || commands[1] != "STARTTLS" || !strings.HasPrefix(commands[3], "[tls] AUTH PLAIN") {
		t.Errorf("commands %q: want AUTH only after STARTTLS", commands)
	}

	// The certificate is checked: without its CA, nothing is sent.
	c.RootCAs = nil
	err := newSMTP(t, c).Send(t.Context(), testMessage)
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); !ok {
		t.Errorf("Send with an untrusted certificate = %v, want a certificate error", err)
	}
	// So is the name.
	c.RootCAs, c.Host = pool, "localhost"
	c.Security = SecurityStartTLS
	if err := newSMTP(t, c).Send(t.Context(), testMessage); err != nil {
		t.Errorf("Send to localhost = %v", err)
	}
	if _, data := srv.session(); len(data) != 2 {
		t.Errorf("%d messages delivered, want 2", len(data))
	}
}

func TestSendRefusesWithoutSTARTTLS(t *testing.T) {
	srv := newFakeServer(t, nil)
	c := srv.config()
	c.Security = SecurityStartTLS
	c.Username, c.Password = "tno", testPassword
	err := newSMTP(t, c).Send(t.Context(), testMessage)
	if !errors.Is(err, ErrNoSTARTTLS) {
		t.Fatalf("Send = %v, want ErrNoSTARTTLS", err)
	}
	commands, _ := srv.session()
	for _, cmd := range commands {
		if strings.HasPrefix(cmd, "AUTH") || strings.HasPrefix(cmd, "MAIL") {
			t.Errorf("sent %q to a server without STARTTLS", cmd)
		}
	}
}

func TestSendImplicitTLS(t *testing.T) {
	cert, pool := testCert(t)
	srv := newFakeServer(t, func(s *fakeServer) {
		s.starttls = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.implicit = true
	})
	c := srv.config()
	c.Security, c.RootCAs = SecurityTLS, pool
	c.Username, c.Password = "tno", testPassword
	if err := newSMTP(t, c).Send(t.Context(), testMessage); err != nil {
		t.Fatal(err)
	}
	commands, data := srv.session()
	if len(data) != 1 || !strings.HasPrefix(commands[1], "[tls] AUTH PLAIN") {
		t.Errorf("commands %q", commands)
	}
}

func TestSendTimeout(t *testing.T) {
	srv := newFakeServer(t, func(s *fakeServer) { s.greet = false })
	for _, tt := range []struct {
		name    string
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)
	}{
		{"context deadline", time.Minute, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(t.Context(), 200*time.Millisecond)
		}},
		{"config timeout", 200 * time.Millisecond, func() (context.Context, context.CancelFunc) {
			return t.Context(), func() {}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := srv.config()
			c.Timeout = tt.timeout
			ctx, cancel := tt.ctx()
			defer cancel()
			start := time.Now()
			err := newSMTP(t, c).Send(ctx, testMessage)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Send = %v, want DeadlineExceeded", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Send took %v", d)
			}
		})
	}
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		err := newSMTP(t, srv.config()).Send(ctx, testMessage)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Send = %v, want Canceled", err)
		}
	})
}

func TestSendInvalidMessageSendsNothing(t *testing.T) {
	srv := newFakeServer(t, nil)
	m := testMessage
	m.To = "camille@ville.fr\r\nRCPT TO:<victim@example.org>"
	err := newSMTP(t, srv.config()).Send(t.Context(), m)
	if !errors.Is(err, ErrHeaderInjection) || !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("Send = %v, want ErrHeaderInjection", err)
	}
	if commands, _ := srv.session(); len(commands) != 0 {
		t.Errorf("connected for an invalid message: %q", commands)
	}
}

func TestSecurityNoneChecksPeer(t *testing.T) {
	// Host names a loopback address, but "localhost" could resolve
	// elsewhere: the connected address is what counts.
	if !isLoopbackConn(fakeConn{"127.0.0.1:25"}) || !isLoopbackConn(fakeConn{"[::1]:25"}) || isLoopbackConn(fakeConn{"192.0.2.1:25"}) {
		t.Error("isLoopbackConn")
	}
}

type fakeConn struct{ remote string }

func (c fakeConn) RemoteAddr() net.Addr           { return addr(c.remote) }
func (fakeConn) Read([]byte) (int, error)         { return 0, nil }
func (fakeConn) Write(b []byte) (int, error)      { return len(b), nil }
func (fakeConn) Close() error                     { return nil }
func (fakeConn) LocalAddr() net.Addr              { return addr("127.0.0.1:1") }
func (fakeConn) SetDeadline(time.Time) error      { return nil }
func (fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (fakeConn) SetWriteDeadline(time.Time) error { return nil }
func (a addr) Network() string                    { return "tcp" }
func (a addr) String() string                     { return string(a) }

type addr string
