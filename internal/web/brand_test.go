package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBrand: the territory's name, logo, help and footer links reach
// every page, and LogoHandler serves the logo under a versioned URL with
// a sandboxing CSP.
func TestBrand(t *testing.T) {
	logo := []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#000091"/></svg>`)
	r, err := New(Options{ProductName: "Syndicat numérique du Val", BasePath: "/tno", Brand: Brand{
		Logo: logo, LogoType: "image/svg+xml",
		Support: "Support : 01 23 45 67 89", SupportURL: "https://support.syndicat-val.fr",
		LegalNoticeURL: "https://www.syndicat-val.fr/mentions-legales", PersonalDataURL: "https://www.syndicat-val.fr/donnees",
		AccessibilityURL: "https://www.syndicat-val.fr/accessibilite", AccessibilityStatus: "partial",
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range languages() {
		body := render(t, r, "/tno/login?lang="+lang, http.StatusOK, LoginPage{Action: "/tno/login"}).Body.String()
		want := map[string][]string{
			LangFR: {"Syndicat numérique du Val", `src="/tno/brand/logo?v=`, "Besoin d’aide ?", `<a href="https://support.syndicat-val.fr">Support : 01 23 45 67 89</a>`,
				`<a href="https://www.syndicat-val.fr/mentions-legales">Mentions légales</a>`, `<a href="https://www.syndicat-val.fr/donnees">Données personnelles</a>`,
				`<a href="https://www.syndicat-val.fr/accessibilite">Accessibilité : partiellement conforme</a>`},
			LangEN: {"Syndicat numérique du Val", "Need help?", "Legal notice", "Accessibility: partially compliant"},
		}[lang]
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s page lacks %q", lang, w)
			}
		}
		if strings.Contains(body, "<span>TNO</span>") {
			t.Errorf("%s page still says TNO in the header", lang)
		}
	}
	rec := httptest.NewRecorder()
	r.LogoHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/tno/brand/logo?v=1", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != string(logo) || rec.Header().Get("Content-Type") != "image/svg+xml" ||
		!strings.Contains(rec.Header().Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("logo: %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}

	// Without a logo of its own, TNO's is used and the handler has none.
	plain := newTestRenderer(t, nil)
	rec = httptest.NewRecorder()
	plain.LogoHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/brand/logo", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("no logo: %d", rec.Code)
	}
}
