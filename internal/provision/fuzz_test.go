package provision_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/provision"
)

// FuzzParseCSV: whatever the bytes, Parse returns rows or file problems,
// never panics, and the rows it returns are well formed. Seeds are in
// testdata/fuzz/FuzzParseCSV.
func FuzzParseCSV(f *testing.F) {
	known := map[string]bool{}
	for _, c := range provision.Columns() {
		known[c.Name] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := provision.Parse(data)
		if err != nil {
			pes := provision.ParseErrors(err)
			if len(pes) == 0 || rows != nil {
				t.Fatalf("error %v: %d file problems, %d rows", err, len(pes), len(rows))
			}
			for _, pe := range pes {
				if pe.Line < 1 || pe.Code == "" || pe.Msg == "" {
					t.Fatalf("file problem %+v", *pe)
				}
			}
			return
		}
		if len(rows) == 0 || len(rows) > provision.MaxRows {
			t.Fatalf("%d rows", len(rows))
		}
		last := 1
		for _, r := range rows {
			if r.Line <= last {
				t.Fatalf("row at line %d after line %d", r.Line, last)
			}
			last = r.Line
			for _, req := range []string{provision.ColUsername, provision.ColGivenName, provision.ColFamilyName} {
				if _, ok := r.Cells[req]; !ok {
					t.Fatalf("line %d lacks %s", r.Line, req)
				}
			}
			for k, v := range r.Cells {
				if !known[k] {
					t.Fatalf("line %d: unknown column %q", r.Line, k)
				}
				if v != strings.TrimSpace(v) {
					t.Fatalf("line %d: %s not trimmed: %q", r.Line, k, v)
				}
			}
			if slices.Contains(r.Errs, nil) {
				t.Fatalf("line %d: nil error", r.Line)
			}
		}
	})
}
