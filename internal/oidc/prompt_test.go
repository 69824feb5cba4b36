package oidc

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// newPromptEnv is newLogoutEnv whose authorization requests come a minute
// after the sessions signedIn creates: prompt=login then asks for a new
// sign-in.
func newPromptEnv(t *testing.T) *logoutEnv {
	e := newLogoutEnv(t)
	e.p.now = func() time.Time { return testNow.Add(time.Minute) }
	return e
}

// signedIn creates a person with n memberships in the test organization
// and a session for them, and returns the person and the cookie.
func (e *logoutEnv) signedIn(username string, n int) (storage.Person, *http.Cookie) {
	e.t.Helper()
	ctx := e.t.Context()
	app, err := e.store.GetApplicationByClientID(ctx, confidentialApp.ClientID)
	if err != nil {
		e.t.Fatal(err)
	}
	person := storage.Person{Username: username, GivenName: "Marie", FamilyName: "Dupont", Email: username + "@ville-exemple.fr"}
	if err := e.store.CreatePerson(ctx, &person); err != nil {
		e.t.Fatal(err)
	}
	kinds := []string{storage.KindAgent, storage.KindElu}
	for i := range n {
		m := storage.Membership{PersonID: person.ID, OrgID: app.OrgID, Kind: kinds[i], ValidFrom: testNow.Add(-time.Hour)}
		if err := e.store.CreateMembership(ctx, &m); err != nil {
			e.t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	if _, err := e.p.sessions.Create(ctx, rec, person.ID, []string{"pwd"}, "eidas1"); err != nil {
		e.t.Fatal(err)
	}
	return person, rec.Result().Cookies()[0]
}

// authorizeOutcome summarizes the answer to an authorization request.
type authorizeOutcome struct {
	status int
	path   string     // where a redirect goes: "/login", "/select", the callback
	query  url.Values // a callback's parameters
	prompt string     // the stored request's prompt, for /login and /select
}

func (e *logoutEnv) authorize(q url.Values, c *http.Cookie) authorizeOutcome {
	e.t.Helper()
	rec := e.do(http.MethodGet, "/authorize", q, c)
	out := authorizeOutcome{status: rec.Code}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	out.path, out.query = loc.Path, loc.Query()
	if loc.Host != "" {
		out.path = loc.Scheme + "://" + loc.Host + loc.Path
	}
	if id := out.query.Get("request"); id != "" && !strings.Contains(out.path, "://") {
		req, err := authRequestOf(e.t, e.store, id)
		if err != nil {
			e.t.Fatal(err)
		}
		out.prompt = req.Prompt
	}
	return out
}

func TestAuthorizeHints(t *testing.T) {
	e := newPromptEnv(t)
	marie, cookie := e.signedIn("marie.dupont", 1)
	callbackURL := confidentialApp.RedirectURIs[0]
	hint := func(edit func(map[string]any)) string {
		return e.idToken(e.keys, "JWT", func(c map[string]any) {
			c["sub"] = marie.ID
			if edit != nil {
				edit(c)
			}
		})
	}
	tests := []struct {
		name       string
		kv         []any
		noSession  bool
		wantPath   string // "/login", or the callback
		wantError  string // error at the callback, "" for a code
		wantPrompt string // stored prompt, when sent to /login
	}{
		{"login_hint names the person", []any{"login_hint", "Marie.Dupont"}, false, callbackURL, "", ""},
		{"login_hint is the person's e-mail", []any{"login_hint", " MARIE.DUPONT@ville-exemple.fr "}, false, callbackURL, "", ""},
		{"login_hint names someone else", []any{"login_hint", "jean.martin"}, false, "/login", "", "login"},
		{"login_hint names someone else, prompt=consent", []any{"login_hint", "jean.martin", "prompt", "consent"}, false, "/login", "", "consent login"},
		{"login_hint names someone else, prompt=none", []any{"login_hint", "jean.martin", "prompt", "none"}, false, callbackURL, "login_required", ""},
		{"login_hint, no session", []any{"login_hint", "jean.martin"}, true, "/login", "", ""},
		{"id_token_hint of the person", []any{"id_token_hint", hint(nil)}, false, callbackURL, "", ""},
		{"expired id_token_hint of the person", []any{"id_token_hint", hint(func(c map[string]any) { c["exp"] = testNow.Add(-48 * time.Hour).Unix() })}, false, callbackURL, "", ""},
		{"id_token_hint of the person, prompt=none", []any{"id_token_hint", hint(nil), "prompt", "none"}, false, callbackURL, "", ""},
		{"id_token_hint of someone else", []any{"id_token_hint", hint(func(c map[string]any) { c["sub"] = "someone-else" })}, false, "/login", "", "login"},
		{"id_token_hint of someone else, prompt=none", []any{"id_token_hint", hint(func(c map[string]any) { c["sub"] = "someone-else" }), "prompt", "none"}, false, callbackURL, "login_required", ""},
		{"id_token_hint, no session, prompt=none", []any{"id_token_hint", hint(nil), "prompt", "none"}, true, callbackURL, "login_required", ""},
		{"id_token_hint issued to another client", []any{"id_token_hint", hint(func(c map[string]any) { c["aud"], c["azp"] = "mobile", "mobile" })}, false, callbackURL, "invalid_request", ""},
		{"id_token_hint not signed by TNO", []any{"id_token_hint", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}, false, callbackURL, "invalid_request", ""},
		{"id_token_hint from another issuer", []any{"id_token_hint", hint(func(c map[string]any) { c["iss"] = "https://evil.example" })}, false, callbackURL, "invalid_request", ""},
		{"both hints agree", []any{"id_token_hint", hint(nil), "login_hint", "marie.dupont"}, false, callbackURL, "", ""},
		{"login_hint disagrees with id_token_hint", []any{"id_token_hint", hint(nil), "login_hint", "jean.martin"}, false, "/login", "", "login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cookie
			if tt.noSession {
				c = nil
			}
			out := e.authorize(authorizeQuery(tt.kv...), c)
			if out.path != tt.wantPath {
				t.Fatalf("%d to %q, want %q", out.status, out.path, tt.wantPath)
			}
			if tt.wantPath == "/login" {
				if out.prompt != tt.wantPrompt {
					t.Errorf("stored prompt %q, want %q", out.prompt, tt.wantPrompt)
				}
				return
			}
			if got := out.query.Get("error"); got != tt.wantError {
				t.Errorf("error = %q (%s), want %q", got, out.query.Get("error_description"), tt.wantError)
			}
			if tt.wantError == "" && out.query.Get("code") == "" {
				t.Errorf("no code: %v", out.query)
			}
		})
	}

	// The login page offers the login_hint.
	out := e.authorize(authorizeQuery("login_hint", "jean.martin"), cookie)
	rec := e.do(http.MethodGet, "/login", url.Values{"request": {out.query.Get("request")}}, cookie)
	if page, ok := e.web.page.(web.LoginPage); rec.Code != http.StatusOK || !ok || page.Identifier != "jean.martin" {
		t.Errorf("login page: %d %+v", rec.Code, e.web.page)
	}
	// The stored prompt=login holds on every page: the chooser sends the
	// old session back to the login page.
	rec = e.do(http.MethodGet, "/select", url.Values{"request": {out.query.Get("request")}}, cookie)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login?") {
		t.Errorf("chooser with the old session: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

// A pairwise application's id_token_hint carries its pairwise sub.
func TestAuthorizeHintPairwise(t *testing.T) {
	e := newPromptEnv(t)
	ctx := t.Context()
	app, err := e.store.GetApplicationByClientID(ctx, confidentialApp.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	app.Settings.SubjectType = apps.SubjectPairwise
	if err := e.store.UpdateApplication(ctx, &app); err != nil {
		t.Fatal(err)
	}
	marie, cookie := e.signedIn("marie.dupont", 1)
	sub, err := e.p.subject(ctx, app, marie.ID)
	if err != nil || sub == marie.ID {
		t.Fatalf("pairwise subject %q, %v", sub, err)
	}
	for _, tc := range []struct {
		sub, wantError string
	}{{sub, ""}, {marie.ID, "login_required"}} {
		hint := e.idToken(e.keys, "JWT", func(c map[string]any) { c["sub"] = tc.sub })
		out := e.authorize(authorizeQuery("id_token_hint", hint, "prompt", "none"), cookie)
		if out.query.Get("error") != tc.wantError || tc.wantError == "" && out.query.Get("code") == "" {
			t.Errorf("hint sub %q: %d %v, want error %q", tc.sub, out.status, out.query, tc.wantError)
		}
	}
}

func TestSelectAccount(t *testing.T) {
	e := newPromptEnv(t)
	_, one := e.signedIn("marie.dupont", 1)
	_, two := e.signedIn("jean.martin", 2)
	callbackURL := confidentialApp.RedirectURIs[0]
	for _, tc := range []struct {
		name     string
		cookie   *http.Cookie
		prompt   string
		wantPath string
		wantErr  string
	}{
		{"one membership: chosen silently", one, "", callbackURL, ""},
		{"one membership, select_account: the chooser", one, "select_account", "/select", ""},
		{"one membership, select_account and login", one, "login select_account", "/login", ""},
		{"two memberships: the chooser", two, "", "/select", ""},
		{"two memberships, prompt=none", two, "none", callbackURL, "account_selection_required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := e.authorize(authorizeQuery("prompt", tc.prompt), tc.cookie)
			if out.path != tc.wantPath || out.query.Get("error") != tc.wantErr {
				t.Errorf("%d to %q %v, want %q error %q", out.status, out.path, out.query, tc.wantPath, tc.wantErr)
			}
		})
	}
	// The chooser shows the single membership, and choosing it issues the code.
	out := e.authorize(authorizeQuery("prompt", "select_account"), one)
	e.do(http.MethodGet, "/select", url.Values{"request": {out.query.Get("request")}}, one)
	page, ok := e.web.page.(web.ChooserPage)
	if !ok || len(page.Options) != 1 {
		t.Fatalf("chooser page = %+v", e.web.page)
	}
	rec := e.do(http.MethodPost, "/select", url.Values{"request": {out.query.Get("request")}, "membership": {page.Options[0].ID}}, one)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusFound || !strings.HasPrefix(loc, callbackURL+"?code=") {
		t.Errorf("choice: %d %q", rec.Code, loc)
	}
}

func TestFormPostResponse(t *testing.T) {
	e := newPromptEnv(t)
	_, cookie := e.signedIn("marie.dupont", 1)
	for _, tc := range []struct {
		name       string
		kv         []any
		wantFields []string
		wantValues map[string]string
	}{
		{"code", []any{"response_mode", "form_post"}, []string{"code", "iss", "state"}, map[string]string{"iss": testIssuer, "state": "xyz"}},
		{"error", []any{"response_mode", "form_post", "scope", "profile"}, []string{"error", "error_description", "iss", "state"},
			map[string]string{"error": "invalid_scope", "iss": testIssuer, "state": "xyz"}},
		{"prompt=none error, no state", []any{"response_mode", "form_post", "prompt", "none", "state", nil, "max_age", "0"}, []string{"error", "error_description", "iss"},
			map[string]string{"error": "login_required", "iss": testIssuer}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.web.page = nil
			rec := e.do(http.MethodGet, "/authorize", authorizeQuery(tc.kv...), cookie)
			page, ok := e.web.page.(web.FormPostPage)
			if rec.Code != http.StatusOK || !ok || rec.Header().Get("Location") != "" {
				t.Fatalf("%d %q %+v, want the form_post page", rec.Code, rec.Header().Get("Location"), e.web.page)
			}
			if page.Action != confidentialApp.RedirectURIs[0] || page.AppName != confidentialApp.Name {
				t.Errorf("action %q, app %q", page.Action, page.AppName)
			}
			var names []string
			for _, f := range page.Fields {
				names = append(names, f.Name)
				if want, ok := tc.wantValues[f.Name]; ok && f.Value != want {
					t.Errorf("%s = %q, want %q", f.Name, f.Value, want)
				}
				if f.Value == "" {
					t.Errorf("%s is empty", f.Name)
				}
			}
			if diff := cmp.Diff(tc.wantFields, names); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			if !strings.HasSuffix(csp, "; script-src 'self'") || strings.Contains(csp, "unsafe") || rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("CSP %q, Cache-Control %q", csp, rec.Header().Get("Cache-Control"))
			}
		})
	}
	// Other pages keep the policy without script.
	rec := e.do(http.MethodGet, "/authorize", authorizeQuery("login_hint", "x"), cookie)
	if csp := rec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "script-src") {
		t.Errorf("%d: CSP %q", rec.Code, csp)
	}
}

// idTokenClaims decodes the payload of a JWT, unverified.
func idTokenClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestIDTokenACR(t *testing.T) {
	e := newPromptEnv(t)
	app, err := e.store.GetApplicationByClientID(t.Context(), confidentialApp.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		acr     string
		amr     []string
		wantACR any
		wantAMR any
	}{
		{"password session", "eidas1", []string{"pwd"}, "eidas1", []any{"pwd"}},
		{"code issued before acr was stored", "", []string{"pwd"}, "eidas1", []any{"pwd"}},
		{"no method known", "", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := issuance{app: app, person: storage.Person{ID: "p1"}, authTime: testNow, amr: tc.amr, acr: tc.acr, scope: "openid"}
			raw, err := e.p.idToken(t.Context(), is, "access", testNow)
			if err != nil {
				t.Fatal(err)
			}
			c := idTokenClaims(t, raw)
			if !cmp.Equal(c["acr"], tc.wantACR) || !cmp.Equal(c["amr"], tc.wantAMR) || c["auth_time"] != float64(testNow.Unix()) {
				t.Errorf("acr %v, amr %v, auth_time %v", c["acr"], c["amr"], c["auth_time"])
			}
		})
	}
}

func TestAddRequestedAuthClaims(t *testing.T) {
	for _, tc := range []struct {
		name   string
		token  storage.Token
		want   map[string]any
		absent []string
	}{
		{"nothing requested", storage.Token{ACR: "eidas1", AMR: []string{"pwd"}}, map[string]any{}, []string{"acr", "amr"}},
		{"requested in the ID token only", storage.Token{ACR: "eidas1", AMR: []string{"pwd"}, Claims: `{"id_token":{"acr":null,"amr":null}}`}, map[string]any{}, []string{"acr", "amr"}},
		{"acr and amr at userinfo", storage.Token{ACR: "eidas1", AMR: []string{"pwd"}, Claims: `{"userinfo":{"acr":{"essential":true},"amr":null}}`},
			map[string]any{"acr": "eidas1", "amr": []string{"pwd"}}, nil},
		{"amr only", storage.Token{ACR: "eidas1", AMR: []string{"pwd"}, Claims: `{"userinfo":{"amr":{"essential":true}}}`},
			map[string]any{"amr": []string{"pwd"}}, []string{"acr"}},
		{"acr of a token issued before acr was stored", storage.Token{AMR: []string{"pwd"}, Claims: `{"userinfo":{"acr":null}}`},
			map[string]any{"acr": "eidas1"}, []string{"amr"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claims := map[string]any{}
			addRequestedAuthClaims(claims, tc.token)
			for k, v := range tc.want {
				if !cmp.Equal(claims[k], v) {
					t.Errorf("%s = %v, want %v", k, claims[k], v)
				}
			}
			for _, k := range tc.absent {
				if _, ok := claims[k]; ok {
					t.Errorf("%s released: %v", k, claims[k])
				}
			}
		})
	}
}
