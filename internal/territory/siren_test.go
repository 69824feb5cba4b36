package territory

import "testing"

func TestValidateSIREN(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"Lyon métropole", "200046977", true},
		{"Ville de Paris", "217500016", true},
		{"La Poste", "356000000", true},
		{"Luhn fails", "200046978", false},
		{"too short", "20004697", false},
		{"letters", "20004697a", false},
		{"empty", "", false},
		{"spaces", "200 046 977", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateSIREN(tt.in); (err == nil) != tt.ok {
				t.Errorf("ValidateSIREN(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestValidateSIRET(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"Lyon métropole siège", "20004697700019", true},
		{"Ville de Paris", "21750001600019", true},
		{"La Poste siège (Luhn)", "35600000000048", true},
		{"La Poste establishment (sum % 5)", "35600000049837", true},
		{"La Poste bad", "35600000049838", false},
		{"Luhn fails", "20004697700018", false},
		{"13 digits", "2000469770001", false},
		{"letters", "2000469770001x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateSIRET(tt.in); (err == nil) != tt.ok {
				t.Errorf("ValidateSIRET(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func FuzzValidateSIRET(f *testing.F) {
	for _, s := range []string{"20004697700019", "35600000049837", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateSIRET(s) == nil && (len(s) != 14 || !allDigits(s)) {
			t.Fatalf("accepted malformed SIRET %q", s)
		}
	})
}
