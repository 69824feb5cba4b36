package local

import (
	"errors"
	"fmt"

	"github.com/territoires-ouverts/tno/internal/directory/local/policy"
)

// Password policy limits (those of package policy).
const (
	MinPasswordRunes = policy.MinLength
	MaxPasswordBytes = policy.MaxBytes
)

// Stable codes of password policy errors, for the UI to translate.
const (
	CodeTooShort = "password.too_short"
	CodeTooLong  = "password.too_long"
	CodeCommon   = "password.common"
	CodePersonal = "password.personal"
)

// PolicyError is a password refused by the policy. Code is stable; Limit
// is the bound that was not met (runes for CodeTooShort, bytes for
// CodeTooLong, 0 otherwise). Its message never contains the password.
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
	case CodeCommon:
		return "local: password in the list of common or breached passwords"
	case CodePersonal:
		return "local: password derived from the account's identifiers"
	}
	return "local: password refused: " + e.Code
}

// ValidatePassword checks the password policy (package policy): at least
// MinPasswordRunes characters, at most MaxPasswordBytes bytes, not in the
// shipped list of common and breached passwords, and not derived from the
// personal values given (username, e-mail address). It returns a
// *PolicyError.
func ValidatePassword(password string, personal ...string) error {
	err := policy.Check(password, personal...)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, policy.ErrTooLong):
		return &PolicyError{Code: CodeTooLong, Limit: MaxPasswordBytes}
	case errors.Is(err, policy.ErrTooShort):
		return &PolicyError{Code: CodeTooShort, Limit: MinPasswordRunes}
	case errors.Is(err, policy.ErrPersonal):
		return &PolicyError{Code: CodePersonal}
	case errors.Is(err, policy.ErrCommon):
		return &PolicyError{Code: CodeCommon}
	}
	// The embedded list could not be read: refuse rather than accept.
	return fmt.Errorf("local: password policy: %w", err)
}
