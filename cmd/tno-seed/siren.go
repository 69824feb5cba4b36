package main

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/territoires-ouverts/tno/internal/territory"
)

// sirens hands out SIRENs that pass territory.ValidateSIREN and were never
// handed out before (nor found in the database: see reserve).
type sirens struct {
	rng  *rand.Rand
	used map[string]bool
	dept string // the territory's département, in communes' SIRENs
}

func newSIRENs(rng *rand.Rand) *sirens {
	d := 1 + rng.IntN(94) // 01-95, not 20 (Corsica is 2A/2B)
	if d == 20 {
		d = 21
	}
	return &sirens{rng: rng, used: make(map[string]bool), dept: fmt.Sprintf("%02d", d)}
}

// reserve marks a SIREN already taken.
func (s *sirens) reserve(siren string) { s.used[siren] = true }

// next returns a new SIREN. Like INSEE's, an EPCI's (the métropole) starts
// with 200 and a commune's with 21 and its département.
func (s *sirens) next(epci bool) (string, error) {
	prefix := "21" + s.dept
	if epci {
		prefix = "200"
	}
	for range 1000 {
		body := prefix + digits(s.rng, 8-len(prefix))
		siren := body + luhnDigit(body)
		if s.used[siren] {
			continue
		}
		if err := territory.ValidateSIREN(siren); err != nil {
			return "", fmt.Errorf("generated %w", err) // a bug in luhnDigit
		}
		s.used[siren] = true
		return siren, nil
	}
	return "", fmt.Errorf("no free SIREN left with prefix %s", prefix)
}

// siret returns the SIRET of an establishment of siren: SIREN, a 4-digit
// establishment number and the Luhn key over the 14 digits.
func (s *sirens) siret(siren string) (string, error) {
	body := siren + fmt.Sprintf("%04d", 1+s.rng.IntN(40))
	siret := body + luhnDigit(body)
	if err := territory.ValidateSIRET(siret); err != nil {
		return "", fmt.Errorf("generated %w", err)
	}
	return siret, nil
}

func digits(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	return b.String()
}

// luhnDigit returns the digit that makes body+digit pass the Luhn check.
func luhnDigit(body string) string {
	sum := 0
	double := true // the check digit, at the right, is not doubled
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return string(rune('0' + (10-sum%10)%10))
}
