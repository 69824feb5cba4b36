package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// TestConsoleMembershipsAndMandates: the commune's administrator makes
// one of the commune's agents an élue too (one identity, two
// memberships), gives her a mandate (refused before the membership
// starts), and ends the membership; her agent membership is untouched. A
// person of another organization is not even found.
func TestConsoleMembershipsAndMandates(t *testing.T) {
	h := newHarness(t)
	b, _ := h.adminBrowser("admin.commune", h.commune, storage.AdminRole{OrgID: h.commune.ID, Role: storage.RoleOrgAdmin})
	h.person("agent.metropole", h.metropole)
	agent := h.person("agent.commune", h.commune)
	base := h.issuer + "/admin/orgs/" + h.commune.Slug

	resp, body := postForm(t, b, base+"/memberships", url.Values{"x-username": {"personne.inconnue"}, "x-kind": {"elu"}}, h.issuer)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Aucune personne n’a cet identifiant") {
		t.Fatalf("unknown person: %d\n%s", resp.StatusCode, body)
	}
	resp, body = postForm(t, b, base+"/memberships", url.Values{"x-username": {"agent.metropole"}, "x-kind": {"elu"}}, h.issuer)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Aucune personne n’a cet identifiant") {
		t.Fatalf("another organization's person: %d\n%s", resp.StatusCode, body)
	}
	resp, body = postForm(t, b, base+"/memberships", url.Values{"x-username": {agent.Username}, "x-kind": {"elu"}}, h.issuer)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/orgs/"+h.commune.Slug+"/people/"+agent.ID {
		t.Fatalf("add existing: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	ms, _ := h.store.ListPersonMemberships(t.Context(), agent.ID)
	var elu storage.Membership
	for _, m := range ms {
		if m.Kind == storage.KindElu {
			elu = m
		}
	}
	if elu.Kind != storage.KindElu || len(ms) != 2 {
		t.Fatalf("memberships = %+v", ms)
	}
	id := "md-" + elu.ID + "-"
	resp, body = postForm(t, b, base+"/memberships/"+elu.ID+"/mandates", url.Values{id + "function": {"Adjointe au maire"}, id + "from": {"2001-01-01"}}, h.issuer)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "avant l’appartenance") || !strings.Contains(body, `value="Adjointe au maire"`) {
		t.Fatalf("mandate before the membership: %d\n%s", resp.StatusCode, body)
	}
	resp, body = postForm(t, b, base+"/memberships/"+elu.ID+"/mandates", url.Values{id + "function": {"Adjointe au maire"}, id + "delegations": {"Culture"}}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Adjointe au maire — Culture") {
		t.Fatalf("mandate: %d\n%s", resp.StatusCode, body)
	}
	mds, _ := h.store.ListMandates(t.Context(), h.commune.ID, elu.ID)
	if len(mds) != 1 {
		t.Fatalf("mandates = %+v", mds)
	}
	if resp, _ = postForm(t, b, base+"/memberships/"+elu.ID+"/mandates/"+mds[0].ID+"/remove", url.Values{}, h.issuer); resp.StatusCode != http.StatusOK {
		t.Fatalf("remove mandate: %d", resp.StatusCode)
	}
	// Ending it the second it started is refused, and said.
	resp, body = postForm(t, b, base+"/memberships/"+elu.ID+"/end", url.Values{}, h.issuer)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "La fin doit venir après le début") {
		t.Fatalf("end at its start: %d\n%s", resp.StatusCode, body)
	}
	h.clock.advance(time.Hour)
	if resp, _ = postForm(t, b, base+"/memberships/"+elu.ID+"/end", url.Values{}, h.issuer); resp.StatusCode != http.StatusOK {
		t.Fatalf("end: %d", resp.StatusCode)
	}
	ms, _ = h.store.ListPersonMemberships(t.Context(), agent.ID)
	for _, m := range ms {
		switch {
		case m.Kind == storage.KindElu && m.ValidUntil == nil:
			t.Error("the élue membership did not end")
		case m.Kind == storage.KindAgent && m.ValidUntil != nil:
			t.Error("the agent membership ended")
		}
	}
}
