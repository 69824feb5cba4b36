package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// The console's audit log, roles, groups and platform pages (keys,
// settings): how the commune's administrator calls each against the
// métropole, then what each does for those allowed.

func auditRouteCases(f *consoleFixture) map[string]routeCase {
	m := "/admin/orgs/" + f.h.metropole.Slug
	return map[string]routeCase{
		"GET /admin/orgs/{org}/audit":                 {path: m + "/audit"},
		"GET /admin/orgs/{org}/audit#filtered":        {path: m + "/audit?person=" + url.QueryEscape(f.victim.Username)},
		"GET /admin/orgs/{org}/audit.jsonl":           {path: m + "/audit.jsonl"},
		"GET /admin/orgs/{org}/audit.jsonl#filtered":  {path: m + "/audit.jsonl?type=person_created"},
		"GET /admin/audit":                            {path: "/admin/audit"},
		"GET /admin/audit#filtered":                   {path: "/admin/audit?person=" + url.QueryEscape(f.victim.Username)},
		"GET /admin/audit.jsonl":                      {path: "/admin/audit.jsonl"},
		"GET /admin/orgs/{org}/audit.jsonl#unknown":   {path: "/admin/orgs/nope/audit.jsonl"},
		"GET /admin/orgs/{org}/audit#unknown-org":     {path: "/admin/orgs/nope/audit"},
		"GET /admin/audit.jsonl#filtered-by-the-type": {path: "/admin/audit.jsonl?type=login_succeeded"},
	}
}

func rolesRouteCases(f *consoleFixture) map[string]routeCase {
	m := "/admin/orgs/" + f.h.metropole.Slug
	return map[string]routeCase{
		"GET /admin/orgs/{org}/roles":                 {path: m + "/roles"},
		"POST /admin/orgs/{org}/roles":                {path: m + "/roles", form: url.Values{"username": {f.victim.Username}, "role": {storage.RoleOrgAdmin}}},
		"POST /admin/orgs/{org}/roles#helpdesk":       {path: m + "/roles", form: url.Values{"username": {f.victim.Username}, "role": {storage.RoleOrgHelpdesk}}},
		"POST /admin/orgs/{org}/roles#self":           {path: m + "/roles", form: url.Values{"username": {"admin.commune"}, "role": {storage.RoleOrgAdmin}}},
		"POST /admin/orgs/{org}/roles/revoke":         {path: m + "/roles/revoke", form: url.Values{"person": {f.victim.ID}, "role": {storage.RoleOrgAdmin}}},
		"GET /admin/platform/admins":                  {path: "/admin/platform/admins"},
		"POST /admin/platform/admins":                 {path: "/admin/platform/admins", form: url.Values{"username": {"admin.commune"}}},
		"POST /admin/platform/admins/revoke":          {path: "/admin/platform/admins/revoke", form: url.Values{"person": {f.victim.ID}}},
		"POST /admin/orgs/{org}/roles/revoke#unknown": {path: "/admin/orgs/nope/roles/revoke", form: url.Values{"person": {f.victim.ID}, "role": {storage.RoleOrgAdmin}}},
	}
}

func groupsRouteCases(f *consoleFixture) map[string]routeCase {
	m := "/admin/orgs/" + f.h.metropole.Slug
	c := "/admin/orgs/" + f.h.commune.Slug
	g := "/groups/" + url.PathEscape(f.group.ID)
	remove := g + "/members/" + url.PathEscape(f.member.ID) + "/remove"
	return map[string]routeCase{
		"GET /admin/orgs/{org}/groups":                                   {path: m + "/groups"},
		"POST /admin/orgs/{org}/groups":                                  {path: m + "/groups", form: url.Values{"name": {"Pirates"}, "slug": {"pirates"}}},
		"GET /admin/orgs/{org}/groups/{id}":                              {path: m + g},
		"POST /admin/orgs/{org}/groups/{id}/members":                     {path: m + g + "/members", form: url.Values{"username": {f.victim.Username}}},
		"POST /admin/orgs/{org}/groups/{id}/members/{membership}/remove": {path: m + remove, form: url.Values{}},
		"GET /admin/orgs/{org}/groups/{id}/delete":                       {path: m + g + "/delete"},
		"POST /admin/orgs/{org}/groups/{id}/delete":                      {path: m + g + "/delete", form: url.Values{}},
		// The métropole's group through the commune's own URLs.
		"GET /admin/orgs/{org}/groups/{id}#commune":                              {path: c + g},
		"POST /admin/orgs/{org}/groups/{id}/members#commune":                     {path: c + g + "/members", form: url.Values{"username": {"admin.commune"}}},
		"POST /admin/orgs/{org}/groups/{id}/members/{membership}/remove#commune": {path: c + remove, form: url.Values{}},
		"GET /admin/orgs/{org}/groups/{id}/delete#commune":                       {path: c + g + "/delete"},
		"POST /admin/orgs/{org}/groups/{id}/delete#commune":                      {path: c + g + "/delete", form: url.Values{}},
	}
}

func platformRouteCases(f *consoleFixture) map[string]routeCase {
	return map[string]routeCase{
		"GET /admin/keys":         {path: "/admin/keys"},
		"POST /admin/keys/rotate": {path: "/admin/keys/rotate", form: url.Values{}},
		"GET /admin/settings":     {path: "/admin/settings"},
	}
}

// TestConsoleAuditLog: a change made in the console shows in the
// organization's log with its author and the field that changed; the
// filters narrow it, the pages go back in time, and the export gives
// every event of the selection as one JSON object per line.
func TestConsoleAuditLog(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	b, _ := h.adminBrowser("admin.metropole", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgAdmin})
	lea := h.person("lea.martin", h.metropole)
	base := h.issuer + "/admin/orgs/" + h.metropole.Slug

	form := url.Values{"given_name": {lea.GivenName}, "family_name": {lea.FamilyName}, "usual_name": {"Durand-Audit"},
		"username": {lea.Username}, "email": {lea.Email}, "version": {"1"}}
	if resp, body := postForm(t, b, base+"/people/"+lea.ID, form, h.issuer); resp.StatusCode != http.StatusOK {
		t.Fatalf("edit: %d\n%s", resp.StatusCode, body)
	}
	resp, body := get(t, b, base+"/audit")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("audit: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{"Personne modifiée", "admin.metropole", "lea.martin", "Nom d’usage", "Avant\u00a0: Dupont", "Après\u00a0: Durand-Audit", "<details>", "127.0.0.1"} {
		if !strings.Contains(body, want) {
			t.Errorf("audit page lacks %q\n%s", want, body)
		}
	}
	// Filters: by type and person; an unknown person is said next to
	// the field.
	_, body = get(t, b, base+"/audit?type=person_updated&person=lea.martin")
	if !strings.Contains(body, "Durand-Audit") || strings.Contains(body, "Personne créée</td>") {
		t.Errorf("filtered audit page:\n%s", body)
	}
	resp, body = get(t, b, base+"/audit?person=personne.inconnue")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="audit-person-error"`) || !strings.Contains(body, "personne.inconnue") {
		t.Errorf("unknown person: %d\n%s", resp.StatusCode, body)
	}
	// Another organization's events are not there.
	if _, body = get(t, b, base+"/audit?type=organization_created"); strings.Contains(body, h.commune.Name) {
		t.Errorf("the commune's creation shows in the métropole's log")
	}

	// Enough events for pages and export batches.
	for i := range 520 {
		g := storage.Group{OrgID: h.metropole.ID, Slug: fmt.Sprintf("g%d", i), Name: fmt.Sprintf("Groupe %d", i)}
		if err := h.terr.CreateGroup(ctx, authz.CLI(), &g); err != nil {
			t.Fatal(err)
		}
	}
	all, err := h.store.QueryAuditEvents(ctx, storage.AuditQuery{OrgID: h.metropole.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	_, body = get(t, b, base+"/audit")
	if n := strings.Count(body, "<tr>") - 1; n != 50 {
		t.Errorf("first page: %d rows, want 50", n)
	}
	older := fmt.Sprintf("before=%d", all[49].Seq)
	if !strings.Contains(body, older) || !strings.Contains(body, "Groupe 519") || strings.Contains(body, ">Groupe 469<") {
		t.Errorf("first page: want the 50 newest and a link to %s", older)
	}
	_, body = get(t, b, base+"/audit?"+older)
	if !strings.Contains(body, "Groupe 469") || strings.Contains(body, "Groupe 470<") {
		t.Errorf("second page:\n%.2000s", body)
	}

	resp, err = b.Get(base + "/audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "application/x-ndjson" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("export: %d %q %q", resp.StatusCode, ct, resp.Header.Get("Content-Disposition"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var lines int
	var prev int64
	for sc.Scan() {
		var ev struct {
			Seq    int64           `json:"seq"`
			Type   string          `json:"type"`
			OrgID  string          `json:"org_id"`
			Before json.RawMessage `json:"before"`
			After  json.RawMessage `json:"after"`
			Hash   string          `json:"hash"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", lines+1, err, sc.Bytes())
		}
		if ev.OrgID != h.metropole.ID || ev.Hash == "" || (prev != 0 && ev.Seq >= prev) {
			t.Errorf("line %d: %s", lines+1, sc.Bytes())
		}
		if ev.Type == "person_updated" && !strings.Contains(string(ev.After), `"usual_name":"Durand-Audit"`) {
			t.Errorf("person_updated after = %s", ev.After)
		}
		prev = ev.Seq
		lines++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines != len(all) || lines <= 500 {
		t.Errorf("export: %d lines, want %d (more than one batch)", lines, len(all))
	}
	// Filtered export.
	_, body = get(t, b, base+"/audit.jsonl?type=person_updated")
	if n := strings.Count(strings.TrimSpace(body), "\n") + 1; n != 1 || !strings.Contains(body, "Durand-Audit") {
		t.Errorf("filtered export (%d lines):\n%s", n, body)
	}

	// The platform's log covers every organization; an organization's
	// administrator cannot read it.
	if resp, _ := get(t, b, h.issuer+"/admin/audit"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("platform audit for an organization's administrator: %d", resp.StatusCode)
	}
	p, _ := h.adminBrowser("root", h.metropole, storage.AdminRole{Role: storage.RolePlatformAdmin})
	resp, body = get(t, p, h.issuer+"/admin/audit?type=organization_created")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, h.commune.Name) || !strings.Contains(body, h.metropole.Name) || !strings.Contains(body, ">CLI<") {
		t.Errorf("platform audit: %d\n%s", resp.StatusCode, body)
	}
	if _, body = get(t, p, h.issuer+"/admin/audit.jsonl?type=organization_created"); strings.Count(body, "\n") != 2 {
		t.Errorf("platform export:\n%s", body)
	}
	// A helpdesk does not read the log.
	hd, _ := h.adminBrowser("assistance", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgHelpdesk})
	for _, path := range []string{"/audit", "/audit.jsonl"} {
		if resp, _ := get(t, hd, base+path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("helpdesk %s: %d", path, resp.StatusCode)
		}
	}
}

// TestConsoleRoles: an organization's administrator names a helpdesk
// among its members; a person of another organization is refused with
// the message next to the username; the grant is listed, recorded and
// revoked. A helpdesk cannot open the page nor grant.
func TestConsoleRoles(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	b, _ := h.adminBrowser("admin.metropole", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgAdmin})
	agent := h.person("agent.metropole", h.metropole)
	h.person("agent.commune", h.commune)
	base := h.issuer + "/admin/orgs/" + h.metropole.Slug

	resp, body := get(t, b, base+"/roles")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "admin.metropole") || !strings.Contains(body, "Permissions de chaque rôle") ||
		!strings.Contains(body, "Lire le journal de l’organisation") {
		t.Fatalf("roles page: %d\n%s", resp.StatusCode, body)
	}
	resp, body = postForm(t, b, base+"/roles", url.Values{"username": {"agent.metropole"}, "role": {storage.RoleOrgHelpdesk}}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.RawQuery, "done=granted") ||
		!strings.Contains(body, "agent.metropole") || !strings.Contains(body, "<td>Assistance</td>") {
		t.Fatalf("grant: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	roles, _ := h.store.ListRoles(ctx, agent.ID)
	if len(roles) != 1 || roles[0].Role != storage.RoleOrgHelpdesk || roles[0].OrgID != h.metropole.ID {
		t.Errorf("roles = %+v", roles)
	}
	evs, _ := h.store.QueryAuditEvents(ctx, storage.AuditQuery{OrgID: h.metropole.ID, Type: "role_granted"})
	if len(evs) != 1 || evs[0].Target != "person:"+agent.ID || evs[0].ActorKind != "person" {
		t.Errorf("grant events = %+v", evs)
	}
	// Not a member, unknown, an application manager without application.
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"not a member (another organization's people are not even found)", url.Values{"username": {"agent.commune"}, "role": {storage.RoleOrgHelpdesk}}, "username", "Aucune personne"},
		{"unknown", url.Values{"username": {"personne.inconnue"}, "role": {storage.RoleOrgHelpdesk}}, "username", "Aucune personne"},
		{"empty", url.Values{"username": {""}, "role": {storage.RoleOrgHelpdesk}}, "username", "obligatoire"},
		{"manager without application", url.Values{"username": {"agent.metropole"}, "role": {storage.RoleAppManager}}, "app", "Choisissez l’application"},
		{"unknown role", url.Values{"username": {"agent.metropole"}, "role": {"emperor"}}, "role", "pas valable"},
	} {
		resp, body := postForm(t, b, base+"/roles", tc.form, h.issuer)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-`+tc.field+`"`) || !strings.Contains(body, tc.want) ||
			!strings.Contains(body, `value="`+tc.form.Get("username")+`"`) {
			t.Errorf("%s: %d\n%s", tc.name, resp.StatusCode, body)
		}
	}
	if n, _ := h.store.ListOrgRoles(ctx, h.metropole.ID); len(n) != 2 {
		t.Errorf("roles after refused grants: %+v", n)
	}
	// An application manager.
	app := h.app("portail-rh", storage.ClientConfidential, rpCallback)
	resp, body = postForm(t, b, base+"/roles", url.Values{"username": {"agent.metropole"}, "role": {storage.RoleAppManager}, "app": {app.ID}}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, app.Name) {
		t.Errorf("grant app manager: %d\n%s", resp.StatusCode, body)
	}

	// The helpdesk neither sees the page nor grants.
	hd, _ := h.adminBrowser("assistance", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgHelpdesk})
	if resp, _ := get(t, hd, base+"/roles"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("helpdesk roles page: %d", resp.StatusCode)
	}
	if resp, _ := postForm(t, hd, base+"/roles", url.Values{"username": {"assistance"}, "role": {storage.RoleOrgAdmin}}, h.issuer); resp.StatusCode != http.StatusForbidden {
		t.Errorf("helpdesk grant: %d", resp.StatusCode)
	}
	if resp, _ := postForm(t, hd, base+"/roles/revoke", url.Values{"person": {agent.ID}, "role": {storage.RoleOrgHelpdesk}}, h.issuer); resp.StatusCode != http.StatusForbidden {
		t.Errorf("helpdesk revoke: %d", resp.StatusCode)
	}

	// Revoke.
	resp, body = postForm(t, b, base+"/roles/revoke", url.Values{"person": {agent.ID}, "role": {storage.RoleOrgHelpdesk}}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.RawQuery, "done=revoked") {
		t.Fatalf("revoke: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	roles, _ = h.store.ListRoles(ctx, agent.ID)
	if len(roles) != 1 || roles[0].Role != storage.RoleAppManager {
		t.Errorf("roles after revoke = %+v", roles)
	}
	if resp, _ := postForm(t, b, base+"/roles/revoke", url.Values{"person": {agent.ID}, "role": {storage.RoleOrgHelpdesk}}, h.issuer); resp.StatusCode != http.StatusNotFound {
		t.Errorf("revoke again: %d", resp.StatusCode)
	}
	if resp := h.crossSitePost(b, "/admin/orgs/"+h.metropole.Slug+"/roles", url.Values{"username": {"agent.metropole"}, "role": {storage.RoleOrgAdmin}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site grant: %d", resp.StatusCode)
	}

	// The platform's administrators.
	if resp, _ := get(t, b, h.issuer+"/admin/platform/admins"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("platform admins for an organization's administrator: %d", resp.StatusCode)
	}
	p, root := h.adminBrowser("root", h.metropole, storage.AdminRole{Role: storage.RolePlatformAdmin})
	resp, body = postForm(t, p, h.issuer+"/admin/platform/admins", url.Values{"username": {"agent.commune"}}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "agent.commune") || !strings.Contains(body, "root") {
		t.Fatalf("grant platform admin: %d\n%s", resp.StatusCode, body)
	}
	resp, body = postForm(t, p, h.issuer+"/admin/platform/admins", url.Values{"username": {"nobody"}}, h.issuer)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-username"`) {
		t.Errorf("grant platform admin to nobody: %d\n%s", resp.StatusCode, body)
	}
	other, _ := h.store.GetPersonByUsername(ctx, "agent.commune")
	if resp, _ := postForm(t, p, h.issuer+"/admin/platform/admins/revoke", url.Values{"person": {other.ID}}, h.issuer); resp.StatusCode != http.StatusOK {
		t.Errorf("revoke platform admin: %d", resp.StatusCode)
	}
	roles, _ = h.store.ListOrgRoles(ctx, "")
	if slices.ContainsFunc(roles, func(r storage.AdminRole) bool { return r.PersonID == other.ID }) ||
		!slices.ContainsFunc(roles, func(r storage.AdminRole) bool { return r.PersonID == root.ID }) {
		t.Errorf("platform roles = %+v", roles)
	}
}

// TestConsoleGroups: create a group (a bad identifier is shown again),
// add a member by username, remove them, delete the group after the
// confirmation page.
func TestConsoleGroups(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	b, _ := h.adminBrowser("admin.metropole", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgAdmin})
	agent := h.person("agent.metropole", h.metropole)
	h.person("agent.commune", h.commune)
	base := h.issuer + "/admin/orgs/" + h.metropole.Slug

	resp, body := postForm(t, b, base+"/groups", url.Values{"name": {"Conseil"}, "slug": {"Pas Valable"}}, h.issuer)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-slug"`) || !strings.Contains(body, `value="Conseil"`) {
		t.Fatalf("bad slug: %d\n%s", resp.StatusCode, body)
	}
	resp, body = postForm(t, b, base+"/groups", url.Values{"name": {"Conseil métropolitain"}, "slug": {"conseil"}}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>Conseil métropolitain</h1>") {
		t.Fatalf("create: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	g, err := h.store.GetGroupBySlug(ctx, h.metropole.ID, "conseil")
	if err != nil {
		t.Fatal(err)
	}
	if resp, body = postForm(t, b, base+"/groups", url.Values{"name": {"Autre"}, "slug": {"conseil"}}, h.issuer); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "déjà pris") {
		t.Errorf("taken slug: %d\n%s", resp.StatusCode, body)
	}
	if _, body = get(t, b, base+"/groups"); !strings.Contains(body, "Conseil métropolitain") || !strings.Contains(body, "0 membre(s)") {
		t.Errorf("groups list:\n%s", body)
	}
	gp := base + "/groups/" + g.ID
	for _, tc := range []struct{ username, want string }{
		{"agent.commune", "Aucune personne"}, // another organization's: not even found
		{"personne.inconnue", "Aucune personne"},
	} {
		resp, body := postForm(t, b, gp+"/members", url.Values{"username": {tc.username}}, h.issuer)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-username"`) || !strings.Contains(body, tc.want) {
			t.Errorf("add %s: %d\n%s", tc.username, resp.StatusCode, body)
		}
	}
	resp, body = postForm(t, b, gp+"/members", url.Values{"username": {"agent.metropole"}}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "agent.metropole") || !strings.Contains(resp.Request.URL.RawQuery, "done=added") {
		t.Fatalf("add: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	members, _ := h.store.ListGroupMembers(ctx, h.metropole.ID, g.ID)
	if len(members) != 1 || members[0].PersonID != agent.ID {
		t.Fatalf("members = %+v", members)
	}
	if resp, body = postForm(t, b, gp+"/members", url.Values{"username": {"agent.metropole"}}, h.issuer); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "déjà membre") {
		t.Errorf("add twice: %d\n%s", resp.StatusCode, body)
	}
	// A helpdesk sees the group but does not change it.
	hd, _ := h.adminBrowser("assistance", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgHelpdesk})
	if resp, body := get(t, hd, gp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "agent.metropole") || strings.Contains(body, "/remove") {
		t.Errorf("helpdesk group page: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := postForm(t, hd, gp+"/members/"+members[0].ID+"/remove", url.Values{}, h.issuer); resp.StatusCode != http.StatusForbidden {
		t.Errorf("helpdesk remove: %d", resp.StatusCode)
	}
	resp, body = postForm(t, b, gp+"/members/"+members[0].ID+"/remove", url.Values{}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.RawQuery, "done=removed") || strings.Contains(body, "<td>agent.metropole</td>") {
		t.Fatalf("remove: %d\n%s", resp.StatusCode, body)
	}
	for _, typ := range []string{"group_created", "group_member_added", "group_member_removed"} {
		if evs, _ := h.store.QueryAuditEvents(ctx, storage.AuditQuery{OrgID: h.metropole.ID, Type: typ}); len(evs) != 1 || evs[0].ActorKind != "person" {
			t.Errorf("%s events = %+v", typ, evs)
		}
	}
	resp, body = get(t, b, gp+"/delete")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/admin/orgs/metropole/groups/`+g.ID+`/delete"`) {
		t.Fatalf("confirm: %d\n%s", resp.StatusCode, body)
	}
	if _, err := h.store.GetGroup(ctx, h.metropole.ID, g.ID); err != nil {
		t.Fatal("the confirmation page deleted the group")
	}
	resp, body = postForm(t, b, gp+"/delete", url.Values{}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.RawQuery, "done=deleted") || strings.Contains(body, "Conseil métropolitain") {
		t.Fatalf("delete: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := get(t, b, gp); resp.StatusCode != http.StatusNotFound {
		t.Errorf("deleted group: %d", resp.StatusCode)
	}
}

// TestConsoleKeys: the platform lists the signing keys without their
// private part and rotates them, which the audit log records.
func TestConsoleKeys(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	recs, err := h.store.ListSigningKeys(ctx)
	if err != nil || len(recs) != 1 {
		t.Fatal(recs, err)
	}
	var jwk map[string]any
	if err := json.Unmarshal(recs[0].PrivateJWK, &jwk); err != nil {
		t.Fatal(err)
	}
	private, _ := jwk["d"].(string)
	if private == "" {
		t.Fatalf("no private part in %v", jwk)
	}
	org, _ := h.adminBrowser("admin.metropole", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgAdmin})
	if resp, _ := get(t, org, h.issuer+"/admin/keys"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("keys for an organization's administrator: %d", resp.StatusCode)
	}
	p, root := h.adminBrowser("root", h.metropole, storage.AdminRole{Role: storage.RolePlatformAdmin})
	resp, body := get(t, p, h.issuer+"/admin/keys")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, recs[0].ID) || !strings.Contains(body, ">Signe<") {
		t.Fatalf("keys: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, private) || strings.Contains(body, `"d"`) {
		t.Fatal("the keys page shows private material")
	}
	resp, body = postForm(t, p, h.issuer+"/admin/keys/rotate", url.Values{}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.RawQuery, "done=rotated") || !strings.Contains(body, ">Prochaine<") {
		t.Fatalf("rotate: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	after, _ := h.store.ListSigningKeys(ctx)
	if len(after) != 2 || after[0].RetiredAt == nil || !after[1].ActiveAt.Equal(after[1].CreatedAt.Add(10*time.Minute)) {
		t.Fatalf("keys after rotation = %+v", after)
	}
	if !strings.Contains(body, after[1].ID) {
		t.Errorf("the new key is not listed")
	}
	evs, _ := h.store.QueryAuditEvents(ctx, storage.AuditQuery{Type: "signing_key_rotated"})
	if len(evs) != 1 || evs[0].ActorKind != "person" || evs[0].ActorID != root.ID || evs[0].Target != "signing_key:"+after[1].ID ||
		evs[0].Details["retired"] != recs[0].ID || strings.Contains(evs[0].After, private) {
		t.Errorf("rotation events = %+v", evs)
	}
	if _, body = get(t, p, h.issuer+"/admin/audit?type=signing_key_rotated"); !strings.Contains(body, "Clé de signature renouvelée") || !strings.Contains(body, "root") {
		t.Errorf("the platform's log:\n%s", body)
	}
	if resp := h.crossSitePost(p, "/admin/keys/rotate", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site rotate: %d", resp.StatusCode)
	}
	if n, _ := h.store.ListSigningKeys(ctx); len(n) != 2 {
		t.Errorf("%d keys after a refused rotation", len(n))
	}
}

// TestConsoleSettings: the platform reads the deployment settings, never
// a secret; organizations' administrators do not.
func TestConsoleSettings(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{edit: func(cfg *config.Config) {
		cfg.Database.Driver = config.DriverPostgres
		cfg.Database.DSN = "postgres://tno:s3cret-db-password@db.exemple.fr/tno"
	}})
	org, _ := h.adminBrowser("admin.metropole", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgAdmin})
	if resp, _ := get(t, org, h.issuer+"/admin/settings"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("settings for an organization's administrator: %d", resp.StatusCode)
	}
	p, _ := h.adminBrowser("root", h.metropole, storage.AdminRole{Role: storage.RolePlatformAdmin})
	resp, body := get(t, p, h.issuer+"/admin/settings")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, h.issuer) || !strings.Contains(body, "Adresse de l’émetteur") {
		t.Fatalf("settings: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "s3cret") || strings.Contains(body, "db.exemple.fr") {
		t.Errorf("the settings page shows the database's DSN:\n%s", body)
	}
}
