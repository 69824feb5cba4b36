package apps

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// validApp returns an application that passes Validate.
func validApp() storage.Application {
	return storage.Application{
		OrgID:                  "org-owner",
		ClientID:               "portail-rh",
		Name:                   "Portail RH",
		ClientType:             storage.ClientConfidential,
		RedirectURIs:           []string{"https://rh.ville-exemple.fr/callback"},
		PostLogoutRedirectURIs: []string{"https://rh.ville-exemple.fr/"},
		Scopes:                 []string{"openid", "profile", "siret"},
		AllowedKinds:           []string{storage.KindAgent},
	}
}

// fieldErrors returns the FieldErrors joined in err, in order.
func fieldErrors(t *testing.T, err error) []FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var out []FieldError
	for _, e := range errs {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %v (%T) is not a *FieldError", e, e)
		}
		out = append(out, *fe)
	}
	return out
}

func fields(fes []FieldError) []string {
	var out []string
	for _, fe := range fes {
		out = append(out, fe.Field)
	}
	return out
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(a *storage.Application)
		fields []string // fields reported, in order; nil: valid
	}{
		{"valid confidential", func(a *storage.Application) {}, nil},
		{"valid public", func(a *storage.Application) { a.ClientType = storage.ClientPublic }, nil},
		{"every kind, no scope list", func(a *storage.Application) {
			a.AllowedKinds = []string{storage.KindAgent, storage.KindElu}
			a.Scopes = nil
			a.PostLogoutRedirectURIs = nil
		}, nil},
		{"client_id of 128 characters", func(a *storage.Application) { a.ClientID = "a" + strings.Repeat("b", 127) }, nil},
		{"client_id with every allowed punctuation", func(a *storage.Application) { a.ClientID = "a.b_c~d-e" }, nil},
		{"empty client_id", func(a *storage.Application) { a.ClientID = "" }, []string{"client_id"}},
		{"client_id of 129 characters", func(a *storage.Application) { a.ClientID = strings.Repeat("a", 129) }, []string{"client_id"}},
		{"client_id starting with punctuation", func(a *storage.Application) { a.ClientID = "-rh" }, []string{"client_id"}},
		{"client_id with a space", func(a *storage.Application) { a.ClientID = "portail rh" }, []string{"client_id"}},
		{"client_id with a colon", func(a *storage.Application) { a.ClientID = "portail:rh" }, []string{"client_id"}},
		{"client_id with a newline", func(a *storage.Application) { a.ClientID = "rh\n" }, []string{"client_id"}},
		{"client_id non-ASCII", func(a *storage.Application) { a.ClientID = "données" }, []string{"client_id"}},
		{"empty name", func(a *storage.Application) { a.Name = "" }, []string{"name"}},
		{"blank name", func(a *storage.Application) { a.Name = " \t " }, []string{"name"}},
		{"no organization", func(a *storage.Application) { a.OrgID = "" }, []string{"organization"}},
		{"no type", func(a *storage.Application) { a.ClientType = "" }, []string{"type"}},
		{"unknown type", func(a *storage.Application) { a.ClientType = "Confidential" }, []string{"type"}},
		{"no redirect URI", func(a *storage.Application) { a.RedirectURIs = nil }, []string{"redirect_uris"}},
		{"bad redirect URI", func(a *storage.Application) { a.RedirectURIs = []string{"http://rh.ville-exemple.fr/cb"} }, []string{"redirect_uris"}},
		{"two bad redirect URIs, one good", func(a *storage.Application) {
			a.RedirectURIs = []string{"/cb", "https://ok.fr/cb", "https://a.fr/cb#x"}
		}, []string{"redirect_uris", "redirect_uris"}},
		{"bad post-logout redirect URI", func(a *storage.Application) { a.PostLogoutRedirectURIs = []string{"javascript:alert(1)"} }, []string{"post_logout_redirect_uris"}},
		{"unknown scope", func(a *storage.Application) { a.Scopes = []string{"openid", "admin"} }, []string{"scopes"}},
		{"scope with wrong case", func(a *storage.Application) { a.Scopes = []string{"Profile"} }, []string{"scopes"}},
		{"unknown kind", func(a *storage.Application) { a.AllowedKinds = []string{"agent", "stagiaire"} }, []string{"kinds"}},
		{"everything wrong, reported together", func(a *storage.Application) {
			*a = storage.Application{
				ClientID: "", Name: "", OrgID: "", ClientType: "x",
				PostLogoutRedirectURIs: []string{"ftp://a.fr/"},
				Scopes:                 []string{"nope"}, AllowedKinds: []string{"nope"},
			}
		}, []string{"client_id", "name", "organization", "type", "redirect_uris", "post_logout_redirect_uris", "scopes", "kinds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := validApp()
			tt.edit(&a)
			err := Validate(a)
			fes := fieldErrors(t, err)
			if diff := cmp.Diff(tt.fields, fields(fes)); diff != "" {
				t.Errorf("Validate fields (-want +got):\n%s\nerror: %v", diff, err)
			}
			for _, fe := range fes {
				if fe.Msg == "" {
					t.Errorf("field %s: empty message", fe.Field)
				}
				if got, want := fe.Error(), fe.Field+": "+fe.Msg; got != want {
					t.Errorf("Error() = %q, want %q", got, want)
				}
			}
		})
	}
}

func TestValidateRedirectURI(t *testing.T) {
	tests := []struct {
		name string
		uri  string
		ok   bool
	}{
		{"https", "https://rh.ville-exemple.fr/callback", true},
		{"https with port and query", "https://rh.ville-exemple.fr:8443/cb?tenant=42", true},
		{"https root", "https://rh.ville-exemple.fr", true},
		{"https IP", "https://192.0.2.10/cb", true},
		{"upper-case scheme", "HTTPS://rh.ville-exemple.fr/cb", true},
		{"http localhost", "http://localhost/cb", true},
		{"http localhost with port", "http://localhost:3000/cb", true},
		{"http 127.0.0.1 with port", "http://127.0.0.1:49152/callback", true},
		{"http other 127/8 loopback", "http://127.0.0.2:8080/cb", true},
		{"http IPv6 loopback", "http://[::1]:8080/cb", true},
		{"http remote host", "http://example.fr/cb", false},
		{"http private IP", "http://192.168.1.10/cb", false},
		{"http localhost as a subdomain", "http://localhost.example.fr/cb", false},
		{"http host ending in localhost", "http://evil-localhost/cb", false},
		{"http upper-case LOCALHOST", "http://LOCALHOST/cb", false},
		{"http unspecified address", "http://0.0.0.0:8080/cb", false},
		{"fragment", "https://rh.ville-exemple.fr/cb#frag", false},
		{"empty fragment", "https://rh.ville-exemple.fr/cb#", false},
		{"relative path", "/callback", false},
		{"relative, no slash", "callback", false},
		{"scheme-relative", "//rh.ville-exemple.fr/cb", false},
		{"empty", "", false},
		{"userinfo", "https://user:pass@rh.ville-exemple.fr/cb", false},
		{"user only", "https://user@rh.ville-exemple.fr/cb", false},
		{"empty userinfo", "https://@rh.ville-exemple.fr/cb", false},
		{"custom scheme (native app)", "fr.ville-exemple.app:/oauth2redirect", false},
		{"custom scheme with host", "fr.ville-exemple.app://callback", false},
		{"javascript", "javascript:alert(1)", false},
		{"data", "data:text/html,hi", false},
		{"ftp", "ftp://files.example.fr/", false},
		{"https without host", "https:///cb", false},
		{"opaque https", "https:rh.ville-exemple.fr", false},
		{"control character", "https://rh.ville-exemple.fr/\ncb", false},
		{"bad port", "https://rh.ville-exemple.fr:port/cb", false},
		{"bad percent-encoding in host", "https://%zz/cb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateRedirectURI(tt.uri)
			if (err == nil) != tt.ok {
				t.Errorf("ValidateRedirectURI(%q) = %v, want ok=%v", tt.uri, err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "redirect URI") {
				t.Errorf("error %q does not say what is wrong", err)
			}
		})
	}
}

func TestRedirectURIAllowed(t *testing.T) {
	a := storage.Application{
		RedirectURIs: []string{
			"https://rh.ville-exemple.fr/callback",
			"https://rh.ville-exemple.fr/cb?tenant=42",
			"http://127.0.0.1:8080/cb",
			"https://rh.ville-exemple.fr/caf%C3%A9",
		},
		PostLogoutRedirectURIs: []string{"https://rh.ville-exemple.fr/bye"},
	}
	tests := []struct {
		name string
		uri  string
		want bool
	}{
		{"exact", "https://rh.ville-exemple.fr/callback", true},
		{"exact with query", "https://rh.ville-exemple.fr/cb?tenant=42", true},
		{"exact loopback", "http://127.0.0.1:8080/cb", true},
		{"exact percent-encoded", "https://rh.ville-exemple.fr/caf%C3%A9", true},
		{"empty", "", false},
		{"trailing slash", "https://rh.ville-exemple.fr/callback/", false},
		{"upper-case host", "https://RH.ville-exemple.fr/callback", false},
		{"upper-case scheme", "HTTPS://rh.ville-exemple.fr/callback", false},
		{"upper-case path", "https://rh.ville-exemple.fr/Callback", false},
		{"extra query", "https://rh.ville-exemple.fr/callback?x=1", false},
		{"empty query", "https://rh.ville-exemple.fr/callback?", false},
		{"different query", "https://rh.ville-exemple.fr/cb?tenant=43", false},
		{"extra query parameter", "https://rh.ville-exemple.fr/cb?tenant=42&x=1", false},
		{"fragment", "https://rh.ville-exemple.fr/callback#x", false},
		{"prefix", "https://rh.ville-exemple.fr/call", false},
		{"registered as prefix", "https://rh.ville-exemple.fr/callback/../../evil", false},
		{"longer path", "https://rh.ville-exemple.fr/callback/more", false},
		{"suffix host", "https://rh.ville-exemple.fr.evil.com/callback", false},
		{"explicit default port", "https://rh.ville-exemple.fr:443/callback", false},
		{"other loopback port", "http://127.0.0.1:8081/cb", false},
		{"localhost for 127.0.0.1", "http://localhost:8080/cb", false},
		{"percent-encoded unreserved", "https://rh.ville-exemple.fr/%63allback", false},
		{"lower-case percent-encoding", "https://rh.ville-exemple.fr/caf%c3%a9", false},
		{"decoded percent-encoding", "https://rh.ville-exemple.fr/café", false},
		{"encoded slash", "https://rh.ville-exemple.fr%2Fcallback", false},
		{"trailing space", "https://rh.ville-exemple.fr/callback ", false},
		{"userinfo added", "https://x@rh.ville-exemple.fr/callback", false},
		{"post-logout URI is not a redirect URI", "https://rh.ville-exemple.fr/bye", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedirectURIAllowed(a, tt.uri); got != tt.want {
				t.Errorf("RedirectURIAllowed(%q) = %v, want %v", tt.uri, got, tt.want)
			}
		})
	}
}

func TestPostLogoutRedirectURIAllowed(t *testing.T) {
	a := storage.Application{
		RedirectURIs:           []string{"https://rh.ville-exemple.fr/callback"},
		PostLogoutRedirectURIs: []string{"https://rh.ville-exemple.fr/bye"},
	}
	tests := []struct {
		name string
		uri  string
		want bool
	}{
		{"exact", "https://rh.ville-exemple.fr/bye", true},
		{"trailing slash", "https://rh.ville-exemple.fr/bye/", false},
		{"redirect URI is not a post-logout URI", "https://rh.ville-exemple.fr/callback", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PostLogoutRedirectURIAllowed(a, tt.uri); got != tt.want {
				t.Errorf("PostLogoutRedirectURIAllowed(%q) = %v, want %v", tt.uri, got, tt.want)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	got := Scopes()
	if len(got) == 0 || got[0] != "openid" {
		t.Fatalf("Scopes() = %v, want openid first", got)
	}
	for _, s := range got {
		if !KnownScope(s) {
			t.Errorf("KnownScope(%q) = false for a listed scope", s)
		}
	}
	got[0] = "mutated"
	if Scopes()[0] != "openid" {
		t.Error("Scopes() returns the package's slice, not a copy")
	}
}

func TestScopeAllowed(t *testing.T) {
	limited := storage.Application{Scopes: []string{"profile", "siret"}}
	all := storage.Application{}
	tests := []struct {
		name  string
		app   storage.Application
		scope string
		want  bool
	}{
		{"openid always, limited app", limited, "openid", true},
		{"openid always, unrestricted app", all, "openid", true},
		{"listed scope", limited, "profile", true},
		{"listed ProConnect scope", limited, "siret", true},
		{"known but not listed", limited, "email", false},
		{"offline_access not listed", limited, "offline_access", false},
		{"unrestricted app, known scope", all, "mandates", true},
		{"unrestricted app, unknown scope", all, "admin", false},
		{"unknown scope even if listed", storage.Application{Scopes: []string{"admin"}}, "admin", false},
		{"empty scope", all, "", false},
		{"case matters", all, "OpenID", false},
		{"surrounding space", all, " openid", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ScopeAllowed(tt.app, tt.scope); got != tt.want {
				t.Errorf("ScopeAllowed(%v, %q) = %v, want %v", tt.app.Scopes, tt.scope, got, tt.want)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	secret, hash := NewSecret()
	raw, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(raw) != 32 {
		t.Errorf("secret %q: want 32 bytes of unpadded base64url, got %d bytes, err %v", secret, len(raw), err)
	}
	sum := sha256.Sum256([]byte(secret))
	if want := "sha256:" + hex.EncodeToString(sum[:]); hash != want {
		t.Errorf("hash = %q, want %q", hash, want)
	}
	if hash != HashSecret(secret) {
		t.Errorf("hash differs from HashSecret(secret)")
	}
	if strings.Contains(hash, secret) {
		t.Errorf("hash contains the secret")
	}
	other, _ := NewSecret()
	if other == secret {
		t.Errorf("two calls returned the same secret")
	}
}

func TestHashSecret(t *testing.T) {
	tests := []struct {
		name, secret, want string
	}{
		// echo -n "" | sha256sum; echo -n abc | sha256sum
		{"empty", "", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HashSecret(tt.secret); got != tt.want {
				t.Errorf("HashSecret(%q) = %q, want %q", tt.secret, got, tt.want)
			}
		})
	}
}

func TestVerifySecret(t *testing.T) {
	secret, hash := NewSecret()
	app := storage.Application{ClientType: storage.ClientConfidential, SecretHash: hash}
	tests := []struct {
		name   string
		app    storage.Application
		secret string
		want   bool
	}{
		{"right secret", app, secret, true},
		{"wrong secret", app, secret + "x", false},
		{"truncated secret", app, secret[:len(secret)-1], false},
		{"empty secret", app, "", false},
		{"the hash as secret", app, hash, false},
		{"app without hash", storage.Application{ClientType: storage.ClientPublic}, secret, false},
		{"app without hash, empty secret", storage.Application{}, "", false},
		{"app hash of the empty secret, empty secret", storage.Application{SecretHash: HashSecret("")}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifySecret(tt.app, tt.secret); got != tt.want {
				t.Errorf("VerifySecret = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEligible(t *testing.T) {
	now := time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
	past, future := now.Add(-24*time.Hour), now.Add(24*time.Hour)
	m := func(id, org, kind string, from time.Time, until *time.Time) storage.Membership {
		return storage.Membership{ID: id, PersonID: "p1", OrgID: org, Kind: kind, ValidFrom: from, ValidUntil: until}
	}
	var (
		ownerAgent    = m("owner-agent", "owner", storage.KindAgent, past, nil)
		ownerElu      = m("owner-elu", "owner", storage.KindElu, past, &future)
		grantedAgent  = m("granted-agent", "granted", storage.KindAgent, past, nil)
		otherAgent    = m("other-agent", "other", storage.KindAgent, past, nil)
		expired       = m("expired", "owner", storage.KindAgent, past.Add(-time.Hour), &past)
		endsNow       = m("ends-now", "owner", storage.KindAgent, past, &now)
		notYetValid   = m("not-yet", "owner", storage.KindAgent, future, nil)
		startsNow     = m("starts-now", "granted", storage.KindElu, now, nil)
		grantedElu    = m("granted-elu", "granted", storage.KindElu, past, nil)
		allMembership = []storage.Membership{ownerAgent, ownerElu, grantedAgent, otherAgent, expired, endsNow, notYetValid, startsNow, grantedElu}
	)
	ids := func(ms []storage.Membership) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	tests := []struct {
		name string
		app  storage.Application
		ms   []storage.Membership
		want []string
	}{
		{"owner only, every kind", storage.Application{OrgID: "owner"}, allMembership,
			[]string{"owner-agent", "owner-elu"}},
		{"owner and granted", storage.Application{OrgID: "owner", GrantedOrgIDs: []string{"granted"}}, allMembership,
			[]string{"owner-agent", "owner-elu", "granted-agent", "starts-now", "granted-elu"}},
		{"agents only", storage.Application{OrgID: "owner", GrantedOrgIDs: []string{"granted"}, AllowedKinds: []string{storage.KindAgent}}, allMembership,
			[]string{"owner-agent", "granted-agent"}},
		{"élus only", storage.Application{OrgID: "owner", GrantedOrgIDs: []string{"granted"}, AllowedKinds: []string{storage.KindElu}}, allMembership,
			[]string{"owner-elu", "starts-now", "granted-elu"}},
		{"other organization only", storage.Application{OrgID: "owner"}, []storage.Membership{otherAgent}, nil},
		{"expired membership", storage.Application{OrgID: "owner"}, []storage.Membership{expired}, nil},
		{"membership ending now", storage.Application{OrgID: "owner"}, []storage.Membership{endsNow}, nil},
		{"not-yet-valid membership", storage.Application{OrgID: "owner"}, []storage.Membership{notYetValid}, nil},
		{"no memberships", storage.Application{OrgID: "owner"}, nil, nil},
		{"granted to another organization only", storage.Application{OrgID: "owner", GrantedOrgIDs: []string{"granted"}}, []storage.Membership{otherAgent}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(Eligible(tt.app, tt.ms, now))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Eligible (-want +got):\n%s", diff)
			}
		})
	}
}
