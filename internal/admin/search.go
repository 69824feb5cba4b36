package admin

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// fold lowercases s and drops its accents, so that « helene » finds
// « Hélène ». ASCII goes through untouched but for case; other letters
// are decomposed (NFD) and their marks dropped.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'œ' || r == 'Œ':
			b.WriteString("oe")
		case r == 'æ' || r == 'Æ':
			b.WriteString("ae")
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// matches reports whether every word of q is in one of fields, ignoring
// case and accents.
func matches(q string, fields ...string) bool {
	hay := make([]string, len(fields))
	for i, f := range fields {
		hay[i] = fold(f)
	}
	for _, w := range strings.Fields(fold(q)) {
		found := false
		for _, h := range hay {
			if strings.Contains(h, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// version writes a record's version for a form's hidden field.
func version(v int64) string { return strconv.FormatInt(v, 10) }

// parseVersion reads it back; a missing or bad value is 0, which the
// store reads as "no check": forms always send it.
func parseVersion(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0
	}
	return v
}
