package session

import "testing"

func TestLevel(t *testing.T) {
	tests := []struct {
		name string
		acr  string
		amr  []string
		want string
	}{
		{"stored level wins", "eidas2", []string{"pwd"}, "eidas2"},
		{"password session without a stored level", "", []string{"pwd"}, ACREidas1},
		{"no method", "", nil, ""},
		{"unknown method", "", []string{"kba"}, ""},
		{"a passkey alone", "", []string{"hwk"}, ACREidas1},
		{"password and code", "", []string{"pwd", "otp", "mfa"}, ACREidas2},
		{"passkey with user verification", "", []string{"swk", "user", "mfa"}, ACREidas2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Level(tt.acr, tt.amr); got != tt.want {
				t.Errorf("Level(%q, %q) = %q, want %q", tt.acr, tt.amr, got, tt.want)
			}
		})
	}
}

func TestSatisfies(t *testing.T) {
	tests := []struct {
		achieved, wanted string
		want             bool
	}{
		{"eidas1", "eidas1", true},
		{"eidas2", "eidas1", true},
		{"eidas3", "eidas2", true},
		{"eidas1", "eidas2", false},
		{"eidas1", "eidas3", false},
		{"", "eidas1", false},
		{"eidas1", "", false},
		{"eidas1", "urn:other", false},
		{"urn:other", "urn:other", false},
		{"eidas1", "EIDAS1", false},
	}
	for _, tt := range tests {
		t.Run(tt.achieved+">="+tt.wanted, func(t *testing.T) {
			if got := Satisfies(tt.achieved, tt.wanted); got != tt.want {
				t.Errorf("Satisfies(%q, %q) = %v, want %v", tt.achieved, tt.wanted, got, tt.want)
			}
		})
	}
	for v, want := range map[string]bool{"eidas1": true, "eidas2": true, "eidas3": false, "": false, "x": false} {
		if got := Reachable(v); got != want {
			t.Errorf("Reachable(%q) = %v, want %v", v, got, want)
		}
	}
}
