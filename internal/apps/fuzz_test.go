package apps

import (
	"net/url"
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// FuzzValidateRedirectURI checks that ValidateRedirectURI never panics and
// accepts only absolute https URIs, or http ones on a loopback host,
// without fragment or credentials.
func FuzzValidateRedirectURI(f *testing.F) {
	for _, s := range []string{
		"https://rh.ville-exemple.fr/callback",
		"http://127.0.0.1:8080/cb",
		"http://[::1]/cb",
		"http://localhost/cb",
		"http://example.fr/cb",
		"https://a.fr/cb#frag",
		"https://u:p@a.fr/",
		"/relative",
		"fr.exemple.app:/cb",
		"HTTPS://A.FR/",
		"https:///x",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if ValidateRedirectURI(raw) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", raw, err)
		}
		switch {
		case !u.IsAbs() || u.Host == "":
			t.Fatalf("accepted %q, which is not absolute", raw)
		case u.Scheme != "https" && u.Scheme != "http":
			t.Fatalf("accepted %q, scheme %q", raw, u.Scheme)
		case u.Scheme == "http" && !isLoopback(u.Hostname()):
			t.Fatalf("accepted %q: http on non-loopback host %q", raw, u.Hostname())
		case strings.Contains(raw, "#") || u.Fragment != "":
			t.Fatalf("accepted %q, which has a fragment", raw)
		case u.User != nil:
			t.Fatalf("accepted %q, which carries credentials", raw)
		}
		// A registered URI must stay exactly matchable.
		if !RedirectURIAllowed(storage.Application{RedirectURIs: []string{raw}}, raw) {
			t.Fatalf("%q does not match itself", raw)
		}
	})
}

// FuzzRedirectURIAllowed checks that matching is exact string equality:
// no normalization, prefix or wildcard.
func FuzzRedirectURIAllowed(f *testing.F) {
	for _, s := range [][2]string{
		{"https://rh.ville-exemple.fr/callback", "https://rh.ville-exemple.fr/callback"},
		{"https://rh.ville-exemple.fr/callback", "https://rh.ville-exemple.fr/callback/"},
		{"https://rh.ville-exemple.fr/callback", "https://RH.ville-exemple.fr/callback"},
		{"https://rh.ville-exemple.fr/cb?x=1", "https://rh.ville-exemple.fr/cb?x=1&y=2"},
		{"https://rh.ville-exemple.fr/cb", "https://rh.ville-exemple.fr/c%62"},
		{"https://rh.ville-exemple.fr/", "https://rh.ville-exemple.fr/evil"},
		{"http://127.0.0.1:8080/cb", "http://localhost:8080/cb"},
		{"", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, registered, presented string) {
		a := storage.Application{
			RedirectURIs:           []string{registered, "https://fixed.example.fr/cb"},
			PostLogoutRedirectURIs: []string{registered},
		}
		want := presented == registered || presented == "https://fixed.example.fr/cb"
		if got := RedirectURIAllowed(a, presented); got != want {
			t.Fatalf("RedirectURIAllowed(registered %q, %q) = %v, want %v", registered, presented, got, want)
		}
		if got, want := PostLogoutRedirectURIAllowed(a, presented), presented == registered; got != want {
			t.Fatalf("PostLogoutRedirectURIAllowed(registered %q, %q) = %v, want %v", registered, presented, got, want)
		}
	})
}
