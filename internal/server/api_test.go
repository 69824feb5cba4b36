package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// apiClient is an application acting through the REST API with its own
// access token (client_credentials).
type apiClient struct {
	h     *harness
	id    string
	token string
}

// apiApp registers a confidential application of org allowed the
// client_credentials grant, grants it roles in org through the use case,
// and gets it an access token from the token endpoint.
func (h *harness) apiApp(clientID string, org storage.Organization, roles ...string) *apiClient {
	h.t.Helper()
	h.app(clientID, storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.OrgID = org.ID
		a.FirstParty = false
		a.Settings.GrantTypes = []string{"client_credentials"}
	})
	for _, role := range roles {
		if err := h.terr.GrantClientRole(h.t.Context(), authz.CLI(), storage.ClientRole{ClientID: clientID, OrgID: org.ID, Role: role}); err != nil {
			h.t.Fatal(err)
		}
	}
	return &apiClient{h: h, id: clientID, token: h.clientToken(clientID)}
}

// clientToken gets an application an access token for itself.
func (h *harness) clientToken(clientID string) string {
	h.t.Helper()
	return h.okCall("/token", clientID, url.Values{"grant_type": {"client_credentials"}}).access
}

// do calls the API: body is JSON (sent as application/json unless a
// Content-Type is in hdr, given as name, value pairs).
func (c *apiClient) do(method, path, body string, hdr ...string) (*http.Response, string) {
	c.h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.h.issuer+path, rd)
	if err != nil {
		c.h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.h.srv.Client().Do(req)
	if err != nil {
		c.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// want checks an answer's status (and, for errors, that it is a problem
// document), and decodes its JSON into v when v is not nil.
func want(t *testing.T, what string, resp *http.Response, body string, status int, v any) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: %d, want %d\n%s", what, resp.StatusCode, status, body)
	}
	ct := resp.Header.Get("Content-Type")
	if status >= 400 && ct != "application/problem+json" || status < 400 && ct != "application/json" {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("%s: %v\n%s", what, err, body)
		}
	}
}

// problemDoc is an API error.
type problemDoc struct {
	Status int
	Title  string
	Errors []struct{ Field, Code, Message string }
}

// fieldCodes lists a problem's errors as "field:code".
func (p problemDoc) fieldCodes() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field+":"+e.Code)
	}
	sort.Strings(out)
	return out
}

type personDoc struct {
	ID, Username, GivenName, FamilyName, UsualName, Email string
	Disabled                                              bool
	Version                                               int64
}

func (p *personDoc) UnmarshalJSON(b []byte) error {
	var v struct {
		ID         string `json:"id"`
		Username   string `json:"username"`
		GivenName  string `json:"given_name"`
		FamilyName string `json:"family_name"`
		UsualName  string `json:"usual_name"`
		Email      string `json:"email"`
		Disabled   bool   `json:"disabled"`
		Version    int64  `json:"version"`
	}
	err := json.Unmarshal(b, &v)
	*p = personDoc{v.ID, v.Username, v.GivenName, v.FamilyName, v.UsualName, v.Email, v.Disabled, v.Version}
	return err
}

type listDoc[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// TestAPIPeople: an application holding org_admin on the métropole lists,
// finds, creates and edits its people and memberships; bad input is
// answered with its field errors; an edit from an outdated copy, or one
// that does not say which copy, is refused and changes nothing; the audit
// log names the application.
func TestAPIPeople(t *testing.T) {
	h := newHarness(t)
	c := h.apiApp("rh-batch", h.metropole, storage.RoleOrgAdmin)
	h.person("agent.metropole", h.metropole)
	commune := h.person("agent.commune", h.commune)
	m := "/api/v1/orgs/" + h.metropole.Slug

	var orgs listDoc[struct{ Slug string }]
	resp, body := c.do("GET", "/api/v1/orgs", "")
	want(t, "list organizations", resp, body, http.StatusOK, &orgs)
	if len(orgs.Items) != 1 || orgs.Items[0].Slug != h.metropole.Slug {
		t.Errorf("organizations: %s", body)
	}
	resp, body = c.do("GET", m, "")
	want(t, "read the métropole", resp, body, http.StatusOK, nil)
	if resp.Header.Get("ETag") != `"1"` || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("organization: ETag %q, Cache-Control %q", resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
	}

	// Create: 201, Location, ETag.
	create := `{"username": "Lea.Martin", "given_name": "Léa", "family_name": "Martin", "email": "lea.martin@exemple.fr",
		"membership": {"kind": "agent", "service": "Ressources humaines", "title": "Gestionnaire paie", "valid_from": "2026-01-05"}}`
	var lea personDoc
	resp, body = c.do("POST", m+"/people", create)
	want(t, "create", resp, body, http.StatusCreated, &lea)
	if lea.Username != "lea.martin" || lea.Version != 1 || resp.Header.Get("ETag") != `"1"` ||
		resp.Header.Get("Location") != m+"/people/"+lea.ID {
		t.Fatalf("create: %s\nLocation %q ETag %q", body, resp.Header.Get("Location"), resp.Header.Get("ETag"))
	}
	resp, body = c.do("GET", resp.Header.Get("Location"), "")
	want(t, "read the person created", resp, body, http.StatusOK, nil)
	if resp.Header.Get("ETag") != `"1"` {
		t.Errorf("ETag %q", resp.Header.Get("ETag"))
	}
	var prob problemDoc
	resp, body = c.do("POST", m+"/people", create)
	want(t, "the same identifier again", resp, body, http.StatusConflict, &prob)
	if !slices.Equal(prob.fieldCodes(), []string{"username:taken"}) {
		t.Errorf("conflict errors: %s", body)
	}

	// Bad input: every field error, under its name in the body; nothing
	// created.
	people, _ := h.store.ListPeople(t.Context())
	resp, body = c.do("POST", m+"/people", `{"username": "Léa Martin!", "given_name": " ", "family_name": "Martin", "email": "pas une adresse",
		"membership": {"kind": "chef", "email": "pas non plus", "valid_from": "05/01/2026"}}`)
	prob = problemDoc{}
	want(t, "bad input", resp, body, http.StatusUnprocessableEntity, &prob)
	wantCodes := []string{"email:invalid", "given_name:required", "membership.email:invalid", "membership.kind:invalid",
		"membership.valid_from:date", "username:invalid"}
	if d := cmpStrings(wantCodes, prob.fieldCodes()); d != "" || prob.Status != 422 {
		t.Errorf("bad input: %s\n%s", d, body)
	}
	resp, body = c.do("POST", m+"/people", `{"username": "sans.adhesion", "given_name": "A", "family_name": "B"}`)
	prob = problemDoc{}
	want(t, "no membership", resp, body, http.StatusUnprocessableEntity, &prob)
	if !slices.Equal(prob.fieldCodes(), []string{"membership:required"}) {
		t.Errorf("no membership: %s", body)
	}
	for _, tc := range []struct {
		name, body, ctype string
		status            int
	}{
		{"malformed JSON", `{"username": `, "", http.StatusBadRequest},
		{"unknown field", `{"username": "x", "nom": "y"}`, "", http.StatusBadRequest},
		{"unknown membership field", `{"username": "x", "membership": {"person_id": "y"}}`, "", http.StatusBadRequest},
		{"wrong type", `{"username": 12}`, "", http.StatusUnprocessableEntity},
		{"a form", `username=x`, "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"too large", `{"username": "` + strings.Repeat("x", 1<<20) + `"}`, "", http.StatusRequestEntityTooLarge},
	} {
		hdr := []string{}
		if tc.ctype != "" {
			hdr = []string{"Content-Type", tc.ctype}
		}
		resp, body := c.do("POST", m+"/people", tc.body, hdr...)
		want(t, tc.name, resp, body, tc.status, nil)
	}
	if after, _ := h.store.ListPeople(t.Context()); len(after) != len(people) {
		t.Errorf("refused requests created %d people", len(after)-len(people))
	}

	// Edit: PATCH with If-Match.
	p := m + "/people/" + lea.ID
	mp := []string{"Content-Type", "application/merge-patch+json"}
	resp, body = c.do("PATCH", p, `{"usual_name": "Dupuis", "phone": "+33 1 23 45 67 89"}`, append(mp, "If-Match", `"1"`)...)
	var edited personDoc
	want(t, "patch", resp, body, http.StatusOK, &edited)
	if edited.UsualName != "Dupuis" || edited.GivenName != "Léa" || edited.Version != 2 || resp.Header.Get("ETag") != `"2"` {
		t.Errorf("patch: %s ETag %q", body, resp.Header.Get("ETag"))
	}
	resp, body = c.do("PATCH", p, `{"usual_name": "Autre"}`, append(mp, "If-Match", `"1"`)...)
	want(t, "patch from an outdated copy", resp, body, http.StatusPreconditionFailed, nil)
	if resp.Header.Get("ETag") != `"2"` {
		t.Errorf("412: ETag %q, want the current one", resp.Header.Get("ETag"))
	}
	resp, body = c.do("PATCH", p, `{"usual_name": "Autre"}`, mp...)
	want(t, "patch without If-Match", resp, body, http.StatusPreconditionRequired, nil)
	prob = problemDoc{}
	resp, body = c.do("PATCH", p, `{"given_name": null, "disabled": true, "email": "x"}`, "If-Match", `"2"`)
	want(t, "patch bad input", resp, body, http.StatusUnprocessableEntity, &prob)
	if !slices.Equal(prob.fieldCodes(), []string{"disabled:read_only"}) {
		t.Errorf("patch read-only: %s", body)
	}
	prob = problemDoc{}
	resp, body = c.do("PATCH", p, `{"given_name": null, "email": "x"}`, "If-Match", `"2"`)
	want(t, "patch bad input", resp, body, http.StatusUnprocessableEntity, &prob)
	if !slices.Equal(prob.fieldCodes(), []string{"email:invalid", "given_name:required"}) {
		t.Errorf("patch bad input: %s", body)
	}
	resp, body = c.do("PATCH", p, `{"prenom": "x"}`, "If-Match", `"2"`)
	want(t, "patch an unknown field", resp, body, http.StatusBadRequest, nil)
	if got, _ := h.store.GetPerson(t.Context(), lea.ID); got.UsualName != "Dupuis" || got.GivenName != "Léa" || got.Version != 2 {
		t.Errorf("refused patches changed the person: %+v", got)
	}

	// Search and pages.
	var found listDoc[personDoc]
	resp, body = c.do("GET", m+"/people?q="+url.QueryEscape("LEA paie"), "")
	want(t, "search", resp, body, http.StatusOK, &found)
	if len(found.Items) != 1 || found.Items[0].ID != lea.ID {
		t.Errorf("search: %s", body)
	}
	var all []string
	next := m + "/people?limit=1"
	for next != "" {
		var page listDoc[personDoc]
		resp, body = c.do("GET", next, "")
		want(t, "a page", resp, body, http.StatusOK, &page)
		for _, x := range page.Items {
			all = append(all, x.Username)
		}
		next = ""
		if page.NextCursor != "" {
			next = m + "/people?limit=1&cursor=" + url.QueryEscape(page.NextCursor)
		}
	}
	sort.Strings(all)
	if !slices.Equal(all, []string{"agent.metropole", "lea.martin"}) {
		t.Errorf("pages of one: %v", all)
	}
	resp, body = c.do("GET", m+"/people?limit=501", "")
	want(t, "limit above 500", resp, body, http.StatusBadRequest, nil)

	// Memberships.
	var ms listDoc[struct {
		ID      string `json:"id"`
		Title   string `json:"title"`
		Version int64  `json:"version"`
	}]
	resp, body = c.do("GET", m+"/memberships?person_id="+lea.ID, "")
	want(t, "memberships", resp, body, http.StatusOK, &ms)
	if len(ms.Items) != 1 || ms.Items[0].Title != "Gestionnaire paie" {
		t.Fatalf("memberships: %s", body)
	}
	mu := m + "/memberships/" + ms.Items[0].ID
	resp, body = c.do("PATCH", mu, `{"title": "Responsable paie", "valid_until": "2027-01-01"}`, "If-Match", `"1"`)
	want(t, "patch membership", resp, body, http.StatusOK, nil)
	if resp.Header.Get("ETag") != `"2"` || !strings.Contains(body, "Responsable paie") || !strings.Contains(body, `"valid_until"`) {
		t.Errorf("patch membership: %s", body)
	}
	resp, body = c.do("PATCH", mu, `{"title": "Autre"}`, "If-Match", `"1"`)
	want(t, "patch membership from an outdated copy", resp, body, http.StatusPreconditionFailed, nil)
	resp, body = c.do("PATCH", mu, `{"valid_until": "2020-01-01"}`, "If-Match", `"2"`)
	want(t, "end before start", resp, body, http.StatusUnprocessableEntity, nil)
	resp, body = c.do("GET", mu, "")
	want(t, "read membership", resp, body, http.StatusOK, nil)
	if resp.Header.Get("ETag") != `"2"` || !strings.Contains(body, "Responsable paie") {
		t.Errorf("membership: %s", body)
	}
	resp, body = c.do("POST", m+"/memberships", `{"person_id": "`+commune.ID+`", "kind": "elu", "title": "Conseillère métropolitaine"}`)
	// A person of another organization joins only through the platform:
	// the métropole alone cannot take a commune's agent.
	want(t, "a commune's agent made an élue of the métropole by the métropole alone", resp, body, http.StatusUnprocessableEntity, nil)
	resp, body = c.do("POST", m+"/memberships", `{"person_id": "nope", "kind": "agent"}`)
	prob = problemDoc{}
	want(t, "membership of no one", resp, body, http.StatusUnprocessableEntity, &prob)
	if !slices.Equal(prob.fieldCodes(), []string{"person_id:unknown"}) {
		t.Errorf("membership of no one: %s", body)
	}

	// Disable and enable.
	var d personDoc
	resp, body = c.do("POST", p+"/disable", "")
	want(t, "disable", resp, body, http.StatusOK, &d)
	if !d.Disabled || resp.Header.Get("ETag") != `"3"` {
		t.Errorf("disable: %s", body)
	}
	resp, body = c.do("POST", p+"/enable", "")
	want(t, "enable", resp, body, http.StatusOK, &d)
	if d.Disabled {
		t.Errorf("enable: %s", body)
	}

	// Applications and the audit log.
	resp, body = c.do("GET", m+"/apps", "")
	want(t, "applications", resp, body, http.StatusOK, nil)
	if !strings.Contains(body, `"client_id":"rh-batch"`) || strings.Contains(body, "argon2") {
		t.Errorf("applications: %s", body)
	}
	var events struct {
		Items []struct {
			Type      string `json:"type"`
			ActorKind string `json:"actor_kind"`
			ClientID  string `json:"client_id"`
		} `json:"items"`
		NextBefore int64 `json:"next_before"`
	}
	resp, body = c.do("GET", m+"/audit?type=person_created&limit=1", "")
	want(t, "audit", resp, body, http.StatusOK, &events)
	if len(events.Items) != 1 || events.Items[0].ActorKind != "client" || events.Items[0].ClientID != "rh-batch" || events.NextBefore != 0 {
		t.Errorf("audit: %s", body)
	}
	evs, _ := h.store.QueryAuditEvents(t.Context(), storage.AuditQuery{OrgID: h.metropole.ID})
	seen := map[string]bool{}
	for _, e := range evs {
		if e.ActorKind == "client" {
			seen[e.Type] = true
			if e.ClientID != "rh-batch" || e.ActorID != "rh-batch" || e.Address == "" {
				t.Errorf("event %s: client %q actor %q address %q", e.Type, e.ClientID, e.ActorID, e.Address)
			}
		}
	}
	for _, typ := range []string{"person_created", "membership_created", "person_updated", "membership_updated", "person_disabled", "person_enabled"} {
		if !seen[typ] {
			t.Errorf("no %s event by the client (saw %v)", typ, seen)
		}
	}
	resp, body = c.do("GET", m+"/audit?before=x", "")
	want(t, "audit: bad before", resp, body, http.StatusBadRequest, nil)
}

func cmpStrings(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	return "want " + strings.Join(want, " ") + "\ngot  " + strings.Join(got, " ")
}

// TestAPIAuthentication: only an access token issued to an application
// for itself, alive, of an enabled application, is accepted; a person's
// token is refused; the roles decide the rest.
func TestAPIAuthentication(t *testing.T) {
	h := newHarness(t)
	c := h.apiApp("rh-batch", h.metropole, storage.RoleOrgAdmin)
	m := "/api/v1/orgs/" + h.metropole.Slug
	resp, body := c.do("GET", m+"/people", "")
	want(t, "the client's own token", resp, body, http.StatusOK, nil)

	challenge := func(what string, c *apiClient, wantError bool) {
		t.Helper()
		resp, body := c.do("GET", m+"/people", "")
		want(t, what, resp, body, http.StatusUnauthorized, nil)
		wa := resp.Header.Get("WWW-Authenticate")
		if !strings.HasPrefix(wa, "Bearer ") || strings.Contains(wa, `error="invalid_token"`) != wantError {
			t.Errorf("%s: WWW-Authenticate %q", what, wa)
		}
		if strings.Contains(body, "agent") {
			t.Errorf("%s shows people", what)
		}
	}
	challenge("no token", &apiClient{h: h}, false)
	challenge("an unknown token", &apiClient{h: h, token: "nope"}, true)
	basic := &apiClient{h: h}
	resp, body = basic.do("GET", m+"/people", "", "Authorization", "Basic "+c.token)
	want(t, "Basic", resp, body, http.StatusUnauthorized, nil)

	// A person's access token, from a sign-in into an application that
	// itself holds a role, is refused.
	h.app("portail", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Settings.GrantTypes, a.Settings.RefreshTokens = []string{"refresh_token"}, true
	})
	if err := h.terr.GrantClientRole(t.Context(), authz.CLI(), storage.ClientRole{ClientID: "portail", OrgID: h.metropole.ID, Role: storage.RoleOrgAdmin}); err != nil {
		t.Fatal(err)
	}
	h.person("agent", h.metropole)
	personal := h.signIn(h.browser(), "portail", "agent", "openid profile")
	challenge("a person's token", &apiClient{h: h, token: personal.access}, true)
	if personal.refresh == "" {
		t.Fatal("no refresh token")
	}
	challenge("a refresh token", &apiClient{h: h, token: personal.refresh}, true)

	// Roles: a helpdesk reads people, not the audit log; without a role,
	// nothing.
	helpdesk := h.apiApp("accueil", h.metropole, storage.RoleOrgHelpdesk)
	resp, body = helpdesk.do("GET", m+"/people", "")
	want(t, "helpdesk: people", resp, body, http.StatusOK, nil)
	resp, body = helpdesk.do("GET", m+"/audit", "")
	want(t, "helpdesk: audit", resp, body, http.StatusForbidden, nil)
	none := h.apiApp("sans-role", h.metropole)
	var orgs listDoc[struct{ Slug string }]
	resp, body = none.do("GET", "/api/v1/orgs", "")
	want(t, "no role: organizations", resp, body, http.StatusOK, &orgs)
	if len(orgs.Items) != 0 {
		t.Errorf("no role: %s", body)
	}
	resp, body = none.do("GET", m+"/people", "")
	want(t, "no role: people", resp, body, http.StatusForbidden, nil)

	// Revoked at /revoke; a disabled application; an expired token.
	revoked := &apiClient{h: h, id: c.id, token: h.clientToken(c.id)}
	h.revoke(c.id, revoked.token, "")
	challenge("a revoked token", revoked, true)
	app, _ := h.store.GetApplicationByClientID(t.Context(), "accueil")
	if _, err := h.apps.SetDisabled(t.Context(), authz.CLI(), app.OrgID, app.ID, true); err != nil {
		t.Fatal(err)
	}
	challenge("a disabled application's token", helpdesk, true)
	h.clock.advance(10*time.Minute + time.Second)
	challenge("an expired token", c, true)
	c.token = h.clientToken(c.id)
	resp, body = c.do("GET", m+"/people", "")
	want(t, "a new token", resp, body, http.StatusOK, nil)

	// The document needs no token; unknown paths and methods are problems.
	resp, body = (&apiClient{h: h}).do("GET", "/api/v1/openapi.json", "")
	want(t, "openapi.json", resp, body, http.StatusOK, nil)
	resp, body = c.do("GET", "/api/v1/nope", "")
	want(t, "unknown path", resp, body, http.StatusNotFound, nil)
	resp, body = c.do("DELETE", "/api/v1/orgs", "")
	want(t, "unknown method", resp, body, http.StatusMethodNotAllowed, nil)
	if resp.Header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
}

// apiCase is how the commune's application calls one API operation
// against the métropole's records.
type apiCase struct {
	method, path, body string
	ifMatch            string
	ok                 bool // allowed (it shows the client's own records only)
}

// apiOperations lists the operations of the served OpenAPI document
// ("GET /api/v1/orgs/{org}"): the admin package's test checks it names
// every route the API registers.
func apiOperations(t *testing.T, h *harness) []string {
	t.Helper()
	resp, body := (&apiClient{h: h}).do("GET", "/api/v1/openapi.json", "")
	var doc struct {
		Servers []struct{ URL string }
		Paths   map[string]map[string]json.RawMessage
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &doc) != nil || len(doc.Servers) != 1 {
		t.Fatalf("openapi.json: %d %.300s", resp.StatusCode, body)
	}
	var out []string
	for p, ops := range doc.Paths {
		for method := range ops {
			out = append(out, strings.ToUpper(method)+" "+doc.Servers[0].URL+p)
		}
	}
	sort.Strings(out)
	return out
}

// TestAPIRefusesAnotherOrganization: an application holding org_admin
// on the commune calls every API operation on the métropole's records
// (and on the métropole's person through the commune's own URLs): each
// answers 403 or 404, and nothing changes, not even the audit log. An
// operation without a case here fails the test.
func TestAPIRefusesAnotherOrganization(t *testing.T) {
	h := newHarness(t)
	f := &consoleFixture{h: h}
	f.victim = h.person("victime", h.metropole)
	f.app = h.app("paie", storage.ClientConfidential, rpCallback)
	ms, err := h.store.ListPersonMemberships(t.Context(), f.victim.ID)
	if err != nil || len(ms) != 1 {
		t.Fatal(ms, err)
	}
	f.member = ms[0]
	intruder := h.apiApp("intrus", h.commune, storage.RoleOrgAdmin)

	m := "/api/v1/orgs/" + h.metropole.Slug
	cm := "/api/v1/orgs/" + h.commune.Slug
	v, mb := url.PathEscape(f.victim.ID), url.PathEscape(f.member.ID)
	newPerson := `{"username": "pirate", "given_name": "X", "family_name": "Y", "membership": {"kind": "agent"}}`
	cases := map[string]apiCase{
		"GET /api/v1/openapi.json":                              {method: "GET", path: "/api/v1/openapi.json", ok: true},
		"GET /api/v1/orgs":                                      {method: "GET", path: "/api/v1/orgs", ok: true},
		"GET /api/v1/orgs/{org}":                                {method: "GET", path: m},
		"GET /api/v1/orgs/{org}#unknown":                        {method: "GET", path: "/api/v1/orgs/nope"},
		"GET /api/v1/orgs/{org}/people":                         {method: "GET", path: m + "/people"},
		"GET /api/v1/orgs/{org}/people#search":                  {method: "GET", path: m + "/people?q=victime"},
		"POST /api/v1/orgs/{org}/people":                        {method: "POST", path: m + "/people", body: newPerson},
		"GET /api/v1/orgs/{org}/people/{id}":                    {method: "GET", path: m + "/people/" + v},
		"GET /api/v1/orgs/{org}/people/{id}#commune":            {method: "GET", path: cm + "/people/" + v},
		"PATCH /api/v1/orgs/{org}/people/{id}":                  {method: "PATCH", path: m + "/people/" + v, body: `{"given_name": "Pirate"}`, ifMatch: `"1"`},
		"PATCH /api/v1/orgs/{org}/people/{id}#commune":          {method: "PATCH", path: cm + "/people/" + v, body: `{"given_name": "Pirate"}`, ifMatch: `"1"`},
		"PATCH /api/v1/orgs/{org}/people/{id}#no-if-match":      {method: "PATCH", path: m + "/people/" + v, body: `{"given_name": "Pirate"}`},
		"POST /api/v1/orgs/{org}/people/{id}/disable":           {method: "POST", path: m + "/people/" + v + "/disable"},
		"POST /api/v1/orgs/{org}/people/{id}/disable#commune":   {method: "POST", path: cm + "/people/" + v + "/disable"},
		"POST /api/v1/orgs/{org}/people/{id}/enable":            {method: "POST", path: m + "/people/" + v + "/enable"},
		"POST /api/v1/orgs/{org}/people/{id}/enable#commune":    {method: "POST", path: cm + "/people/" + v + "/enable"},
		"GET /api/v1/orgs/{org}/memberships":                    {method: "GET", path: m + "/memberships"},
		"POST /api/v1/orgs/{org}/memberships":                   {method: "POST", path: m + "/memberships", body: `{"person_id": "` + f.victim.ID + `", "kind": "elu"}`},
		"GET /api/v1/orgs/{org}/memberships/{id}":               {method: "GET", path: m + "/memberships/" + mb},
		"GET /api/v1/orgs/{org}/memberships/{id}#commune":       {method: "GET", path: cm + "/memberships/" + mb},
		"PATCH /api/v1/orgs/{org}/memberships/{id}":             {method: "PATCH", path: m + "/memberships/" + mb, body: `{"title": "Pirate"}`, ifMatch: `"1"`},
		"PATCH /api/v1/orgs/{org}/memberships/{id}#commune":     {method: "PATCH", path: cm + "/memberships/" + mb, body: `{"title": "Pirate"}`, ifMatch: `"1"`},
		"PATCH /api/v1/orgs/{org}/memberships/{id}#no-if-match": {method: "PATCH", path: m + "/memberships/" + mb, body: `{"title": "Pirate"}`},
		"GET /api/v1/orgs/{org}/apps":                           {method: "GET", path: m + "/apps"},
		"GET /api/v1/orgs/{org}/audit":                          {method: "GET", path: m + "/audit"},
	}
	covered := map[string]bool{}
	for k := range cases {
		covered[strings.SplitN(k, "#", 2)[0]] = true
	}
	for _, op := range apiOperations(t, h) {
		if !covered[op] {
			t.Errorf("API operation %q has no cross-organization case: add one", op)
		}
	}
	before := f.snapshot(t)
	names := make([]string, 0, len(cases))
	for k := range cases {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		tc := cases[k]
		var hdr []string
		if tc.ifMatch != "" {
			hdr = []string{"If-Match", tc.ifMatch}
		}
		resp, body := intruder.do(tc.method, tc.path, tc.body, hdr...)
		switch {
		case tc.ok && resp.StatusCode != http.StatusOK:
			t.Errorf("%s: %d, want 200\n%.300s", k, resp.StatusCode, body)
		case !tc.ok && resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound:
			t.Errorf("%s (%s %s): %d, want 403 or 404\n%.400s", k, tc.method, tc.path, resp.StatusCode, body)
		}
		for _, secret := range []string{f.victim.ID, f.victim.Username, h.metropole.ID, f.member.ID} {
			if strings.Contains(body, secret) && k != "GET /api/v1/openapi.json" {
				t.Errorf("%s shows the métropole's %q:\n%.400s", k, secret, body)
			}
		}
	}
	if after := f.snapshot(t); !reflect.DeepEqual(after, before) {
		t.Errorf("the intruder changed something:\nbefore %+v\nafter  %+v", before, after)
	}
}
