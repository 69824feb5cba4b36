package server_test

import (
	"html"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// adminBrowser signs username (created with a membership in org) into the
// console with a second factor, holding roles: the way an administrator
// does (password, then the authenticator app's code).
func (h *harness) adminBrowser(username string, org storage.Organization, roles ...storage.AdminRole) (*http.Client, storage.Person) {
	h.t.Helper()
	t := h.t
	p := h.person(username, org)
	b := h.browser()
	_, body := get(t, b, h.issuer+"/account/security")
	if resp, _ := h.login(b, body, username, password); resp.Request.URL.Path != "/account/security" {
		t.Fatalf("sign-in for %s: %d %s", username, resp.StatusCode, resp.Request.URL)
	}
	key, _ := h.enrolTOTP(b)
	for _, r := range roles {
		r.PersonID = p.ID
		if err := h.store.GrantRole(t.Context(), &r); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := get(t, b, h.issuer+"/admin")
	factorPage(t, resp, body) // administrators sign in with a second factor
	h.clock.advance(31 * time.Second)
	resp, body = h.submitFactor(b, body, "totp", totpCode(t, key, h.clock.now()))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/admin") {
		t.Fatalf("console after the second factor: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	return b, p
}

// adminActor is the CLI, for set-ups through the use cases.
func adminActor(*harness) authz.Actor { return authz.CLI() }

// consoleFixture is a territory with two organizations: the métropole,
// whose records the tests try to reach, and the commune, whose
// administrator tries.
type consoleFixture struct {
	h        *harness
	victim   storage.Person      // a person of the métropole only
	app      storage.Application // an application of the métropole
	member   storage.Membership  // the victim's membership
	group    storage.Group       // a group of the métropole
	intruder *http.Client        // the commune's administrator
}

// routeCase says how to call one console route as the intruder: the
// path with its parameters filled in, and a form for a POST.
type routeCase struct {
	path string
	form url.Values
}

// routeCases are filled by each part of the console (people, apps, …),
// each in its own file: every route of the console must have one.
var routeCases = []func(f *consoleFixture) map[string]routeCase{peopleRouteCases, inviteRouteCases, appsRouteCases, auditRouteCases, rolesRouteCases, groupsRouteCases, platformRouteCases, importRouteCases, iconRouteCases}

func peopleRouteCases(f *consoleFixture) map[string]routeCase {
	m := "/admin/orgs/" + f.h.metropole.Slug
	v := url.PathEscape(f.victim.ID)
	return map[string]routeCase{
		"GET /admin/orgs/{org}":                              {path: m},
		"POST /admin/orgs/{org}":                             {path: m, form: url.Values{"name": {"Pirate"}, "mfa_policy": {"all"}}},
		"GET /admin/orgs/{org}/people":                       {path: m + "/people"},
		"POST /admin/orgs/{org}/people":                      {path: m + "/people", form: url.Values{"given_name": {"X"}, "family_name": {"Y"}, "username": {"pirate"}, "kind": {"agent"}}},
		"GET /admin/orgs/{org}/people/{id}":                  {path: m + "/people/" + v},
		"POST /admin/orgs/{org}/people/{id}":                 {path: m + "/people/" + v, form: url.Values{"given_name": {"Pirate"}, "family_name": {"Y"}, "username": {f.victim.Username}}},
		"POST /admin/orgs/{org}/people/{id}/disable":         {path: m + "/people/" + v + "/disable", form: url.Values{}},
		"POST /admin/orgs/{org}/people/{id}/enable":          {path: m + "/people/" + v + "/enable", form: url.Values{}},
		"POST /admin/orgs/{org}/people/{id}/reset-factors":   {path: m + "/people/" + v + "/reset-factors", form: url.Values{}},
		"POST /admin/orgs/{org}/people/{id}/end-sessions":    {path: m + "/people/" + v + "/end-sessions", form: url.Values{}},
		"POST /admin/orgs/{org}/memberships/{id}":            {path: m + "/memberships/" + url.PathEscape(f.member.ID), form: url.Values{"m-" + f.member.ID + "-title": {"Pirate"}}},
		"POST /admin/orgs/{org}/people/{id}/disable#commune": {path: "/admin/orgs/" + f.h.commune.Slug + "/people/" + v + "/disable", form: url.Values{}},
		"GET /admin/orgs/{org}/people/{id}#commune":          {path: "/admin/orgs/" + f.h.commune.Slug + "/people/" + v},
		"POST /admin/orgs/{org}/memberships/{id}#commune":    {path: "/admin/orgs/" + f.h.commune.Slug + "/memberships/" + url.PathEscape(f.member.ID), form: url.Values{}},
		"GET /admin":       {}, // the intruder's own home: allowed
		"GET /admin/orgs":  {path: "/admin/orgs"},
		"POST /admin/orgs": {path: "/admin/orgs", form: url.Values{"name": {"Pirate"}, "slug": {"pirate"}, "siren": {"732829320"}}},
		"POST /admin/orgs/{org}/people/{id}/reset-factors#c":                {path: "/admin/orgs/" + f.h.commune.Slug + "/people/" + v + "/reset-factors", form: url.Values{}},
		"POST /admin/orgs/{org}/people/{id}/end-sessions#c":                 {path: "/admin/orgs/" + f.h.commune.Slug + "/people/" + v + "/end-sessions", form: url.Values{}},
		"POST /admin/orgs/{org}/people/{id}#commune":                        {path: "/admin/orgs/" + f.h.commune.Slug + "/people/" + v, form: url.Values{"given_name": {"Pirate"}, "family_name": {"Y"}, "username": {f.victim.Username}}},
		"GET /admin/orgs/{org}/people#search-the-metropole":                 {path: m + "/people?q=" + url.QueryEscape(f.victim.Username)},
		"POST /admin/orgs/{org}/people/{id}/enable#commune":                 {path: "/admin/orgs/" + f.h.commune.Slug + "/people/" + v + "/enable", form: url.Values{}},
		"GET /admin/orgs/{org}#unknown":                                     {path: "/admin/orgs/nope"},
		"GET /admin/orgs/{org}/people/{id}#unknown-person":                  {path: "/admin/orgs/" + f.h.commune.Slug + "/people/nope"},
		"POST /admin/orgs/{org}/people#in-the-metropole-name":               {path: m + "/people", form: url.Values{"given_name": {"X"}, "family_name": {"Y"}, "username": {"pirate2"}, "kind": {"elu"}}},
		"POST /admin/orgs/{org}/memberships":                                {path: m + "/memberships", form: url.Values{"x-username": {f.victim.Username}, "x-kind": {"elu"}}},
		"POST /admin/orgs/{org}/memberships/{id}/end":                       {path: m + "/memberships/" + url.PathEscape(f.member.ID) + "/end", form: url.Values{}},
		"POST /admin/orgs/{org}/memberships/{id}/end#commune":               {path: "/admin/orgs/" + f.h.commune.Slug + "/memberships/" + url.PathEscape(f.member.ID) + "/end", form: url.Values{}},
		"POST /admin/orgs/{org}/memberships/{id}/mandates":                  {path: m + "/memberships/" + url.PathEscape(f.member.ID) + "/mandates", form: url.Values{"md-" + f.member.ID + "-function": {"Maire"}}},
		"POST /admin/orgs/{org}/memberships/{id}/mandates/{mandate}/remove": {path: m + "/memberships/" + url.PathEscape(f.member.ID) + "/mandates/x/remove", form: url.Values{}},
	}
}

// snapshot is what the intruder must not change.
type snapshot struct {
	victim storage.Person
	app    storage.Application
	member storage.Membership
	orgs   int
	people int
	events int
	groups int
	roles  int
}

func (f *consoleFixture) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := t.Context()
	st := f.h.store
	var s snapshot
	var err error
	if s.victim, err = st.GetPerson(ctx, f.victim.ID); err != nil {
		t.Fatal(err)
	}
	if s.app, err = st.GetApplication(ctx, f.app.OrgID, f.app.ID); err != nil {
		t.Fatal(err)
	}
	if s.member, err = st.GetMembership(ctx, f.member.OrgID, f.member.ID); err != nil {
		t.Fatal(err)
	}
	orgs, _ := st.ListOrganizations(ctx)
	people, _ := st.ListPeople(ctx)
	evs, _ := st.ListAuditEvents(ctx, 0, 100000)
	groups, _ := st.ListGroups(ctx, f.h.metropole.ID)
	roles, _ := st.ListOrgRoles(ctx, f.h.metropole.ID)
	s.orgs, s.people, s.events, s.groups, s.roles = len(orgs), len(people), len(evs), len(groups), len(roles)
	return s
}

// TestConsoleRefusesAnotherOrganization: the commune's administrator
// calls every console route on the métropole's records (and on the
// métropole's person through the commune's own URLs): each answers 403
// or 404, and nothing changes, not even the audit log. A console route
// without a case here fails the test.
func TestConsoleRefusesAnotherOrganization(t *testing.T) {
	h := newHarness(t)
	f := &consoleFixture{h: h}
	f.victim = h.person("victime", h.metropole)
	f.app = h.app("paie", storage.ClientConfidential, rpCallback)
	ms, err := h.store.ListPersonMemberships(t.Context(), f.victim.ID)
	if err != nil || len(ms) != 1 {
		t.Fatal(ms, err)
	}
	f.member = ms[0]
	f.group = storage.Group{OrgID: h.metropole.ID, Slug: "rh", Name: "Ressources humaines"}
	if err := h.store.CreateGroup(t.Context(), &f.group); err != nil {
		t.Fatal(err)
	}
	f.intruder, _ = h.adminBrowser("admin.commune", h.commune, storage.AdminRole{OrgID: h.commune.ID, Role: storage.RoleOrgAdmin})

	cases := map[string]routeCase{}
	for _, add := range routeCases {
		for k, v := range add(f) {
			cases[k] = v
		}
	}
	covered := map[string]bool{}
	for k := range cases {
		covered[strings.SplitN(k, "#", 2)[0]] = true
	}
	for _, p := range h.server.ConsolePatterns() {
		if !covered[p] {
			t.Errorf("console route %q has no cross-organization case: add one", p)
		}
	}
	before := f.snapshot(t)
	keys := make([]string, 0, len(cases))
	for k := range cases {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := cases[k]
		if c.path == "" {
			continue // allowed for anyone with a role
		}
		var resp *http.Response
		var body string
		if c.form != nil {
			resp, body = postForm(t, f.intruder, h.issuer+c.path, c.form, h.issuer)
		} else {
			resp, body = get(t, f.intruder, h.issuer+c.path)
		}
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s (%s): %d %s, want 403 or 404\n%.400s", k, c.path, resp.StatusCode, resp.Request.URL, body)
		}
		if strings.Contains(body, f.victim.Username) && resp.StatusCode == http.StatusOK {
			t.Errorf("%s shows the métropole's person", k)
		}
	}
	if after := f.snapshot(t); !reflect.DeepEqual(after, before) {
		t.Errorf("the intruder changed something:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestConsolePeople: an organization's administrator lists, finds,
// creates and edits their people; a bad input is shown again with its
// message next to the field; an edit from an outdated copy is refused.
func TestConsolePeople(t *testing.T) {
	h := newHarness(t)
	b, _ := h.adminBrowser("admin.metropole", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgAdmin})
	helene := h.person("helene.durand", h.metropole)
	helene.GivenName = "Hélène"
	if err := h.store.UpdatePerson(t.Context(), &helene); err != nil {
		t.Fatal(err)
	}
	base := h.issuer + "/admin/orgs/" + h.metropole.Slug

	resp, body := get(t, b, base+"/people?q=hélene+MARTIN")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "helene.durand") || !strings.Contains(body, "1 personne(s)") {
		t.Fatalf("search: %d\n%s", resp.StatusCode, body)
	}
	// A bad e-mail and a missing name: 422, the input kept, messages
	// next to the fields and in the summary.
	resp, body = postForm(t, b, base+"/people", url.Values{"given_name": {"Léa"}, "family_name": {""}, "username": {"lea.martin"},
		"email": {"pas une adresse"}, "kind": {"agent"}}, h.issuer)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `value="lea.martin"`) ||
		!strings.Contains(body, `id="e-family_name"`) || !strings.Contains(body, `id="e-email"`) || !strings.Contains(body, "Erreur") {
		t.Fatalf("bad input: %d\n%s", resp.StatusCode, body)
	}
	if _, err := h.store.GetPersonByUsername(t.Context(), "lea.martin"); err == nil {
		t.Fatal("a refused form created the person")
	}
	resp, body = postForm(t, b, base+"/people", url.Values{"given_name": {"Léa"}, "family_name": {"Martin"}, "username": {"lea.martin"},
		"email": {"lea.martin@exemple.fr"}, "kind": {"agent"}, "title": {"Secrétaire de mairie"}}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Léa Martin") || !strings.Contains(body, `role="status"`) {
		t.Fatalf("create: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	lea, err := h.store.GetPersonByUsername(t.Context(), "lea.martin")
	if err != nil {
		t.Fatal(err)
	}
	// Two administrators edit the same person: the second is told.
	form := url.Values{"given_name": {"Léa"}, "family_name": {"Martin"}, "usual_name": {"Dupuis"}, "username": {"lea.martin"},
		"email": {"lea.martin@exemple.fr"}, "version": {"1"}}
	if resp, _ = postForm(t, b, base+"/people/"+lea.ID, form, h.issuer); resp.StatusCode != http.StatusOK {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	form.Set("usual_name", "Autre")
	resp, body = postForm(t, b, base+"/people/"+lea.ID, form, h.issuer)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "modifié cette fiche entre-temps") {
		t.Fatalf("stale edit: %d\n%s", resp.StatusCode, body)
	}
	if got, _ := h.store.GetPerson(t.Context(), lea.ID); got.UsualName != "Dupuis" {
		t.Errorf("usual name = %q, want the first edit's", got.UsualName)
	}
	// Deactivation, recorded with the administrator as actor.
	if resp, _ = postForm(t, b, base+"/people/"+lea.ID+"/disable", url.Values{}, h.issuer); resp.StatusCode != http.StatusOK {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	evs, _ := h.store.QueryAuditEvents(t.Context(), storage.AuditQuery{OrgID: h.metropole.ID, Type: "person_disabled"})
	if len(evs) != 1 || evs[0].ActorKind != "person" || evs[0].Address == "" {
		t.Errorf("disable events = %+v", evs)
	}
	// A cross-site post is refused by the browser mux's protection.
	if resp := h.crossSitePost(b, "/admin/orgs/"+h.metropole.Slug+"/people/"+lea.ID+"/enable", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %d", resp.StatusCode)
	}
}

// TestConsoleNeedsARole: a signed-in person without a role is refused;
// without a session, the console starts a sign-in.
func TestConsoleNeedsARole(t *testing.T) {
	h := newHarness(t)
	h.person("agent", h.metropole)
	b := h.browser()
	resp, body := get(t, b, h.issuer+"/admin")
	wantLoginPage(t, resp)
	resp, body = h.login(b, body, "agent", password)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "réservé aux administrateurs") {
		t.Fatalf("no role: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
}

// TestConsoleFirstAdministrator: the README's first steps. The first
// platform administrator opens the console with the temporary password
// printed at the first start, chooses their own, turns on an
// authenticator app (every administrator needs a second factor), and
// lands on the console.
func TestConsoleFirstAdministrator(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	admin, err := h.store.GetPersonByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	const printed = "le mot de passe imprimé au démarrage"
	if err := h.terr.SetPassword(ctx, authz.CLI(), "", admin.ID, printed, true); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	resp, body := get(t, b, h.issuer+"/admin")
	wantLoginPage(t, resp)
	resp, body = h.login(b, body, "admin", printed)
	if !strings.Contains(body, `name="new_password"`) {
		t.Fatalf("want the password change page: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	const mine = "mon propre mot de passe solide"
	resp, body = postForm(t, b, h.issuer+"/password", url.Values{"request": {requestID(t, body)}, "new_password": {mine}, "confirm_password": {mine}}, h.issuer)
	if !strings.Contains(body, `class="key"`) {
		t.Fatalf("want the authenticator enrolment: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	key := strings.ReplaceAll(regexpValue(t, body, `<code class="key">([A-Z2-7 ]+)</code>`), " ", "")
	resp, body = postForm(t, b, h.issuer+"/login/enrol", url.Values{"request": {requestID(t, body)}, "code": {totpCode(t, key, h.clock.now())}, "name": {"Téléphone"}}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Vos codes de secours") {
		t.Fatalf("want the recovery codes: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	cont := html.UnescapeString(regexpValue(t, body, `href="(/login\?request=[^"]+)"`))
	resp, body = get(t, b, h.issuer+cont)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin" || !strings.Contains(body, "Vous administrez la plateforme") {
		t.Fatalf("want the console: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
}
