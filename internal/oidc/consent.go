package oidc

import (
	"context"
	"errors"
	"github.com/territoires-ouverts/tno/internal/audit"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// pathConsent is the consent screen: GET shows it, POST records the
// person's decision.
const pathConsent = "/consent"

// consentNeeded reports whether the person must be asked before app
// receives the claims of req's scopes. A first-party application (one the
// owning organization approved for its people) never asks. Others ask
// with prompt=consent, and otherwise unless the person's recorded
// consent covers every scope requested.
func (p *Provider) consentNeeded(ctx context.Context, app storage.Application, req storage.AuthRequest, personID string) (bool, error) {
	if app.FirstParty {
		return false, nil
	}
	if hasPrompt(req.Prompt, "consent") {
		return true, nil
	}
	c, err := p.store.GetConsent(ctx, personID, app.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, s := range strings.Fields(req.Scope) {
		if !slices.Contains(c.Scopes, s) {
			return true, nil
		}
	}
	return false, nil
}

// consentOrCode goes on once the membership is known: to the consent
// screen if the person must be asked (consent_required with prompt=none),
// else straight to the code.
func (p *Provider) consentOrCode(w http.ResponseWriter, r *http.Request, app storage.Application, req storage.AuthRequest, sess storage.Session, m storage.Membership) {
	need, err := p.consentNeeded(r.Context(), app, req, sess.PersonID)
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	switch {
	case !need:
		p.issueCode(w, r, app, req, sess, m)
	case hasPrompt(req.Prompt, "none"):
		p.finishWithError(w, r, req, errConsentRequired("the person must allow the application to receive their information"))
	default:
		q := url.Values{web.FieldRequest: {req.ID}, web.FieldMembership: {m.ID}}
		http.Redirect(w, r, p.basePath+pathConsent+"?"+q.Encode(), http.StatusSeeOther)
	}
}

// consentRequest loads what the consent screen needs: the pending
// request, its application, the session (else the login page) and the
// membership chosen, which must still be eligible.
func (p *Provider) consentRequest(w http.ResponseWriter, r *http.Request, form url.Values) (storage.Application, storage.AuthRequest, storage.Session, storage.Membership, bool) {
	app, req, sess, eligible, ok := p.sessionForChooser(w, r, form.Get(web.FieldRequest))
	if !ok {
		return app, req, sess, storage.Membership{}, false
	}
	i := slices.IndexFunc(eligible, func(m storage.Membership) bool { return m.ID == form.Get(web.FieldMembership) })
	if i < 0 {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", "unknown membership"))
		return app, req, sess, storage.Membership{}, false
	}
	return app, req, sess, eligible[i], true
}

func (p *Provider) handleConsentPage(w http.ResponseWriter, r *http.Request) {
	app, req, sess, m, ok := p.consentRequest(w, r, r.URL.Query())
	if !ok {
		return
	}
	page := web.ConsentPage{
		AppName: app.Name, Scopes: strings.Fields(req.Scope),
		Action: p.basePath + pathConsent, RequestID: req.ID, MembershipID: m.ID,
	}
	who, err := p.signedInAs(r, sess, req)
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	page.Who = who
	org, err := p.store.GetOrganization(r.Context(), app.OrgID)
	if err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	page.OrgName = org.Name
	p.web.Render(w, r, http.StatusOK, page)
}

// handleConsentSubmit records the person's decision: "allow" saves the
// consent (the union of the scopes allowed before and now) and issues the
// code; "deny" sends access_denied back to the application. Only TNO's
// own pages can post it (cross-origin protection of the browser mux).
func (p *Provider) handleConsentSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", ""))
		return
	}
	decision := r.PostForm.Get(web.FieldDecision)
	if decision != web.DecisionAllow && decision != web.DecisionDeny {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", "no decision"))
		return
	}
	app, req, sess, m, ok := p.consentRequest(w, r, r.PostForm)
	if !ok {
		return
	}
	ctx := r.Context()
	if decision == web.DecisionDeny {
		p.record(ctx, audit.Event{Type: "consent_denied", PersonID: sess.PersonID, ClientID: app.ClientID,
			Details: map[string]string{"scope": req.Scope}})
		p.log.InfoContext(ctx, "consent denied", "client_id", app.ClientID, "person_id", sess.PersonID)
		p.finishWithError(w, r, req, errAccessDenied("the person refused to share their information with the application"))
		return
	}
	c := storage.Consent{PersonID: sess.PersonID, ClientID: app.ClientID}
	prev, err := p.store.GetConsent(ctx, sess.PersonID, app.ClientID)
	switch {
	case err == nil:
		c = prev
	case !errors.Is(err, storage.ErrNotFound):
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	for _, s := range strings.Fields(req.Scope) {
		if !slices.Contains(c.Scopes, s) {
			c.Scopes = append(c.Scopes, s)
		}
	}
	if err := p.store.SaveConsent(ctx, &c); err != nil {
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	p.record(ctx, audit.Event{Type: "consent_given", PersonID: sess.PersonID, ClientID: app.ClientID,
		Details: map[string]string{"scope": strings.Join(c.Scopes, " ")}})
	p.log.InfoContext(ctx, "consent given", "client_id", app.ClientID, "person_id", sess.PersonID, "scope", strings.Join(c.Scopes, " "))
	p.issueCode(w, r, app, req, sess, m)
}
