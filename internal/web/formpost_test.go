package web

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// goldenCheck compares body with testdata/name.golden (rewritten with
// -update).
func goldenCheck(t *testing.T, name, body string) {
	t.Helper()
	golden := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(golden, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), body); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", golden, diff)
	}
}

var formPostPages = []struct {
	name string
	page any
}{
	{"form_post", FormPostPage{
		AppName: "Portail RH", Action: "https://rh.example/cb?tenant=42",
		Fields: []FormField{{"code", "SplxlOBeZQQYbYS6WxSbIA"}, {"iss", "https://tno.example"}, {"state", `a"b<c>&d`}},
	}},
	{"form_post_error", &FormPostPage{
		Action: "http://127.0.0.1:9/cb",
		Fields: []FormField{{"error", "access_denied"}, {"error_description", "the person refused"}, {"iss", "https://tno.example"}},
	}},
}

func TestFormPostGolden(t *testing.T) {
	r := newTestRenderer(t, nil)
	for _, tc := range formPostPages {
		for _, lang := range languages() {
			t.Run(tc.name+"_"+lang, func(t *testing.T) {
				rec := render(t, r, "/authorize?client_id=x&lang="+lang, http.StatusOK, tc.page)
				if rec.Code != http.StatusOK {
					t.Fatalf("status = %d", rec.Code)
				}
				body := rec.Body.String()
				checkMarkup(t, body)
				if n := strings.Count(body, "<script"); n != 1 || !externalScript.MatchString(body) {
					t.Errorf("want exactly one external script, got %d:\n%s", n, body)
				}
				if strings.Contains(body, `class="lang-link"`) {
					t.Error("the form_post page links to another language (a new authorization request)")
				}
				if !strings.Contains(body, `<button type="submit" class="button">`) {
					t.Error("no submit button for browsers without JavaScript")
				}
				goldenCheck(t, tc.name+"_"+lang, body)
			})
		}
	}
}

// The pages that offer a passkey load passkey.js, and only it, with a
// CSP that allows TNO's own scripts; the other pages load no script and
// keep the policy without scripts.
func TestNoScriptElsewhere(t *testing.T) {
	r := newTestRenderer(t, nil)
	for _, tc := range goldenPages {
		rec := render(t, r, "/", tc.status, tc.page)
		body, csp := rec.Body.String(), rec.Header().Get("Content-Security-Policy")
		if strings.HasPrefix(tc.name, "login_passkey") || strings.HasPrefix(tc.name, "factor_passkey") || tc.name == "passkey_enrol" || tc.name == "totp_enrol_required" {
			if strings.Count(body, "<script") != 1 || !strings.Contains(body, "/static/passkey.js?v=") {
				t.Errorf("%s does not load passkey.js alone", tc.name)
			}
			if csp != "" && !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("%s: CSP %q forbids its script", tc.name, csp)
			}
			continue
		}
		if strings.Contains(body, "<script") {
			t.Errorf("%s loads a script", tc.name)
		}
		if strings.Contains(csp, "script-src") {
			t.Errorf("%s: CSP %q allows scripts", tc.name, csp)
		}
	}
}
