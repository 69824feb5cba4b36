package local

import (
	"errors"
	"strings"
	"testing"
)

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
		personal []string
		wantCode string // "" for accepted
	}{
		{name: "empty", password: "", wantCode: CodeTooShort},
		{name: "11 characters", password: "abcdefghijk", wantCode: CodeTooShort},
		{name: "12 characters", password: "kx7#qp2!vm9z"},
		{name: "common", password: "azertyuiop123", wantCode: CodeCommon},
		{name: "common, other case", password: "MotDePasse123", wantCode: CodeCommon},
		{name: "contains the username", password: "bonjour-mdupont-2026", personal: []string{"mdupont", "m.dupont@ville.fr"}, wantCode: CodePersonal},
		{name: "12 accented characters, 24 bytes", password: strings.Repeat("é", 12)},
		{name: "11 accented characters, 22 bytes", password: strings.Repeat("é", 11), wantCode: CodeTooShort},
		{name: "1024 bytes", password: strings.Repeat("a", 1024)},
		{name: "1025 bytes", password: strings.Repeat("a", 1025), wantCode: CodeTooLong},
		{name: "513 two-byte characters", password: strings.Repeat("é", 513), wantCode: CodeTooLong},
		{name: "spaces count", password: "a b c d e f "},
		{name: "a passphrase", password: "le chat de la mairie dort"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidatePassword(tt.password, tt.personal...)
			if tt.wantCode == "" {
				if err != nil {
					t.Errorf("ValidatePassword = %v, want nil", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("ValidatePassword = %v, want *PolicyError", err)
			}
			if pe.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q", pe.Code, tt.wantCode)
			}
			if tt.password != "" && strings.Contains(err.Error(), tt.password) {
				t.Errorf("error message contains the password: %q", err.Error())
			}
		})
	}
}
