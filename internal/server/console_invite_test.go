package server_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/mail"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

func inviteRouteCases(f *consoleFixture) map[string]routeCase {
	v := url.PathEscape(f.victim.ID)
	return map[string]routeCase{
		"POST /admin/orgs/{org}/people/{id}/invite":         {path: "/admin/orgs/" + f.h.metropole.Slug + "/people/" + v + "/invite", form: url.Values{}},
		"POST /admin/orgs/{org}/people/{id}/invite#commune": {path: "/admin/orgs/" + f.h.commune.Slug + "/people/" + v + "/invite", form: url.Values{}},
	}
}

// TestConsoleInvitation: an administrator creates a person without a
// password and invites them; the e-mail holds the one-time link, which
// lets the person choose a password once; they then sign in with it.
func TestConsoleInvitation(t *testing.T) {
	h := newResetHarness(t, nil, nil)
	b, _ := h.adminBrowser("admin.metropole", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgAdmin})
	base := h.issuer + "/admin/orgs/" + h.metropole.Slug
	carole := storage.Person{Username: "carole.petit", GivenName: "Carole", FamilyName: "Petit", Email: "carole.petit@exemple.fr"}
	m := storage.Membership{OrgID: h.metropole.ID, Kind: storage.KindAgent}
	if err := h.terr.CreatePerson(t.Context(), adminActor(h.harness), &carole, territory.NewPerson{Membership: &m}); err != nil {
		t.Fatal(err)
	}
	resp, body := postForm(t, b, base+"/people/"+carole.ID+"/invite", url.Values{}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "carole.petit@exemple.fr") {
		t.Fatalf("invite: %d\n%s", resp.StatusCode, body)
	}
	shown := html.UnescapeString(regexp.MustCompile(`id="invitation-link">([^<]+)<`).FindStringSubmatch(body)[1])
	msgs := waitMail(t, h.mail, 2) // the administrator's security notice (a new factor), then the invitation
	var invitation mail.Message
	for _, m := range msgs {
		if strings.Contains(m.To, "carole.petit@") {
			invitation = m
		}
	}
	if !strings.Contains(invitation.To, "carole.petit@") || !strings.Contains(invitation.Text, shown) || !strings.Contains(invitation.Subject, "votre compte vous attend") {
		t.Fatalf("mail = %+v, want the link %s", invitation, shown)
	}
	// The person opens the link in their own browser.
	p := h.browser()
	resp, body = get(t, p, shown)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "choisissez votre mot de passe") {
		t.Fatalf("invitation page: %d\n%s", resp.StatusCode, body)
	}
	token := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(body)[1]
	const chosen = "un mot de passe bien à moi"
	form := url.Values{"token": {token}, "new_password": {chosen}, "confirm_password": {chosen}}
	if resp, body = postForm(t, p, h.issuer+"/login/reset", form, h.issuer); resp.StatusCode != http.StatusOK {
		t.Fatalf("choose: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ = postForm(t, p, h.issuer+"/login/reset", form, h.issuer); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the link works twice: %d", resp.StatusCode)
	}
	if _, err := h.local.Authenticate(t.Context(), "carole.petit", chosen); err != nil {
		t.Errorf("sign in with the chosen password: %v", err)
	}
	evs, _ := h.store.QueryAuditEvents(t.Context(), storage.AuditQuery{Type: "invitation_created"})
	if len(evs) != 1 || strings.Contains(evs[0].Details["expires"]+evs[0].After, token) {
		t.Errorf("invitation events = %+v", evs)
	}
}
