package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// testKeys are generated once: RSA generation is slow.
var testKeys = sync.OnceValue(func() (k struct {
	rsa, rsa2 *rsa.PrivateKey
	ec        *ecdsa.PrivateKey
}) {
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	return k
})

// publicJWKS returns the JWK Set of the public halves of keys, by kid.
func publicJWKS(t testing.TB, keys map[string]crypto.Signer) string {
	t.Helper()
	var set jose.JSONWebKeySet
	for kid, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kid, Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assertion signs claims with key under alg, with header kid if not "".
func assertion(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	sk := jose.SigningKey{Algorithm: alg, Key: key}
	if kid != "" {
		sk.Key = jose.JSONWebKey{Key: key, KeyID: kid}
	}
	sig, err := jose.NewSigner(sk, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var jtiSeq atomic.Int64

// assertionClaims are valid claims for clientID at now, to the token
// endpoint, with a fresh jti.
func assertionClaims(clientID string, now time.Time) map[string]any {
	return map[string]any{
		"iss": clientID, "sub": clientID, "aud": testIssuer + "/token",
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"jti": fmt.Sprintf("jti-%d", jtiSeq.Add(1)),
	}
}

// addKeyApp registers a confidential application pinned to
// private_key_jwt next to the test provider's applications.
func addKeyApp(t testing.TB, store storage.Store, clientID string, settings storage.ClientSettings) storage.Application {
	t.Helper()
	ref, err := store.GetApplicationByClientID(t.Context(), confidentialApp.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	settings.TokenEndpointAuthMethod = apps.AuthPrivateKeyJWT
	a := storage.Application{
		OrgID: ref.OrgID, ClientID: clientID, Name: "Paie", ClientType: storage.ClientConfidential,
		RedirectURIs: []string{"https://paie.ville-exemple.fr/cb"}, Settings: settings,
	}
	if err := apps.Validate(a); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateApplication(t.Context(), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// authenticate runs client authentication on form (and an optional
// Authorization header) at endpoint.
func authenticate(p *Provider, form url.Values, authz, endpoint string) (storage.Application, *oauthError) {
	r := httptest.NewRequest(http.MethodPost, "/"+endpoint, nil)
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	cc, oe := readClientCredentials(r, form)
	if oe != nil {
		return storage.Application{}, oe
	}
	return p.authenticateClient(r, cc, endpoint)
}

func assertionForm(a string) url.Values {
	return url.Values{"client_assertion_type": {clientAssertionType}, "client_assertion": {a}}
}

func TestPrivateKeyJWT(t *testing.T) {
	k := testKeys()
	p, store, _ := newTestProvider(t, testIssuer)
	addKeyApp(t, store, "paie", storage.ClientSettings{JWKS: publicJWKS(t, map[string]crypto.Signer{"rsa-1": k.rsa, "ec-1": k.ec})})
	secretApp := storage.Application{
		OrgID: appByClientID(t, store, confidentialApp.ClientID).OrgID, ClientID: "secret-app", Name: "Secret", ClientType: storage.ClientConfidential,
		SecretHash: apps.HashSecret("the-client-secret-of-32-bytes!!!"), RedirectURIs: []string{"https://s.ville-exemple.fr/cb"},
	}
	if err := store.CreateApplication(t.Context(), &secretApp); err != nil {
		t.Fatal(err)
	}
	now := testNow
	claims := func(edit func(c map[string]any)) map[string]any {
		c := assertionClaims("paie", now)
		if edit != nil {
			edit(c)
		}
		return c
	}
	rs := func(edit func(c map[string]any)) string {
		return assertion(t, jose.RS256, k.rsa, "rsa-1", claims(edit))
	}
	replayed := rs(nil)
	if _, oe := authenticate(p, assertionForm(replayed), "", "token"); oe != nil {
		t.Fatalf("first use: %v", oe)
	}
	noneAlg := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(mustJSON(t, claims(nil))) + "."

	tests := []struct {
		name     string
		form     url.Values
		authz    string
		endpoint string
		wantCode string // "" for success
		wantDesc string // part of error_description
	}{
		{"RS256 with kid", assertionForm(rs(nil)), "", "token", "", ""},
		{"ES256 with kid", assertionForm(assertion(t, jose.ES256, k.ec, "ec-1", claims(nil))), "", "token", "", ""},
		{"PS256 without kid", assertionForm(assertion(t, jose.PS256, k.rsa, "", claims(nil))), "", "token", "", ""},
		{"RS512", assertionForm(assertion(t, jose.RS512, k.rsa, "rsa-1", claims(nil))), "", "token", "", ""},
		{"aud is the issuer", assertionForm(rs(func(c map[string]any) { c["aud"] = testIssuer })), "", "token", "", ""},
		{"aud is a list with the token endpoint", assertionForm(rs(func(c map[string]any) { c["aud"] = []string{"https://other", testIssuer + "/token"} })), "", "token", "", ""},
		{"aud is the PAR endpoint, at PAR", assertionForm(rs(func(c map[string]any) { c["aud"] = testIssuer + "/par" })), "", "par", "", ""},
		{"aud is the token endpoint, at introspection", assertionForm(rs(nil)), "", "introspect", "", ""},
		{"aud is the revocation endpoint, at revocation", assertionForm(rs(func(c map[string]any) { c["aud"] = testIssuer + "/revoke" })), "", "revoke", "", ""},
		{"client_id matches", withParam(assertionForm(rs(nil)), "client_id", "paie"), "", "token", "", ""},
		{"exp just past, within leeway", assertionForm(rs(func(c map[string]any) { c["exp"] = now.Add(-20 * time.Second).Unix() })), "", "token", "", ""},
		{"iat just ahead, within leeway", assertionForm(rs(func(c map[string]any) { c["iat"] = now.Add(20 * time.Second).Unix() })), "", "token", "", ""},
		{"no iat, exp in 5 minutes", assertionForm(rs(func(c map[string]any) { delete(c, "iat"); c["exp"] = now.Add(5 * time.Minute).Unix() })), "", "token", "", ""},

		{"wrong aud", assertionForm(rs(func(c map[string]any) { c["aud"] = "https://evil.example/token" })), "", "token", "invalid_client", "aud"},
		{"aud is the revocation endpoint, at the token endpoint", assertionForm(rs(func(c map[string]any) { c["aud"] = testIssuer + "/revoke" })), "", "token", "invalid_client", "aud"},
		{"aud missing", assertionForm(rs(func(c map[string]any) { delete(c, "aud") })), "", "token", "invalid_client", "aud"},
		{"expired", assertionForm(rs(func(c map[string]any) {
			c["iat"] = now.Add(-3 * time.Minute).Unix()
			c["exp"] = now.Add(-time.Minute).Unix()
		})), "", "token", "invalid_client", "expired"},
		{"no exp", assertionForm(rs(func(c map[string]any) { delete(c, "exp") })), "", "token", "invalid_client", "exp"},
		{"iat in the future", assertionForm(rs(func(c map[string]any) {
			c["iat"] = now.Add(2 * time.Minute).Unix()
			c["exp"] = now.Add(3 * time.Minute).Unix()
		})), "", "token", "invalid_client", "iat"},
		{"nbf in the future", assertionForm(rs(func(c map[string]any) { c["nbf"] = now.Add(2 * time.Minute).Unix() })), "", "token", "invalid_client", "nbf"},
		{"lifetime too long", assertionForm(rs(func(c map[string]any) { c["exp"] = now.Add(11 * time.Minute).Unix() })), "", "token", "invalid_client", "too long"},
		{"no iat, exp too far", assertionForm(rs(func(c map[string]any) { delete(c, "iat"); c["exp"] = now.Add(time.Hour).Unix() })), "", "token", "invalid_client", "too long"},
		{"missing jti", assertionForm(rs(func(c map[string]any) { delete(c, "jti") })), "", "token", "invalid_client", "jti"},
		{"jti too long", assertionForm(rs(func(c map[string]any) { c["jti"] = strings.Repeat("j", 257) })), "", "token", "invalid_client", "jti"},
		{"replayed jti", assertionForm(replayed), "", "token", "invalid_client", "already used"},
		{"wrong iss", assertionForm(rs(func(c map[string]any) { c["iss"] = "mobile" })), "", "token", "invalid_client", "iss and sub"},
		{"wrong sub", assertionForm(rs(func(c map[string]any) { c["sub"] = "mobile" })), "", "token", "invalid_client", "may not authenticate with private_key_jwt"},
		{"sub of an unknown client", assertionForm(rs(func(c map[string]any) { c["sub"] = "inconnu"; c["iss"] = "inconnu" })), "", "token", "invalid_client", "authentication failed"},
		{"no sub", assertionForm(rs(func(c map[string]any) { delete(c, "sub") })), "", "token", "invalid_client", "sub"},
		{"client_id mismatch", withParam(assertionForm(rs(nil)), "client_id", "portail-rh"), "", "token", "invalid_client", "client_id"},
		{"alg none", assertionForm(noneAlg), "", "token", "invalid_client", "not a JWT signed with"},
		{"HS256 with the client secret", assertionForm(assertion(t, jose.HS256, []byte("the-client-secret-of-32-bytes!!!"),
			"", assertionClaims("secret-app", now))), "", "token", "invalid_client", "not a JWT signed with"},
		{"ES512 is not allowed", assertionForm(assertion(t, jose.ES512, mustP521(t), "ec-1", claims(nil))), "", "token", "invalid_client", "not a JWT signed with"},
		{"key not in the JWKS, registered kid", assertionForm(assertion(t, jose.RS256, k.rsa2, "rsa-1", claims(nil))), "", "token", "invalid_client", "does not verify"},
		{"key not in the JWKS, unknown kid", assertionForm(assertion(t, jose.RS256, k.rsa2, "rsa-9", claims(nil))), "", "token", "invalid_client", "does not verify"},
		{"key not in the JWKS, no kid", assertionForm(assertion(t, jose.RS256, k.rsa2, "", claims(nil))), "", "token", "invalid_client", "does not verify"},
		{"EC kid with an RSA signature", assertionForm(assertion(t, jose.RS256, k.rsa, "ec-1", claims(nil))), "", "token", "invalid_client", "does not verify"},
		{"tampered payload", assertionForm(tamper(rs(nil))), "", "token", "invalid_client", ""},
		{"not a JWT", assertionForm("not-a-jwt"), "", "token", "invalid_client", "not a JWT"},
		{"too long", assertionForm(strings.Repeat("a", maxAssertionLen+1)), "", "token", "invalid_client", "longer"},
		{"empty assertion", assertionForm(""), "", "token", "invalid_client", "missing"},
		{"wrong client_assertion_type", withParam(assertionForm(rs(nil)), "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"), "", "token", "invalid_client", "client_assertion_type"},
		{"assertion without type", url.Values{"client_assertion": {rs(nil)}}, "", "token", "invalid_client", "client_assertion_type"},
		{"assertion repeated", url.Values{"client_assertion_type": {clientAssertionType}, "client_assertion": {rs(nil), rs(nil)}}, "", "token", "invalid_request", "repeated"},
		{"assertion and client_secret", withParam(assertionForm(rs(nil)), "client_secret", "x"), "", "token", "invalid_request", "one client authentication method"},
		{"assertion and Basic", assertionForm(rs(nil)), basic("paie:x"), "token", "invalid_request", "one client authentication method"},

		// Methods are enforced per application.
		{"pinned to private_key_jwt, secret sent", url.Values{"client_id": {"paie"}, "client_secret": {""}}, "", "token", "invalid_client", "may not authenticate with client_secret_post"},
		{"pinned to private_key_jwt, none", url.Values{"client_id": {"paie"}}, "", "token", "invalid_client", "may not authenticate with none"},
		{"confidential by default refuses private_key_jwt", assertionForm(assertion(t, jose.RS256, k.rsa, "", assertionClaims("secret-app", now))), "", "token", "invalid_client", "may not authenticate with private_key_jwt"},
		{"confidential by default: basic", url.Values{}, basic("secret-app:the-client-secret-of-32-bytes!!!"), "token", "", ""},
		{"confidential by default: post", url.Values{"client_id": {"secret-app"}, "client_secret": {"the-client-secret-of-32-bytes!!!"}}, "", "token", "", ""},
		{"confidential by default refuses none", url.Values{"client_id": {"secret-app"}}, "", "token", "invalid_client", "may not authenticate with none"},
		{"public by default refuses a secret", url.Values{"client_id": {"mobile"}, "client_secret": {"x"}}, "", "token", "invalid_client", "may not authenticate with client_secret_post"},
		{"public by default: none", url.Values{"client_id": {"mobile"}}, "", "token", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, oe := authenticate(p, tt.form, tt.authz, tt.endpoint)
			if tt.wantCode == "" {
				if oe != nil {
					t.Fatalf("authentication failed: %v", oe)
				}
				if app.ClientID == "" {
					t.Fatal("no application")
				}
				return
			}
			if oe == nil || oe.Code != tt.wantCode || !strings.Contains(oe.Description, tt.wantDesc) {
				t.Fatalf("got %v, want %s with %q", oe, tt.wantCode, tt.wantDesc)
			}
			if strings.Contains(oe.Description, `"n"`) || strings.Contains(oe.Description, "BEGIN") {
				t.Errorf("error_description leaks key material: %s", oe.Description)
			}
		})
	}
}

func appByClientID(t testing.TB, store storage.Store, clientID string) storage.Application {
	t.Helper()
	a, err := store.GetApplicationByClientID(t.Context(), clientID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func withParam(v url.Values, k, val string) url.Values {
	v.Set(k, val)
	return v
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustP521(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// tamper changes the payload of a compact JWS, keeping its signature.
func tamper(jws string) string {
	parts := strings.Split(jws, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), `"iss":"paie"`, `"iss":"paie","x":1`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// jwksServer serves a JWK Set that the test may change, and counts the
// fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	body    string
	status  int
	fetches int
}

func newJWKSServer(t testing.TB, body string) *jwksServer {
	s := &jwksServer{body: body, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.fetches++
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/jwks", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(s.status)
		_, _ = w.Write([]byte(s.body))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(body string, status int) {
	s.mu.Lock()
	s.body, s.status = body, status
	s.mu.Unlock()
}

func (s *jwksServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// TestPrivateKeyJWTFromJWKSURI covers keys fetched from jwks_uri: the
// cache, the fetch again on an unknown kid (key rotation), and the
// bounds of the fetch.
func TestPrivateKeyJWTFromJWKSURI(t *testing.T) {
	k := testKeys()
	p, store, _ := newTestProvider(t, testIssuer)
	now := testNow
	p.now = func() time.Time { return now }
	one := publicJWKS(t, map[string]crypto.Signer{"k1": k.rsa})
	srv := newJWKSServer(t, one)
	addKeyApp(t, store, "paie", storage.ClientSettings{JWKSURI: srv.URL + "/jwks"})
	try := func(key crypto.Signer, kid string) *oauthError {
		t.Helper()
		alg := jose.RS256
		if _, ok := key.(*ecdsa.PrivateKey); ok {
			alg = jose.ES256
		}
		_, oe := authenticate(p, assertionForm(assertion(t, alg, key, kid, assertionClaims("paie", now))), "", "token")
		return oe
	}
	wantFetches := func(n int) {
		t.Helper()
		if got := srv.count(); got != n {
			t.Errorf("%d fetches of jwks_uri, want %d", got, n)
		}
	}

	if oe := try(k.rsa, "k1"); oe != nil {
		t.Fatalf("first assertion: %v", oe)
	}
	if oe := try(k.rsa, "k1"); oe != nil {
		t.Fatalf("second assertion: %v", oe)
	}
	wantFetches(1) // cached

	// The client rotates to k2: the unknown kid fetches the keys again.
	srv.set(publicJWKS(t, map[string]crypto.Signer{"k2": k.ec}), http.StatusOK)
	now = now.Add(jwksMinRefresh)
	if oe := try(k.ec, "k2"); oe != nil {
		t.Fatalf("after rotation: %v", oe)
	}
	wantFetches(2)
	if oe := try(k.rsa, "k1"); oe == nil {
		t.Error("the retired key k1 still verifies")
	}
	wantFetches(2) // refetched less than jwksMinRefresh ago

	// Made-up kids: one fetch at most per jwksMinRefresh.
	now = now.Add(jwksMinRefresh)
	for range 3 {
		if oe := try(k.rsa2, "made-up"); oe == nil || oe.Code != "invalid_client" {
			t.Fatalf("made-up kid: %v", oe)
		}
	}
	wantFetches(3)

	// After the TTL, the set is fetched again.
	now = now.Add(jwksTTL)
	if oe := try(k.ec, "k2"); oe != nil {
		t.Fatal(oe)
	}
	wantFetches(4)

	// A failing jwks_uri: the cached set serves until its TTL, then
	// authentication fails, without asking again within jwksMinRefresh.
	srv.set("oops", http.StatusInternalServerError)
	now = now.Add(jwksTTL)
	if oe := try(k.ec, "k2"); oe == nil || !strings.Contains(oe.Description, "unavailable") {
		t.Fatalf("jwks_uri failing: %v", oe)
	}
	if oe := try(k.ec, "k2"); oe == nil {
		t.Fatal("jwks_uri failing, second try succeeded")
	}
	wantFetches(5)
	srv.set(one, http.StatusOK)
	now = now.Add(jwksMinRefresh)
	if oe := try(k.rsa, "k1"); oe != nil {
		t.Fatalf("jwks_uri back: %v", oe)
	}
}

func TestClientKeySourceFetchBounds(t *testing.T) {
	k := testKeys()
	pub := publicJWKS(t, map[string]crypto.Signer{"k1": k.rsa})
	priv, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.rsa, KeyID: "k1"}}})
	if err != nil {
		t.Fatal(err)
	}
	big := `{"keys":[` + strings.Repeat(" ", maxJWKSBody) + `]}`
	tests := []struct {
		name, path, body string
		status           int
		wantErr          bool
	}{
		{"public keys", "/jwks", pub, http.StatusOK, false},
		{"just under the size limit", "/jwks", pub[:len(pub)-1] + strings.Repeat(" ", maxJWKSBody-len(pub)) + "}", http.StatusOK, false},
		{"larger than 64 KiB", "/jwks", big, http.StatusOK, true},
		{"a private key", "/jwks", string(priv), http.StatusOK, true},
		{"not JSON", "/jwks", "<html>", http.StatusOK, true},
		{"status 404", "/jwks", pub, http.StatusNotFound, true},
		{"redirect not followed", "/redirect", pub, http.StatusOK, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, "")
			srv.set(tt.body, tt.status)
			s := newClientKeySource(func() time.Time { return testNow }, slog.New(slog.NewTextHandler(io.Discard, nil)))
			app := storage.Application{ClientID: "paie", Settings: storage.ClientSettings{JWKSURI: srv.URL + tt.path}}
			set, err := s.keys(t.Context(), app, false)
			if (err != nil) != tt.wantErr {
				t.Fatalf("keys = %d keys, %v; want error %v", len(set.Keys), err, tt.wantErr)
			}
			if err == nil && len(set.Keys) != 1 {
				t.Errorf("%d keys, want 1", len(set.Keys))
			}
			if tt.path == "/redirect" && srv.count() != 1 {
				t.Errorf("%d requests, want 1 (redirect not followed)", srv.count())
			}
		})
	}
}

// FuzzClientAssertion feeds arbitrary client assertions to client
// authentication: it must never panic, and only an assertion signed with
// the client's key may authenticate it.
func FuzzClientAssertion(f *testing.F) {
	k := testKeys()
	p, store, _ := newTestProvider(f, testIssuer)
	addKeyApp(f, store, "paie", storage.ClientSettings{JWKS: publicJWKS(f, map[string]crypto.Signer{"rsa-1": k.rsa, "ec-1": k.ec})})
	signed := map[string]bool{}
	for _, a := range []string{
		assertion(f, jose.RS256, k.rsa, "rsa-1", assertionClaims("paie", testNow)),
		assertion(f, jose.ES256, k.ec, "", assertionClaims("paie", testNow)),
	} {
		signed[a] = true
		f.Add(a)
	}
	f.Add(assertion(f, jose.RS256, k.rsa2, "rsa-1", assertionClaims("paie", testNow)))
	f.Add(assertion(f, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), "", assertionClaims("paie", testNow)))
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJwYWllIn0.")
	f.Add("e30.e30.e30")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		app, oe := authenticate(p, assertionForm(raw), "", "token")
		if oe == nil && (!signed[raw] || app.ClientID != "paie") {
			t.Fatalf("%q authenticated %q", raw, app.ClientID)
		}
		if oe != nil && (oe.Code == "" || oe.Description == "") {
			t.Fatalf("%q: error without code or description: %+v", raw, oe)
		}
	})
}
