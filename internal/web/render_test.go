package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func newTestRenderer(t *testing.T, logs *bytes.Buffer) *Renderer {
	t.Helper()
	var logger *slog.Logger
	if logs != nil {
		logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	r, err := New(Options{Logger: logger})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// render serves page for a GET of target and returns the recorder.
func render(t *testing.T, r *Renderer, target string, status int, page any) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Render(rec, httptest.NewRequest(http.MethodGet, target, nil), status, page)
	return rec
}

var testOptions = []ChooserOption{
	{ID: "m1", OrgName: "Commune de Saint-Ouen-l'Aumône", Kind: "agent", Service: "Direction des systèmes d'information", Title: "Chargée de mission numérique"},
	{ID: "m2", OrgName: "Métropole de Lyon", Kind: "elu", Title: "Conseillère métropolitaine", Mandate: "Vice-présidente déléguée au numérique"},
	{ID: "m3", OrgName: "SIVU des écoles", Kind: "agent"},
}

var goldenPages = []struct {
	name   string
	status int
	page   any
}{
	{"login", http.StatusOK, LoginPage{AppName: "Portail RH", Action: "/login", RequestID: "req-123"}},
	{"login_service", http.StatusOK, LoginPage{AppName: "ProConnect", ServiceName: "Bases Adresses Locales", Action: "/login", RequestID: "req-123", Identifier: "jeanne.martin@paris.fr"}},
	{"login_error", http.StatusUnauthorized, LoginPage{AppName: "Portail RH", Action: "/login", RequestID: "req-123", Identifier: "marie.dupont", ErrorKey: "login.invalid",
		PasswordStep: true, ChangeURL: "/login?request=req-123"}},
	{"login_password", http.StatusOK, LoginPage{AppName: "Portail RH", Action: "/login", RequestID: "req-123", Identifier: "marie.dupont@ville-exemple.fr",
		PasswordStep: true, ChangeURL: "/login?request=req-123"}},
	{"login_throttled", http.StatusTooManyRequests, LoginPage{AppName: "Portail RH", Action: "/login", RequestID: "req-123", Identifier: "maire@commune.fr",
		PasswordStep: true, ChangeURL: "/login?request=req-123", Throttled: "account", WaitMinutes: 4, OfferCode: true}},
	{"login_passkey", http.StatusOK, LoginPage{AppName: "Portail RH", Action: "/login", RequestID: "req-123",
		Passkey: &PasskeyForm{Action: "/login/passkey", RequestID: "req-123", Mode: PasskeyGet, Conditional: true,
			Options: `{"publicKey":{"challenge":"AAEC","rpId":"tno.example.fr","userVerification":"required"},"mediation":"conditional"}`}}},
	{"factor_passkey_only", http.StatusOK, FactorPage{AppName: "Portail RH", Action: "/login/factor", RequestID: "req-123", Method: "recovery",
		CancelURL: "/login?request=req-123&method=cancel",
		Passkey:   &PasskeyForm{Action: "/login/passkey", RequestID: "req-123", Mode: PasskeyGet, Options: `{"publicKey":{"challenge":"AAEC"}}`}}},
	{"passkey_enrol", http.StatusOK, PasskeyEnrolPage{CancelURL: "/account/security",
		Form: PasskeyForm{Action: "/account/security/passkey/confirm", RequestID: "req-123", Mode: PasskeyCreate, Options: `{"publicKey":{"challenge":"AAEC"}}`}}},
	{"factor", http.StatusOK, FactorPage{AppName: "Portail RH", Action: "/login/factor", RequestID: "req-123", Method: "totp",
		OtherURL: "/login?request=req-123&method=recovery", CancelURL: "/login?request=req-123&method=cancel"}},
	{"factor_recovery_error", http.StatusUnauthorized, FactorPage{AppName: "Portail RH", Action: "/login/factor", RequestID: "req-123", Method: "recovery",
		OtherURL: "/login?request=req-123&method=totp", CancelURL: "/login?request=req-123&method=cancel", ErrorKey: "factor.invalid_recovery"}},
	{"security_empty", http.StatusOK, SecurityPage{PersonName: "Marie Dupont", EnrolAction: "/account/security/totp", RecoveryAction: "/account/security/recovery",
		RemoveAction: "/account/security/remove", RenameAction: "/account/security/rename", ReauthWithin: 10}},
	{"security", http.StatusOK, SecurityPage{PersonName: "Marie Dupont", HasTOTP: true, RecoveryLeft: 9, Notice: "enrolled",
		Factors:  []FactorItem{{ID: "f1", Kind: "totp", Name: "Téléphone pro", Created: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}},
		Passkeys: true, PasskeyAction: "/account/security/passkey",
		PasskeyItems: []FactorItem{{ID: "k1", Kind: "passkey", Name: "Ordinateur du bureau", Synced: true, Created: time.Date(2026, 11, 4, 9, 0, 0, 0, time.UTC)}},
		EnrolAction:  "/account/security/totp", RecoveryAction: "/account/security/recovery",
		RemoveAction: "/account/security/remove", RenameAction: "/account/security/rename", ReauthWithin: 10}},
	{"totp_enrol", http.StatusOK, TOTPEnrolPage{Action: "/account/security/totp/confirm", RequestID: "req-123",
		QRCode: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1" role="img" aria-label="QR code"><rect width="1" height="1"/></svg>`,
		Key:    "JBSW Y3DP EHPK 3PXP", CancelURL: "/account/security"}},
	{"totp_enrol_required", http.StatusOK, TOTPEnrolPage{Action: "/login/enrol", RequestID: "req-123", Required: true,
		QRCode: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1" role="img" aria-label="QR code"><rect width="1" height="1"/></svg>`,
		Key:    "JBSW Y3DP EHPK 3PXP", CancelURL: "/login?request=req-123&method=cancel",
		Passkey: &PasskeyForm{Action: "/login/enrol/passkey", RequestID: "req-123", Mode: PasskeyCreate, Options: `{"publicKey":{"challenge":"AAEC"}}`}}},
	{"recovery_codes", http.StatusOK, RecoveryCodesPage{Codes: []string{"C3A9C-JEUDQ", "PQRS7-TUVWX"}, ContinueURL: "/account/security"}},
	{"chooser", http.StatusOK, ChooserPage{AppName: "Portail RH", Action: "/choose", RequestID: "req-123", Options: testOptions}},
	{"chooser_who", http.StatusOK, ChooserPage{AppName: "Portail RH", Action: "/choose", RequestID: "req-123", Options: testOptions,
		Who: &SignedIn{Name: "Marie Dupont", SwitchURL: "/login?request=req-123"}}},
	{"chooser_error", http.StatusBadRequest, &ChooserPage{AppName: "Portail RH", Action: "/choose", RequestID: "req-123", Options: testOptions, ErrorKey: "chooser.required"}},
	{"message", http.StatusBadRequest, MessagePage{TitleKey: "error.title", MessageKey: "error.expired", ErrorID: "7KQ2M-X9D4T", Detail: "request expired"}},
	{"refused", http.StatusForbidden, MessagePage{TitleKey: "refused.title", MessageKey: "refused.message"}},
	{"logged_out", http.StatusOK, LoggedOutPage{}},
	{"password_change", http.StatusOK, PasswordChangePage{Action: "/password", RequestID: "req-123", Identifier: "admin", MinLength: 12}},
	{"password_change_short", http.StatusBadRequest, PasswordChangePage{Action: "/password", Identifier: "admin", MinLength: 12, ErrorKey: "password.too_short"}},
	{"other_browser", http.StatusBadRequest, MessagePage{TitleKey: "error.title", MessageKey: "error.other_browser"}},
	{"forgot", http.StatusOK, ForgotPage{Action: "/login/forgot", RequestID: "req-123", BackURL: "/login?request=req-123", Identifier: "marie.dupont", Minutes: 30}},
	{"forgot_error", http.StatusBadRequest, ForgotPage{Action: "/login/forgot", ErrorKey: "forgot.identifier_required", Minutes: 30}},
	{"forgot_sent", http.StatusOK, ForgotPage{Action: "/login/forgot", RequestID: "req-123", BackURL: "/login?request=req-123", Identifier: "marie.dupont", Sent: true, Minutes: 30}},
	{"forgot_unavailable", http.StatusOK, ForgotPage{Action: "/login/forgot", Unavailable: true}},
	{"reset", http.StatusOK, ResetPage{Action: "/login/reset", Token: "tok-123", RequestID: "req-123", Identifier: "marie.dupont", MinLength: 12}},
	{"reset_mismatch", http.StatusBadRequest, ResetPage{Action: "/login/reset", Token: "tok-123", Identifier: "marie.dupont", MinLength: 12, ErrorKey: "password.mismatch"}},
	{"reset_short", http.StatusBadRequest, ResetPage{Action: "/login/reset", Token: "tok-123", Identifier: "marie.dupont", MinLength: 12, ErrorKey: "password.too_short"}},
	{"reset_invalid", http.StatusBadRequest, ResetPage{Invalid: true, ForgotURL: "/login/forgot"}},
	{"reset_done", http.StatusOK, ResetDonePage{SignInURL: "/login?request=req-123"}},
}

var htmlLang = regexp.MustCompile(`<html lang="([a-z]+)">`)

func TestGolden(t *testing.T) {
	r := newTestRenderer(t, nil)
	for _, tc := range goldenPages {
		for _, lang := range languages() {
			t.Run(tc.name+"_"+lang, func(t *testing.T) {
				rec := render(t, r, "/authorize/page?request=req-123&lang="+lang, tc.status, tc.page)
				if rec.Code != tc.status {
					t.Errorf("status = %d, want %d", rec.Code, tc.status)
				}
				for k, want := range map[string]string{
					"Content-Type":  "text/html; charset=utf-8",
					"Cache-Control": "no-store",
				} {
					if got := rec.Header().Get(k); got != want {
						t.Errorf("%s = %q, want %q", k, got, want)
					}
				}
				body := rec.Body.String()
				if m := htmlLang.FindStringSubmatch(body); m == nil || m[1] != lang {
					t.Errorf("html lang = %v, want %q", m, lang)
				}
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

var (
	idAttr       = regexp.MustCompile(`\sid="([^"]*)"`)
	forAttr      = regexp.MustCompile(`\sfor="([^"]*)"`)
	describedBy  = regexp.MustCompile(`\saria-describedby="([^"]*)"`)
	inlineMarkup = regexp.MustCompile(`(?i)<script|\sstyle=|<style|\son[a-z]+=`)
	// externalScript is the one script tag allowed: a same-origin file
	// (the form_post page), no inline code.
	externalScript = regexp.MustCompile(`<script src="/static/[a-z_]+\.js\?v=[0-9a-f]{16}" defer></script>`)
	inputTag       = regexp.MustCompile(`<input [^>]*>`)
)

// checkMarkup checks accessibility invariants that do not need a DOM:
// unique ids, labels and descriptions pointing at existing ids, one h1,
// a skip link to main#contenu, no inline script or style.
func checkMarkup(t *testing.T, body string) {
	t.Helper()
	ids := map[string]bool{}
	for _, m := range idAttr.FindAllStringSubmatch(body, -1) {
		if ids[m[1]] {
			t.Errorf("duplicate id %q", m[1])
		}
		ids[m[1]] = true
	}
	for _, m := range forAttr.FindAllStringSubmatch(body, -1) {
		if !ids[m[1]] {
			t.Errorf("label for=%q has no target", m[1])
		}
	}
	for _, m := range describedBy.FindAllStringSubmatch(body, -1) {
		for _, id := range strings.Fields(m[1]) {
			if !ids[id] {
				t.Errorf("aria-describedby %q has no target", id)
			}
		}
	}
	if n := strings.Count(body, "<h1"); n != 1 {
		t.Errorf("%d h1, want 1", n)
	}
	if !strings.Contains(body, `<main id="contenu"`) || !strings.Contains(body, `href="#contenu"`) {
		t.Error("missing skip link or main#contenu")
	}
	if m := inlineMarkup.FindString(externalScript.ReplaceAllString(body, "")); m != "" {
		t.Errorf("inline script or style: %q", m)
	}
	for _, in := range inputTag.FindAllString(body, -1) {
		// Hidden inputs (type="hidden", or the hidden attribute of the
		// username given to password managers) are not rendered.
		if strings.Contains(in, `type="hidden"`) || strings.Contains(in, " hidden ") {
			continue
		}
		m := idAttr.FindStringSubmatch(in)
		if m == nil || !strings.Contains(body, `for="`+m[1]+`"`) {
			t.Errorf("input without label: %s", in)
		}
	}
}

func TestRenderLangSwitchKeepsQuery(t *testing.T) {
	r := newTestRenderer(t, nil)
	rec := render(t, r, "/login?request=abc%26def&lang=en&x=1", http.StatusOK, LoginPage{})
	body := rec.Body.String()
	want := `<a class="lang-link" href="?lang=fr&amp;request=abc%26def&amp;x=1" hreflang="fr" lang="fr">Français</a>`
	if !strings.Contains(body, want) {
		t.Errorf("language link not found, want %s", want)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != LangCookie || cookies[0].Value != "en" || !cookies[0].HttpOnly {
		t.Errorf("cookies = %v, want tno_lang=en HttpOnly", cookies)
	}

	// No ?lang=: no cookie.
	rec = render(t, r, "/login", http.StatusOK, LoginPage{})
	if c := rec.Result().Cookies(); len(c) != 0 {
		t.Errorf("cookies = %v, want none", c)
	}
	if !strings.Contains(rec.Body.String(), `href="?lang=en" hreflang="en" lang="en">English</a>`) {
		t.Error("French page must link to English")
	}
}

func TestRenderDefaults(t *testing.T) {
	r, err := New(Options{ProductName: "Sésame"})
	if err != nil {
		t.Fatal(err)
	}
	body := render(t, r, "/", http.StatusOK, LoginPage{}).Body.String()
	for _, want := range []string{"<title>Connexion — Sésame</title>", "<h1>Connexion à Sésame</h1>"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q", want)
		}
	}
	rec := render(t, r, "/", 0, MessagePage{})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), template.HTMLEscapeString(T(LangFR, "error.generic"))) {
		t.Errorf("empty MessagePage: status %d, want 200 and the generic message", rec.Code)
	}
}

func TestRenderFailure(t *testing.T) {
	var nilLogin *LoginPage
	for name, tc := range map[string]struct {
		status int
		page   any
	}{
		"unknown type":   {http.StatusOK, struct{ AppName string }{"x"}},
		"nil":            {http.StatusOK, nil},
		"nil pointer":    {http.StatusOK, nilLogin},
		"string":         {http.StatusOK, "login"},
		"invalid status": {42, LoginPage{}},
	} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			r := newTestRenderer(t, &logs)
			rec := render(t, r, "/", tc.status, tc.page)
			if rec.Code != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type = %q, want text/plain", ct)
			}
			if strings.Contains(rec.Body.String(), "<") {
				t.Errorf("body = %q, want plain text", rec.Body.String())
			}
			if !strings.Contains(logs.String(), `"level":"ERROR"`) {
				t.Errorf("failure not logged: %s", logs.String())
			}
		})
	}
}

func TestErrorHidesCause(t *testing.T) {
	var logs bytes.Buffer
	r := newTestRenderer(t, &logs)
	cause := errors.New("pq: password authentication failed for user tno_secret_user")
	rec := httptest.NewRecorder()
	r.Error(rec, httptest.NewRequest(http.MethodGet, "/authorize?lang=en", nil),
		http.StatusInternalServerError, "error.title", "error.generic", cause)

	body := rec.Body.String()
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	if strings.Contains(body, "tno_secret_user") || strings.Contains(body, "pq:") {
		t.Error("page shows the cause")
	}
	if !strings.Contains(body, template.HTMLEscapeString(T(LangEN, "error.generic"))) {
		t.Error("page lacks the message")
	}

	var entry struct {
		Level   string `json:"level"`
		Err     string `json:"err"`
		ErrorID string `json:"error_id"`
		Status  int    `json:"status"`
	}
	if err := json.Unmarshal(logs.Bytes(), &entry); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if entry.Err != cause.Error() || entry.Level != "ERROR" || entry.Status != 500 {
		t.Errorf("log entry = %+v", entry)
	}
	if entry.ErrorID == "" || !strings.Contains(body, "<code>"+entry.ErrorID+"</code>") {
		t.Errorf("page does not show the logged error_id %q", entry.ErrorID)
	}

	// Without cause: nothing logged, still an ID.
	logs.Reset()
	rec = httptest.NewRecorder()
	r.Error(rec, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusNotFound, "error.title", "error.not_found", nil)
	if logs.Len() != 0 {
		t.Errorf("logged without cause: %s", logs.String())
	}
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), template.HTMLEscapeString(T(LangFR, "error.id_label"))) {
		t.Errorf("status %d, want 404 with an error reference", rec.Code)
	}
}

func TestNewErrorID(t *testing.T) {
	valid := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewErrorID()
		if !valid.MatchString(id) {
			t.Fatalf("NewErrorID() = %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate %q", id)
		}
		seen[id] = true
	}
}

func TestEscaping(t *testing.T) {
	r := newTestRenderer(t, nil)
	const evil = `<script>alert("x")</script>`
	for name, page := range map[string]any{
		"login": LoginPage{AppName: evil, Identifier: `"><script>x</script>`, RequestID: `"><b>`, Action: "javascript:alert(1)"},
		"chooser": ChooserPage{AppName: evil, Action: "/choose", Options: []ChooserOption{
			{ID: `"><b>`, OrgName: evil, Kind: evil, Service: evil, Title: evil, Mandate: evil},
		}},
		"message": MessagePage{Detail: evil, ErrorID: evil},
	} {
		t.Run(name, func(t *testing.T) {
			body := render(t, r, "/?request=%22%3E%3Cscript%3E", http.StatusOK, page).Body.String()
			if strings.Contains(body, "<script") || strings.Contains(body, `"><b>`) {
				t.Errorf("unescaped input in:\n%s", body)
			}
			if name == "login" {
				if !strings.Contains(body, "&lt;script&gt;") {
					t.Error("AppName not shown escaped")
				}
				if strings.Contains(body, "javascript:") {
					t.Error("javascript: action not neutralized")
				}
			}
		})
	}
}

func TestBasePath(t *testing.T) {
	r, err := New(Options{BasePath: "/tno/"})
	if err != nil {
		t.Fatal(err)
	}
	body := render(t, r, "/tno/login", http.StatusOK, LoginPage{}).Body.String()
	if !strings.Contains(body, `<link rel="stylesheet" href="/tno/static/tno.css?v=`) {
		t.Error("stylesheet URL lacks the base path")
	}
}

// TestLanguageLinkAfterAForm: a page answering a form (its URL shows
// nothing again) links to the GET page of the same sign-in step in the
// other language, or has no language link at all.
func TestLanguageLinkAfterAForm(t *testing.T) {
	r := newTestRenderer(t, nil)
	for _, tc := range []struct {
		page any
		want string
	}{
		{LoginPage{Action: "/login", RequestID: "req-1", PasswordStep: true, Identifier: "marie"}, `href="/login?lang=en&amp;request=req-1"`},
		{FactorPage{Action: "/login/factor", RequestID: "req-2", Method: "totp"}, `href="/login?lang=en&amp;request=req-2"`},
		{ChooserPage{Action: "/select", RequestID: "req-3", Options: testOptions}, `href="/select?lang=en&amp;request=req-3"`},
		{RecoveryCodesPage{Codes: []string{"C3A9C-JEUDQ"}, ContinueURL: "/account/security"}, ""},
	} {
		rec := httptest.NewRecorder()
		r.Render(rec, httptest.NewRequest(http.MethodPost, "/login", nil), http.StatusOK, tc.page)
		body := rec.Body.String()
		if tc.want == "" {
			if strings.Contains(body, `class="lang-link"`) {
				t.Errorf("%T: a language link after a form with no step to show again", tc.page)
			}
			continue
		}
		if !strings.Contains(body, tc.want) {
			t.Errorf("%T: no %s in\n%s", tc.page, tc.want, body)
		}
	}
}
