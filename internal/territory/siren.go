package territory

import (
	"errors"
	"fmt"
)

// laPosteSIREN is La Poste's SIREN: its establishments' SIRETs do not pass
// the Luhn check; INSEE's rule for them is a digit sum divisible by 5.
const laPosteSIREN = "356000000"

// ValidateSIREN checks a SIREN: 9 digits passing the Luhn check.
func ValidateSIREN(s string) error {
	if s == "" {
		return errors.New("SIREN is required")
	}
	if len(s) != 9 || !allDigits(s) {
		return fmt.Errorf("SIREN must be 9 digits, got %q", s)
	}
	if !luhn(s) {
		return fmt.Errorf("SIREN %s fails the Luhn check", s)
	}
	return nil
}

// ValidateSIRET checks a SIRET: 14 digits passing the Luhn check (La
// Poste's establishments, whose digits sum to a multiple of 5, as INSEE specifies).
func ValidateSIRET(s string) error {
	if len(s) != 14 || !allDigits(s) {
		return fmt.Errorf("SIRET must be 14 digits, got %q", s)
	}
	if luhn(s) {
		return nil
	}
	if s[:9] == laPosteSIREN {
		sum := 0
		for _, c := range s {
			sum += int(c - '0')
		}
		if sum%5 == 0 {
			return nil
		}
	}
	return fmt.Errorf("SIRET %s fails the Luhn check", s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// luhn reports whether the digit string passes the Luhn (mod 10) check.
func luhn(s string) bool {
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
