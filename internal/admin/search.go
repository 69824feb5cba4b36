package admin

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// fold lowercases s and drops its accents, so that « helene » finds
// « Hélène ».
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
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
