package web

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func readMessages(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := messageFS.ReadFile("messages/" + lang + ".json")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	return m
}

var verb = regexp.MustCompile(`%(\[\d+\])?[a-z]`)

// TestMessagesComplete checks that every key exists, non-empty, in both
// languages, with the same formatting verbs.
func TestMessagesComplete(t *testing.T) {
	fr, en := readMessages(t, LangFR), readMessages(t, LangEN)
	check := func(from, to string, a, b map[string]string) {
		for key, msg := range a {
			other, ok := b[key]
			if !ok {
				t.Errorf("%s: key %q missing in %s", from, key, to)
				continue
			}
			if strings.TrimSpace(msg) == "" {
				t.Errorf("%s: key %q is empty", from, key)
			}
			if v, w := verb.FindAllString(msg, -1), verb.FindAllString(other, -1); strings.Join(v, " ") != strings.Join(w, " ") {
				t.Errorf("key %q: verbs %v in %s, %v in %s", key, v, from, w, to)
			}
		}
	}
	check(LangFR, LangEN, fr, en)
	check(LangEN, LangFR, en, fr)

	for _, key := range []string{
		"login.title", "login.heading", "login.identifier", "login.password", "login.submit", "login.invalid", "login.identifier_hint",
		"chooser.title", "chooser.heading", "chooser.submit", "chooser.required", "kind.agent", "kind.elu",
		"refused.title", "refused.message",
		"error.title", "error.generic", "error.not_found", "error.bad_request", "error.expired", "error.invalid_client",
		"error.invalid_redirect_uri", "error.id_label", "error.method_not_allowed", "error.forbidden",
		"logout.title", "logout.message",
	} {
		if _, ok := fr[key]; !ok {
			t.Errorf("required key %q missing", key)
		}
	}
}

// TestTemplateKeys checks that every key written literally in a template
// exists in both languages.
func TestTemplateKeys(t *testing.T) {
	fr, en := readMessages(t, LangFR), readMessages(t, LangEN)
	literal := regexp.MustCompile(`\.T "([^"]+)"`)
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v %v", files, err)
	}
	for _, f := range files {
		b, _ := templateFS.ReadFile(f)
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			if _, ok := fr[m[1]]; !ok {
				t.Errorf("%s: key %q missing in fr", f, m[1])
			}
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s: key %q missing in en", f, m[1])
			}
		}
	}
}

func TestT(t *testing.T) {
	c := catalog{
		LangFR: {"a": "Bonjour %s", "b": "Seulement en français", "p": "100 %"},
		LangEN: {"a": "Hello %s"},
	}
	for _, tc := range []struct {
		name, lang, key string
		args            []any
		want            string
	}{
		{"fr", LangFR, "a", []any{"Marie"}, "Bonjour Marie"},
		{"en", LangEN, "a", []any{"Marie"}, "Hello Marie"},
		{"en falls back to fr", LangEN, "b", nil, "Seulement en français"},
		{"unknown language falls back to fr", "de", "a", []any{"Marie"}, "Bonjour Marie"},
		{"missing everywhere", LangEN, "nope", nil, "nope"},
		{"no args: no formatting", LangFR, "p", nil, "100 %"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.translate(tc.lang, tc.key, tc.args...); got != tc.want {
				t.Errorf("translate(%q, %q) = %q, want %q", tc.lang, tc.key, got, tc.want)
			}
		})
	}
	if got := T(LangFR, "login.heading", "Portail RH"); got != "Connexion à Portail RH" {
		t.Errorf("T login.heading = %q", got)
	}
	if got := T(LangEN, "no.such.key"); got != "no.such.key" {
		t.Errorf("T missing = %q", got)
	}
}

func TestLang(t *testing.T) {
	for _, tc := range []struct {
		name, query, cookie, accept string
		want                        string
	}{
		{"default", "", "", "", "fr"},
		{"query en", "lang=en", "", "", "en"},
		{"query fr beats cookie and header", "lang=fr", "en", "en", "fr"},
		{"query region", "lang=en-GB", "", "", "en"},
		{"query case", "lang=EN", "", "", "en"},
		{"query invalid falls to cookie", "lang=de", "en", "", "en"},
		{"query empty falls to header", "lang=", "", "en-US", "en"},
		{"cookie beats header", "", "fr", "en", "fr"},
		{"cookie en", "", "en", "", "en"},
		{"cookie invalid falls to header", "", "xx", "en", "en"},
		{"header en", "", "", "en-US,en;q=0.9", "en"},
		{"header fr region", "", "", "fr-CA", "fr"},
		{"header first supported", "", "", "de-DE,de;q=0.9,en;q=0.8,fr;q=0.7", "en"},
		{"header highest q wins", "", "", "en;q=0.5, fr;q=0.8", "fr"},
		{"header tie keeps order", "", "", "en;q=0.5, fr;q=0.5", "en"},
		{"header q=0 excluded", "", "", "en;q=0, de", "fr"},
		{"header q=0 fr", "", "", "fr;q=0, en;q=0.1", "en"},
		{"header unsupported only", "", "", "de, es;q=0.5", "fr"},
		{"header wildcard", "", "", "*", "fr"},
		{"header spaces and case", "", "", " EN-us ; Q=0.7 ", "en"},
		{"header malformed q skipped", "", "", "en;q=abc, fr;q=2", "fr"},
		{"header NaN", "", "", "en;q=NaN", "fr"},
		{"header garbage", "", "", ";;,,=,;q=", "fr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/x?"+tc.query, nil)
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: LangCookie, Value: tc.cookie})
			}
			if tc.accept != "" {
				req.Header.Set("Accept-Language", tc.accept)
			}
			if got := Lang(req); got != tc.want {
				t.Errorf("Lang = %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzLang(f *testing.F) {
	for _, s := range []string{"", "fr", "en-US,en;q=0.9", "en;q=0.5, fr;q=0.8", "*;q=1", "en;q=1e400", "en;q=-0, fr;q="} {
		f.Add("lang=en", s)
	}
	f.Fuzz(func(t *testing.T, query, accept string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.RawQuery = query
		req.Header.Set("Accept-Language", accept)
		if got := Lang(req); got != LangFR && got != LangEN {
			t.Fatalf("Lang(%q, %q) = %q", query, accept, got)
		}
	})
}
