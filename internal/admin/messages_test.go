package admin

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/web"
)

// TestMessageKeys: every key the console's templates and Go code name
// literally exists in French and in English (the kit's common.* keys are
// the kit's to check).
func TestMessageKeys(t *testing.T) {
	r, err := web.New(web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, _ := fs.Sub(templateFS, "templates")
	msgs, _ := fs.Sub(messageFS, "messages")
	s, err := r.NewSurface("admin", tmpl, msgs)
	if err != nil {
		t.Fatal(err)
	}
	fr, en := s.Keys(web.LangFR), s.Keys(web.LangEN)
	for k := range fr {
		if _, ok := en[k]; !ok {
			t.Errorf("%s: in French only", k)
		}
	}
	for k := range en {
		if _, ok := fr[k]; !ok {
			t.Errorf("%s: in English only", k)
		}
	}
	literal := regexp.MustCompile(`"(admin\.[a-z0-9_.]+[a-z0-9_])"`)
	files, _ := filepath.Glob("*.go")
	html, _ := filepath.Glob("templates/*.html")
	for _, f := range append(files, html...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			key := m[1]
			if strings.HasSuffix(key, ".") || dynamicPrefix(key) {
				continue
			}
			if _, ok := fr[key]; !ok {
				t.Errorf("%s: key %q missing", f, key)
			}
		}
	}
}

// dynamicPrefix: keys built at run time from a prefix ("admin.kind." +
// kind) are checked by their own tests.
func dynamicPrefix(key string) bool {
	for _, p := range []string{"admin.done", "admin.field", "admin.kind", "admin.audit.type", "admin.roles.perm"} {
		if key == p {
			return true
		}
	}
	return false
}
