package sqlstore

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestReadMigrations(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("SELECT 1;")}
	tests := []struct {
		name    string
		files   []string
		want    []migration
		wantErr bool
	}{
		{"sorted by version", []string{"00010_b.sql", "00002_a.sql", "README.md"},
			[]migration{{2, "00002_a.sql"}, {10, "00010_b.sql"}}, false},
		{"no migrations", []string{"README.md"}, nil, true},
		{"no version", []string{"init.sql"}, nil, true},
		{"bad version", []string{"x1_init.sql"}, nil, true},
		{"version zero", []string{"00000_init.sql"}, nil, true},
		{"duplicate version", []string{"00001_a.sql", "1_b.sql"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tc.files {
				fsys[f] = file
			}
			got, err := readMigrations(fsys)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(migration{})); d != "" {
				t.Errorf("mismatch (-want +got):\n%s", d)
			}
		})
	}
}
