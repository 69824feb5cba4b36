package server_test

import (
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// appsRouteCases: the commune's administrator on the métropole's
// application, through the métropole's URLs and through the commune's.
func appsRouteCases(f *consoleFixture) map[string]routeCase {
	m := "/admin/orgs/" + f.h.metropole.Slug + "/apps"
	c := "/admin/orgs/" + f.h.commune.Slug + "/apps"
	id := "/" + url.PathEscape(f.app.ID)
	create := url.Values{"name": {"Pirate"}, "client_id": {"pirate"}, "type": {"confidential"}, "redirect_uris": {rpCallback}}
	edit := url.Values{"name": {"Pirate"}, "client_id": {f.app.ClientID}, "type": {"public"}, "redirect_uris": {"https://pirate.example/cb"},
		"grant_orgs": {f.h.commune.ID}, "version": {"1"}}
	return map[string]routeCase{
		"GET /admin/orgs/{org}/apps":                             {path: m},
		"POST /admin/orgs/{org}/apps":                            {path: m, form: create},
		"GET /admin/orgs/{org}/apps/{id}":                        {path: m + id},
		"POST /admin/orgs/{org}/apps/{id}":                       {path: m + id, form: edit},
		"POST /admin/orgs/{org}/apps/{id}/rotate-secret":         {path: m + id + "/rotate-secret", form: url.Values{}},
		"POST /admin/orgs/{org}/apps/{id}/disable":               {path: m + id + "/disable", form: url.Values{}},
		"POST /admin/orgs/{org}/apps/{id}/enable":                {path: m + id + "/enable", form: url.Values{}},
		"GET /admin/orgs/{org}/apps/{id}/delete":                 {path: m + id + "/delete"},
		"POST /admin/orgs/{org}/apps/{id}/delete":                {path: m + id + "/delete", form: url.Values{}},
		"GET /admin/orgs/{org}/apps/{id}#commune":                {path: c + id},
		"POST /admin/orgs/{org}/apps/{id}#commune":               {path: c + id, form: edit},
		"POST /admin/orgs/{org}/apps/{id}/rotate-secret#commune": {path: c + id + "/rotate-secret", form: url.Values{}},
		"POST /admin/orgs/{org}/apps/{id}/disable#commune":       {path: c + id + "/disable", form: url.Values{}},
		"POST /admin/orgs/{org}/apps/{id}/enable#commune":        {path: c + id + "/enable", form: url.Values{}},
		"GET /admin/orgs/{org}/apps/{id}/delete#commune":         {path: c + id + "/delete"},
		"POST /admin/orgs/{org}/apps/{id}/delete#commune":        {path: c + id + "/delete", form: url.Values{}},
		"GET /admin/orgs/{org}/apps/{id}#unknown":                {path: c + "/nope"},
	}
}

var secretRE = regexp.MustCompile(`<p class="secret" id="client-secret"><code>([^<]+)</code></p>`)

// shownSecret returns the client secret a page shows once.
func shownSecret(t *testing.T, resp *http.Response, body string) string {
	t.Helper()
	m := secretRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("no secret shown: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("secret page Cache-Control = %q, want no-store", cc)
	}
	secret := html.UnescapeString(m[1])
	if strings.Contains(resp.Request.URL.String(), secret) {
		t.Errorf("the secret is in the URL %s", resp.Request.URL)
	}
	if !strings.Contains(body, "ne sera plus jamais affiché") {
		t.Error("the secret page does not say it is shown once")
	}
	return secret
}

// appForm is the form of an application as the console posts it.
func appForm(name, clientID, typ string, redirects ...string) url.Values {
	return url.Values{"name": {name}, "client_id": {clientID}, "type": {typ}, "redirect_uris": {strings.Join(redirects, "\n")}}
}

// TestConsoleApps: an organization's administrator creates a
// confidential application (its secret shown once, and working at the
// token endpoint), edits it (a bad redirect URI shown again with its
// message, an outdated copy refused), rotates its secret, disables,
// enables and deletes it; a public application gets a secret when it
// becomes confidential.
func TestConsoleApps(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	b, _ := h.adminBrowser("admin.metropole", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgAdmin})
	base := h.issuer + "/admin/orgs/" + h.metropole.Slug + "/apps"

	resp, body := get(t, b, base)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Créer l’application") || !strings.Contains(body, h.commune.Name) {
		t.Fatalf("list: %d\n%s", resp.StatusCode, body)
	}

	// A redirect URI in http off loopback: 422, the input kept, the
	// message next to the field, nothing created.
	form := appForm("Portail RH", "portail-rh", storage.ClientConfidential, "https://rh.exemple.fr/cb", "http://example.org/cb")
	resp, body = postForm(t, b, base, form, h.issuer)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-redirect_uris"`) ||
		!strings.Contains(body, "«\u00a0http://example.org/cb\u00a0»") || !strings.Contains(body, `value="portail-rh"`) {
		t.Fatalf("bad redirect URI: %d\n%s", resp.StatusCode, body)
	}
	if _, err := h.store.GetApplicationByClientID(ctx, "portail-rh"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused form created the application: %v", err)
	}

	// Created: offered to the commune's agents, machine-to-machine too.
	form = appForm("Portail RH", "portail-rh", storage.ClientConfidential, "https://rh.exemple.fr/cb", rpCallback)
	form["grant_orgs"] = []string{h.commune.ID}
	form["kinds"] = []string{storage.KindAgent}
	form["grant_types"] = []string{apps.GrantClientCredentials}
	form["client_credentials_scopes"] = []string{"siren"}
	form.Set("first_party", "on")
	resp, body = postForm(t, b, base, form, h.issuer)
	secret := shownSecret(t, resp, body)
	if !strings.Contains(body, h.issuer+"/.well-known/openid-configuration") || !strings.Contains(body, "portail-rh") {
		t.Errorf("the secret page does not say what to configure:\n%s", body)
	}
	app, err := h.store.GetApplicationByClientID(ctx, "portail-rh")
	if err != nil {
		t.Fatal(err)
	}
	if !apps.VerifySecret(app, secret) || !slices.Equal(app.GrantedOrgIDs, []string{h.commune.ID}) ||
		!slices.Equal(app.AllowedKinds, []string{storage.KindAgent}) || !app.FirstParty || app.Version != 1 {
		t.Errorf("created %+v", app)
	}
	cc := url.Values{"grant_type": {"client_credentials"}}
	if resp, body := h.tokenRequest(cc, "portail-rh", secret); resp.StatusCode != http.StatusOK || jsonField(t, body, "scope") != "siren" {
		t.Errorf("token with the shown secret: %d %s", resp.StatusCode, body)
	}
	page := base + "/" + app.ID
	resp, body = get(t, b, page)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, secret) || !strings.Contains(body, `name="version" value="1"`) ||
		!strings.Contains(body, "https://rh.exemple.fr/cb") {
		t.Fatalf("app page: %d (shows the secret again: %v)\n%s", resp.StatusCode, strings.Contains(body, secret), body)
	}

	// An edit with a bad redirect URI changes nothing.
	form.Set("version", "1")
	form.Set("redirect_uris", "https://rh.exemple.fr/cb\nhttp://example.org")
	resp, body = postForm(t, b, page, form, h.issuer)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-redirect_uris"`) || !strings.Contains(body, "«\u00a0http://example.org\u00a0»") {
		t.Fatalf("bad edit: %d\n%s", resp.StatusCode, body)
	}
	if got, _ := h.store.GetApplication(ctx, h.metropole.ID, app.ID); got.Version != 1 || !slices.Equal(got.RedirectURIs, app.RedirectURIs) {
		t.Errorf("a refused edit changed the application: %+v", got)
	}
	// A good one, then the same from the outdated copy.
	form.Set("redirect_uris", "https://rh.exemple.fr/cb\nhttps://rh.exemple.fr/cb2")
	if resp, body = postForm(t, b, page, form, h.issuer); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Modifications enregistrées") {
		t.Fatalf("edit: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	form.Set("name", "Portail RH (autre)")
	resp, body = postForm(t, b, page, form, h.issuer)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "modifié cette fiche entre-temps") {
		t.Fatalf("stale edit: %d\n%s", resp.StatusCode, body)
	}
	got, _ := h.store.GetApplication(ctx, h.metropole.ID, app.ID)
	if got.Name != "Portail RH" || got.Version != 2 || !slices.Equal(got.RedirectURIs, []string{"https://rh.exemple.fr/cb", "https://rh.exemple.fr/cb2"}) ||
		!apps.VerifySecret(got, secret) {
		t.Errorf("after the edits: %+v", got)
	}

	// A new secret: the old one stops working.
	resp, body = postForm(t, b, page+"/rotate-secret", url.Values{}, h.issuer)
	fresh := shownSecret(t, resp, body)
	if fresh == secret {
		t.Fatal("the same secret again")
	}
	if resp, _ := h.tokenRequest(cc, "portail-rh", secret); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token with the old secret: %d", resp.StatusCode)
	}
	if resp, body := h.tokenRequest(cc, "portail-rh", fresh); resp.StatusCode != http.StatusOK {
		t.Errorf("token with the new secret: %d %s", resp.StatusCode, body)
	}

	// Disabled, then enabled again.
	if resp, body = postForm(t, b, page+"/disable", url.Values{}, h.issuer); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Cette application est désactivée") {
		t.Fatalf("disable: %d\n%s", resp.StatusCode, body)
	}
	if got, _ := h.store.GetApplication(ctx, h.metropole.ID, app.ID); !got.Disabled {
		t.Error("not disabled")
	}
	if resp, body = postForm(t, b, page+"/enable", url.Values{}, h.issuer); resp.StatusCode != http.StatusOK || strings.Contains(body, "Cette application est désactivée") {
		t.Fatalf("enable: %d\n%s", resp.StatusCode, body)
	}
	if got, _ := h.store.GetApplication(ctx, h.metropole.ID, app.ID); got.Disabled {
		t.Error("still disabled")
	}

	// A public application has no secret; made confidential, it gets one.
	resp, body = postForm(t, b, base, appForm("Agenda", "agenda", storage.ClientPublic, rpCallback), h.issuer)
	if resp.StatusCode != http.StatusOK || secretRE.MatchString(body) || !strings.Contains(body, "PKCE") {
		t.Fatalf("public app: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	agenda, err := h.store.GetApplicationByClientID(ctx, "agenda")
	if err != nil || agenda.SecretHash != "" {
		t.Fatalf("agenda %+v %v", agenda, err)
	}
	upd := appForm("Agenda", "agenda", storage.ClientConfidential, rpCallback)
	upd.Set("version", "1")
	resp, body = postForm(t, b, base+"/"+agenda.ID, upd, h.issuer)
	if s := shownSecret(t, resp, body); !strings.Contains(body, "désormais avec un secret") {
		t.Errorf("secret %q on\n%s", s, body)
	}

	// Deletion asks first.
	resp, body = get(t, b, page+"/delete")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "définitive") || !strings.Contains(body, `action="/admin/orgs/metropole/apps/`+app.ID+`/delete"`) {
		t.Fatalf("delete page: %d\n%s", resp.StatusCode, body)
	}
	if got, _ := h.store.GetApplication(ctx, h.metropole.ID, app.ID); got.ID != app.ID {
		t.Fatal("the confirmation page deleted the application")
	}
	if resp, body = postForm(t, b, page+"/delete", url.Values{}, h.issuer); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Supprimé") {
		t.Fatalf("delete: %d\n%s", resp.StatusCode, body)
	}
	if _, err := h.store.GetApplication(ctx, h.metropole.ID, app.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}

	// Every change is in the audit log with the administrator as actor.
	for typ, n := range map[string]int{"application_created": 2, "application_updated": 4, "application_secret_rotated": 1, "application_deleted": 1} {
		evs, err := h.store.QueryAuditEvents(ctx, storage.AuditQuery{OrgID: h.metropole.ID, Type: typ})
		if err != nil || len(evs) != n {
			t.Errorf("%s: %d events, want %d (%v)", typ, len(evs), n, err)
		}
		for _, e := range evs {
			if e.ActorKind != "person" || e.Address == "" || strings.Contains(e.Before+e.After, fresh) {
				t.Errorf("%s event %+v", typ, e)
			}
		}
	}
}

// TestConsoleAppManager: an application manager sees and changes their
// application only; they neither create nor delete one, nor choose who
// may use it.
func TestConsoleAppManager(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	paie := h.app("paie", storage.ClientConfidential, rpCallback)
	other := h.app("autre", storage.ClientConfidential, rpCallback)
	b, _ := h.adminBrowser("gestion.paie", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleAppManager, AppID: paie.ID})
	base := h.issuer + "/admin/orgs/" + h.metropole.Slug + "/apps"

	resp, body := get(t, b, base)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, paie.Name) || strings.Contains(body, other.Name) ||
		strings.Contains(body, `name="client_id"`) {
		t.Fatalf("list: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := postForm(t, b, base, appForm("Nouvelle", "nouvelle", storage.ClientPublic, rpCallback), h.issuer); resp.StatusCode != http.StatusForbidden {
		t.Errorf("create: %d, want 403", resp.StatusCode)
	}
	for _, path := range []string{"/" + other.ID, "/" + paie.ID + "/delete"} {
		if resp, _ := get(t, b, base+path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s: %d, want 403", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/" + paie.ID + "/delete", "/" + other.ID + "/disable", "/" + other.ID + "/rotate-secret"} {
		if resp, _ := postForm(t, b, base+path, url.Values{}, h.issuer); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s: %d, want 403", path, resp.StatusCode)
		}
	}
	resp, body = get(t, b, base+"/"+paie.ID)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="redirect_uris"`) || strings.Contains(body, `name="grant_orgs"`) {
		t.Fatalf("their app: %d\n%s", resp.StatusCode, body)
	}
	// Their edit keeps the audience, whatever the form says.
	form := appForm("Paie (nouvelle version)", "paie", storage.ClientConfidential, rpCallback, rpCallback2)
	form.Set("version", "1")
	form.Set("first_party", "on")
	form["grant_orgs"] = []string{h.commune.ID}
	form["kinds"] = []string{storage.KindElu}
	if resp, body = postForm(t, b, base+"/"+paie.ID, form, h.issuer); resp.StatusCode != http.StatusOK {
		t.Fatalf("edit: %d\n%s", resp.StatusCode, body)
	}
	got, _ := h.store.GetApplication(ctx, h.metropole.ID, paie.ID)
	if got.Name != "Paie (nouvelle version)" || len(got.RedirectURIs) != 2 || len(got.GrantedOrgIDs) != 0 || len(got.AllowedKinds) != 0 {
		t.Errorf("after the manager's edit: %+v", got)
	}
	if resp, _ = postForm(t, b, base+"/"+paie.ID+"/disable", url.Values{}, h.issuer); resp.StatusCode != http.StatusOK {
		t.Errorf("disable: %d", resp.StatusCode)
	}
	if got, _ := h.store.GetApplication(ctx, h.metropole.ID, paie.ID); !got.Disabled {
		t.Error("not disabled")
	}
	if got, _ := h.store.GetApplication(ctx, h.metropole.ID, other.ID); got.Version != other.Version || got.Disabled {
		t.Errorf("the other application changed: %+v", got)
	}
}
