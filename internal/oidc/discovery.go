package oidc

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/session"
)

// claimsSupported lists every claim TNO can release (discovery_test.go
// checks it against the claims released).
var claimsSupported = []string{
	"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "acr", "amr", "azp", "sid",
	"name", "given_name", "family_name", "preferred_username", "updated_at",
	"email", "email_verified", "phone_number", "phone",
	"usual_name", "uid", "siret", "siren", "organizational_unit", "belonging_population",
	"membership_kind", "mandates",
}

// grantTypes lists the grant types the token endpoint serves (grant).
func grantTypes() []string {
	return []string{"authorization_code", "refresh_token", "client_credentials"}
}

// discoveryDocument is the OpenID Provider Metadata (OpenID Connect
// Discovery 1.0 section 3, RFC 8414, RFC 9126, RFC 9207, the logout
// specifications): exactly what TNO supports, each list taken from the
// code that enforces it where there is one. discovery_test.go checks the
// document against the behaviour.
//
// Left out on purpose: request objects (request_object_*, false
// request_parameter_supported), encryption (*_encryption_*), display
// values (display is accepted and ignored), check_session_iframe,
// registration_endpoint, mutual TLS and DPoP.
func (p *Provider) discoveryDocument() ([]byte, error) {
	clientMethods := apps.AuthMethods() // client_secret_basic, client_secret_post, private_key_jwt, none
	confidentialMethods := slices.DeleteFunc(apps.AuthMethods(), func(m string) bool { return m == apps.AuthNone })
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
		"response_modes_supported":                       responseModes(),
		"grant_types_supported":                          grantTypes(),
		"subject_types_supported":                        apps.SubjectTypes(),
		"userinfo_signing_alg_values_supported":          apps.SigningAlgs(),
		"id_token_signing_alg_values_supported":          apps.SigningAlgs(), // the key manager's: RS256, ES256
		"token_endpoint_auth_methods_supported":          clientMethods,
		"revocation_endpoint_auth_methods_supported":     clientMethods, // public clients send their client_id
		"introspection_endpoint_auth_methods_supported":  confidentialMethods,
		"code_challenge_methods_supported":               []string{"S256"},
		"claims_supported":                               claimsSupported,
		"prompt_values_supported":                        promptValues(),
		"acr_values_supported":                           session.SupportedACRs(),
		"ui_locales_supported":                           []string{"fr", "en"},
		"claims_parameter_supported":                     true,
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
