package mail

import (
	"context"
	"encoding/base64"
	"errors"
	"net/textproto"
	"os"
	"strings"
)

// Errors Send may wrap; test them with errors.Is.
var (
	// ErrInvalidMessage: the message cannot be sent as given (bad
	// address, empty subject or text, invalid UTF-8, header injection).
	// Nothing was sent; retrying will not help.
	ErrInvalidMessage = errors.New("invalid message")
	// ErrHeaderInjection: a header field (From, To, Subject, Lang) holds
	// a line break. Send also wraps ErrInvalidMessage with it.
	ErrHeaderInjection = errors.New("line break in a header field")
	// ErrNoSTARTTLS: Security is starttls and the server does not offer
	// STARTTLS. Nothing, credentials included, was sent.
	ErrNoSTARTTLS = errors.New("server does not offer STARTTLS")
	// ErrAuth: the server refused the credentials, or offers no
	// mechanism this package speaks.
	ErrAuth = errors.New("authentication failed")
)

// redactor removes a password, and the encodings in which an SMTP session
// carries it, from error messages: a server may echo what it was sent.
type redactor struct {
	replacer *strings.Replacer // nil when there is no password
	secrets  []string
}

func newRedactor(username, password string) redactor {
	if password == "" {
		return redactor{}
	}
	enc := base64.StdEncoding.EncodeToString
	secrets := []string{
		enc([]byte("\x00" + username + "\x00" + password)), // AUTH PLAIN
		enc([]byte(password)),                              // AUTH LOGIN
		password,
	}
	var pairs []string
	for _, s := range secrets {
		pairs = append(pairs, s, "REDACTED")
	}
	return redactor{replacer: strings.NewReplacer(pairs...), secrets: secrets}
}

// leaks tells whether s holds a secret.
func (r redactor) leaks(s string) bool {
	for _, secret := range r.secrets {
		if strings.Contains(s, secret) {
			return true
		}
	}
	return false
}

// redact returns err unchanged when no message in its chain holds a
// secret. Otherwise it returns an error with the secrets replaced by
// REDACTED that still matches, with errors.Is and errors.As, this
// package's errors, context and deadline errors, and the server's
// *textproto.Error (its message redacted too); the original chain is
// dropped, since any of its errors could print the secret.
func (r redactor) redact(err error) error {
	if err == nil || r.replacer == nil || !r.chainLeaks(err) {
		return err
	}
	e := &redactedError{msg: r.replacer.Replace(err.Error())}
	for _, target := range []error{
		ErrInvalidMessage, ErrHeaderInjection, ErrNoSTARTTLS, ErrAuth,
		context.Canceled, context.DeadlineExceeded, os.ErrDeadlineExceeded,
	} {
		if errors.Is(err, target) {
			e.kept = append(e.kept, target)
		}
	}
	if tp, ok := errors.AsType[*textproto.Error](err); ok {
		e.kept = append(e.kept, &textproto.Error{Code: tp.Code, Msg: r.replacer.Replace(tp.Msg)})
	}
	return e
}

// chainLeaks tells whether err or any error it wraps prints a secret.
func (r redactor) chainLeaks(err error) bool {
	if err == nil {
		return false
	}
	if r.leaks(err.Error()) {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return r.chainLeaks(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if r.chainLeaks(e) {
				return true
			}
		}
	}
	return false
}

// redactedError is an error whose message had secrets removed; see
// redactor.redact.
type redactedError struct {
	msg  string
	kept []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.kept }
