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

// FuzzParseJWKS checks that ParseJWKS never panics, accepts only sets of
// valid public keys, and that NormalizeJWKS is stable.
func FuzzParseJWKS(f *testing.F) {
	for _, s := range []string{
		`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"1"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}]}`,
		`{"keys":[{"kty":"oct","k":"AAAA"}]}`,
		`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		`{"keys":[]}`,
		`{"kty":"RSA"}`,
		`{}`,
		`[]`,
		``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		set, err := ParseJWKS(raw)
		if err != nil {
			return
		}
		if len(set.Keys) == 0 {
			t.Fatalf("accepted %q without keys", raw)
		}
		for _, k := range set.Keys {
			if !k.IsPublic() || !k.Valid() {
				t.Fatalf("accepted %q with a key that is not a valid public key", raw)
			}
		}
		n, err := NormalizeJWKS(raw)
		if err != nil {
			t.Fatalf("NormalizeJWKS(%q) failed after ParseJWKS accepted it: %v", raw, err)
		}
		if n2, err := NormalizeJWKS(n); err != nil || n2 != n {
			t.Fatalf("NormalizeJWKS is not stable: %q -> %q -> %q, %v", raw, n, n2, err)
		}
	})
}
