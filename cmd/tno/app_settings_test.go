package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

// testJWKS writes the public JWK Set (indented) and the private one of a
// new P-256 key with kid, and returns the public set's compact JSON and
// both paths.
func testJWKS(t *testing.T, kid string) (pubJSON, pubPath, privPath string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	set := func(key any) jose.JSONWebKeySet {
		return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: kid, Use: "sig"}}}
	}
	pub, err := json.Marshal(set(&k.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	indented, err := json.MarshalIndent(set(&k.PublicKey), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := json.Marshal(set(k))
	if err != nil {
		t.Fatal(err)
	}
	pubPath, privPath = filepath.Join(dir, "jwks.json"), filepath.Join(dir, "private.json")
	for path, b := range map[string][]byte{pubPath: indented, privPath: priv} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return string(pub), pubPath, privPath
}

// showApp returns tno app show --json.
func (c *cli) showApp(clientID string) appView {
	c.t.Helper()
	var v appView
	out := c.ok("app", "show", "--client-id", clientID, "--json")
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		c.t.Fatalf("app show --json: %v\n%s", err, out)
	}
	return v
}

func TestAppSettingsFlags(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "create", "--slug", "metropole", "--name", "Métropole Exemple", "--siren", "200046977")
	_, pubPath, privPath := testJWKS(t, "paie-1")

	r := c.run("app", "create", "--org", "metropole", "--client-id", "paie", "--name", "Paie",
		"--redirect-uri", "https://paie.exemple.fr/oidc/callback",
		"--grant-type", "refresh_token", "--grant-type", "client_credentials", "--refresh-tokens",
		"--client-credentials-scope", "siret", "--client-credentials-scope", "siren",
		"--token-auth-method", "private_key_jwt", "--jwks-file", pubPath,
		"--require-par", "--subject-type", "pairwise", "--userinfo-signed-alg", "ES256",
		"--frontchannel-logout-uri", "https://paie.exemple.fr/oidc/logout", "--frontchannel-logout-session-required",
		"--backchannel-logout-uri", "https://paie-interne.exemple.fr/bc", "--backchannel-logout-session-required")
	if r.code != 0 || strings.Contains(r.stdout, "client_secret") || !strings.Contains(r.stdout, "private_key_jwt") {
		t.Fatalf("app create with private_key_jwt: exit %d, a secret or no note:\n%s%s", r.code, r.stdout, r.stderr)
	}
	// TNO signs with RS256 keys (signing.algorithm's default).
	if !strings.Contains(r.stderr, "warning: userinfo_signed_response_alg ES256 differs from signing.algorithm RS256") {
		t.Errorf("no warning about the userinfo algorithm:\n%s", r.stderr)
	}
	v := c.showApp("paie")
	want := settingsView{
		GrantTypes:                        []string{"refresh_token", "client_credentials"},
		RefreshTokens:                     true,
		ClientCredentialsScopes:           []string{"siret", "siren"},
		TokenEndpointAuthMethod:           "private_key_jwt",
		JWKS:                              v.JWKS, // checked below
		RequirePAR:                        true,
		SubjectType:                       "pairwise",
		UserinfoSignedResponseAlg:         "ES256",
		FrontchannelLogoutURI:             "https://paie.exemple.fr/oidc/logout",
		FrontchannelLogoutSessionRequired: true,
		BackchannelLogoutURI:              "https://paie-interne.exemple.fr/bc",
		BackchannelLogoutSessionRequired:  true,
	}
	if diff := cmp.Diff(want, v.SettingsView); diff != "" {
		t.Errorf("settings after create (-want +got):\n%s", diff)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(v.JWKS, &set); err != nil || len(set.Keys) != 1 || set.Keys[0].KeyID != "paie-1" || !set.Keys[0].IsPublic() {
		t.Errorf("stored jwks %s: %v", v.JWKS, err)
	}
	if v.HasSecret {
		t.Error("a private_key_jwt application has a secret")
	}
	c.fail(1, "app", "rotate-secret", "--client-id", "paie")

	show := c.ok("app", "show", "--client-id", "paie")
	for _, line := range []string{
		"grant types:               authorization_code, refresh_token, client_credentials",
		"refresh tokens:            always",
		"client credentials scopes: siret siren",
		"token auth method:         private_key_jwt",
		"jwks:                      inline, 1 key(s): paie-1 EC P-256",
		"require PAR:               yes",
		"subject type:              pairwise",
		"userinfo:                  JWT signed with ES256",
		"front-channel logout:      https://paie.exemple.fr/oidc/logout (iss and sid sent)",
		"back-channel logout:       https://paie-interne.exemple.fr/bc (sid required)",
		"client secret:             none (private_key_jwt)",
	} {
		if !strings.Contains(show, line+"\n") {
			t.Errorf("app show lacks %q:\n%s", line, show)
		}
	}

	// The same values again change nothing.
	out := c.ok("app", "update", "--client-id", "paie", "--jwks-file", pubPath, "--subject-type", "pairwise", "--require-par")
	if !strings.Contains(out, "unchanged application paie") {
		t.Errorf("update with the same settings: %s", out)
	}

	// Refusals leave the application alone.
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"private key", []string{"--jwks-file", privPath}, "is a private key"},
		{"missing JWKS file", []string{"--jwks-file", filepath.Join(t.TempDir(), "none.json")}, "--jwks-file"},
		{"no keys left for private_key_jwt", []string{"--jwks-file", ""}, "token_endpoint_auth_method: private_key_jwt needs"},
		{"jwks and jwks_uri", []string{"--jwks-uri", "https://paie.exemple.fr/jwks"}, "jwks: set jwks or jwks_uri, not both"},
		{"jwks_uri over http", []string{"--jwks-file", "", "--jwks-uri", "http://paie.exemple.fr/jwks"}, "jwks_uri:"},
		{"unknown grant type", []string{"--grant-type", "password"}, "grant_types:"},
		{"client_credentials for a public application", []string{"--type", "public", "--token-auth-method", "none"}, "client_credentials needs a confidential application"},
		{"none for a confidential application", []string{"--token-auth-method", "none"}, "token_endpoint_auth_method:"},
		{"openid as a client credentials scope", []string{"--client-credentials-scope", "openid"}, "client_credentials_scopes:"},
		{"unknown subject type", []string{"--subject-type", "anonymous"}, "subject_type:"},
		{"unknown userinfo algorithm", []string{"--userinfo-signed-alg", "HS256"}, "userinfo_signed_response_alg:"},
		{"front-channel on another origin", []string{"--frontchannel-logout-uri", "https://autre.exemple.fr/logout"}, "frontchannel_logout_uri:"},
		{"back-channel with fragment", []string{"--backchannel-logout-uri", "https://paie.exemple.fr/bc#x"}, "backchannel_logout_uri:"},
		{"refresh tokens without the grant", []string{"--grant-type", "client_credentials"}, "refresh_tokens: needs the refresh_token grant type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stderr := c.fail(1, append([]string{"app", "update", "--client-id", "paie"}, tt.args...)...)
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
		})
	}
	if diff := cmp.Diff(v, c.showApp("paie"), cmp.Options{}); diff != "" {
		t.Errorf("refused updates changed the application (-before +after):\n%s", diff)
	}

	// Back to secrets and defaults: a secret is generated, the lists
	// emptied with "", the booleans turned off with =false.
	out = c.ok("app", "update", "--client-id", "paie", "--token-auth-method", "", "--jwks-file", "",
		"--grant-type", "", "--refresh-tokens=false", "--client-credentials-scope", "", "--require-par=false",
		"--subject-type", "", "--userinfo-signed-alg", "", "--frontchannel-logout-uri", "",
		"--frontchannel-logout-session-required=false", "--backchannel-logout-uri", "",
		"--backchannel-logout-session-required=false")
	if !strings.Contains(out, "updated application paie") || !strings.Contains(out, "client_secret: ") {
		t.Errorf("update back to a secret: %s", out)
	}
	v = c.showApp("paie")
	if !v.HasSecret {
		t.Error("no secret after leaving private_key_jwt")
	}
	if diff := cmp.Diff(settingsView{GrantTypes: []string{}, ClientCredentialsScopes: []string{}, JWKS: json.RawMessage("null")}, v.SettingsView); diff != "" {
		t.Errorf("settings after reset (-want +got):\n%s", diff)
	}
	show = c.ok("app", "show", "--client-id", "paie")
	for _, line := range []string{
		"grant types:               authorization_code\n",
		"refresh tokens:            with the offline_access scope\n",
		"token auth method:         client_secret_basic or client_secret_post (default)\n",
		"subject type:              public (default)\n",
		"userinfo:                  JSON\n",
	} {
		if !strings.Contains(show, line) {
			t.Errorf("app show lacks %q:\n%s", line, show)
		}
	}

	// Switching to private_key_jwt drops the secret.
	c.ok("app", "update", "--client-id", "paie", "--token-auth-method", "private_key_jwt", "--jwks-uri", "https://paie.exemple.fr/jwks")
	if v := c.showApp("paie"); v.HasSecret {
		t.Error("the secret survived the switch to private_key_jwt")
	}

	// A public application: none, or nothing.
	c.ok("app", "create", "--org", "metropole", "--client-id", "mobile", "--name", "Mobile", "--type", "public",
		"--redirect-uri", "http://127.0.0.1/cb", "--token-auth-method", "none", "--grant-type", "refresh_token")
	stderr := c.fail(1, "app", "create", "--org", "metropole", "--client-id", "mobile2", "--name", "Mobile", "--type", "public",
		"--redirect-uri", "http://127.0.0.1/cb", "--token-auth-method", "client_secret_basic", "--grant-type", "client_credentials")
	for _, want := range []string{"grant_types:", "token_endpoint_auth_method:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("public app create errors lack %q:\n%s", want, stderr)
		}
	}
}
