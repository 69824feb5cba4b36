package authflow

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

func (e *Engine) chooserPage(r *http.Request, t *txn, app storage.Application, sess storage.Session, eligible []storage.Membership, errKey string) (web.ChooserPage, error) {
	ctx := r.Context()
	page := web.ChooserPage{AppName: app.Name, Action: e.basePath + PathSelect, RequestID: t.ID, ErrorKey: errKey}
	who, err := e.signedInAs(ctx, sess, t)
	if err != nil {
		return page, err
	}
	page.Who = who
	for _, m := range eligible {
		org, err := e.store.GetOrganization(ctx, m.OrgID)
		if err != nil {
			return page, err
		}
		opt := web.ChooserOption{ID: m.ID, OrgName: org.Name, Kind: m.Kind, Service: m.Service, Title: m.Title}
		if m.Kind == storage.KindElu {
			mds, err := e.store.ListMandates(ctx, m.OrgID, m.ID)
			if err != nil {
				return page, err
			}
			var fns []string
			for _, md := range mds {
				if md.ActiveAt(e.now()) {
					fns = append(fns, md.Function)
				}
			}
			opt.Mandate = strings.Join(fns, ", ")
		}
		page.Options = append(page.Options, opt)
	}
	return page, nil
}

// signedIn loads what the chooser and consent pages need: the sign-in,
// its application, the session (else the login page) and the memberships
// eligible (else the refusal page).
func (e *Engine) signedIn(w http.ResponseWriter, r *http.Request, id string) (*txn, storage.Application, storage.Session, []storage.Membership, bool) {
	t, ok := e.load(w, r, id)
	if !ok {
		return nil, storage.Application{}, storage.Session{}, nil, false
	}
	app, ok := e.application(w, r, t)
	if !ok {
		return nil, app, storage.Session{}, nil, false
	}
	sess, ok, err := e.currentSession(w, r)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return nil, app, sess, nil, false
	}
	if !ok || needsLogin(t, sess, e.now()) || t.st.PersonID != "" || t.ClientID == "" {
		e.redirect(w, r, PathLogin, t)
		return nil, app, sess, nil, false
	}
	eligible, err := e.eligibleFor(r.Context(), app, sess.PersonID)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return nil, app, sess, nil, false
	}
	if len(eligible) == 0 {
		_ = e.store.DeleteSignIn(r.Context(), t.ID)
		e.web.Render(w, r, http.StatusForbidden, messagePage(http.StatusForbidden, "refused.title", "refused.message", ""))
		return nil, app, sess, nil, false
	}
	return t, app, sess, eligible, true
}

func (e *Engine) handleSelectPage(w http.ResponseWriter, r *http.Request) {
	t, app, sess, eligible, ok := e.signedIn(w, r, r.URL.Query().Get(web.FieldRequest))
	if !ok {
		return
	}
	page, err := e.chooserPage(r, t, app, sess, eligible, "")
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.web.Render(w, r, http.StatusOK, page)
}

func (e *Engine) handleSelectSubmit(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	t, app, sess, eligible, ok := e.signedIn(w, r, r.PostForm.Get(web.FieldRequest))
	if !ok {
		return
	}
	choice := r.PostForm.Get(web.FieldMembership)
	for _, m := range eligible {
		if m.ID == choice {
			t.st.MembershipID = m.ID
			if err := e.save(r.Context(), t); err != nil {
				e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
				return
			}
			e.consentOrDone(w, r, t, app, sess, m)
			return
		}
	}
	page, err := e.chooserPage(r, t, app, sess, eligible, "chooser.required")
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.web.Render(w, r, http.StatusBadRequest, page)
}

// consentContext loads what the consent page needs, with the membership
// chosen, which must still be eligible.
func (e *Engine) consentContext(w http.ResponseWriter, r *http.Request, id string) (*txn, storage.Application, storage.Session, storage.Membership, bool) {
	t, app, sess, eligible, ok := e.signedIn(w, r, id)
	if !ok {
		return nil, app, sess, storage.Membership{}, false
	}
	i := slices.IndexFunc(eligible, func(m storage.Membership) bool { return m.ID == t.st.MembershipID })
	if i < 0 {
		if len(eligible) == 1 {
			i = 0
		} else {
			e.redirect(w, r, PathSelect, t)
			return nil, app, sess, storage.Membership{}, false
		}
	}
	return t, app, sess, eligible[i], true
}

func (e *Engine) handleConsentPage(w http.ResponseWriter, r *http.Request) {
	t, app, sess, m, ok := e.consentContext(w, r, r.URL.Query().Get(web.FieldRequest))
	if !ok {
		return
	}
	page := web.ConsentPage{
		AppName: app.Name, Scopes: t.st.Req.Scopes,
		Action: e.basePath + PathConsent, RequestID: t.ID, MembershipID: m.ID,
	}
	who, err := e.signedInAs(r.Context(), sess, t)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	page.Who = who
	org, err := e.store.GetOrganization(r.Context(), app.OrgID)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	page.OrgName = org.Name
	e.web.Render(w, r, http.StatusOK, page)
}

// handleConsentSubmit records the person's decision: "allow" saves the
// consent (the union of the scopes allowed before and now) and finishes
// the sign-in; "deny" fails it with access_denied. Only TNO's own pages
// can post it (cross-origin protection of the browser mux).
func (e *Engine) handleConsentSubmit(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	decision := r.PostForm.Get(web.FieldDecision)
	if decision != web.DecisionAllow && decision != web.DecisionDeny {
		e.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", "no decision"))
		return
	}
	t, app, sess, m, ok := e.consentContext(w, r, r.PostForm.Get(web.FieldRequest))
	if !ok {
		return
	}
	if posted := r.PostForm.Get(web.FieldMembership); posted != "" && posted != m.ID {
		e.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", "unknown membership"))
		return
	}
	ctx := r.Context()
	scope := strings.Join(t.st.Req.Scopes, " ")
	if decision == web.DecisionDeny {
		e.record(ctx, audit.Event{Type: "consent_denied", PersonID: sess.PersonID, ClientID: app.ClientID,
			Details: map[string]string{"scope": scope}})
		e.log.InfoContext(ctx, "consent denied", "client_id", app.ClientID, "person_id", sess.PersonID)
		e.fail(w, r, t, FailAccessDenied, "the person refused to share their information with the application")
		return
	}
	c := storage.Consent{PersonID: sess.PersonID, ClientID: app.ClientID}
	prev, err := e.store.GetConsent(ctx, sess.PersonID, app.ClientID)
	switch {
	case err == nil:
		c = prev
	case !errors.Is(err, storage.ErrNotFound):
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	for _, s := range t.st.Req.Scopes {
		if !slices.Contains(c.Scopes, s) {
			c.Scopes = append(c.Scopes, s)
		}
	}
	if err := e.store.SaveConsent(ctx, &c); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.record(ctx, audit.Event{Type: "consent_given", PersonID: sess.PersonID, ClientID: app.ClientID,
		Details: map[string]string{"scope": strings.Join(c.Scopes, " ")}})
	e.log.InfoContext(ctx, "consent given", "client_id", app.ClientID, "person_id", sess.PersonID, "scope", strings.Join(c.Scopes, " "))
	t.st.Consented = true
	e.done(w, r, t, sess, m)
}
