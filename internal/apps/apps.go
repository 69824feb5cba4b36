// Package apps owns applications (relying parties): their validation
// (protocol settings included), redirect-URI and scope rules, client
// secrets, and who may sign into them.
//
// Its use cases (Service) take the acting party first, check its
// permission (internal/authz) and record each change in the audit log
// inside the change's transaction.
//
// It imports internal/storage, internal/field, internal/authz,
// internal/audit, and go-jose to check applications' JWK Sets.
package apps

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// Scopes TNO can release, in discovery order. Besides the standard OpenID
// Connect scopes, each ProConnect scope releases the claim of the same
// name; "mandates" releases the membership kind and an élu's mandates.
var scopes = []string{
	"openid", "profile", "email", "phone", "offline_access",
	"given_name", "usual_name", "uid", "siret", "siren",
	"organizational_unit", "belonging_population", "mandates",
}

// Scopes returns the scopes TNO supports.
func Scopes() []string { return slices.Clone(scopes) }

// KnownScope reports whether TNO supports scope s.
func KnownScope(s string) bool { return slices.Contains(scopes, s) }

// FieldError is one invalid input field (the one kind every use case
// returns).
type FieldError = field.Error

var clientIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$`)

// Validate checks an application's fields.
func Validate(a storage.Application) error {
	var errs []error
	add := func(name, format string, args ...any) {
		errs = append(errs, field.New(name, field.Invalid, format, args...))
	}
	if !clientIDRE.MatchString(a.ClientID) {
		add("client_id", "must be 1-128 letters, digits or . _ ~ -, got %q", a.ClientID)
	}
	if strings.TrimSpace(a.Name) == "" {
		add("name", "is required")
	}
	if a.OrgID == "" {
		add("organization", "is required")
	}
	switch a.ClientType {
	case storage.ClientConfidential, storage.ClientPublic:
	default:
		add("type", "must be %q or %q, got %q", storage.ClientConfidential, storage.ClientPublic, a.ClientType)
	}
	if len(a.RedirectURIs) == 0 {
		add("redirect_uris", "at least one redirect URI is required")
	}
	for _, u := range a.RedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			add("redirect_uris", "%v", err)
		}
	}
	for _, u := range a.PostLogoutRedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			add("post_logout_redirect_uris", "%v", err)
		}
	}
	for _, s := range a.Scopes {
		if !KnownScope(s) {
			add("scopes", "unknown scope %q", s)
		}
	}
	for _, k := range a.AllowedKinds {
		if k != storage.KindAgent && k != storage.KindElu {
			add("kinds", "unknown membership kind %q", k)
		}
	}
	validateSettings(a, add)
	validateTile(a.Tile, add)
	return errors.Join(errs...)
}

// ValidateRedirectURI checks a redirect URI at registration: absolute,
// no fragment, https — or http on a loopback host (development and
// native applications, RFC 8252 section 7.3).
func ValidateRedirectURI(raw string) error { return checkURL("redirect URI", raw) }

// checkURL applies the redirect-URI rules to any URL TNO sends people to
// or calls (jwks_uri, logout URIs); what names it in errors.
func checkURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s %q: %v", what, raw, err)
	}
	switch {
	case !u.IsAbs() || u.Host == "":
		return fmt.Errorf("%s %q must be absolute", what, raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%s %q must not have a fragment", what, raw)
	case u.User != nil:
		return fmt.Errorf("%s %q must not carry credentials", what, raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	default:
		return fmt.Errorf("%s %q must use https (http only on localhost)", what, raw)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RedirectURIAllowed reports whether uri is registered for a, by exact
// string comparison (no normalization, no prefix or wildcard).
func RedirectURIAllowed(a storage.Application, uri string) bool {
	return slices.Contains(a.RedirectURIs, uri)
}

// PostLogoutRedirectURIAllowed is RedirectURIAllowed for sign-out.
func PostLogoutRedirectURIAllowed(a storage.Application, uri string) bool {
	return slices.Contains(a.PostLogoutRedirectURIs, uri)
}

// ScopeAllowed reports whether a may request scope s.
func ScopeAllowed(a storage.Application, s string) bool {
	if !KnownScope(s) {
		return false
	}
	return s == "openid" || len(a.Scopes) == 0 || slices.Contains(a.Scopes, s)
}

const secretPrefix = "sha256:"

// NewSecret returns a new random client secret (256 bits, base64url) and
// the hash to store. Secrets are random, so a fast hash suffices; the
// comparison is constant-time.
func NewSecret() (secret, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("apps: crypto/rand failed: " + err.Error())
	}
	secret = base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret)
}

// HashSecret returns the stored form of a client secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return secretPrefix + hex.EncodeToString(sum[:])
}

// VerifySecret reports, in constant time, whether secret matches a's.
func VerifySecret(a storage.Application, secret string) bool {
	if a.SecretHash == "" || secret == "" {
		// Still spend the same work as a comparison.
		subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(HashSecret("x")))
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(a.SecretHash)) == 1
}

// Eligible returns the memberships, among ms, through which a person may
// sign into a at t: active memberships of the owner or of a granted
// organization, of an allowed kind.
func Eligible(a storage.Application, ms []storage.Membership, t time.Time) []storage.Membership {
	var out []storage.Membership
	for _, m := range ms {
		if !m.ActiveAt(t) {
			continue
		}
		if m.OrgID != a.OrgID && !slices.Contains(a.GrantedOrgIDs, m.OrgID) {
			continue
		}
		if len(a.AllowedKinds) > 0 && !slices.Contains(a.AllowedKinds, m.Kind) {
			continue
		}
		out = append(out, m)
	}
	return out
}
