package mail

import (
	"errors"
	"net/smtp"
)

// The SASL mechanisms below only build responses: SMTP.auth has already
// checked the connection is encrypted or stays on this machine. (The
// standard library's PlainAuth makes the same check but knows only the
// names localhost, 127.0.0.1 and ::1, and it has no LOGIN.)

// plainAuth is SASL PLAIN (RFC 4616), credentials in the initial response.
type plainAuth struct {
	username, password string
}

func (a *plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

func (a *plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge after AUTH PLAIN")
	}
	return nil, nil
}

// loginAuth is the LOGIN mechanism (draft-murchison-sasl-login): the
// server prompts for the username, then the password.
type loginAuth struct {
	username, password string
	step               int
}

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.username), nil
	case 2:
		return []byte(a.password), nil
	}
	return nil, errors.New("unexpected third server challenge after AUTH LOGIN")
}

var (
	_ smtp.Auth = (*plainAuth)(nil)
	_ smtp.Auth = (*loginAuth)(nil)
)
