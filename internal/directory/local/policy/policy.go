// Package policy owns the password policy of local accounts: which new
// passwords TNO accepts. It follows NIST SP 800-63B §3.1.1.2 and the ANSSI
// recommendations: a minimum length, a maximum length, no composition rules,
// and a refusal of passwords that are common, breached or derived from the
// person's own identifiers.
//
// The list of common and breached passwords is shipped inside the binary
// (common-passwords.txt.gz, see SOURCES.md for its origin and
// scripts/build-password-list.sh to rebuild it).
//
// It imports only the standard library, so that any package (local, the
// admin console, the CLI) may import it without a cycle.
package policy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Length bounds. MinLength counts runes (Unicode code points, no
// normalization); MaxBytes counts bytes and equals local.MaxPasswordBytes
// (that package cannot be imported from here: it is the one that will use
// this one).
const (
	MinLength = 12
	MaxBytes  = 1024
)

// minPersonalRunes is the length from which a personal value (username) is
// refused anywhere inside a password, not only as the whole password.
const minPersonalRunes = 4

// Reasons a password is refused. Check returns them unwrapped; callers may
// wrap them and test with errors.Is. Their messages never contain the
// password.
var (
	ErrTooShort = errors.New("password too short")
	ErrTooLong  = errors.New("password too long")
	ErrCommon   = errors.New("password in the list of common or breached passwords")
	ErrPersonal = errors.New("password derived from the account's identifiers")
)

// Check reports whether password may be set on a local account. personal
// holds the account's identifiers (username, e-mail address…): the password
// may not equal any of them, ignoring case, nor contain one of at least 4
// runes. Empty personal values are ignored.
//
// The checks run in this order: ErrTooLong, ErrTooShort, ErrPersonal,
// ErrCommon. Any other error means the embedded list could not be read,
// which the tests rule out; callers should then refuse the password.
func Check(password string, personal ...string) error {
	if len(password) > MaxBytes {
		return ErrTooLong
	}
	if utf8.RuneCountInString(password) < MinLength {
		return ErrTooShort
	}
	lower := strings.ToLower(password)
	for _, p := range personal {
		if p == "" {
			continue
		}
		lp := strings.ToLower(p)
		if lower == lp || (utf8.RuneCountInString(lp) >= minPersonalRunes && strings.Contains(lower, lp)) {
			return ErrPersonal
		}
	}
	l, err := commonList()
	if err != nil {
		return err
	}
	if l.contains(lower) {
		return ErrCommon
	}
	return nil
}

//go:embed common-passwords.txt.gz
var commonGz []byte

// commonList decompresses the embedded list on first use only.
var commonList = sync.OnceValues(func() (*list, error) { return loadList(commonGz) })

// list is a sorted set of strings stored as one string and the start offset
// of each entry: about 4 bytes of overhead per entry instead of the 16 of a
// []string header or the ~40 of a map entry.
//
// Only entries of at least MinLength runes are kept. Shorter ones can never
// be looked up, since Check refuses them first with ErrTooShort; the
// shipped file still has them all (more than 100,000 entries in all, its
// short part being the most frequent passwords), so that it stays a plain
// list of common passwords that raising or lowering MinLength, or another
// tool, may use as is.
type list struct {
	data string   // entries, each followed by '\n', in byte order
	offs []uint32 // start of each entry in data
}

func (l *list) len() int { return len(l.offs) }

func (l *list) at(i int) string {
	end := len(l.data)
	if i+1 < len(l.offs) {
		end = int(l.offs[i+1])
	}
	return l.data[l.offs[i] : end-1]
}

func (l *list) contains(s string) bool {
	i := sort.Search(l.len(), func(i int) bool { return l.at(i) >= s })
	return i < l.len() && l.at(i) == s
}

// loadList decompresses gz, one lowercased password per line in byte
// order, and keeps the entries of at least MinLength runes.
func loadList(gz []byte) (*list, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("policy: common-password list: %w", err)
	}
	var data []byte
	var offs []uint32
	var prev []byte
	sc := bufio.NewScanner(zr)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if n > 1 && bytes.Compare(line, prev) <= 0 {
			return nil, fmt.Errorf("policy: common-password list: line %d not sorted or repeated", n)
		}
		prev = append(prev[:0], line...)
		if utf8.RuneCount(line) < MinLength {
			continue
		}
		offs = append(offs, uint32(len(data)))
		data = append(data, line...)
		data = append(data, '\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("policy: common-password list: %w", err)
	}
	if err := zr.Close(); err != nil {
		return nil, fmt.Errorf("policy: common-password list: %w", err)
	}
	// string() and Clip-by-copy drop the slack left by append.
	return &list{data: string(data), offs: append([]uint32(nil), offs...)}, nil
}
