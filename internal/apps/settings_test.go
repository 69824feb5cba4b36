package apps

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// testKeys are keys generated once for the JWKS tests.
type testKeys struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
	ed  ed25519.PrivateKey
}

func newTestKeys(t *testing.T) testKeys {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, dk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKeys{rsa: rk, ec: ek, ed: dk}
}

// jwks returns the JSON JWK Set of keys (any go-jose key type).
func jwks(t *testing.T, keys ...jose.JSONWebKey) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseJWKS(t *testing.T) {
	k := newTestKeys(t)
	rsaPub := jose.JSONWebKey{Key: &k.rsa.PublicKey, KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"}
	ecPub := jose.JSONWebKey{Key: &k.ec.PublicKey, KeyID: "ec-1", Algorithm: "ES256"}
	edPub := jose.JSONWebKey{Key: k.ed.Public(), KeyID: "ed-1"}
	rsaJSON, err := rsaPub.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		raw  string
		n    int    // keys, when valid
		err  string // substring of the error; "" when valid
	}{
		{"one RSA key", jwks(t, rsaPub), 1, ""},
		{"RSA, EC and Ed25519 keys", jwks(t, rsaPub, ecPub, edPub), 3, ""},
		{"key without kid", jwks(t, jose.JSONWebKey{Key: &k.ec.PublicKey}), 1, ""},
		{"RSA private key", jwks(t, jose.JSONWebKey{Key: k.rsa, KeyID: "leak"}), 0, `key 0 (kid "leak") is a private key`},
		{"EC private key after a public one", jwks(t, rsaPub, jose.JSONWebKey{Key: k.ec}), 0, "key 1 is a private key"},
		{"Ed25519 private key", jwks(t, jose.JSONWebKey{Key: k.ed}), 0, "private key"},
		{"symmetric key", `{"keys":[{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ"}]}`, 0, "symmetric key"},
		{"duplicate kid", jwks(t, rsaPub, jose.JSONWebKey{Key: &k.ec.PublicKey, KeyID: "rsa-1"}), 0, `kid "rsa-1" is used twice`},
		{"lone JWK", string(rsaJSON), 0, "a single JWK"},
		{"empty set", `{"keys":[]}`, 0, "holds no key"},
		{"null keys", `{"keys":null}`, 0, "holds no key"},
		{"no keys member", `{}`, 0, `no "keys" member`},
		{"keys not a list", `{"keys":{}}`, 0, "list of JWKs"},
		{"not JSON", `keys: []`, 0, "not a JSON JWK Set"},
		{"JSON list", `[]`, 0, "not a JSON JWK Set"},
		{"trailing data", jwks(t, rsaPub) + "x", 0, "not a JSON JWK Set"},
		{"unknown key type", `{"keys":[{"kty":"XYZ"}]}`, 0, "key 0:"},
		{"RSA key of 1024 bits", jwks(t, jose.JSONWebKey{Key: &small.PublicKey}), 0, "RSA key of 1024 bits"},
		{"RSA key missing its modulus", `{"keys":[{"kty":"RSA","e":"AQAB"}]}`, 0, "key 0:"},
		{"too large", `{"keys":[` + strings.Repeat(" ", maxJWKSLen) + `]}`, 0, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := ParseJWKS(tt.raw)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("ParseJWKS: %v", err)
			case tt.err != "" && err == nil:
				t.Fatalf("ParseJWKS accepted it, want an error with %q", tt.err)
			case tt.err != "" && !strings.Contains(err.Error(), tt.err):
				t.Fatalf("ParseJWKS error %q lacks %q", err, tt.err)
			case tt.err != "" && strings.Contains(err.Error(), `"d"`):
				t.Fatalf("error %q quotes key material", err)
			}
			if len(set.Keys) != tt.n {
				t.Errorf("%d keys, want %d", len(set.Keys), tt.n)
			}
			for _, k := range set.Keys {
				if !k.IsPublic() {
					t.Errorf("key %q is not public", k.KeyID)
				}
			}
		})
	}
}

func TestNormalizeJWKS(t *testing.T) {
	k := newTestKeys(t)
	compact := jwks(t, jose.JSONWebKey{Key: &k.ec.PublicKey, KeyID: "ec-1", Algorithm: "ES256"})
	var v map[string]any
	if err := json.Unmarshal([]byte(compact), &v); err != nil {
		t.Fatal(err)
	}
	indented, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	a, err := NormalizeJWKS(compact)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NormalizeJWKS(" \n" + string(indented) + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("equal sets normalize differently:\n%s\n%s", a, b)
	}
	if strings.ContainsAny(a, " \n") {
		t.Errorf("normalized form is not compact: %s", a)
	}
	if _, err := NormalizeJWKS(`{"keys":[]}`); err == nil {
		t.Error("NormalizeJWKS accepted an empty set")
	}
}

func TestValidateSettings(t *testing.T) {
	k := newTestKeys(t)
	pub := jwks(t, jose.JSONWebKey{Key: &k.rsa.PublicKey, KeyID: "rp-1"})
	priv := jwks(t, jose.JSONWebKey{Key: k.rsa, KeyID: "rp-1"})
	public := func(a *storage.Application) { a.ClientType = storage.ClientPublic }
	tests := []struct {
		name   string
		edit   func(a *storage.Application)
		fields []string // fields reported, in order; nil: valid
	}{
		{"no settings", func(a *storage.Application) {}, nil},
		{"every setting", func(a *storage.Application) {
			a.Settings = storage.ClientSettings{
				GrantTypes:                        []string{"refresh_token", "client_credentials"},
				RefreshTokens:                     true,
				ClientCredentialsScopes:           []string{"siret", "mandates"},
				TokenEndpointAuthMethod:           "private_key_jwt",
				JWKS:                              pub,
				RequirePAR:                        true,
				SubjectType:                       "pairwise",
				UserinfoSignedResponseAlg:         "ES256",
				FrontchannelLogoutURI:             "https://rh.ville-exemple.fr/logout",
				FrontchannelLogoutSessionRequired: true,
				BackchannelLogoutURI:              "https://rh-interne.ville-exemple.fr/bc",
				BackchannelLogoutSessionRequired:  true,
			}
		}, nil},

		// Grant types.
		{"refresh_token grant", func(a *storage.Application) { a.Settings.GrantTypes = []string{"refresh_token"} }, nil},
		{"refresh_token grant, public", func(a *storage.Application) {
			public(a)
			a.Settings.GrantTypes = []string{"refresh_token"}
		}, nil},
		{"unknown grant type", func(a *storage.Application) { a.Settings.GrantTypes = []string{"password"} }, []string{"grant_types"}},
		{"implicit", func(a *storage.Application) { a.Settings.GrantTypes = []string{"implicit"} }, []string{"grant_types"}},
		{"authorization_code listed", func(a *storage.Application) { a.Settings.GrantTypes = []string{"authorization_code"} }, []string{"grant_types"}},
		{"grant type in upper case", func(a *storage.Application) { a.Settings.GrantTypes = []string{"REFRESH_TOKEN"} }, []string{"grant_types"}},
		{"grant type twice", func(a *storage.Application) { a.Settings.GrantTypes = []string{"refresh_token", "refresh_token"} }, []string{"grant_types"}},
		{"client_credentials, public", func(a *storage.Application) {
			public(a)
			a.Settings.GrantTypes = []string{"client_credentials"}
		}, []string{"grant_types"}},
		{"refresh_tokens without the grant", func(a *storage.Application) { a.Settings.RefreshTokens = true }, []string{"refresh_tokens"}},

		// Client credentials scopes.
		{"client credentials scopes", func(a *storage.Application) {
			a.Settings.GrantTypes = []string{"client_credentials"}
			a.Settings.ClientCredentialsScopes = []string{"siren"}
		}, nil},
		{"client credentials scope openid", func(a *storage.Application) {
			a.Settings.GrantTypes = []string{"client_credentials"}
			a.Settings.ClientCredentialsScopes = []string{"openid"}
		}, []string{"client_credentials_scopes"}},
		{"client credentials scope offline_access", func(a *storage.Application) {
			a.Settings.GrantTypes = []string{"client_credentials"}
			a.Settings.ClientCredentialsScopes = []string{"siret", "offline_access"}
		}, []string{"client_credentials_scopes"}},
		{"unknown client credentials scope", func(a *storage.Application) {
			a.Settings.GrantTypes = []string{"client_credentials"}
			a.Settings.ClientCredentialsScopes = []string{"admin"}
		}, []string{"client_credentials_scopes"}},
		{"client credentials scopes without the grant", func(a *storage.Application) {
			a.Settings.ClientCredentialsScopes = []string{"siret"}
		}, []string{"client_credentials_scopes"}},

		// Token endpoint authentication.
		{"client_secret_basic", func(a *storage.Application) { a.Settings.TokenEndpointAuthMethod = "client_secret_basic" }, nil},
		{"client_secret_post", func(a *storage.Application) { a.Settings.TokenEndpointAuthMethod = "client_secret_post" }, nil},
		{"none, public", func(a *storage.Application) {
			public(a)
			a.Settings.TokenEndpointAuthMethod = "none"
		}, nil},
		{"none, confidential", func(a *storage.Application) { a.Settings.TokenEndpointAuthMethod = "none" }, []string{"token_endpoint_auth_method"}},
		{"client_secret_basic, public", func(a *storage.Application) {
			public(a)
			a.Settings.TokenEndpointAuthMethod = "client_secret_basic"
		}, []string{"token_endpoint_auth_method"}},
		{"private_key_jwt, public", func(a *storage.Application) {
			public(a)
			a.Settings.TokenEndpointAuthMethod = "private_key_jwt"
			a.Settings.JWKS = pub
		}, []string{"token_endpoint_auth_method"}},
		{"unknown method", func(a *storage.Application) { a.Settings.TokenEndpointAuthMethod = "client_secret_jwt" }, []string{"token_endpoint_auth_method"}},
		{"private_key_jwt with jwks_uri", func(a *storage.Application) {
			a.Settings.TokenEndpointAuthMethod = "private_key_jwt"
			a.Settings.JWKSURI = "https://rh.ville-exemple.fr/jwks.json"
		}, nil},
		{"private_key_jwt without keys", func(a *storage.Application) { a.Settings.TokenEndpointAuthMethod = "private_key_jwt" }, []string{"token_endpoint_auth_method"}},

		// Keys.
		{"jwks without private_key_jwt", func(a *storage.Application) { a.Settings.JWKS = pub }, nil},
		{"jwks with a private key", func(a *storage.Application) {
			a.Settings.TokenEndpointAuthMethod = "private_key_jwt"
			a.Settings.JWKS = priv
		}, []string{"jwks"}},
		{"jwks not JSON", func(a *storage.Application) { a.Settings.JWKS = "{" }, []string{"jwks"}},
		{"jwks and jwks_uri", func(a *storage.Application) {
			a.Settings.JWKS = pub
			a.Settings.JWKSURI = "https://rh.ville-exemple.fr/jwks.json"
		}, []string{"jwks"}},
		{"jwks_uri on loopback http", func(a *storage.Application) { a.Settings.JWKSURI = "http://127.0.0.1:9000/jwks" }, nil},
		{"jwks_uri over http", func(a *storage.Application) { a.Settings.JWKSURI = "http://rh.ville-exemple.fr/jwks" }, []string{"jwks_uri"}},
		{"jwks_uri relative", func(a *storage.Application) { a.Settings.JWKSURI = "/jwks" }, []string{"jwks_uri"}},
		{"jwks_uri with fragment", func(a *storage.Application) { a.Settings.JWKSURI = "https://rh.ville-exemple.fr/jwks#k" }, []string{"jwks_uri"}},

		// Subject type and signed userinfo.
		{"public subject", func(a *storage.Application) { a.Settings.SubjectType = "public" }, nil},
		{"pairwise subject", func(a *storage.Application) { a.Settings.SubjectType = "pairwise" }, nil},
		{"unknown subject type", func(a *storage.Application) { a.Settings.SubjectType = "ephemeral" }, []string{"subject_type"}},
		{"pairwise, one host on several paths and ports", func(a *storage.Application) {
			a.Settings.SubjectType = "pairwise"
			a.RedirectURIs = []string{"https://rh.ville-exemple.fr/callback", "https://RH.ville-exemple.fr:8443/cb?tenant=42"}
		}, nil},
		{"pairwise, two hosts", func(a *storage.Application) {
			a.Settings.SubjectType = "pairwise"
			a.RedirectURIs = []string{"https://rh.ville-exemple.fr/callback", "https://paie.ville-exemple.fr/callback"}
		}, []string{"subject_type"}},
		{"public subject, two hosts", func(a *storage.Application) {
			a.Settings.SubjectType = "public"
			a.RedirectURIs = []string{"https://rh.ville-exemple.fr/callback", "https://paie.ville-exemple.fr/callback"}
		}, nil},
		{"pairwise, no redirect URI: reported once", func(a *storage.Application) {
			a.Settings.SubjectType = "pairwise"
			a.RedirectURIs = nil
		}, []string{"redirect_uris"}},
		{"userinfo RS256", func(a *storage.Application) { a.Settings.UserinfoSignedResponseAlg = "RS256" }, nil},
		{"userinfo none", func(a *storage.Application) { a.Settings.UserinfoSignedResponseAlg = "none" }, []string{"userinfo_signed_response_alg"}},
		{"userinfo HS256", func(a *storage.Application) { a.Settings.UserinfoSignedResponseAlg = "HS256" }, []string{"userinfo_signed_response_alg"}},
		{"userinfo lower case", func(a *storage.Application) { a.Settings.UserinfoSignedResponseAlg = "rs256" }, []string{"userinfo_signed_response_alg"}},

		// Logout URIs.
		{"front-channel on the redirect URI's origin, explicit default port", func(a *storage.Application) {
			a.Settings.FrontchannelLogoutURI = "https://RH.ville-exemple.fr:443/logout?from=tno"
		}, nil},
		{"front-channel on loopback http", func(a *storage.Application) {
			a.RedirectURIs = append(a.RedirectURIs, "http://127.0.0.1:8080/cb")
			a.Settings.FrontchannelLogoutURI = "http://127.0.0.1:8080/logout"
		}, nil},
		{"front-channel on another host", func(a *storage.Application) {
			a.Settings.FrontchannelLogoutURI = "https://autre.ville-exemple.fr/logout"
		}, []string{"frontchannel_logout_uri"}},
		{"front-channel on another port", func(a *storage.Application) {
			a.Settings.FrontchannelLogoutURI = "https://rh.ville-exemple.fr:8443/logout"
		}, []string{"frontchannel_logout_uri"}},
		{"front-channel on another scheme", func(a *storage.Application) {
			a.RedirectURIs = []string{"http://localhost:3000/cb"}
			a.Settings.FrontchannelLogoutURI = "https://localhost:3000/logout"
		}, []string{"frontchannel_logout_uri"}},
		{"front-channel over http", func(a *storage.Application) {
			a.Settings.FrontchannelLogoutURI = "http://rh.ville-exemple.fr/logout"
		}, []string{"frontchannel_logout_uri"}},
		{"front-channel with fragment", func(a *storage.Application) {
			a.Settings.FrontchannelLogoutURI = "https://rh.ville-exemple.fr/logout#x"
		}, []string{"frontchannel_logout_uri"}},
		{"front-channel session required without URI", func(a *storage.Application) {
			a.Settings.FrontchannelLogoutSessionRequired = true
		}, []string{"frontchannel_logout_session_required"}},
		{"back-channel on another host", func(a *storage.Application) {
			a.Settings.BackchannelLogoutURI = "https://interne.ville-exemple.fr/bc"
		}, nil},
		{"back-channel on loopback http", func(a *storage.Application) {
			a.Settings.BackchannelLogoutURI = "http://[::1]:8080/bc"
		}, nil},
		{"back-channel over http", func(a *storage.Application) {
			a.Settings.BackchannelLogoutURI = "http://interne.ville-exemple.fr/bc"
		}, []string{"backchannel_logout_uri"}},
		{"back-channel relative", func(a *storage.Application) { a.Settings.BackchannelLogoutURI = "bc" }, []string{"backchannel_logout_uri"}},
		{"back-channel with fragment", func(a *storage.Application) {
			a.Settings.BackchannelLogoutURI = "https://rh.ville-exemple.fr/bc#"
		}, []string{"backchannel_logout_uri"}},
		{"back-channel session required without URI", func(a *storage.Application) {
			a.Settings.BackchannelLogoutSessionRequired = true
		}, []string{"backchannel_logout_session_required"}},

		{"every setting wrong, reported together", func(a *storage.Application) {
			public(a)
			a.Settings = storage.ClientSettings{
				GrantTypes:                        []string{"client_credentials", "password"},
				RefreshTokens:                     true,
				ClientCredentialsScopes:           []string{"openid"},
				TokenEndpointAuthMethod:           "private_key_jwt",
				JWKS:                              priv,
				JWKSURI:                           "ftp://x",
				SubjectType:                       "x",
				UserinfoSignedResponseAlg:         "x",
				FrontchannelLogoutURI:             "https://elsewhere.fr/",
				BackchannelLogoutSessionRequired:  true,
				FrontchannelLogoutSessionRequired: false,
			}
		}, []string{
			"grant_types", "grant_types", "refresh_tokens", "client_credentials_scopes",
			"token_endpoint_auth_method", "jwks", "jwks", "jwks_uri", "subject_type",
			"userinfo_signed_response_alg", "frontchannel_logout_uri", "backchannel_logout_session_required",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := validApp()
			tt.edit(&a)
			err := Validate(a)
			if diff := cmp.Diff(tt.fields, fields(fieldErrors(t, err))); diff != "" {
				t.Errorf("Validate fields (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestUsesSecret(t *testing.T) {
	for _, tt := range []struct {
		typ, method string
		want        bool
	}{
		{storage.ClientConfidential, "", true},
		{storage.ClientConfidential, AuthClientSecretBasic, true},
		{storage.ClientConfidential, AuthClientSecretPost, true},
		{storage.ClientConfidential, AuthPrivateKeyJWT, false},
		{storage.ClientPublic, "", false},
		{storage.ClientPublic, AuthNone, false},
	} {
		a := storage.Application{ClientType: tt.typ, Settings: storage.ClientSettings{TokenEndpointAuthMethod: tt.method}}
		if got := UsesSecret(a); got != tt.want {
			t.Errorf("UsesSecret(%s, %q) = %v, want %v", tt.typ, tt.method, got, tt.want)
		}
	}
}
