package apps

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// Grant types an application may be given besides authorization_code,
// which every application has.
const (
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Client authentication methods at the token endpoint.
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthPrivateKeyJWT     = "private_key_jwt"
	AuthNone              = "none"
)

// Subject identifier types (OpenID Connect Core section 8).
const (
	SubjectPublic   = "public"
	SubjectPairwise = "pairwise"
)

var (
	grantTypes   = []string{GrantRefreshToken, GrantClientCredentials}
	authMethods  = []string{AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT, AuthNone}
	subjectTypes = []string{SubjectPublic, SubjectPairwise}
	// signingAlgs are the algorithms TNO signs with (internal/keys).
	signingAlgs = []string{"RS256", "ES256"}
)

// GrantTypes returns the grant types an application may be given besides
// authorization_code.
func GrantTypes() []string { return slices.Clone(grantTypes) }

// AuthMethods returns the token endpoint authentication methods.
func AuthMethods() []string { return slices.Clone(authMethods) }

// requirableACRs are the levels an application may require (those a
// sign-in reaches).
var requirableACRs = []string{"eidas1", "eidas2"}

// RequirableACRs returns the levels an application may require.
func RequirableACRs() []string { return slices.Clone(requirableACRs) }

// SubjectTypes returns the subject identifier types.
func SubjectTypes() []string { return slices.Clone(subjectTypes) }

// SigningAlgs returns the algorithms an application may ask signed
// responses in.
func SigningAlgs() []string { return slices.Clone(signingAlgs) }

// UsesSecret reports whether a authenticates with a client secret: a
// confidential application, unless it authenticates with its keys
// (private_key_jwt).
func UsesSecret(a storage.Application) bool {
	return a.ClientType == storage.ClientConfidential && a.Settings.TokenEndpointAuthMethod != AuthPrivateKeyJWT
}

// minRSABits is the smallest RSA key accepted (ANSSI, NIST).
const minRSABits = 2048

// maxJWKSLen bounds an inline JWK Set: a few public keys take a few KB.
const maxJWKSLen = 64 << 10

// validateSettings checks a.Settings, reporting each problem with add
// under its registration metadata name (RFC 7591, OpenID Connect
// Dynamic Client Registration and Logout specifications).
func validateSettings(a storage.Application, add func(field, format string, args ...any)) {
	s := a.Settings
	public := a.ClientType == storage.ClientPublic
	confidential := a.ClientType == storage.ClientConfidential

	grants := make(map[string]bool)
	for _, g := range s.GrantTypes {
		switch {
		case g == "authorization_code":
			add("grant_types", "authorization_code is always allowed: list only %s", strings.Join(grantTypes, " or "))
		case !slices.Contains(grantTypes, g):
			add("grant_types", "unknown grant type %q (want %s)", g, strings.Join(grantTypes, " or "))
		case grants[g]:
			add("grant_types", "%q is listed twice", g)
		}
		grants[g] = true
	}
	if grants[GrantClientCredentials] && public {
		add("grant_types", "client_credentials needs a confidential application: a public one cannot authenticate")
	}
	if s.RefreshTokens && !grants[GrantRefreshToken] {
		add("refresh_tokens", "needs the refresh_token grant type")
	}

	for _, sc := range s.ClientCredentialsScopes {
		switch {
		case sc == "openid" || sc == "offline_access":
			add("client_credentials_scopes", "%q concerns a person and cannot be granted to the application itself", sc)
		case !KnownScope(sc):
			add("client_credentials_scopes", "unknown scope %q", sc)
		}
	}
	if len(s.ClientCredentialsScopes) > 0 && !grants[GrantClientCredentials] {
		add("client_credentials_scopes", "needs the client_credentials grant type")
	}

	switch m := s.TokenEndpointAuthMethod; {
	case m == "":
	case !slices.Contains(authMethods, m):
		add("token_endpoint_auth_method", "%s", oneOf(m, authMethods))
	case public && m != AuthNone:
		add("token_endpoint_auth_method", "a public application has no credentials: want %q (or nothing), got %q", AuthNone, m)
	case confidential && m == AuthNone:
		add("token_endpoint_auth_method", "a confidential application must authenticate: want %s, %s or %s",
			AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT)
	case m == AuthPrivateKeyJWT && s.JWKS == "" && s.JWKSURI == "":
		add("token_endpoint_auth_method", "private_key_jwt needs the application's public keys: set jwks or jwks_uri")
	}

	if s.JWKS != "" && s.JWKSURI != "" {
		add("jwks", "set jwks or jwks_uri, not both")
	}
	if s.JWKS != "" {
		if _, err := ParseJWKS(s.JWKS); err != nil {
			add("jwks", "%v", err)
		}
	}
	if s.JWKSURI != "" {
		if err := checkURL("URI", s.JWKSURI); err != nil {
			add("jwks_uri", "%v", err)
		}
	}

	if t := s.SubjectType; t != "" && !slices.Contains(subjectTypes, t) {
		add("subject_type", "%s", oneOf(t, subjectTypes))
	} else if t == SubjectPairwise && len(a.RedirectURIs) > 0 { // none: reported above
		if _, err := SectorIdentifier(a); err != nil {
			add("subject_type", "%v", err)
		}
	}
	if l := s.RequireACR; l != "" && !slices.Contains(requirableACRs, l) {
		add("require_acr", "%s", oneOf(l, requirableACRs))
	}
	if alg := s.UserinfoSignedResponseAlg; alg != "" && !slices.Contains(signingAlgs, alg) {
		add("userinfo_signed_response_alg", "%s", oneOf(alg, signingAlgs))
	}

	if u := s.FrontchannelLogoutURI; u != "" {
		if err := checkURL("URI", u); err != nil {
			add("frontchannel_logout_uri", "%v", err)
		} else if !sameOriginAsOne(u, a.RedirectURIs) {
			// OpenID Connect Front-Channel Logout 1.0, section 2.
			add("frontchannel_logout_uri", "%q must have the scheme, host and port of a redirect URI", u)
		}
	} else if s.FrontchannelLogoutSessionRequired {
		add("frontchannel_logout_session_required", "needs frontchannel_logout_uri")
	}
	if u := s.BackchannelLogoutURI; u != "" {
		if err := checkURL("URI", u); err != nil {
			add("backchannel_logout_uri", "%v", err)
		}
	} else if s.BackchannelLogoutSessionRequired {
		add("backchannel_logout_session_required", "needs backchannel_logout_uri")
	}
}

// SectorIdentifier returns the sector of a pairwise application (OpenID
// Connect Core section 8.1): the host of its redirect URIs, lower case,
// without the port. All of them must share that host, since the sector
// keys the application's subject identifiers; sector_identifier_uri,
// which would group several hosts, is not supported.
func SectorIdentifier(a storage.Application) (string, error) {
	var sector string
	for _, raw := range a.RedirectURIs {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			return "", fmt.Errorf("pairwise: redirect URI %q has no host", raw)
		}
		host := strings.ToLower(u.Hostname())
		switch {
		case sector == "":
			sector = host
		case host != sector:
			return "", fmt.Errorf("pairwise: every redirect URI must have the same host (the sector), got %q and %q", sector, host)
		}
	}
	if sector == "" {
		return "", errors.New("pairwise: the application needs a redirect URI, whose host is its sector")
	}
	return sector, nil
}

func oneOf(got string, choices []string) string {
	return fmt.Sprintf("%q is not one of %s", got, strings.Join(choices, ", "))
}

// sameOriginAsOne reports whether raw has the scheme, host and port of
// one of uris. Both are valid absolute URLs when it matters.
func sameOriginAsOne(raw string, uris []string) bool {
	o, ok := origin(raw)
	if !ok {
		return false
	}
	return slices.ContainsFunc(uris, func(u string) bool {
		ro, ok := origin(u)
		return ok && ro == o
	})
}

// origin returns scheme://host:port with the default port made explicit.
func origin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[scheme]
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port, true
}

// ParseJWKS parses an application's inline JWK Set and checks that it
// holds at least one key, only public keys (never a private or symmetric
// one; RSA of 2048 bits or more), with distinct key IDs.
func ParseJWKS(raw string) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if len(raw) > maxJWKSLen {
		return set, fmt.Errorf("the JWK Set is larger than %d KiB", maxJWKSLen>>10)
	}
	// Decode the members first: JSONWebKeySet would ignore everything
	// but "keys", and a lone JWK would pass for an empty set.
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return set, errors.New(`not a JSON JWK Set: want {"keys": [...]}`)
	}
	if _, ok := doc["keys"]; !ok {
		if _, lone := doc["kty"]; lone {
			return set, errors.New(`a single JWK, not a JWK Set: wrap it as {"keys": [...]}`)
		}
		return set, errors.New(`no "keys" member: want {"keys": [...]}`)
	}
	var keys []json.RawMessage
	if err := json.Unmarshal(doc["keys"], &keys); err != nil {
		return set, errors.New(`"keys" must be a list of JWKs`)
	}
	if len(keys) == 0 {
		return set, errors.New("the JWK Set holds no key")
	}
	kids := make(map[string]bool)
	for i, rawKey := range keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(rawKey); err != nil {
			return set, fmt.Errorf("key %d: %v", i, strings.TrimPrefix(err.Error(), "go-jose/go-jose: "))
		}
		name := fmt.Sprintf("key %d", i)
		if k.KeyID != "" {
			name = fmt.Sprintf("key %d (kid %q)", i, k.KeyID)
		}
		switch pk := k.Key.(type) {
		case *rsa.PublicKey:
			if pk.N.BitLen() < minRSABits {
				return jose.JSONWebKeySet{}, fmt.Errorf("%s: RSA key of %d bits, want at least %d", name, pk.N.BitLen(), minRSABits)
			}
		case *ecdsa.PublicKey, ed25519.PublicKey:
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			return jose.JSONWebKeySet{}, fmt.Errorf("%s is a private key: register only its public part (a private key never leaves the application)", name)
		case []byte:
			return jose.JSONWebKeySet{}, fmt.Errorf("%s is a symmetric key: register only public keys", name)
		default:
			return jose.JSONWebKeySet{}, fmt.Errorf("%s: unsupported key type %T", name, k.Key)
		}
		if !k.Valid() {
			return jose.JSONWebKeySet{}, fmt.Errorf("%s is not a valid public key", name)
		}
		if k.KeyID != "" {
			if kids[k.KeyID] {
				return jose.JSONWebKeySet{}, fmt.Errorf("%s: kid %q is used twice", name, k.KeyID)
			}
			kids[k.KeyID] = true
		}
		set.Keys = append(set.Keys, k)
	}
	return set, nil
}

// NormalizeJWKS checks raw with ParseJWKS and returns it in canonical
// JSON form (compact, members sorted), so that equal sets compare equal
// as strings.
func NormalizeJWKS(raw string) (string, error) {
	if _, err := ParseJWKS(raw); err != nil {
		return "", err
	}
	return canonicalJSON(raw)
}

// canonicalJSON re-encodes a JSON document compactly with sorted object
// members, keeping numbers as written.
func canonicalJSON(raw string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
