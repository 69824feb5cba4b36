package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// settingsView is an application's protocol settings (apps.SettingsView).
type settingsView = apps.SettingsView

// settingsFlags are the flags of the protocol settings.
type settingsFlags struct {
	grantTypes, ccScopes                                 listFlag
	refreshTokens, requirePAR, fcSession, bcSession      bool
	authMethod, jwksFile, jwksURI, subjectType, userinfo string
	requireACR                                           string
	fcURI, bcURI                                         string
}

func (f *settingsFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.grantTypes, "grant-type", "grant type besides authorization_code: "+strings.Join(apps.GrantTypes(), " or ")+" (repeatable)")
	fs.BoolVar(&f.refreshTokens, "refresh-tokens", false, "issue refresh tokens even without the offline_access scope (needs --grant-type refresh_token)")
	fs.Var(&f.ccScopes, "client-credentials-scope", "scope granted to the application itself with client_credentials (repeatable)")
	fs.StringVar(&f.authMethod, "token-auth-method", "", "token endpoint authentication: "+strings.Join(apps.AuthMethods(), ", ")+
		" (default: client_secret_basic or client_secret_post for confidential, none for public)")
	fs.StringVar(&f.jwksFile, "jwks-file", "", "JSON JWK Set of the application's public keys, stored inline (for private_key_jwt)")
	fs.StringVar(&f.jwksURI, "jwks-uri", "", "URL of the application's JWK Set (for private_key_jwt)")
	fs.BoolVar(&f.requirePAR, "require-par", false, "accept only pushed authorization requests (RFC 9126)")
	fs.StringVar(&f.requireACR, "require-acr", "", "lowest sign-in level: "+strings.Join(apps.RequirableACRs(), " or ")+
		" (eidas2: a second factor, enrolled at sign-in by who has none; default: none)")
	fs.StringVar(&f.subjectType, "subject-type", "", "sub given to the application: public (the same for every application, default) or pairwise")
	fs.StringVar(&f.userinfo, "userinfo-signed-alg", "", "answer userinfo as a JWT signed with "+strings.Join(apps.SigningAlgs(), " or ")+" (default: plain JSON)")
	fs.StringVar(&f.fcURI, "frontchannel-logout-uri", "", "front-channel logout URL (same scheme, host and port as a redirect URI)")
	fs.BoolVar(&f.fcSession, "frontchannel-logout-session-required", false, "send iss and sid to the front-channel logout URL")
	fs.StringVar(&f.bcURI, "backchannel-logout-uri", "", "back-channel logout URL, to which TNO posts logout tokens")
	fs.BoolVar(&f.bcSession, "backchannel-logout-session-required", false, "logout tokens must carry sid")
}

// emptyLists lets a single "" empty a list on update.
func (f *settingsFlags) emptyLists() []*listFlag {
	return []*listFlag{&f.grantTypes, &f.ccScopes}
}

// apply copies the given flags onto s. --jwks-file is read, checked and
// stored in canonical form; given empty, it removes the inline keys.
func (f *settingsFlags) apply(s *storage.ClientSettings, set map[string]bool) error {
	if set["grant-type"] {
		s.GrantTypes = f.grantTypes
	}
	if set["refresh-tokens"] {
		s.RefreshTokens = f.refreshTokens
	}
	if set["client-credentials-scope"] {
		s.ClientCredentialsScopes = f.ccScopes
	}
	if set["token-auth-method"] {
		s.TokenEndpointAuthMethod = f.authMethod
	}
	if set["jwks-file"] {
		s.JWKS = ""
		if f.jwksFile != "" {
			data, err := os.ReadFile(f.jwksFile)
			if err != nil {
				return fmt.Errorf("--jwks-file: %w", err)
			}
			jwks, err := apps.NormalizeJWKS(string(data))
			if err != nil {
				return fmt.Errorf("--jwks-file %s: %w", f.jwksFile, err)
			}
			s.JWKS = jwks
		}
	}
	if set["jwks-uri"] {
		s.JWKSURI = f.jwksURI
	}
	if set["require-par"] {
		s.RequirePAR = f.requirePAR
	}
	if set["subject-type"] {
		s.SubjectType = f.subjectType
	}
	if set["require-acr"] {
		s.RequireACR = f.requireACR
	}
	if set["userinfo-signed-alg"] {
		s.UserinfoSignedResponseAlg = f.userinfo
	}
	if set["frontchannel-logout-uri"] {
		s.FrontchannelLogoutURI = f.fcURI
	}
	if set["frontchannel-logout-session-required"] {
		s.FrontchannelLogoutSessionRequired = f.fcSession
	}
	if set["backchannel-logout-uri"] {
		s.BackchannelLogoutURI = f.bcURI
	}
	if set["backchannel-logout-session-required"] {
		s.BackchannelLogoutSessionRequired = f.bcSession
	}
	return nil
}

// algMismatch explains why signed userinfo in an algorithm other than
// signing.algorithm may not be honoured; "" when they agree.
func algMismatch(cfg config.Config, s storage.ClientSettings) string {
	alg := s.UserinfoSignedResponseAlg
	if alg == "" || alg == cfg.Signing.Algorithm {
		return ""
	}
	return fmt.Sprintf("userinfo_signed_response_alg %s differs from signing.algorithm %s, the algorithm of TNO's signing keys", alg, cfg.Signing.Algorithm)
}

func warnAlg(env *cliEnv, cfg config.Config, s storage.ClientSettings) {
	if w := algMismatch(cfg, s); w != "" {
		fmt.Fprintln(env.stderr, "warning: "+w)
	}
}

// settingsSynopsis is the usage line of the settings flags.
const settingsSynopsis = "[--grant-type refresh_token|client_credentials...] [--refresh-tokens] [--client-credentials-scope S...] " +
	"[--token-auth-method M] [--jwks-file FILE | --jwks-uri URL] [--require-par] [--require-acr eidas1|eidas2] [--subject-type public|pairwise] " +
	"[--userinfo-signed-alg RS256|ES256] [--frontchannel-logout-uri URL [--frontchannel-logout-session-required]] " +
	"[--backchannel-logout-uri URL [--backchannel-logout-session-required]]"

// settingsFields returns the "key", "value" pairs app show prints.
func settingsFields(typ string, v settingsView) []string {
	grants := append([]string{"authorization_code"}, v.GrantTypes...)
	refresh := "with the offline_access scope"
	if v.RefreshTokens {
		refresh = "always"
	}
	method := v.TokenEndpointAuthMethod
	if method == "" {
		method = "client_secret_basic or client_secret_post (default)"
		if typ == storage.ClientPublic {
			method = "none (default)"
		}
	}
	subject := v.SubjectType
	if subject == "" {
		subject = "public (default)"
	}
	userinfo := "JSON"
	if v.UserinfoSignedResponseAlg != "" {
		userinfo = "JWT signed with " + v.UserinfoSignedResponseAlg
	}
	return []string{
		"grant types", strings.Join(grants, ", "),
		"refresh tokens", refresh,
		"client credentials scopes", strings.Join(v.ClientCredentialsScopes, " "),
		"token auth method", method,
		"jwks", describeJWKS(v.JWKS),
		"jwks_uri", v.JWKSURI,
		"require PAR", yesNo(v.RequirePAR),
		"required level", orNone(v.RequireACR),
		"subject type", subject,
		"userinfo", userinfo,
		"front-channel logout", withSession(v.FrontchannelLogoutURI, v.FrontchannelLogoutSessionRequired, "iss and sid sent"),
		"back-channel logout", withSession(v.BackchannelLogoutURI, v.BackchannelLogoutSessionRequired, "sid required"),
	}
}

// describeJWKS summarizes an inline JWK Set: its number of keys and
// their kids.
func describeJWKS(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	set, err := apps.ParseJWKS(string(raw))
	if err != nil {
		return "invalid: " + err.Error()
	}
	var kids []string
	for _, k := range set.Keys {
		kid := k.KeyID
		if kid == "" {
			kid = "(no kid)"
		}
		kids = append(kids, kid+" "+keyType(k.Key))
	}
	return fmt.Sprintf("inline, %d key(s): %s", len(set.Keys), strings.Join(kids, ", "))
}

func keyType(k any) string {
	switch k := k.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "EC " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", k)
}

func withSession(uri string, required bool, what string) string {
	if uri == "" || !required {
		return uri
	}
	return uri + " (" + what + ")"
}
