package oidc

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// applyHints compares the person a request's hints name (id_token_hint,
// login_hint) with the person signed in, if any. When they name someone
// else, a request with prompt=none fails with login_required (OpenID
// Connect Core section 3.1.2.1); any other requires a fresh sign-in, as
// if it carried prompt=login: "login" joins the stored prompt, which is
// the effective one, and the login page offers the login_hint.
//
// id_token_hint names the person whose subject for the application (the
// pairwise one included) is its sub; login_hint, the person whose
// username or e-mail address it is, ignoring case.
func (p *Provider) applyHints(r *http.Request, pa *parsedAuthorize) *oauthError {
	hint := strings.TrimSpace(pa.req.LoginHint)
	if pa.hintSubject == "" && hint == "" {
		return nil
	}
	ctx := r.Context()
	sess, ok, err := p.sessions.Current(ctx, r)
	if err != nil {
		p.log.ErrorContext(ctx, "authorize: read session", "client_id", pa.app.ClientID, "err", err)
		return errServerError("try again later")
	}
	if !ok {
		return nil // no one signed in: the login page comes anyway
	}
	person, err := p.store.GetPerson(ctx, sess.PersonID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil // resume ends the session
	}
	if err != nil {
		p.log.ErrorContext(ctx, "authorize: load person", "client_id", pa.app.ClientID, "err", err)
		return errServerError("try again later")
	}
	other := hint != "" && !namesPerson(hint, person)
	if pa.hintSubject != "" {
		sub, err := p.subject(ctx, pa.app, person.ID)
		if err != nil {
			p.log.ErrorContext(ctx, "authorize: subject", "client_id", pa.app.ClientID, "err", err)
			return errServerError("try again later")
		}
		other = other || subtle.ConstantTimeCompare([]byte(sub), []byte(pa.hintSubject)) != 1
	}
	if !other {
		return nil
	}
	if hasPrompt(pa.req.Prompt, "none") {
		return errLoginRequired("the person signed in is not the one the hint names")
	}
	if !hasPrompt(pa.req.Prompt, "login") {
		pa.req.Prompt = strings.TrimSpace(pa.req.Prompt + " login")
	}
	return nil
}

// namesPerson reports whether a login_hint is the person's username or
// e-mail address, ignoring case.
func namesPerson(hint string, person storage.Person) bool {
	return strings.EqualFold(hint, person.Username) || person.Email != "" && strings.EqualFold(hint, person.Email)
}
