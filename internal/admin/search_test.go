package admin

import "testing"

func TestMatches(t *testing.T) {
	for _, tt := range []struct {
		q      string
		fields []string
		want   bool
	}{
		{"helene", []string{"Hélène"}, true},
		{"HÉLÈNE durand", []string{"Hélène", "Durand"}, true},
		{"coeur", []string{"Cœur"}, true},
		{"martin", []string{"Hélène", "Durand"}, false},
		{"", []string{"x"}, true},
		{"ç", []string{"François"}, true}, // the query folds too
		{"francois", []string{"François"}, true},
	} {
		if got := matches(tt.q, tt.fields...); got != tt.want {
			t.Errorf("matches(%q, %q) = %v, want %v", tt.q, tt.fields, got, tt.want)
		}
	}
}
