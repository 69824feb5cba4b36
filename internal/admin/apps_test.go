package admin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io/fs"
	"net/url"
	"regexp"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

func TestAppFromForm(t *testing.T) {
	orgs := []storage.Organization{{ID: "o-metro", Name: "Métropole"}, {ID: "o-ville", Name: "Ville"}, {ID: "o-syndicat", Name: "Syndicat"}}
	cur := storage.Application{ID: "a1", OrgID: "o-metro", ClientID: "paie", SecretHash: "sha256:x", Version: 3,
		GrantedOrgIDs: []string{"o-syndicat"}, AllowedKinds: []string{storage.KindElu},
		Settings: storage.ClientSettings{SubjectType: apps.SubjectPublic, RequirePAR: true}}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Use: "sig"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	spaced := "{\n  \"keys\": [" + string(jwk) + "]\n}\n"
	canonical, err := apps.NormalizeJWKS(spaced)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"name": {"  Paie  "}, "client_id": {" paie-rh "}, "type": {"confidential"},
		"redirect_uris":             {" https://paie.exemple.fr/cb \r\n\r\nhttps://paie.exemple.fr/cb\r\nhttp://127.0.0.1:8080/cb"},
		"post_logout_redirect_uris": {""},
		"grant_orgs":                {"o-ville"}, "kinds": {"agent"}, "first_party": {"on"}, "scopes": {"openid", "email"},
		"grant_types": {"refresh_token"}, "refresh_tokens": {"on"}, "token_endpoint_auth_method": {"private_key_jwt"},
		"jwks": {spaced}, "subject_type": {""}, "require_acr": {"eidas2"}, "backchannel_logout_uri": {" https://paie.exemple.fr/bc "},
	}
	want := cur
	want.Name, want.ClientID, want.ClientType = "Paie", "paie-rh", storage.ClientConfidential
	want.RedirectURIs = []string{"https://paie.exemple.fr/cb", "http://127.0.0.1:8080/cb"}
	want.GrantedOrgIDs, want.AllowedKinds, want.FirstParty, want.Scopes = []string{"o-ville"}, []string{"agent"}, true, []string{"openid", "email"}
	want.Settings = storage.ClientSettings{GrantTypes: []string{"refresh_token"}, RefreshTokens: true, TokenEndpointAuthMethod: "private_key_jwt",
		JWKS: canonical, SubjectType: apps.SubjectPublic, RequireACR: "eidas2", BackchannelLogoutURI: "https://paie.exemple.fr/bc"}

	t.Run("administrator", func(t *testing.T) {
		got, err := appFromForm(form, cur, orgs, true)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got)\n%s", diff)
		}
	})
	t.Run("application manager keeps the audience", func(t *testing.T) {
		got, err := appFromForm(form, cur, orgs, false)
		if err != nil {
			t.Fatal(err)
		}
		w := want
		w.GrantedOrgIDs, w.AllowedKinds = cur.GrantedOrgIDs, cur.AllowedKinds
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("(-want +got)\n%s", diff)
		}
	})
	for name, grants := range map[string][]string{"unknown organization": {"o-pirate"}, "the owner": {"o-metro"}} {
		t.Run(name, func(t *testing.T) {
			f := url.Values{"grant_orgs": grants}
			if _, err := appFromForm(f, cur, orgs, true); !errors.Is(err, errBadRequest) {
				t.Errorf("err = %v, want errBadRequest", err)
			}
		})
	}
	t.Run("bad keys kept as typed", func(t *testing.T) {
		got, _ := appFromForm(url.Values{"jwks": {`{"kty":"EC"}`}}, cur, orgs, true)
		if got.Settings.JWKS != `{"kty":"EC"}` {
			t.Errorf("jwks = %q", got.Settings.JWKS)
		}
	})
	t.Run("pairwise, then back to the default", func(t *testing.T) {
		got, _ := appFromForm(url.Values{"subject_type": {"pairwise"}}, cur, orgs, true)
		if got.Settings.SubjectType != apps.SubjectPairwise {
			t.Errorf("subject_type = %q", got.Settings.SubjectType)
		}
		got.Settings.SubjectType = apps.SubjectPairwise
		if back, _ := appFromForm(url.Values{}, got, orgs, true); back.Settings.SubjectType != "" {
			t.Errorf("subject_type = %q, want the default", back.Settings.SubjectType)
		}
	})
}

func TestInvalidURIs(t *testing.T) {
	got := invalidURIs([]string{"https://a.example/cb", "http://example.org", "http://localhost:3000/cb", "/relative", "https://b.example/#x"})
	if diff := cmp.Diff([]string{"http://example.org", "/relative", "https://b.example/#x"}, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// TestAppsMessages: both languages have the same keys, the keys the
// application pages build at run time exist (TestMessageKeys checks the
// literal ones), and French puts a no-break space before its high
// punctuation.
func TestAppsMessages(t *testing.T) {
	read := func(name string) map[string]string {
		b, err := fs.ReadFile(messageFS, "messages/"+name)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	fr, en := read("apps.fr.json"), read("apps.en.json")
	for k := range fr {
		if _, ok := en[k]; !ok {
			t.Errorf("%s: no English", k)
		}
		if regexp.MustCompile(` [:;!?»]|« `).MatchString(fr[k]) {
			t.Errorf("%s: a plain space before high punctuation: %q", k, fr[k])
		}
	}
	for k := range en {
		if _, ok := fr[k]; !ok {
			t.Errorf("%s: no French", k)
		}
	}
	all := map[string]bool{}
	for _, lang := range []string{"fr.json", "en.json"} {
		for k := range read(lang) {
			all[k] = true
		}
	}
	for k := range fr {
		all[k] = true
	}
	// Keys completed at run time.
	for _, typ := range []string{storage.ClientConfidential, storage.ClientPublic} {
		need(t, all, "admin.apps.type."+typ)
	}
	for _, ev := range []string{"created", "updated", "rotated"} {
		need(t, all, "admin.apps.secret."+ev)
	}
	for _, g := range apps.GrantTypes() {
		need(t, all, "admin.apps.grant."+g)
	}
	for _, m := range apps.AuthMethods() {
		need(t, all, "admin.apps.auth."+m)
	}
	for _, l := range apps.RequirableACRs() {
		need(t, all, "admin.apps.acr."+l)
	}
	for _, f := range []string{"client_id", "name", "type", "redirect_uris", "post_logout_redirect_uris", "scopes", "kinds", "grant_types",
		"refresh_tokens", "client_credentials_scopes", "token_endpoint_auth_method", "jwks", "jwks_uri", "subject_type", "require_acr",
		"userinfo_signed_response_alg", "frontchannel_logout_uri", "frontchannel_logout_session_required", "backchannel_logout_uri",
		"backchannel_logout_session_required"} {
		need(t, all, "admin.apps.error."+f+".invalid")
	}
}

func need(t *testing.T, all map[string]bool, key string) {
	t.Helper()
	if !all[key] {
		t.Errorf("no message %s", key)
	}
}
