package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// Client authentication with a signed JWT: private_key_jwt (RFC 7523
// section 2.2, OpenID Connect Core section 9).
const (
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// assertionLeeway absorbs clock skew between the client and TNO.
	assertionLeeway = 30 * time.Second
	// maxAssertionLifetime bounds exp - iat: an assertion is minted for
	// one request, not kept.
	maxAssertionLifetime = 10 * time.Minute
	maxAssertionLen      = 16 << 10
	maxJTILen            = 256
)

// assertionAlgs are the algorithms a client assertion may be signed
// with: asymmetric only, never "none" nor HMAC (a client secret shared
// with TNO is not a key the client alone holds).
var assertionAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.ES256, jose.ES384}

// assertionAlgNames lists assertionAlgs for discovery.
func assertionAlgNames() []string {
	out := make([]string, len(assertionAlgs))
	for i, a := range assertionAlgs {
		out[i] = string(a)
	}
	return out
}

// parseAssertion parses a client assertion, refusing any algorithm but
// assertionAlgs, and returns it with its claims, unverified: the caller
// verifies the signature before trusting them.
func parseAssertion(raw string) (*jwt.JSONWebToken, jwt.Claims, error) {
	var c jwt.Claims
	if len(raw) > maxAssertionLen {
		return nil, c, fmt.Errorf("client_assertion is longer than %d bytes", maxAssertionLen)
	}
	tok, err := jwt.ParseSigned(raw, assertionAlgs)
	if err != nil {
		return nil, c, errors.New("client_assertion is not a JWT signed with one of " + strings.Join(assertionAlgNames(), ", "))
	}
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return nil, c, errors.New("client_assertion claims are not valid JSON claims")
	}
	return tok, c, nil
}

// verifyClientAssertion authenticates app with the client assertion tok
// presented at endpoint (an absolute URL). The signature must verify
// with one of app's registered keys, and the claims follow RFC 7523
// section 3: iss and sub are the client ID; aud names TNO (the issuer,
// the token endpoint, or the endpoint called); exp is set and near; the
// jti is used once.
func (p *Provider) verifyClientAssertion(ctx context.Context, app storage.Application, tok *jwt.JSONWebToken, endpoint string) *oauthError {
	fail := func(d string) *oauthError { return errInvalidClient(d) }
	if len(tok.Headers) != 1 {
		return fail("client_assertion must carry exactly one signature")
	}
	h := tok.Headers[0]
	var (
		c          jwt.Claims
		verified   bool
		candidates []jose.JSONWebKey
	)
	for refreshed := false; ; refreshed = true {
		keys, err := p.clientKeys.keys(ctx, app, refreshed)
		if err != nil {
			p.log.WarnContext(ctx, "client assertion: keys unavailable", "client_id", app.ClientID, "err", err)
			return fail("the client's public keys are unavailable: " + err.Error())
		}
		candidates = verificationKeys(keys, h)
		for _, k := range candidates {
			if tok.Claims(k.Key, &c) == nil {
				verified = true
				break
			}
		}
		// A key ID the cached jwks_uri does not know, or no key ID and
		// no key verifies: the client may have rotated its keys; fetch
		// them again, once.
		if verified || refreshed || app.Settings.JWKSURI == "" || h.KeyID != "" && len(candidates) > 0 {
			break
		}
	}
	switch {
	case verified:
	case h.KeyID != "" && len(candidates) == 0:
		return fail(fmt.Sprintf("client_assertion signature does not verify: no registered key of the client has kid %q for %s", h.KeyID, h.Algorithm))
	case h.KeyID != "":
		return fail(fmt.Sprintf("client_assertion signature does not verify with the client's registered key %q", h.KeyID))
	default:
		return fail("client_assertion signature does not verify with any of the client's registered keys")
	}
	now := p.now()
	exp, oe := checkAssertionClaims(c, app.ClientID, []string{p.issuer, p.url(pathToken), endpoint}, now)
	if oe != nil {
		return oe
	}
	switch err := p.store.UseClientAssertion(ctx, app.ClientID, c.ID, exp.Add(assertionLeeway), now); {
	case errors.Is(err, storage.ErrAlreadyUsed):
		p.log.WarnContext(ctx, "client assertion replayed", "client_id", app.ClientID)
		return fail("client_assertion was already used (jti replay)")
	case err != nil:
		p.log.ErrorContext(ctx, "client assertion: record jti", "client_id", app.ClientID, "err", err)
		return errServerError("try again later")
	}
	return nil
}

// checkAssertionClaims checks the claims of a verified client assertion
// and returns its expiry.
func checkAssertionClaims(c jwt.Claims, clientID string, audiences []string, now time.Time) (time.Time, *oauthError) {
	fail := func(d string) (time.Time, *oauthError) { return time.Time{}, errInvalidClient(d) }
	switch {
	case c.Issuer != clientID || c.Subject != clientID:
		return fail("client_assertion iss and sub must both be the client_id")
	case !slices.ContainsFunc(audiences, c.Audience.Contains):
		return fail("client_assertion aud must name this server: its issuer or the endpoint URL")
	case c.Expiry == nil:
		return fail("client_assertion has no exp")
	case c.ID == "":
		return fail("client_assertion has no jti")
	case len(c.ID) > maxJTILen:
		return fail(fmt.Sprintf("client_assertion jti is longer than %d characters", maxJTILen))
	}
	exp := c.Expiry.Time()
	if !now.Before(exp.Add(assertionLeeway)) {
		return fail("client_assertion has expired")
	}
	start := now
	if c.IssuedAt != nil {
		start = c.IssuedAt.Time()
		if start.After(now.Add(assertionLeeway)) {
			return fail("client_assertion iat is in the future")
		}
	}
	if c.NotBefore != nil && c.NotBefore.Time().After(now.Add(assertionLeeway)) {
		return fail("client_assertion is not valid yet (nbf)")
	}
	if exp.Sub(start) > maxAssertionLifetime {
		return fail(fmt.Sprintf("client_assertion lives too long: exp must be at most %v after iat", maxAssertionLifetime))
	}
	return exp, nil
}

// verificationKeys returns the keys of set that may have made a
// signature with header h: the key ID's when h has one, else every key;
// never an encryption key, nor a key registered for another algorithm
// or of the wrong type.
func verificationKeys(set jose.JSONWebKeySet, h jose.Header) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range set.Keys {
		if h.KeyID != "" && k.KeyID != h.KeyID || k.Use == "enc" || k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		switch k.Key.(type) {
		case *rsa.PublicKey:
			if !strings.HasPrefix(h.Algorithm, "RS") && !strings.HasPrefix(h.Algorithm, "PS") {
				continue
			}
		case *ecdsa.PublicKey:
			if !strings.HasPrefix(h.Algorithm, "ES") {
				continue
			}
		default: // Ed25519: EdDSA is not among assertionAlgs
			continue
		}
		out = append(out, k)
	}
	return out
}

// Keys fetched from a client's jwks_uri are cached for jwksTTL, and
// fetched again before that on an unknown key ID, at most once per
// jwksMinRefresh (a stream of assertions with made-up key IDs must not
// turn TNO against the client's server).
const (
	jwksTTL        = 5 * time.Minute
	jwksMinRefresh = 10 * time.Second
	maxJWKSBody    = 64 << 10
)

// clientKeySource returns applications' public keys: the inline JWK Set,
// or the one at jwks_uri, fetched with its own HTTP client and cached per
// URI.
type clientKeySource struct {
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	mu    sync.Mutex
	cache map[string]*jwksEntry // by URI
}

// jwksEntry is one cached jwks_uri; mu is held while fetching, so that
// concurrent requests wait for one fetch.
type jwksEntry struct {
	mu        sync.Mutex
	set       jose.JSONWebKeySet
	fetchedAt time.Time // zero: nothing usable cached
	triedAt   time.Time
	err       error // of the last attempt
}

func newClientKeySource(now func() time.Time, log *slog.Logger) *clientKeySource {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &clientKeySource{
		client: &http.Client{
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           dialer.DialContext,
				TLSHandshakeTimeout:   5 * time.Second,
				ResponseHeaderTimeout: 5 * time.Second,
				MaxIdleConns:          16,
				IdleConnTimeout:       90 * time.Second,
				ForceAttemptHTTP2:     true,
			},
			Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return errors.New("redirects are not followed")
			},
		},
		now: now, log: log, cache: map[string]*jwksEntry{},
	}
}

// keys returns app's public keys. refresh asks for a jwks_uri to be
// fetched again, which happens unless it was tried less than
// jwksMinRefresh ago.
func (s *clientKeySource) keys(ctx context.Context, app storage.Application, refresh bool) (jose.JSONWebKeySet, error) {
	switch {
	case app.Settings.JWKS != "":
		set, err := apps.ParseJWKS(app.Settings.JWKS)
		if err != nil { // validated when registered: cannot happen
			return set, fmt.Errorf("the registered JWK Set is invalid: %w", err)
		}
		return set, nil
	case app.Settings.JWKSURI == "":
		return jose.JSONWebKeySet{}, errors.New("no jwks or jwks_uri is registered")
	}
	uri := app.Settings.JWKSURI
	s.mu.Lock()
	e := s.cache[uri]
	if e == nil {
		e = &jwksEntry{}
		s.cache[uri] = e
	}
	s.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	now := s.now()
	fresh := !e.fetchedAt.IsZero() && now.Sub(e.fetchedAt) < jwksTTL
	mayTry := e.triedAt.IsZero() || now.Sub(e.triedAt) >= jwksMinRefresh
	switch {
	case fresh && (!refresh || !mayTry):
		return e.set, nil
	case !fresh && !mayTry && e.err != nil:
		return jose.JSONWebKeySet{}, e.err
	}
	e.triedAt = now
	set, err := s.fetch(ctx, uri)
	if err != nil {
		s.log.WarnContext(ctx, "jwks_uri fetch failed", "client_id", app.ClientID, "err", err)
		e.err = errors.New("jwks_uri could not be fetched")
		if fresh {
			return e.set, nil
		}
		e.set, e.fetchedAt = jose.JSONWebKeySet{}, time.Time{}
		return e.set, e.err
	}
	e.set, e.fetchedAt, e.err = set, now, nil
	return set, nil
}

// fetch GETs a JWK Set: 200, at most maxJWKSBody bytes, public keys only
// (apps.ParseJWKS).
func (s *clientKeySource) fetch(ctx context.Context, uri string) (jose.JSONWebKeySet, error) {
	var none jose.JSONWebKeySet
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return none, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return none, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return none, fmt.Errorf("GET %s: status %d", uri, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBody+1))
	if err != nil {
		return none, fmt.Errorf("GET %s: %w", uri, err)
	}
	if len(body) > maxJWKSBody {
		return none, fmt.Errorf("GET %s: larger than %d KiB", uri, maxJWKSBody>>10)
	}
	set, err := apps.ParseJWKS(string(body))
	if err != nil {
		return none, fmt.Errorf("GET %s: %w", uri, err)
	}
	return set, nil
}
