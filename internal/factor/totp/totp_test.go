package totp

import (
	"bytes"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// rfcSecret is the SHA-1 seed of RFC 6238 Appendix B, "12345678901234567890".
func rfcSecret(t testing.TB) Secret {
	t.Helper()
	s, err := ParseSecret(base32.StdEncoding.EncodeToString([]byte("12345678901234567890")))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rfcVectors are the SHA-1 rows of RFC 6238 Appendix B.
var rfcVectors = []struct {
	unix int64
	step int64
	code string // 8 digits
}{
	{59, 0x1, "94287082"},
	{1111111109, 0x23523EC, "07081804"},
	{1111111111, 0x23523ED, "14050471"},
	{1234567890, 0x273EF07, "89005924"},
	{2000000000, 0x3F940AA, "69279037"},
	{20000000000, 0x27BC86AA, "65353130"},
}

// codeAt computes the 6-digit code of a step through pquerna/otp.
func codeAt(t testing.TB, s Secret, step int64) string {
	t.Helper()
	c, err := hotp.GenerateCodeCustom(s.Base32(), uint64(step), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRFC6238Vectors(t *testing.T) {
	s := rfcSecret(t)
	for _, v := range rfcVectors {
		t.Run(fmt.Sprint(v.unix), func(t *testing.T) {
			now := time.Unix(v.unix, 0).UTC()
			if got := stepAt(now); got != v.step {
				t.Errorf("stepAt = %#x, want %#x", got, v.step)
			}
			got8, err := hotp.GenerateCodeCustom(s.Base32(), uint64(v.step), hotp.ValidateOpts{Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1})
			if err != nil || got8 != v.code {
				t.Errorf("8-digit code = %q, %v; want %q", got8, err, v.code)
			}
			step, err := Verify(s, v.code[2:], now, 0)
			if err != nil || step != v.step {
				t.Errorf("Verify(%q) = %#x, %v; want %#x, nil", v.code[2:], step, err, v.step)
			}
		})
	}
}

func TestVerifyDrift(t *testing.T) {
	s := rfcSecret(t)
	now := time.Unix(1234567890, 0)
	cur := stepAt(now)
	tests := []struct {
		name    string
		offset  int64
		wantErr error
	}{
		{"two steps behind", -2, ErrInvalid},
		{"one step behind", -1, nil},
		{"current step", 0, nil},
		{"one step ahead", 1, nil},
		{"two steps ahead", 2, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, err := Verify(s, codeAt(t, s, cur+tt.offset), now, 0)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if want := cur + tt.offset; err == nil && step != want {
				t.Errorf("step = %d, want %d", step, want)
			}
		})
	}
}

func TestVerifyReplay(t *testing.T) {
	s := rfcSecret(t)
	now := time.Unix(1234567890, 0)
	cur := stepAt(now)
	tests := []struct {
		name     string
		step     int64 // whose code is typed
		at       time.Time
		lastStep int64
		want     int64
		wantErr  error
	}{
		{"first use", cur, now, 0, cur, nil},
		{"same step again", cur, now, cur, 0, ErrReplayed},
		{"same step later in drift window", cur, now.Add(Period), cur, 0, ErrReplayed},
		{"earlier step after a later one", cur - 1, now, cur, 0, ErrReplayed},
		{"step before an early one", cur, now, cur + 1, 0, ErrReplayed},
		{"next step", cur + 1, now.Add(Period), cur, cur + 1, nil},
		{"wrong code is invalid, not replayed", cur + 5, now, cur, 0, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, err := Verify(s, codeAt(t, s, tt.step), tt.at, tt.lastStep)
			if !errors.Is(err, tt.wantErr) || step != tt.want {
				t.Errorf("Verify = %d, %v; want %d, %v", step, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestVerifyInput(t *testing.T) {
	s := rfcSecret(t)
	now := time.Unix(1111111111, 0)
	tests := []struct {
		name    string
		input   string
		wantErr error
	}{
		{"plain", "050471", nil},
		{"surrounding space", " \t050471\n", nil},
		{"inner space", "050 471", nil},
		{"inner dash", "050-471", nil},
		{"narrow no-break space", "050\u202f471", nil},
		{"wrong digits", "050472", ErrInvalid},
		{"empty", "", ErrMalformed},
		{"only spaces", "   ", ErrMalformed},
		{"five digits", "05047", ErrMalformed},
		{"seven digits", "0504711", ErrMalformed},
		{"letters", "abcdef", ErrMalformed},
		{"digit and letter", "05047a", ErrMalformed},
		{"arabic-indic digits", "١٢٣٤٥٦", ErrMalformed},
		{"fullwidth digits", "０５０４７１", ErrMalformed},
		{"NUL byte", "050471\x00", ErrMalformed},
		{"invalid UTF-8", "050\xff471", ErrMalformed},
		{"sign", "+50471", ErrMalformed},
		{"very long", strings.Repeat("0", 1<<20), ErrMalformed},
		{"very long spaces", "050471" + strings.Repeat(" ", 1000), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Verify(s, tt.input, now, 0); !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify(%.20q) err = %v, want %v", tt.input, err, tt.wantErr)
			}
		})
	}
	if _, err := Verify(Secret{}, "050471", now, 0); !errors.Is(err, ErrSecret) {
		t.Errorf("zero Secret: err = %v, want ErrSecret", err)
	}
}

func TestKeyURI(t *testing.T) {
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := KeyURI("Territoires Ouverts", "alice@example.fr", s)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	got := map[string]string{
		"scheme": u.Scheme, "host": u.Host, "path": u.Path,
		"secret": q.Get("secret"), "issuer": q.Get("issuer"), "digits": q.Get("digits"),
		"period": q.Get("period"), "algorithm": q.Get("algorithm"),
	}
	want := map[string]string{
		"scheme": "otpauth", "host": "totp", "path": "/Territoires Ouverts:alice@example.fr",
		"secret": s.Base32(), "issuer": "Territoires Ouverts", "digits": "6",
		"period": "30", "algorithm": "SHA1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("KeyURI %s (-want +got):\n%s", raw, diff)
	}
	if strings.Contains(raw, " ") {
		t.Errorf("KeyURI %q contains an unescaped space", raw)
	}

	for _, tt := range []struct{ name, issuer, account string }{
		{"empty issuer", "", "alice"},
		{"empty account", "TNO", ""},
		{"colon in issuer", "T:NO", "alice"},
		{"colon in account", "TNO", "a:lice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := KeyURI(tt.issuer, tt.account, s); !errors.Is(err, ErrLabel) {
				t.Errorf("err = %v, want ErrLabel", err)
			}
		})
	}
	if _, err := KeyURI("TNO", "alice", Secret{}); !errors.Is(err, ErrSecret) {
		t.Errorf("zero Secret: err = %v, want ErrSecret", err)
	}
}

func TestSecret(t *testing.T) {
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Base32()); n != 32 {
		t.Errorf("len(Base32) = %d, want 32 (20 bytes, no padding)", n)
	}
	if other, _ := NewSecret(); other.Base32() == s.Base32() {
		t.Error("two NewSecret calls returned the same secret")
	}

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("enrol", "secret", s, "group", slog.GroupValue(slog.Any("inner", s)))
	printed := fmt.Sprintf("%v %s %+v %#v %q %x", s, s, s, s, s, s) + fmt.Sprintf("%v %+v", struct{ S Secret }{s}, &s)
	for name, out := range map[string]string{"slog": buf.String(), "fmt": printed} {
		if strings.Contains(out, s.Base32()) || !strings.Contains(out, "REDACTED") {
			t.Errorf("%s output leaks the secret or lacks REDACTED: %s", name, out)
		}
	}

	back, err := ParseSecret(strings.ToLower(FormatKey(s)))
	if err != nil || back != s {
		t.Errorf("ParseSecret(FormatKey) = %v, %v; want the same secret", back.Base32(), err)
	}
	for _, bad := range []string{"", "not base32!", "JBSWY3DPEHPK3PXP"} { // the last is 10 bytes
		if _, err := ParseSecret(bad); !errors.Is(err, ErrSecret) {
			t.Errorf("ParseSecret(%q) err = %v, want ErrSecret", bad, err)
		}
	}
}

func TestFormatKey(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"32 characters", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"},
		{"partial last group", "GEZDGNBVGY3TQOJQGEZDGNBVGY", "GEZD GNBV GY3T QOJQ GEZD GNBV GY"},
		{"zero secret", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatKey(Secret{b32: tt.in}); got != tt.want {
				t.Errorf("FormatKey = %q, want %q", got, tt.want)
			}
		})
	}
}
