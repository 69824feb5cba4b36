package oidc

import "testing"

func TestSafeDescription(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "code_verifier is required", "code_verifier is required"},
		{"quotes and backslash", `scope "x\y"`, "scope ?x?y?"},
		{"non-ASCII", "mot de passe oublié", "mot de passe oubli?"},
		{"control", "a\nb\tc", "a?b?c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := safeDescription(tt.in); got != tt.want {
				t.Errorf("safeDescription(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := safeDescription(string(make([]byte, 1000))); len(got) != 300 {
		t.Errorf("long description kept %d bytes, want 300", len(got))
	}
}
