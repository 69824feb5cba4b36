package oidc

import (
	"encoding/json"
	"net/http"
)

// oauthError is an OAuth 2.0 / OpenID Connect protocol error (RFC 6749
// section 5.2 and 4.1.2.1). Description is safe to show to a client.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func errInvalidRequest(d string) *oauthError      { return &oauthError{"invalid_request", d} }
func errInvalidClient(d string) *oauthError       { return &oauthError{"invalid_client", d} }
func errInvalidGrant(d string) *oauthError        { return &oauthError{"invalid_grant", d} }
func errUnsupportedGrant(d string) *oauthError    { return &oauthError{"unsupported_grant_type", d} }
func errInvalidScope(d string) *oauthError        { return &oauthError{"invalid_scope", d} }
func errUnauthorizedClient(d string) *oauthError  { return &oauthError{"unauthorized_client", d} }
func errUnsupportedResponse(d string) *oauthError { return &oauthError{"unsupported_response_type", d} }
func errAccessDenied(d string) *oauthError        { return &oauthError{"access_denied", d} }
func errLoginRequired(d string) *oauthError       { return &oauthError{"login_required", d} }
func errServerError(d string) *oauthError         { return &oauthError{"server_error", d} }
func errRequestNotSupported(d string) *oauthError { return &oauthError{"request_not_supported", d} }
func errConsentRequired(d string) *oauthError     { return &oauthError{"consent_required", d} }
func errTemporarilyUnavailable(d string) *oauthError {
	return &oauthError{"temporarily_unavailable", d}
}

// errUnmetAuthentication is OpenID Connect Core Error Code
// unmet_authentication_requirements 1.0 (final, 2022): the OP cannot
// authenticate the person as the essential acr claim requires (Core
// section 5.5.1.1: "a failed authentication attempt").
func errUnmetAuthentication(d string) *oauthError {
	return &oauthError{"unmet_authentication_requirements", d}
}

func writeJSONError(w http.ResponseWriter, status int, e *oauthError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(&oauthError{Code: e.Code, Description: safeDescription(e.Description)})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	_ = json.NewEncoder(w).Encode(v)
}

// safeDescription keeps an error_description within the characters RFC
// 6749 allows there (%x20-21 / %x23-5B / %x5D-7E: printable ASCII but for
// '"' and '\'), so that values quoted from a request can break neither a
// client's parser nor a WWW-Authenticate header; others become '?'.
func safeDescription(s string) string {
	const max = 300
	b := make([]byte, 0, min(len(s), max))
	for _, r := range s {
		if len(b) >= max {
			break
		}
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			r = '?'
		}
		b = append(b, byte(r))
	}
	return string(b)
}
