package web

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// logoutPages are golden pages of the sign-out flow (the zero
// LoggedOutPage is in goldenPages).
var logoutPages = []struct {
	name string
	page any
}{
	{"logout_confirm", LogoutConfirmPage{
		AppName: "Portail RH", Action: "/logout/confirm", ClientID: "portail-rh",
		PostLogoutRedirectURI: "https://rh.example/bye", State: "st&te", UILocales: "fr en",
	}},
	{"logout_confirm_bare", &LogoutConfirmPage{Action: "/logout/confirm"}},
	{"logged_out_frames", LoggedOutPage{
		Frames: []LogoutFrame{
			{AppName: "Portail RH", URL: "https://rh.example/fc?iss=https%3A%2F%2Ftno.example&sid=abc"},
			{AppName: "Agenda", URL: "https://agenda.example/logout"},
		},
		ContinueURL: "https://rh.example/bye?state=xyz", ContinueApp: "Portail RH",
	}},
}

func TestLogoutGolden(t *testing.T) {
	r := newTestRenderer(t, nil)
	for _, tc := range logoutPages {
		for _, lang := range languages() {
			t.Run(tc.name+"_"+lang, func(t *testing.T) {
				rec := render(t, r, "/logout?lang="+lang, http.StatusOK, tc.page)
				if rec.Code != http.StatusOK {
					t.Fatalf("status = %d", rec.Code)
				}
				body := rec.Body.String()
				checkMarkup(t, body)
				golden := filepath.Join("testdata", tc.name+"_"+lang+".golden")
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
			})
		}
	}
}

func TestLoggedOutPage(t *testing.T) {
	r := newTestRenderer(t, nil)
	body := render(t, r, "/logout", http.StatusOK, LoggedOutPage{
		Frames:      []LogoutFrame{{AppName: "<b>RH</b>", URL: "javascript:alert(1)"}},
		ContinueURL: "https://rh.example/bye?state=a&b=c",
	}).Body.String()
	for _, want := range []string{
		`<iframe src="#ZgotmplZ" title="Notification de déconnexion pour &lt;b&gt;RH&lt;/b&gt;" width="0" height="0" hidden></iframe>`,
		`<a class="button" href="https://rh.example/bye?state=a&amp;b=c">Continuer</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// Without a redirect URI: no link.
	body = render(t, r, "/logout", http.StatusOK, LoggedOutPage{Frames: []LogoutFrame{{AppName: "RH", URL: "https://rh.example/fc"}}}).Body.String()
	if strings.Contains(body, "<a class=\"button\"") || !strings.Contains(body, `<iframe src="https://rh.example/fc"`) {
		t.Errorf("unexpected page:\n%s", body)
	}
}

func TestAllowFrames(t *testing.T) {
	base := ContentSecurityPolicy
	for _, tc := range []struct {
		name    string
		csp     string
		targets []string
		want    string
	}{
		{"adds a directive with the origins", base,
			[]string{"https://rh.example/fc?iss=x", "http://127.0.0.1:8080/fc", "https://RH.example:443/other"},
			base + "; frame-src https://rh.example http://127.0.0.1:8080 https://rh.example:443"},
		{"deduplicates", base, []string{"https://a.example/x", "https://a.example/y"}, base + "; frame-src https://a.example"},
		{"extends an existing directive", "default-src 'none'; frame-src https://a.example; base-uri 'none'",
			[]string{"https://b.example/", "https://a.example/z"},
			"default-src 'none'; frame-src https://a.example https://b.example; base-uri 'none'"},
		{"directive first", "frame-src https://a.example", []string{"https://b.example/"}, "frame-src https://a.example https://b.example"},
		{"ignores other schemes and relative URLs", base, []string{"javascript:alert(1)", "/fc", "data:text/html,x", "ftp://a.example/"}, base},
		{"ignores hosts that could inject a source", base, []string{"https://a.example;script-src/", "https://a.example%20*/", "https://a.example%3B/"}, base},
		{"IPv6", base, []string{"https://[::1]:8443/fc"}, base + "; frame-src https://[::1]:8443"},
		{"no CSP: nothing", "", []string{"https://a.example/"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.csp != "" {
				h.Set("Content-Security-Policy", tc.csp)
			}
			AllowFrames(h, tc.targets...)
			if got := h.Get("Content-Security-Policy"); got != tc.want {
				t.Errorf("CSP =\n%q, want\n%q", got, tc.want)
			}
		})
	}
}
