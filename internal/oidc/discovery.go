package oidc

import (
	"encoding/json"
	"net/http"

	"github.com/territoires-ouverts/tno/internal/apps"
)

// claimsSupported lists every claim TNO can release.
var claimsSupported = []string{
	"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "amr", "azp", "sid",
	"name", "given_name", "family_name", "preferred_username", "updated_at",
	"email", "email_verified", "phone_number", "phone",
	"usual_name", "uid", "siret", "siren", "organizational_unit", "belonging_population",
	"membership_kind", "mandates",
}

func (p *Provider) discoveryDocument() ([]byte, error) {
	doc := map[string]any{
		"issuer":                                         p.issuer,
		"authorization_endpoint":                         p.url(pathAuthorize),
		"token_endpoint":                                 p.url(pathToken),
		"userinfo_endpoint":                              p.url(pathUserinfo),
		"revocation_endpoint":                            p.url(pathRevoke),
		"introspection_endpoint":                         p.url(pathIntrospect),
		"jwks_uri":                                       p.url(pathJWKS),
		"pushed_authorization_request_endpoint":          p.url(pathPAR),
		"require_pushed_authorization_requests":          false, // per application (RFC 9126 section 6)
		"end_session_endpoint":                           p.url(pathLogout),
		"frontchannel_logout_supported":                  true,
		"frontchannel_logout_session_supported":          true,
		"backchannel_logout_supported":                   true,
		"backchannel_logout_session_supported":           true,
		"scopes_supported":                               apps.Scopes(),
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":                        apps.SubjectTypes(),
		"userinfo_signing_alg_values_supported":          apps.SigningAlgs(),
		"id_token_signing_alg_values_supported":          []string{"RS256", "ES256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"revocation_endpoint_auth_methods_supported":     []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"introspection_endpoint_auth_methods_supported":  []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"code_challenge_methods_supported":               []string{"S256"},
		"claims_supported":                               claimsSupported,
		"prompt_values_supported":                        []string{"none", "login"},
		"ui_locales_supported":                           []string{"fr", "en"},
		"claims_parameter_supported":                     false,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
		"authorization_response_iss_parameter_supported": true,
	}
	// private_key_jwt (RFC 7523) at every endpoint that authenticates clients.
	for _, e := range []string{"token", "revocation", "introspection"} {
		doc[e+"_endpoint_auth_signing_alg_values_supported"] = assertionAlgNames()
	}
	return json.MarshalIndent(doc, "", "  ")
}

func (p *Provider) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(p.discovery)
}

func (p *Provider) handleJWKS(w http.ResponseWriter, r *http.Request) {
	b, err := p.signer.JWKS(r.Context())
	if err != nil {
		p.log.ErrorContext(r.Context(), "jwks", "err", err)
		writeJSONError(w, http.StatusInternalServerError, errServerError("keys unavailable"))
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(b)
}
