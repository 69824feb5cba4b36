package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// applySettingsYAML declares applications with protocol settings; %s is
// replaced by the inline JWK Set of "paie" (as YAML flow mapping) and %q
// by the one of "rh" (a JSON string).
const applySettingsYAML = `
organizations:
  - {slug: metropole, name: Métropole Exemple, siren: "200046977"}
applications:
  - client_id: paie
    org: metropole
    name: Paie
    type: confidential
    redirect_uris: [https://paie.exemple.fr/oidc/callback]
    grant_types: [refresh_token, client_credentials]
    refresh_tokens: true
    client_credentials_scopes: [siret]
    token_endpoint_auth_method: private_key_jwt
    jwks: %s
    require_par: true
    subject_type: pairwise
    userinfo_signed_response_alg: ES256
    frontchannel_logout_uri: https://paie.exemple.fr/oidc/logout
    frontchannel_logout_session_required: true
    backchannel_logout_uri: https://paie-interne.exemple.fr/bc
    backchannel_logout_session_required: true
  - client_id: rh
    org: metropole
    name: RH
    type: confidential
    redirect_uris: [https://rh.exemple.fr/cb]
    token_endpoint_auth_method: private_key_jwt
    jwks: %q
  - client_id: portail
    org: metropole
    name: Portail
    type: confidential
    redirect_uris: [https://portail.exemple.fr/cb]
    token_endpoint_auth_method: client_secret_post
    jwks_uri: https://portail.exemple.fr/jwks.json
`

func TestApplySettingsIdempotent(t *testing.T) {
	c := newCLI(t)
	paieJWKS, _, _ := testJWKS(t, "paie-1")
	rhJWKS, _, _ := testJWKS(t, "rh-1")
	// The same set, as YAML: JSON is a subset of YAML's flow style.
	doc := fmt.Sprintf(applySettingsYAML, paieJWKS, rhJWKS)
	file := writeApplyFile(t, doc)

	first := c.ok("apply", "-f", file)
	if !strings.Contains(first, "4 created, 0 updated, 0 unchanged") {
		t.Errorf("first apply:\n%s", first)
	}
	// Only portail authenticates with a secret.
	if n := strings.Count(first, "client_secret for "); n != 1 || !strings.Contains(first, "client_secret for portail: ") {
		t.Errorf("first apply printed %d secrets, want one for portail:\n%s", n, first)
	}
	paie := c.showApp("paie")
	want := settingsView{
		GrantTypes:                        []string{"refresh_token", "client_credentials"},
		RefreshTokens:                     true,
		ClientCredentialsScopes:           []string{"siret"},
		TokenEndpointAuthMethod:           "private_key_jwt",
		JWKS:                              paie.JWKS,
		RequirePAR:                        true,
		SubjectType:                       "pairwise",
		UserinfoSignedResponseAlg:         "ES256",
		FrontchannelLogoutURI:             "https://paie.exemple.fr/oidc/logout",
		FrontchannelLogoutSessionRequired: true,
		BackchannelLogoutURI:              "https://paie-interne.exemple.fr/bc",
		BackchannelLogoutSessionRequired:  true,
	}
	if diff := cmp.Diff(want, paie.SettingsView); diff != "" {
		t.Errorf("paie settings (-want +got):\n%s", diff)
	}
	if !sameJSON(t, paie.JWKS, []byte(paieJWKS)) || !sameJSON(t, c.showApp("rh").JWKS, []byte(rhJWKS)) {
		t.Errorf("stored JWK Sets differ from the file's")
	}
	if paie.HasSecret || c.showApp("rh").HasSecret || !c.showApp("portail").HasSecret {
		t.Errorf("secrets: only portail should have one")
	}

	second := c.ok("apply", "-f", file)
	for _, line := range strings.Split(strings.TrimSpace(second), "\n") {
		if !strings.HasPrefix(line, "unchanged ") && line != "0 created, 0 updated, 4 unchanged" {
			t.Errorf("second apply changed something: %q\n%s", line, second)
		}
	}

	// The same JWK Set written as a block mapping, in another order, is
	// unchanged; a changed setting is reported by its name.
	var set map[string]any
	if err := json.Unmarshal([]byte(paieJWKS), &set); err != nil {
		t.Fatal(err)
	}
	key := set["keys"].([]any)[0].(map[string]any)
	block := fmt.Sprintf("\n      keys:\n        - y: %s\n          x: %s\n          crv: P-256\n          kty: EC\n          kid: paie-1\n          use: sig",
		key["y"], key["x"])
	changed := fmt.Sprintf(applySettingsYAML, block, rhJWKS)
	changed = strings.Replace(changed, "subject_type: pairwise", "subject_type: public", 1)
	changed = strings.Replace(changed, "    backchannel_logout_session_required: true\n", "", 1)
	if err := os.WriteFile(file, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	third := c.ok("apply", "-f", file)
	for _, want := range []string{
		"updated application paie (subject_type, backchannel_logout_session_required)",
		"unchanged application rh",
		"0 created, 1 updated, 3 unchanged",
	} {
		if !strings.Contains(third, want) {
			t.Errorf("third apply lacks %q:\n%s", want, third)
		}
	}
	if again := c.ok("apply", "-f", file); !strings.Contains(again, "0 created, 0 updated, 4 unchanged") {
		t.Errorf("fourth apply:\n%s", again)
	}

	// Leaving private_key_jwt gives rh a secret, printed once.
	changed = strings.Replace(changed, "    token_endpoint_auth_method: private_key_jwt\n    jwks: \"", "    jwks: \"", 1)
	if err := os.WriteFile(file, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	fifth := c.ok("apply", "-f", file)
	if !strings.Contains(fifth, "updated application rh (token_endpoint_auth_method)") || !strings.Contains(fifth, "client_secret for rh: ") {
		t.Errorf("fifth apply:\n%s", fifth)
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return cmp.Equal(va, vb)
}

func TestApplySettingsErrors(t *testing.T) {
	c := newCLI(t)
	_, _, privPath := testJWKS(t, "leak")
	priv, err := os.ReadFile(privPath)
	if err != nil {
		t.Fatal(err)
	}
	const app = "organizations: [{slug: m, name: M, siren: \"200046977\"}]\napplications:\n  - {client_id: a, org: m, name: A, type: confidential, redirect_uris: [\"https://a.fr/cb\"], %s}\n"
	for _, tt := range []struct {
		name, settings, want string
	}{
		{"unknown setting", "grant_type: [refresh_token]", `unknown key "grant_type" in applications`},
		{"private key", fmt.Sprintf("token_endpoint_auth_method: private_key_jwt, jwks: %s", priv), `jwks: key 0 (kid "leak") is a private key`},
		{"jwks as a list", "jwks: [1, 2]", "jwks: line 3: want a JWK Set"},
		{"jwks as a number", "jwks: 12", "jwks: line 3: want a JWK Set"},
		{"jwks string not JSON", "jwks: 'keys: []'", "jwks: not a JSON JWK Set"},
		{"private_key_jwt without keys", "token_endpoint_auth_method: private_key_jwt", "private_key_jwt needs"},
		{"secret_file with private_key_jwt", "token_endpoint_auth_method: private_key_jwt, jwks_uri: \"https://a.fr/jwks\", secret_file: ./secrets/nextcloud", "secret_file: the application authenticates with private_key_jwt"},
		{"bad values, every one reported", "grant_types: [password], subject_type: x, userinfo_signed_response_alg: none, frontchannel_logout_uri: \"https://b.fr/\", backchannel_logout_uri: \"http://b.fr/\"",
			"5 problem(s)"},
		{"boolean as text", "require_par: maybe", "cannot unmarshal"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stderr := c.fail(1, "apply", "-f", writeApplyFile(t, fmt.Sprintf(app, tt.settings)))
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
			if strings.Contains(stderr, `"d"`) {
				t.Errorf("stderr quotes private key material:\n%s", stderr)
			}
		})
	}
	if n := c.count("app", "list"); n != 0 {
		t.Errorf("%d applications written by failed applies", n)
	}
}

// TestApplyHelpExample applies the example of tno apply -h.
func TestApplyHelpExample(t *testing.T) {
	_, example, ok := strings.Cut(applyHelp, "Example:\n\n")
	if !ok {
		t.Fatal("tno apply -h has no example")
	}
	var b strings.Builder
	for _, line := range strings.Split(example, "\n") {
		b.WriteString(strings.TrimPrefix(line, "  ") + "\n")
	}
	c := newCLI(t)
	file := writeApplyFile(t, b.String())
	if out := c.ok("apply", "-f", file); !strings.Contains(out, "created application paie") {
		t.Errorf("apply of the help example:\n%s", out)
	}
	if out := c.ok("apply", "-f", file); !strings.Contains(out, " 0 updated") {
		t.Errorf("second apply of the help example:\n%s", out)
	}
}
