package local

import (
	"fmt"
	"unicode/utf8"
)

// Password policy limits.
const (
	MinPasswordRunes = 12
	MaxPasswordBytes = 1024
)

// Stable codes of password policy errors, for the UI to translate.
const (
	CodeTooShort = "password.too_short"
	CodeTooLong  = "password.too_long"
)

// PolicyError is a password refused by the policy. Code is stable; Limit
// is the bound that was not met (runes for CodeTooShort, bytes for
// CodeTooLong). Its message never contains the password.
type PolicyError struct {
	Code  string
	Limit int
}

func (e *PolicyError) Error() string {
	switch e.Code {
	case CodeTooShort:
		return fmt.Sprintf("local: password shorter than %d characters", e.Limit)
	case CodeTooLong:
		return fmt.Sprintf("local: password longer than %d bytes", e.Limit)
	}
	return "local: password refused: " + e.Code
}

// ValidatePassword checks the password policy: at least MinPasswordRunes
// characters and at most MaxPasswordBytes bytes. It returns a *PolicyError.
func ValidatePassword(password string) error {
	if len(password) > MaxPasswordBytes {
		return &PolicyError{Code: CodeTooLong, Limit: MaxPasswordBytes}
	}
	if utf8.RuneCountInString(password) < MinPasswordRunes {
		return &PolicyError{Code: CodeTooShort, Limit: MinPasswordRunes}
	}
	return nil
}
