package oidc

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// RFC 7636 Appendix B (checked with: printf %s VERIFIER | openssl dgst
// -sha256 -binary | basenc --base64url).
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

func s256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestVerifyPKCE(t *testing.T) {
	if got := s256Challenge(rfcVerifier); got != rfcChallenge {
		t.Fatalf("S256(%s) = %s, want %s", rfcVerifier, got, rfcChallenge)
	}
	withChallenge := storage.AuthCode{CodeChallenge: rfcChallenge, CodeChallengeMethod: "S256"}
	tests := []struct {
		name     string
		code     storage.AuthCode
		verifier string
		wantErr  bool
	}{
		{"RFC 7636 Appendix B", withChallenge, rfcVerifier, false},
		{"mismatch", withChallenge, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", true},
		{"corrupted challenge", storage.AuthCode{CodeChallenge: "E9Melhoa2OwvFrEMTJguCHoeY7aFHv5j6wqgMlAjH-U"}, rfcVerifier, true},
		{"challenge computed in the test", storage.AuthCode{CodeChallenge: s256Challenge(strings.Repeat("v", 43))}, strings.Repeat("v", 43), false},
		{"challenge as verifier (plain)", withChallenge, rfcChallenge, true},
		{"missing verifier", withChallenge, "", true},
		{"verifier without challenge (downgrade)", storage.AuthCode{}, rfcVerifier, true},
		{"neither", storage.AuthCode{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oe := verifyPKCE(tt.code, tt.verifier)
			if (oe != nil) != tt.wantErr {
				t.Fatalf("verifyPKCE = %v, want error %v", oe, tt.wantErr)
			}
			if oe != nil && oe.Code != "invalid_grant" {
				t.Errorf("error code = %q, want invalid_grant", oe.Code)
			}
		})
	}
}

func TestHalfHash(t *testing.T) {
	const token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
	half := func(sum []byte) string { return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]) }
	s256 := sha256.Sum256([]byte(token))
	s384 := sha512.Sum384([]byte(token))
	s512 := sha512.Sum512([]byte(token))
	tests := []struct {
		name, alg, value string
		want             string
		wantOK           bool
	}{
		// OpenID Connect Core 1.0, Appendix A.3: at_hash of this access token.
		{"OpenID Connect Core example", "RS256", token, "77QmUPtjPfzWtF2AnpK9RQ", true},
		{"RS256", "RS256", token, half(s256[:]), true},
		{"ES256", "ES256", token, half(s256[:]), true},
		{"PS256", "PS256", token, half(s256[:]), true},
		{"RS384", "RS384", token, half(s384[:]), true},
		{"ES384", "ES384", token, half(s384[:]), true},
		{"RS512", "RS512", token, half(s512[:]), true},
		{"ES512", "ES512", token, half(s512[:]), true},
		{"empty value", "RS256", "", func() string { s := sha256.Sum256(nil); return half(s[:]) }(), true},
		{"EdDSA unsupported", "EdDSA", token, "", false},
		{"none", "none", token, "", false},
		{"HS256", "HS256", token, "", false},
		{"lowercase", "rs256", token, "", false},
		{"empty alg", "", token, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := halfHash(tt.alg, tt.value)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("halfHash(%q) = %q, %v; want %q, %v", tt.alg, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
