package totp

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestNewRecoveryCodes(t *testing.T) {
	format := regexp.MustCompile(`^[` + recoveryAlphabet + `]{5}-[` + recoveryAlphabet + `]{5}$`)
	tests := []struct {
		name string
		n    int
		want int
	}{
		{"default", 0, RecoveryCodeCount},
		{"ten", RecoveryCodeCount, 10},
		{"three", 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes, err := NewRecoveryCodes(tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(codes) != tt.want {
				t.Errorf("got %d codes, want %d", len(codes), tt.want)
			}
			seen := map[string]bool{}
			for _, c := range codes {
				if !format.MatchString(c) {
					t.Errorf("code %q does not match XXXXX-XXXXX over the alphabet", c)
				}
				if strings.ContainsAny(c, "0O1IL") {
					t.Errorf("code %q has an ambiguous character", c)
				}
				if seen[c] {
					t.Errorf("code %q issued twice", c)
				}
				seen[c] = true
			}
		})
	}
	if len(recoveryAlphabet) != 31 || recoveryReject != 248 {
		t.Errorf("alphabet of %d symbols, reject at %d", len(recoveryAlphabet), recoveryReject)
	}
}

func TestMatchRecoveryCode(t *testing.T) {
	codes, err := NewRecoveryCodes(RecoveryCodeCount)
	if err != nil {
		t.Fatal(err)
	}
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = HashRecoveryCode(c)
	}
	if HashRecoveryCode(codes[0]) == hashes[0] {
		t.Error("two hashes of the same code are equal: no salt")
	}
	c := codes[3]
	tests := []struct {
		name   string
		input  string
		hashes []string
		want   int
		wantOK bool
	}{
		{"as shown", c, hashes, 3, true},
		{"lower case", strings.ToLower(c), hashes, 3, true},
		{"no dash", strings.ReplaceAll(c, "-", ""), hashes, 3, true},
		{"spaces", " " + c[:3] + " " + c[3:5] + " " + c[6:] + "\n", hashes, 3, true},
		{"space instead of dash", strings.ReplaceAll(c, "-", " "), hashes, 3, true},
		{"last code", codes[9], hashes, 9, true},
		{"used code removed", c, slices.Delete(slices.Clone(hashes), 3, 4), -1, false},
		{"hash stored twice", c, []string{hashes[0], hashes[3], hashes[3]}, 1, true},
		{"wrong code", "ABCDE-FGHJK", hashes, -1, false},
		{"one symbol changed", c[:10] + next(c[10]), hashes, -1, false},
		{"too short", c[:10], hashes, -1, false},
		{"too long", c + "2", hashes, -1, false},
		{"ambiguous letter", "O" + c[1:], hashes, -1, false},
		{"non-ASCII", "Ａ" + c[1:], hashes, -1, false},
		{"empty", "", hashes, -1, false},
		{"no hashes", c, nil, -1, false},
		{"garbage hashes", c, []string{"", "sha256$", "md5$a$b", "sha256$!!$!!", hashes[3][:20]}, -1, false},
		{"garbage before a good hash", c, []string{"sha256$x$y", hashes[3]}, 1, true},
		{"very long", strings.Repeat(c, 10000), hashes, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, ok := MatchRecoveryCode(tt.input, tt.hashes)
			if i != tt.want || ok != tt.wantOK {
				t.Errorf("MatchRecoveryCode(%.20q) = %d, %v; want %d, %v", tt.input, i, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// next returns the alphabet symbol after b.
func next(b byte) string {
	i := strings.IndexByte(recoveryAlphabet, b)
	return string(recoveryAlphabet[(i+1)%len(recoveryAlphabet)])
}
