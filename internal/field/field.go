// Package field is the one kind of validation error every use case
// returns: which input field, a stable code, its parameters, and an
// English message. The console translates the code (messages
// "field.<code>" with the parameters), the REST API returns the error as
// JSON, the CLI prints the message.
//
// It imports only the standard library.
package field

import (
	"errors"
	"fmt"
)

// Error is one invalid input field.
type Error struct {
	Field  string            `json:"field"`            // "username", "redirect_uris"…
	Code   string            `json:"code"`             // "required", "invalid", "taken"…
	Params map[string]string `json:"params,omitempty"` // for the translated message
	Msg    string            `json:"message"`          // English, for the CLI and logs
}

func (e *Error) Error() string { return e.Field + ": " + e.Msg }

// New returns an Error whose message is fmt.Sprintf(format, args...).
func New(name, code, format string, args ...any) *Error {
	return &Error{Field: name, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// With returns e with a parameter set.
func (e *Error) With(key, value string) *Error {
	if e.Params == nil {
		e.Params = map[string]string{}
	}
	e.Params[key] = value
	return e
}

// Common codes.
const (
	Required = "required"
	Invalid  = "invalid"
	Taken    = "taken" // unique value already used
	Stale    = "stale" // edited by someone else meanwhile
	TooLarge = "too_large"
)

// List returns the field errors joined in err (errors.Join, wrapping),
// in order; nil if err holds none.
func List(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*Error); ok {
			out = append(out, fe)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// Is reports whether err holds at least one field error.
func Is(err error) bool {
	var fe *Error
	return errors.As(err, &fe)
}
