package policy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// shippedEntries decompresses the embedded file as is.
func shippedEntries(t testing.TB) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(commonGz))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// firstLong returns the first n shipped entries of at least MinLength runes.
func firstLong(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for _, e := range shippedEntries(t) {
		if utf8.RuneCountInString(e) >= MinLength {
			out = append(out, e)
			if len(out) == n {
				break
			}
		}
	}
	if len(out) < n {
		t.Fatalf("only %d entries of >= %d runes", len(out), MinLength)
	}
	return out
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		password string
		personal []string
		want     error
	}{
		{name: "empty", password: "", want: ErrTooShort},
		{name: "11 runes", password: "kx7#qp2!vm9", want: ErrTooShort},
		{name: "12 runes", password: "kx7#qp2!vm9z", want: nil},
		{name: "no composition rule: 12 lowercase letters", password: "vqkzmxwtrpbj", want: nil},
		{name: "long random-looking passphrase", password: "tartine vélo glacier mardi 42 ourson", want: nil},
		{name: "accented, 12 runes in 14 bytes", password: "éléphantrose", want: nil},
		{name: "accented, 11 runes in 13 bytes", password: "éléphantros", want: ErrTooShort},
		{name: "12 emoji runes", password: strings.Repeat("🐘", 6) + strings.Repeat("🌹", 6), want: nil},
		{name: "common", password: "password1234", want: ErrCommon},
		{name: "common, capitalized", password: "Password1234", want: ErrCommon},
		{name: "common, upper case", password: "PASSWORD1234", want: ErrCommon},
		{name: "common, 12 digits", password: "123456789012", want: ErrCommon},
		{name: "common with a suffix is not common", password: "password1234-vqkz", want: nil},
		{name: "exactly MaxBytes", password: strings.Repeat("ab", MaxBytes/2), want: nil},
		{name: "MaxBytes+1", password: strings.Repeat("a", MaxBytes+1), want: ErrTooLong},
		{name: "too long in bytes although few runes", password: strings.Repeat("é", MaxBytes/2+1), want: ErrTooLong},
		{name: "equals username", password: "jean.dupont.94", personal: []string{"jean.dupont.94"}, want: ErrPersonal},
		{name: "equals username, other case", password: "Jean.Dupont.94", personal: []string{"JEAN.dupont.94"}, want: ErrPersonal},
		{name: "equals e-mail", password: "Jean.Dupont@Example.fr", personal: []string{"jdupont", "jean.dupont@example.fr"}, want: ErrPersonal},
		{name: "contains e-mail", password: "jean.dupont@example.fr!!", personal: []string{"jdupont", "jean.dupont@example.fr"}, want: ErrPersonal},
		{name: "contains username of 4 runes", password: "ours-Marc-glacier", personal: []string{"marc"}, want: ErrPersonal},
		{name: "contains accented username", password: "vive-ÉLODIE-et-le-vélo", personal: []string{"élodie"}, want: ErrPersonal},
		{name: "contains username of 3 runes", password: "bobsleigh en hiver", personal: []string{"bob"}, want: nil},
		{name: "empty personal value ignored", password: "kx7#qp2!vm9z", personal: []string{"", "alice"}, want: nil},
		{name: "personal checked before common", password: "password1234", personal: []string{"password1234"}, want: ErrPersonal},
		{name: "too short checked before personal", password: "marc", personal: []string{"marc"}, want: ErrTooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.password, tt.personal...)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Check(%q, %q) = %v, want %v", tt.password, tt.personal, err, tt.want)
			}
		})
	}
}

func TestCheckRefusesShippedEntries(t *testing.T) {
	for _, e := range firstLong(t, 3) {
		for _, p := range []string{e, strings.ToUpper(e)} {
			if err := Check(p); !errors.Is(err, ErrCommon) {
				t.Errorf("Check(%q) = %v, want ErrCommon", p, err)
			}
		}
	}
	// And the last one, to exercise the other end of the binary search.
	all := shippedEntries(t)
	for i := len(all) - 1; i >= 0; i-- {
		if utf8.RuneCountInString(all[i]) >= MinLength {
			if err := Check(all[i]); !errors.Is(err, ErrCommon) {
				t.Errorf("Check(%q) = %v, want ErrCommon", all[i], err)
			}
			break
		}
	}
}

func TestErrorsWrap(t *testing.T) {
	for _, sentinel := range []error{ErrTooShort, ErrTooLong, ErrCommon, ErrPersonal} {
		wrapped := fmt.Errorf("set password for %s: %w", "alice", sentinel)
		if !errors.Is(wrapped, sentinel) {
			t.Errorf("errors.Is(%v, %v) = false", wrapped, sentinel)
		}
		for _, other := range []error{ErrTooShort, ErrTooLong, ErrCommon, ErrPersonal} {
			if other != sentinel && errors.Is(sentinel, other) {
				t.Errorf("%v and %v are not distinct", sentinel, other)
			}
		}
	}
}

func TestShippedList(t *testing.T) {
	all := shippedEntries(t)
	if len(all) < 100_000 {
		t.Errorf("shipped list has %d entries, want at least 100,000", len(all))
	}
	if len(commonGz) > 1_500_000 {
		t.Errorf("shipped file is %d bytes, want at most 1.5 MB", len(commonGz))
	}
	long := 0
	for i, e := range all {
		switch {
		case e == "":
			t.Errorf("line %d is empty", i+1)
		case !utf8.ValidString(e):
			t.Errorf("line %d is not UTF-8", i+1)
		case e != strings.ToLower(e):
			t.Errorf("line %d %q is not lowercased", i+1, e)
		case i > 0 && e <= all[i-1]:
			t.Errorf("line %d %q is not after %q: not sorted or not deduplicated", i+1, e, all[i-1])
		}
		if utf8.RuneCountInString(e) >= MinLength {
			long++
		}
	}
	l, err := commonList()
	if err != nil {
		t.Fatal(err)
	}
	if l.len() != long {
		t.Errorf("loaded %d entries, want the %d of at least %d runes", l.len(), long, MinLength)
	}
	t.Logf("%d entries shipped, %d of at least %d runes kept in memory (%d bytes)", len(all), long, MinLength, len(l.data)+4*len(l.offs))
}

func TestLoadListRejects(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	tests := []struct {
		name string
		gz   []byte
	}{
		{name: "not gzip", gz: []byte("password1234\n")},
		{name: "unsorted", gz: gz("zzzzzzzzzzzzzz\naaaaaaaaaaaaaa\n")},
		{name: "duplicate", gz: gz("aaaaaaaaaaaaaa\naaaaaaaaaaaaaa\n")},
		{name: "truncated", gz: gz("aaaaaaaaaaaaaa\n")[:20]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := loadList(tt.gz); err == nil {
				t.Error("loadList succeeded, want an error")
			}
		})
	}
}

func TestLoadListKeepsLongEntries(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte("123456\naaaaaaaaaaaa\nbbbbbbbbbbbbbbbb\nshort\néééééééééééé\n"))
	zw.Close()
	l, err := loadList(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"aaaaaaaaaaaa", true},
		{"bbbbbbbbbbbbbbbb", true},
		{"éééééééééééé", true},
		{"123456", false},
		{"short", false},
		{"aaaaaaaaaaa", false},
		{"aaaaaaaaaaaaa", false},
		{"", false},
		{"zzzzzzzzzzzzzz", false},
	} {
		if got := l.contains(tt.s); got != tt.want {
			t.Errorf("contains(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// BenchmarkCheck measures Check once the list is loaded (the load is done
// before the timer starts).
func BenchmarkCheck(b *testing.B) {
	if _, err := commonList(); err != nil {
		b.Fatal(err)
	}
	passwords := []string{"tartine vélo glacier mardi 42 ourson", "Password1234", "jean.dupont@example.fr!!"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = Check(passwords[i%len(passwords)], "jean.dupont", "jean.dupont@example.fr")
	}
}

// BenchmarkLoad measures decompressing the list, and reports as
// retained-B the heap the loaded list keeps once garbage is collected.
func BenchmarkLoad(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l, err := loadList(commonGz)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(l)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := loadList(commonGz); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)), "retained-B")
	b.ReportMetric(float64(l.len()), "entries")
}
