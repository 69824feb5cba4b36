package authflow

import (
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func TestNeedsLogin(t *testing.T) {
	created := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	ptr := func(n int) *int { return &n }
	tests := []struct {
		name     string
		prompt   string
		maxAge   *int
		authTime time.Time // session's
		now      time.Time
		want     bool
	}{
		{"no constraint, old session", "", nil, created.Add(-9 * time.Hour), created, false},
		{"prompt=login, session older than the request", "login", nil, created.Add(-time.Second), created, true},
		{"prompt=login, signed in after the request", "login", nil, created.Add(time.Second), created.Add(time.Second), false},
		{"prompt=login, signed in at the request time", "login", nil, created, created, false},
		{"prompt=login among others", "consent login", nil, created.Add(-time.Minute), created, true},
		{"prompt=consent only", "consent", nil, created.Add(-time.Hour), created, false},
		{"prompt=none", "none", nil, created.Add(-time.Hour), created, false},
		{"max_age=0, old session", "", ptr(0), created.Add(-time.Second), created, true},
		{"max_age=0, signed in after the request", "", ptr(0), created.Add(time.Second), created.Add(2 * time.Second), false},
		{"max_age not elapsed", "", ptr(300), created.Add(-299 * time.Second), created, false},
		{"max_age exactly elapsed", "", ptr(300), created.Add(-300 * time.Second), created, false},
		{"max_age elapsed", "", ptr(300), created.Add(-301 * time.Second), created, true},
		{"max_age elapsed while choosing", "", ptr(60), created.Add(time.Second), created.Add(2 * time.Minute), true},
		{"max_age large, recent session", "", ptr(9223372036), created.Add(-time.Hour), created, false},
		{"max_age larger than a time.Duration, recent session", "", ptr(9223372037), created.Add(-time.Hour), created, false},
		{"max_age MaxInt64, session from this instant", "", ptr(1<<63 - 1), created, created, false},
		{"prompt=login wins over a satisfied max_age", "login", ptr(3600), created.Add(-time.Minute), created, true},
		{"max_age wins over a satisfied prompt=login", "login", ptr(10), created.Add(time.Second), created.Add(time.Minute), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := &txn{SignIn: storage.SignIn{CreatedAt: created}, st: state{Req: Request{Prompt: strings.Fields(tt.prompt), MaxAge: tt.maxAge}}}
			s := storage.Session{AuthTime: tt.authTime}
			if got := needsLogin(tx, s, tt.now); got != tt.want {
				t.Errorf("needsLogin = %v, want %v", got, tt.want)
			}
		})
	}
}
