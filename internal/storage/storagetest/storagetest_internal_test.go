package storagetest

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestWithSearchPath(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
	}{
		{"url", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"},
		{"url without query", "postgresql://u:p@db.example/tno"},
		{"url with search_path", "postgres://u@h/db?search_path=public&sslmode=disable"},
		{"key value", "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"},
		{"key value with search_path", "host=h dbname=db search_path=public "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dsn, err := withSearchPath(tc.dsn, "tno_t_x")
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := pgx.ParseConfig(dsn)
			if err != nil {
				t.Fatalf("ParseConfig(%q): %v", dsn, err)
			}
			if got := cfg.RuntimeParams["search_path"]; got != "tno_t_x" {
				t.Errorf("search_path = %q in %q, want tno_t_x", got, dsn)
			}
		})
	}
}
