package server_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// rpSigner is a relying party's own key, as a client library holding it
// would use it: it signs client assertions (RFC 7523) with go-jose.
type rpSigner struct {
	t        *testing.T
	clientID string
	alg      jose.SignatureAlgorithm
	kid      string
	key      crypto.Signer
}

func newECSigner(t *testing.T, clientID, kid string) *rpSigner {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &rpSigner{t: t, clientID: clientID, alg: jose.ES256, kid: kid, key: k}
}

func newRSASigner(t *testing.T, clientID, kid string) *rpSigner {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &rpSigner{t: t, clientID: clientID, alg: jose.PS256, kid: kid, key: k}
}

// jwks returns the public JWK Set of signers, as registered.
func jwks(t *testing.T, signers ...*rpSigner) string {
	var set jose.JSONWebKeySet
	for _, s := range signers {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: s.key.Public(), KeyID: s.kid, Algorithm: string(s.alg), Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assertion returns a client assertion for aud, issued at now, valid a
// minute, with a random jti.
func (s *rpSigner) assertion(aud string, now time.Time) string {
	s.t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: jose.JSONWebKey{Key: s.key, KeyID: s.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		s.t.Fatal(err)
	}
	raw, err := jwt.Signed(sig).Claims(jwt.Claims{
		Issuer: s.clientID, Subject: s.clientID, Audience: jwt.Audience{aud}, ID: rand.Text(),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
	}).Serialize()
	if err != nil {
		s.t.Fatal(err)
	}
	return raw
}

// withAssertion adds private_key_jwt client authentication to form.
func withAssertion(form url.Values, a string) url.Values {
	v := url.Values{"client_assertion_type": {assertionType}, "client_assertion": {a}}
	for k, vs := range form {
		v[k] = vs
	}
	return v
}

// post posts form to a protocol endpoint, with HTTP Basic if basicID is
// set.
func (h *harness) post(path string, form url.Values, basicID, basicSecret string) (*http.Response, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// keyApp registers a confidential application of the métropole that
// authenticates with private_key_jwt, its keys inline or at jwksURI.
func (h *harness) keyApp(clientID, inlineJWKS, jwksURI string) {
	h.t.Helper()
	a := h.app(clientID, storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Settings.TokenEndpointAuthMethod = apps.AuthPrivateKeyJWT
		a.Settings.JWKS, a.Settings.JWKSURI = inlineJWKS, jwksURI
	})
	if h.secrets[clientID] != "" || a.SecretHash != "" {
		h.t.Fatalf("a private_key_jwt application got a secret")
	}
}

// TestPrivateKeyJWTSignIn signs in to a private_key_jwt application with
// third-party libraries: golang.org/x/oauth2 sends the code and a client
// assertion signed with go-jose, coreos/go-oidc checks the ID token. The
// same keys then authenticate at introspection and revocation, and every
// weaker or broken attempt gets 401 invalid_client.
func TestPrivateKeyJWTSignIn(t *testing.T) {
	h := newHarness(t)
	person := h.person("jdupont", h.metropole)
	paie := newECSigner(t, "paie", "paie-2026")
	h.keyApp("paie", jwks(t, paie), "")
	ctx := oidc.ClientContext(t.Context(), h.srv.Client())
	provider, err := oidc.NewProvider(ctx, h.issuer)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Methods []string `json:"token_endpoint_auth_methods_supported"`
		Algs    []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	}
	if err := provider.Claims(&meta); err != nil || !slices.Contains(meta.Methods, "private_key_jwt") || !slices.Contains(meta.Algs, "ES256") {
		t.Fatalf("discovery: %+v %v", meta, err)
	}
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = oauth2.AuthStyleInParams
	rp := oauth2.Config{ClientID: "paie", RedirectURL: rpCallback, Endpoint: endpoint, Scopes: []string{oidc.ScopeOpenID, "profile"}}

	b := h.browser()
	_, body := get(t, b, rp.AuthCodeURL("st", oidc.Nonce("n-pkj")))
	resp, _ := h.login(b, body, "jdupont", password)
	code := callback(t, resp, rpCallback).Get("code")
	now := h.clock.now()
	tok, err := rp.Exchange(ctx, code,
		oauth2.SetAuthURLParam("client_assertion_type", assertionType),
		oauth2.SetAuthURLParam("client_assertion", paie.assertion(endpoint.TokenURL, now)))
	if err != nil {
		t.Fatalf("exchange with a client assertion: %v", err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: "paie", Now: h.clock.now}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil || idt.Subject != person.ID || idt.Nonce != "n-pkj" {
		t.Fatalf("ID token: %+v, %v", idt, err)
	}

	// Introspection and revocation, with aud the issuer (OpenID Connect
	// Core) and the endpoint (RFC 7523).
	introspect := func(a string) (*http.Response, string) {
		return h.post("/introspect", withAssertion(url.Values{"token": {tok.AccessToken}}, a), "", "")
	}
	a := paie.assertion(h.issuer, now)
	if resp, body := introspect(a); resp.StatusCode != http.StatusOK || jsonField(t, body, "username") != "jdupont" {
		t.Fatalf("introspection: %d %s", resp.StatusCode, body)
	}
	resp, body = introspect(a)
	wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	if !strings.Contains(body, "already used") {
		t.Errorf("replayed assertion: %s", body)
	}
	resp, body = h.post("/revoke", withAssertion(url.Values{"token": {tok.AccessToken}}, paie.assertion(h.issuer+"/revoke", now)), "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation: %d %s", resp.StatusCode, body)
	}
	if resp, body := introspect(paie.assertion(h.issuer+"/introspect", now)); resp.StatusCode != http.StatusOK || body != "{\"active\":false}\n" {
		t.Errorf("introspection after revocation: %d %s", resp.StatusCode, body)
	}

	// Weaker or broken attempts.
	other := newECSigner(t, "paie", "paie-2026") // same kid, another key
	stale := paie.assertion(endpoint.TokenURL, now.Add(-2*time.Minute))
	for name, tt := range map[string]struct {
		form            url.Values
		basicID, secret string
	}{
		"Basic with an empty secret":     {url.Values{}, "paie", ""},
		"client_secret_post":             {url.Values{"client_id": {"paie"}, "client_secret": {""}}, "", ""},
		"none":                           {url.Values{"client_id": {"paie"}}, "", ""},
		"another key":                    {withAssertion(url.Values{}, other.assertion(endpoint.TokenURL, now)), "", ""},
		"expired assertion":              {withAssertion(url.Values{}, stale), "", ""},
		"assertion for another server":   {withAssertion(url.Values{}, paie.assertion("https://idp.example/token", now)), "", ""},
		"assertion for the PAR endpoint": {withAssertion(url.Values{}, paie.assertion(h.issuer+"/par", now)), "", ""},
	} {
		t.Run(name, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}}
			for k, vs := range tt.form {
				form[k] = vs
			}
			resp, body := h.post("/token", form, tt.basicID, tt.secret)
			wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

// TestPrivateKeyJWTKeysFromJWKSURI exchanges a code with keys the
// application publishes at its jwks_uri, then rotates them.
func TestPrivateKeyJWTKeysFromJWKSURI(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	first, second := newRSASigner(t, "compta", "k1"), newECSigner(t, "compta", "k2")
	var published atomic.Pointer[string]
	publish := func(signers ...*rpSigner) { s := jwks(t, signers...); published.Store(&s) }
	publish(first)
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = io.WriteString(w, *published.Load())
	}))
	t.Cleanup(keys.Close)
	h.keyApp("compta", "", keys.URL+"/jwks.json")
	exchange := func(s *rpSigner) (*http.Response, string) {
		code := h.code(h.browser(), "compta", rpCallback, "jdupont", nil)
		return h.post("/token", withAssertion(url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback},
		}, s.assertion(h.issuer, h.clock.now())), "", "")
	}
	resp, body := exchange(first)
	okTokens(t, resp, body)
	publish(second)
	h.clock.advance(time.Minute)
	resp, body = exchange(second)
	okTokens(t, resp, body)
	resp, body = exchange(first)
	wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
}

// TestAuthMethodPinning: an application pinned to one method accepts
// only that one, at every endpoint that authenticates clients.
func TestAuthMethodPinning(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("post-only", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Settings.TokenEndpointAuthMethod = apps.AuthClientSecretPost
	})
	h.app("basic-only", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Settings.TokenEndpointAuthMethod = apps.AuthClientSecretBasic
	})
	h.app("either", storage.ClientConfidential, rpCallback)
	b := h.browser()
	inForm := func(clientID string, form url.Values) url.Values {
		form.Set("client_id", clientID)
		form.Set("client_secret", h.secrets[clientID])
		return form
	}
	exchange := func(clientID string, basic bool) (*http.Response, string) {
		form := url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {rpCallback},
			"code": {h.code(b, clientID, rpCallback, "jdupont", nil)}}
		if basic {
			return h.post("/token", form, clientID, h.secrets[clientID])
		}
		return h.post("/token", inForm(clientID, form), "", "")
	}

	resp, body := exchange("post-only", true)
	wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	if !strings.Contains(body, "client_secret_post") {
		t.Errorf("error does not name the method to use: %s", body)
	}
	resp, body = exchange("post-only", false)
	tok := okTokens(t, resp, body)
	resp, body = exchange("basic-only", false)
	wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	resp, body = exchange("basic-only", true)
	okTokens(t, resp, body)
	resp, body = exchange("either", true)
	okTokens(t, resp, body)
	resp, body = exchange("either", false)
	okTokens(t, resp, body)

	// Introspection and revocation apply the same rule.
	resp, body = h.post("/introspect", url.Values{"token": {tok.access}}, "post-only", h.secrets["post-only"])
	wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	resp, body = h.post("/revoke", url.Values{"token": {tok.access}}, "post-only", h.secrets["post-only"])
	wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	h.userinfo(tok.access) // not revoked
	if resp, body := h.post("/introspect", inForm("post-only", url.Values{"token": {tok.access}}), "", ""); resp.StatusCode != http.StatusOK || jsonField(t, body, "client_id") != "post-only" {
		t.Errorf("introspection with client_secret_post: %d %s", resp.StatusCode, body)
	}
}
