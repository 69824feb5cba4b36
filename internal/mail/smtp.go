package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/smtp"
	"os"
	"slices"
	"strings"
	"time"
)

// Sender sends e-mail. Send returns once the server has accepted m for
// delivery (or refused it); an error wrapping ErrInvalidMessage means m
// itself cannot be sent.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends each message over its own connection to one submission
// server. It is safe for concurrent use.
type SMTP struct {
	cfg    Config // with defaults applied
	from   *mail.Address
	redact redactor
	tls    *tls.Config // template; cloned per connection
	now    func() time.Time
	newID  func() string
}

var _ Sender = (*SMTP)(nil)

// New checks c (see Config.Validate) and returns a sender for it.
func New(c Config) (*SMTP, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	from, err := parseAddress(c.From)
	if err != nil { // checked by Validate
		return nil, fmt.Errorf("mail: from: %w", err)
	}
	c.Security = c.security()
	c.Port = c.port()
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.HeloName == "" {
		c.HeloName = heloName()
	}
	return &SMTP{
		cfg:    c,
		from:   from,
		redact: newRedactor(c.Username, c.Password),
		tls: &tls.Config{
			ServerName: c.Host,
			RootCAs:    c.RootCAs,
			MinVersion: tls.VersionTLS12,
		},
		now:   time.Now,
		newID: rand.Text,
	}, nil
}

// heloName is the machine's host name when it is usable in EHLO.
func heloName() string {
	name, err := os.Hostname()
	if err != nil || name == "" || strings.ContainsFunc(name, isForbiddenInName) {
		return "localhost"
	}
	return name
}

// Send composes m, connects, authenticates when a username is configured,
// and hands m over. Nothing is sent when m is invalid. The context and
// Config.Timeout bound the whole exchange.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	env, err := compose(s.from, m, s.now(), s.newID())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	return s.redact.redact(s.send(ctx, env))
}

func (s *SMTP) send(ctx context.Context, env envelope) (err error) {
	addr := s.cfg.address()
	defer func() {
		if err == nil {
			return
		}
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%w)", err, cerr)
		}
		err = fmt.Errorf("mail: send to %s via %s: %w", env.to, addr, err)
	}()

	conn, err := s.dial(ctx, addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The context's end (Config.Timeout included) interrupts any read or
	// write under way; ctx.Err() is set by then, so the error says why.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HeloName); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	encrypted := s.cfg.Security == SecurityTLS
	if s.cfg.Security == SecurityStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return ErrNoSTARTTLS
		}
		if err := c.StartTLS(s.tls.Clone()); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
		if _, ok := c.TLSConnectionState(); !ok {
			return errors.New("STARTTLS: no TLS connection")
		}
		encrypted = true
	}
	if s.cfg.Username != "" {
		if err := s.auth(c, encrypted || isLoopbackConn(conn)); err != nil {
			return err
		}
	}
	// Not c.Mail: it adds SMTPUTF8 whenever the server offers it, which
	// would make relays without SMTPUTF8 bounce these ASCII-only
	// messages (RFC 6531 section 3.4); and BODY=8BITMIME, untrue here.
	if err := mailFrom(c, env.from); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(env.to); err != nil {
		return fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(env.data); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The server has taken the message: a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// mailFrom sends MAIL FROM without parameters, through the connection
// net/smtp exports for extensions. from is a checked addr-spec.
func mailFrom(c *smtp.Client, from string) error {
	id, err := c.Text.Cmd("MAIL FROM:<%s>", from)
	if err != nil {
		return err
	}
	c.Text.StartResponse(id)
	defer c.Text.EndResponse(id)
	_, _, err = c.Text.ReadResponse(250)
	return err
}

// dial connects to addr, with TLS from the start for SecurityTLS. For
// SecurityNone it checks the peer is a loopback address, whatever Host
// resolved to.
func (s *SMTP) dial(ctx context.Context, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	if s.cfg.Security == SecurityTLS {
		conn, err := (&tls.Dialer{NetDialer: d, Config: s.tls.Clone()}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("dial with TLS: %w", err)
		}
		return conn, nil
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	if s.cfg.Security == SecurityNone && !isLoopbackConn(conn) {
		conn.Close()
		return nil, fmt.Errorf("security %q: %s is not a loopback address", SecurityNone, conn.RemoteAddr())
	}
	return conn, nil
}

// auth authenticates with PLAIN, or LOGIN when the server offers only
// that. encrypted says the connection is encrypted or stays on this
// machine: credentials are never sent otherwise.
func (s *SMTP) auth(c *smtp.Client, encrypted bool) error {
	fail := func(err error) error {
		return fmt.Errorf("AUTH as %q: %w: %w", s.cfg.Username, ErrAuth, err)
	}
	if !encrypted {
		return fail(errors.New("refusing to send credentials over an unencrypted connection"))
	}
	ok, params := c.Extension("AUTH")
	if !ok {
		return fail(errors.New("server offers no AUTH"))
	}
	mechs := strings.Fields(strings.ToUpper(params))
	var a smtp.Auth
	switch {
	case slices.Contains(mechs, "PLAIN"):
		a = &plainAuth{username: s.cfg.Username, password: s.cfg.Password}
	case slices.Contains(mechs, "LOGIN"):
		a = &loginAuth{username: s.cfg.Username, password: s.cfg.Password}
	default:
		return fail(fmt.Errorf("server offers AUTH %s, neither PLAIN nor LOGIN", params))
	}
	if err := c.Auth(a); err != nil {
		return fail(err)
	}
	return nil
}

// isLoopbackConn tells whether conn's peer is a loopback address.
func isLoopbackConn(conn net.Conn) bool {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	ap, err := netip.ParseAddrPort(conn.RemoteAddr().String())
	return err == nil && ap.Addr().Unmap().IsLoopback()
}
