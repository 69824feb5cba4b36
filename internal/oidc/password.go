package oidc

import (
	"errors"
	"net/http"
	"strings"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/directory"
	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// pathPassword is where the password change page posts: a person whose
// password someone else chose (the generated first administrator's, a
// temporary one) chooses their own before any session opens.
const pathPassword = "/password"

func (p *Provider) passwordChangePage(requestID, identifier, errKey string) web.PasswordChangePage {
	return web.PasswordChangePage{
		Action: p.basePath + pathPassword, RequestID: requestID, Identifier: identifier,
		MinLength: local.MinPasswordRunes, ErrorKey: errKey,
	}
}

// handlePasswordChange checks the identifier and current password again
// (nothing of the first step was kept), then the new password against the
// policy, stores it, and opens the session: the sign-in goes on to the
// application of the pending request, or to the account pages.
func (p *Provider) handlePasswordChange(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", ""))
		return
	}
	ch, ok := p.pw.(directory.PasswordChanger)
	if !ok {
		p.web.Render(w, r, http.StatusNotFound, messagePage(http.StatusNotFound, "error.title", "error.not_found", ""))
		return
	}
	var (
		app storage.Application
		req storage.AuthRequest
	)
	requestID := r.PostForm.Get(web.FieldRequest)
	if requestID != "" {
		if app, req, ok = p.loadRequest(w, r, requestID); !ok {
			return
		}
	}
	identifier := strings.TrimSpace(r.PostForm.Get(web.FieldIdentifier))
	current := r.PostForm.Get(web.FieldPassword)
	next, confirm := r.PostForm.Get(web.FieldNewPassword), r.PostForm.Get(web.FieldConfirmPassword)
	again := func(status int, errKey string) {
		p.web.Render(w, r, status, p.passwordChangePage(requestID, identifier, errKey))
	}
	person, ok := p.checkPassword(w, r, app.ClientID, identifier, current, func() { again(http.StatusUnauthorized, "login.invalid") })
	if !ok {
		return
	}
	switch {
	case next != confirm:
		again(http.StatusBadRequest, "password.mismatch")
		return
	case next == current:
		again(http.StatusBadRequest, "password.same")
		return
	}
	if err := ch.SetPassword(r.Context(), person.ID, next); err != nil {
		var pe *local.PolicyError
		if errors.As(err, &pe) {
			again(http.StatusBadRequest, pe.Code)
			return
		}
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	p.log.InfoContext(r.Context(), "password changed", "client_id", app.ClientID, "person_id", person.ID)
	p.record(r.Context(), audit.Event{Type: audit.PasswordChanged, PersonID: person.ID, ClientID: app.ClientID})
	sess, ok := p.openSession(w, r, app.ClientID, person)
	if !ok {
		return
	}
	if requestID == "" {
		http.Redirect(w, r, p.basePath+pathAccountConsents, http.StatusSeeOther)
		return
	}
	p.chooseMembership(w, r, app, req, sess)
}
