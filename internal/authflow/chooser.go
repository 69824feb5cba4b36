package authflow

import (
	"context"
	"errors"
	"net/http"
	"net/url"
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

// chooseMembership goes on once the person is signed in at the level
// asked: the membership is the one chosen earlier, the one the SIRET hint
// names, the only one eligible (unless prompt=select_account), or else
// the chooser's.
func (e *Engine) chooseMembership(w http.ResponseWriter, r *http.Request, t *txn, app storage.Application, sess storage.Session) {
	ctx := r.Context()
	eligible, err := e.eligibleFor(ctx, app, sess.PersonID)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if t.st.MembershipID != "" {
		if i := slices.IndexFunc(eligible, func(m storage.Membership) bool { return m.ID == t.st.MembershipID }); i >= 0 {
			e.consentOrDone(w, r, t, app, sess, eligible[i])
			return
		}
	}
	if m, ok, err := e.hintedMembership(ctx, t, eligible); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	} else if ok {
		e.consentOrDone(w, r, t, app, sess, m)
		return
	}
	switch {
	case len(eligible) == 0:
		e.log.InfoContext(ctx, "sign-in: no eligible membership", "client_id", app.ClientID, "person_id", sess.PersonID)
		if t.st.Req.has(PromptNone) {
			e.fail(w, r, t, FailAccessDenied, "no membership grants access to this application")
			return
		}
		e.forget(ctx, t)
		e.web.Render(w, r, http.StatusForbidden, messagePage(http.StatusForbidden, "refused.title", "refused.message", ""))
	case len(eligible) == 1 && !t.st.Req.has(PromptSelectAccount):
		e.consentOrDone(w, r, t, app, sess, eligible[0])
	case t.st.Req.has(PromptNone):
		e.fail(w, r, t, FailAccountSelection, "the person must choose an organization")
	default:
		e.redirect(w, r, PathSelect, t)
	}
}

func (e *Engine) eligibleFor(ctx context.Context, app storage.Application, personID string) ([]storage.Membership, error) {
	ms, err := e.store.ListPersonMemberships(ctx, personID)
	if err != nil {
		return nil, err
	}
	return e.eligible(app, ms, e.now()), nil
}

// hintedMembership returns the one eligible membership in the
// organization whose SIRET the request's hint names (ProConnect's
// siret_hint): the person acts for it without the chooser. ok=false
// without a hint, with prompt=select_account, or when no (or more than
// one) eligible membership is there.
func (e *Engine) hintedMembership(ctx context.Context, t *txn, eligible []storage.Membership) (storage.Membership, bool, error) {
	if t.st.Req.SiretHint == "" || t.st.Req.has(PromptSelectAccount) || len(eligible) == 0 {
		return storage.Membership{}, false, nil
	}
	var found []storage.Membership
	for _, m := range eligible {
		org, err := e.store.GetOrganization(ctx, m.OrgID)
		if err != nil {
			return storage.Membership{}, false, err
		}
		if org.SIRET == t.st.Req.SiretHint {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		return storage.Membership{}, false, nil
	}
	return found[0], true, nil
}

// consentOrDone goes on once the membership is known: to the consent page
// if the person must be asked (consent_required with prompt=none), else
// to the front end.
func (e *Engine) consentOrDone(w http.ResponseWriter, r *http.Request, t *txn, app storage.Application, sess storage.Session, m storage.Membership) {
	need, err := e.consentNeeded(r.Context(), t, app, sess.PersonID)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	switch {
	case !need:
		e.done(w, r, t, sess, m)
	case t.st.Req.has(PromptNone):
		e.fail(w, r, t, FailConsentRequired, "the person must allow the application to receive their information")
	default:
		t.st.MembershipID = m.ID
		if err := e.save(r.Context(), t); err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		e.redirect(w, r, PathConsent, t, web.FieldMembership, m.ID)
	}
}

// consentNeeded reports whether the person must be asked before the
// application receives what the request's scopes cover. A first-party
// application (one the owning organization approved for its people)
// never asks. Others ask with prompt=consent (once per sign-in), and
// otherwise unless the recorded consent covers every scope requested.
func (e *Engine) consentNeeded(ctx context.Context, t *txn, app storage.Application, personID string) (bool, error) {
	if app.FirstParty || t.st.Consented {
		return false, nil
	}
	if t.st.Req.has(PromptConsent) {
		return true, nil
	}
	c, err := e.store.GetConsent(ctx, personID, app.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, s := range t.st.Req.Scopes {
		if !slices.Contains(c.Scopes, s) {
			return true, nil
		}
	}
	return false, nil
}

// signedInAs tells the chooser and consent pages who is signed in, with
// « Changer de compte »: a link to the login page of the same sign-in.
// Following it changes nothing; signing in there opens a new session,
// which ends this one (and tells its applications).
func (e *Engine) signedInAs(ctx context.Context, sess storage.Session, t *txn) (*web.SignedIn, error) {
	person, err := e.store.GetPerson(ctx, sess.PersonID)
	if err != nil {
		return nil, err
	}
	return &web.SignedIn{Name: personName(person), SwitchURL: e.basePath + PathLogin + "?request=" + url.QueryEscape(t.ID)}, nil
}
