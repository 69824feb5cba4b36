package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// errInvalidHint marks an id_token_hint that is not an ID token this
// provider signed.
var errInvalidHint = errors.New("invalid id_token_hint")

// maxHintLength bounds the id_token_hint accepted (ours are about 1 KB).
const maxHintLength = 16 << 10

// idTokenHint is what a verified id_token_hint tells.
type idTokenHint struct {
	ClientID string // the application it was issued to
	Subject  string
	SID      string // session it was issued in, "" if none
}

// publicKeySource is implemented by signers that give their published
// keys directly (keys.Manager), sparing a JWKS round trip through JSON.
type publicKeySource interface {
	PublicKeys(ctx context.Context) (jose.JSONWebKeySet, error)
}

func (p *Provider) publicKeys(ctx context.Context) (jose.JSONWebKeySet, error) {
	if src, ok := p.signer.(publicKeySource); ok {
		return src.PublicKeys(ctx)
	}
	var set jose.JSONWebKeySet
	b, err := p.signer.JWKS(ctx)
	if err != nil {
		return set, err
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return set, fmt.Errorf("parse JWKS: %w", err)
	}
	return set, nil
}

// verifyIDTokenHint checks that raw is an ID token this provider signed
// (RP-Initiated Logout 1.0 section 2): signature by a published key, iss,
// and the shape of an ID token — not a logout token or an access token
// JWT. Expiry is not checked: the specification lets a relying party send
// an expired ID token as a hint. Errors wrap errInvalidHint, except a
// failure to read the keys.
func (p *Provider) verifyIDTokenHint(ctx context.Context, raw string) (idTokenHint, error) {
	invalid := func(format string, args ...any) (idTokenHint, error) {
		return idTokenHint{}, fmt.Errorf("%w: "+format, append([]any{errInvalidHint}, args...)...)
	}
	if len(raw) > maxHintLength {
		return invalid("longer than %d bytes", maxHintLength)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return invalid("%v", err)
	}
	if len(tok.Headers) != 1 {
		return invalid("%d signatures", len(tok.Headers))
	}
	h := tok.Headers[0]
	if typ, ok := h.ExtraHeaders[jose.HeaderType]; ok {
		if s, _ := typ.(string); !strings.EqualFold(s, "JWT") {
			return invalid("typ %v is not an ID token's", typ)
		}
	}
	set, err := p.publicKeys(ctx)
	if err != nil {
		return idTokenHint{}, fmt.Errorf("id_token_hint: keys: %w", err)
	}
	candidates := set.Keys
	if h.KeyID != "" {
		candidates = set.Key(h.KeyID)
	}
	var (
		std   jwt.Claims
		extra struct {
			AuthorizedParty string          `json:"azp"`
			SID             string          `json:"sid"`
			Events          json.RawMessage `json:"events"`
		}
		verified bool
	)
	for _, k := range candidates {
		if err := tok.Claims(k, &std, &extra); err == nil {
			verified = true
			break
		}
	}
	switch {
	case !verified:
		return invalid("signature not verified by a published key (kid %q)", h.KeyID)
	case std.Issuer != p.issuer:
		return invalid("issued by %q", std.Issuer)
	case len(extra.Events) > 0:
		return invalid("a logout token is not an ID token")
	case std.Subject == "" || len(std.Audience) == 0:
		return invalid("sub or aud missing")
	}
	clientID := std.Audience[0]
	if len(std.Audience) > 1 {
		if extra.AuthorizedParty == "" || !std.Audience.Contains(extra.AuthorizedParty) {
			return invalid("several audiences and no azp among them")
		}
		clientID = extra.AuthorizedParty
	}
	return idTokenHint{ClientID: clientID, Subject: std.Subject, SID: extra.SID}, nil
}
