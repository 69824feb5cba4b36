package totp

import (
	"errors"
	"testing"
	"time"
)

func FuzzVerify(f *testing.F) {
	for _, seed := range []string{"", "123456", "050471", "050 471", "050-471", "١٢٣٤٥٦", "12345", "1234567", "\xff"} {
		f.Add(seed)
	}
	s := rfcSecret(f)
	now := time.Unix(1111111111, 0)
	cur := stepAt(now)
	f.Fuzz(func(t *testing.T, input string) {
		step, err := Verify(s, input, now, cur-1)
		switch {
		case err == nil:
			if step < cur || step > cur+Skew {
				t.Errorf("Verify(%q) accepted step %d, want within [%d, %d]", input, step, cur, cur+Skew)
			}
			if _, ok := normalizeCode(input); !ok {
				t.Errorf("Verify(%q) accepted malformed input", input)
			}
		case errors.Is(err, ErrMalformed), errors.Is(err, ErrInvalid), errors.Is(err, ErrReplayed):
			if step != 0 {
				t.Errorf("Verify(%q) = %d, %v; want step 0 with an error", input, step, err)
			}
		default:
			t.Errorf("Verify(%q): unexpected error %v", input, err)
		}
	})
}

func FuzzMatchRecoveryCode(f *testing.F) {
	codes := []string{"ABCDE-FGHJK", "23456-789MN", "PQRST-UVWXY"}
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = HashRecoveryCode(c)
		f.Add(c)
	}
	for _, seed := range []string{"", "abcdefghjk", "ABCDE FGHJK", "0O1IL-0O1IL", "Ａ"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		i, ok := MatchRecoveryCode(input, hashes)
		if !ok {
			if i != -1 {
				t.Errorf("MatchRecoveryCode(%q) = %d, false; want -1", input, i)
			}
			return
		}
		if i < 0 || i >= len(codes) {
			t.Fatalf("MatchRecoveryCode(%q) = %d, true: out of range", input, i)
		}
		got, _ := normalizeRecovery(input)
		want, _ := normalizeRecovery(codes[i])
		if string(got) != string(want) {
			t.Errorf("MatchRecoveryCode(%q) matched %q", input, codes[i])
		}
	})
}
