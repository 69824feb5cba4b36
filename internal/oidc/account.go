package oidc

import (
	"cmp"
	"errors"
	"fmt"
	"github.com/territoires-ouverts/tno/internal/audit"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/territoires-ouverts/tno/internal/logout"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// The person's consents, listed and withdrawn on their own pages. They
// live here, with the sign-in they reuse, until the portal
// (internal/portal) takes the person's pages over.
const (
	pathAccount         = "/account"
	pathAccountConsents = "/account/consents"
	pathAccountRevoke   = "/account/consents/revoke"
	// fieldRevoked, in the query of the consents page, names the
	// application whose consent was just withdrawn.
	fieldRevoked = "revoked"
)

func (p *Provider) handleAccount(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, p.basePath+pathAccountConsents, http.StatusSeeOther)
}

// accountSession returns the browser's session and its person. Without
// one (or for a disabled person, whose session ends) it renders the
// sign-in form, which comes back to the consents page, and returns
// ok=false.
func (p *Provider) accountSession(w http.ResponseWriter, r *http.Request) (storage.Session, storage.Person, bool) {
	ctx := r.Context()
	sess, ok, err := p.sessions.Current(ctx, r)
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return sess, storage.Person{}, false
	}
	var person storage.Person
	if ok {
		person, err = p.store.GetPerson(ctx, sess.PersonID)
		if err != nil || person.Disabled {
			p.endCurrentSession(ctx, w, r, logout.ReasonPersonDisabled)
			ok = false
		}
	}
	if !ok {
		p.flow.StartLocal(w, r, p.basePath+pathAccountConsents)
		return sess, person, false
	}
	return sess, person, true
}

// handleAccountConsents lists the person's consents, by application
// name, each with a button that withdraws it.
func (p *Provider) handleAccountConsents(w http.ResponseWriter, r *http.Request) {
	_, person, ok := p.accountSession(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	consents, err := p.store.ListPersonConsents(ctx, person.ID)
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	page := web.AccountConsentsPage{
		PersonName: personName(person), RevokeAction: p.basePath + pathAccountRevoke, LogoutURL: p.basePath + pathLogout,
	}
	orgs := map[string]string{} // organization ID → name
	for _, c := range consents {
		app, err := p.store.GetApplicationByClientID(ctx, c.ClientID)
		if err != nil {
			p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		name, seen := orgs[app.OrgID]
		if !seen {
			org, err := p.store.GetOrganization(ctx, app.OrgID)
			if err != nil {
				p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
				return
			}
			name, orgs[app.OrgID] = org.Name, org.Name
		}
		page.Consents = append(page.Consents, web.ConsentItem{
			ClientID: c.ClientID, AppName: app.Name, OrgName: name, Scopes: c.Scopes, Date: c.UpdatedAt,
		})
	}
	slices.SortStableFunc(page.Consents, func(a, b web.ConsentItem) int {
		return cmp.Compare(strings.ToLower(a.AppName), strings.ToLower(b.AppName))
	})
	// The notice of a withdrawal just made: only for an application the
	// person has indeed no consent to.
	if id := r.URL.Query().Get(fieldRevoked); id != "" && !slices.ContainsFunc(consents, func(c storage.Consent) bool { return c.ClientID == id }) {
		if app, err := p.store.GetApplicationByClientID(ctx, id); err == nil {
			page.Revoked = app.Name
		}
	}
	p.web.Render(w, r, http.StatusOK, page)
}

// handleAccountRevoke withdraws the person's consent to an application
// and revokes every token the application holds for them, refresh tokens
// with offline_access included: it must ask again, and the person decide
// again. Withdrawing twice is harmless. Only TNO's own pages can post it.
func (p *Provider) handleAccountRevoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", ""))
		return
	}
	_, person, ok := p.accountSession(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	clientID := r.PostForm.Get(web.FieldClientID)
	if clientID == "" || len(clientID) > 256 {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", "client_id is missing"))
		return
	}
	if err := p.store.DeleteConsent(ctx, person.ID, clientID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	n, err := p.store.RevokePersonClientTokens(ctx, person.ID, clientID, p.now().UTC())
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	p.record(ctx, audit.Event{Type: "consent_withdrawn", PersonID: person.ID, ClientID: clientID,
		Details: map[string]string{"revoked": fmt.Sprint(n)}})
	p.log.InfoContext(ctx, "consent withdrawn", "client_id", clientID, "person_id", person.ID, "revoked", n)
	q := url.Values{fieldRevoked: {clientID}}
	http.Redirect(w, r, p.basePath+pathAccountConsents+"?"+q.Encode(), http.StatusSeeOther)
}

// personName is the name the person's pages greet them with.
func personName(person storage.Person) string {
	family := person.UsualName
	if family == "" {
		family = person.FamilyName
	}
	if n := strings.TrimSpace(person.GivenName + " " + family); n != "" {
		return n
	}
	return person.Username
}
