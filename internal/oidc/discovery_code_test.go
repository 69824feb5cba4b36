package oidc

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/keys"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
)

// TestDiscoveryMatchesCode checks the discovery document against what the
// code does: every value listed works, and the values around them that
// are not listed are refused.
func TestDiscoveryMatchesCode(t *testing.T) {
	e := newPromptEnv(t)
	var doc map[string]any
	if err := json.Unmarshal(e.p.discovery, &doc); err != nil {
		t.Fatal(err)
	}
	listed := func(k string) []string {
		t.Helper()
		raw, ok := doc[k].([]any)
		if !ok {
			t.Fatalf("%s = %v, want a list", k, doc[k])
		}
		var out []string
		for _, v := range raw {
			out = append(out, v.(string))
		}
		return out
	}
	parse := func(kv ...any) parsedAuthorize {
		q := authorizeQuery(kv...)
		return e.p.parseAuthorize(httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil), q)
	}
	accepted := func(pa parsedAuthorize) bool { return pa.pageMessage == "" && pa.redirectErr == nil }
	check := func(key, value string, works bool) {
		t.Helper()
		if in := slices.Contains(listed(key), value); in != works {
			t.Errorf("%s: %q listed %v, works %v", key, value, in, works)
		}
	}

	for _, v := range []string{"none", "login", "consent", "select_account", "create", "Login"} {
		check("prompt_values_supported", v, checkPrompt(v) == nil)
	}
	for _, m := range []string{"query", "form_post", "fragment", "form_post.jwt", "query.jwt", "jwt"} {
		check("response_modes_supported", m, accepted(parse("response_mode", m)))
	}
	for _, rt := range []string{"code", "token", "id_token", "code id_token", "code token", "none"} {
		check("response_types_supported", rt, accepted(parse("response_type", rt)))
	}
	pkce := []any{"client_id", publicApp.ClientID, "redirect_uri", publicApp.RedirectURIs[0], "code_challenge", rfcChallenge, "code_challenge_method", "S256"}
	for _, s := range append(apps.Scopes(), "admin", "address", "groups") {
		// A scope works when it is granted: unknown ones are ignored.
		pa := parse(append(pkce, "scope", "openid "+s)...)
		check("scopes_supported", s, accepted(pa) && slices.Contains(strings.Fields(pa.req.Scope), s))
	}
	for _, m := range []string{"S256", "plain", "S512"} {
		check("code_challenge_methods_supported", m, checkPKCE(storage.Application{}, rfcChallenge, m) == nil)
	}
	for _, acr := range []string{"eidas1", "eidas2", "eidas3", "urn:x"} {
		check("acr_values_supported", acr, session.Reachable(acr))
	}
	for _, gt := range append(grantTypes(), "password", "implicit", "urn:ietf:params:oauth:grant-type:device_code") {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/token", nil)
		e.p.grant(rec, r, storage.Application{ClientID: "x"}, url.Values{"grant_type": {gt}})
		check("grant_types_supported", gt, !strings.Contains(rec.Body.String(), "unsupported_grant_type"))
	}

	// The parameters said supported or not.
	for k, works := range map[string]bool{
		"claims_parameter_supported":      accepted(parse("claims", `{"id_token":{"acr":null}}`)),
		"request_parameter_supported":     accepted(parse("request", "eyJhbGciOiJub25lIn0.e30.")),
		"request_uri_parameter_supported": accepted(parse("request_uri", "https://rp.example/request.jwt")),
	} {
		if doc[k] != works {
			t.Errorf("%s = %v, works %v", k, doc[k], works)
		}
	}

	// Client authentication: the methods a request can use.
	methods := map[string]bool{}
	for _, r := range clientAuthRequests(t) {
		cc, oe := readClientCredentials(r, r.PostForm)
		if oe != nil {
			t.Fatal(oe)
		}
		methods[cc.method] = true
	}
	for _, m := range listed("token_endpoint_auth_methods_supported") {
		if !methods[m] {
			t.Errorf("token_endpoint_auth_methods_supported lists %q, which no request can use", m)
		}
	}
	if len(methods) != len(listed("token_endpoint_auth_methods_supported")) {
		t.Errorf("methods used %v, listed %v", methods, listed("token_endpoint_auth_methods_supported"))
	}

	// ID tokens are signed with each algorithm listed (the key manager's),
	// and each verifies as an id_token_hint.
	for _, alg := range listed("id_token_signing_alg_values_supported") {
		km, err := keys.New(keys.Options{Store: storagetest.NewStore(t), Algorithm: alg})
		if err == nil {
			_, err = km.Ensure(t.Context())
		}
		if err != nil {
			t.Errorf("keys for %s: %v", alg, err)
			continue
		}
		e.p.signer = km
		raw, err := e.p.idToken(t.Context(), issuance{app: confidentialApp, person: storage.Person{ID: "p1"}, authTime: testNow, scope: "openid"}, "at", testNow)
		if err != nil {
			t.Fatal(err)
		}
		var h struct{ Alg string }
		b, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
		if err := json.Unmarshal(b, &h); err != nil || h.Alg != alg {
			t.Errorf("ID token signed with %q, want %s", h.Alg, alg)
		}
		if _, err := e.p.verifyIDTokenHint(t.Context(), raw); err != nil {
			t.Errorf("%s ID token refused as a hint: %v", alg, err)
		}
	}
	e.p.signer = e.keys

	// Every claim released is listed, and every claim listed released.
	if diff := cmp.Diff(sorted(claimsSupported), sorted(releasedClaims(t, e))); diff != "" {
		t.Errorf("claims_supported against the claims released (-listed +released):\n%s", diff)
	}

	// The browser endpoints advertised are served.
	for _, k := range []string{"authorization_endpoint", "end_session_endpoint"} {
		u, _ := url.Parse(doc[k].(string))
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.Path, nil))
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d", k, u.Path, rec.Code)
		}
	}
}

// clientAuthRequests are token requests, one per client authentication
// method.
func clientAuthRequests(t *testing.T) []*http.Request {
	t.Helper()
	form := func(v url.Values) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	basic := form(url.Values{})
	basic.SetBasicAuth("portail-rh", "secret")
	return []*http.Request{
		basic,
		form(url.Values{"client_id": {"portail-rh"}, "client_secret": {"secret"}}),
		form(url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJwb3J0YWlsLXJoIiwic3ViIjoicG9ydGFpbC1yaCJ9.c2ln"}}),
		form(url.Values{"client_id": {"mobile"}}),
	}
}

// releasedClaims returns the name of every claim an ID token or userinfo
// can carry: all scopes, an élu with a mandate and every attribute, a
// nonce, a session and a claims request for acr and amr at userinfo.
func releasedClaims(t *testing.T, e *logoutEnv) []string {
	t.Helper()
	ctx := t.Context()
	app, err := e.store.GetApplicationByClientID(ctx, publicApp.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	person := storage.Person{
		Username: "elue", GivenName: "Anne", FamilyName: "Martin", UsualName: "Durand",
		Email: "anne@ville-exemple.fr", EmailVerified: true, Phone: "+33 1 23 45 67 89",
	}
	if err := e.store.CreatePerson(ctx, &person); err != nil {
		t.Fatal(err)
	}
	m := storage.Membership{PersonID: person.ID, OrgID: app.OrgID, Kind: storage.KindElu, Service: "Cabinet", ValidFrom: testNow.Add(-time.Hour)}
	if err := e.store.CreateMembership(ctx, &m); err != nil {
		t.Fatal(err)
	}
	md := storage.Mandate{OrgID: app.OrgID, MembershipID: m.ID, Function: "Maire", StartsAt: testNow.Add(-time.Hour)}
	if err := e.store.CreateMandate(ctx, &md); err != nil {
		t.Fatal(err)
	}
	is := issuance{
		app: app, person: person, membership: m, sessionID: "s", authTime: testNow, amr: []string{"pwd"},
		acr: session.ACREidas1, nonce: "n", scope: strings.Join(apps.Scopes(), " "),
	}
	raw, err := e.p.idToken(ctx, is, "access", testNow)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for k := range idTokenClaims(t, raw) {
		names[k] = true
	}
	userinfo, err := e.p.claims(ctx, app, person, m, apps.Scopes())
	if err != nil {
		t.Fatal(err)
	}
	addRequestedAuthClaims(userinfo, storage.Token{ACR: "eidas1", AMR: []string{"pwd"}, Claims: `{"userinfo":{"acr":null,"amr":null}}`})
	for k := range userinfo {
		names[k] = true
	}
	var out []string
	for k := range names {
		out = append(out, k)
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
