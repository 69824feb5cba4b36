package authflow

import (
	"errors"
	"net/http"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/directory"
	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/web"
)

func (e *Engine) renderPasswordChange(w http.ResponseWriter, r *http.Request, t *txn, status int, errKey string) {
	e.web.Render(w, r, status, web.PasswordChangePage{
		Action: e.basePath + PathPassword, RequestID: t.ID, Identifier: t.st.Identifier,
		MinLength: local.MinPasswordRunes, ErrorKey: errKey,
	})
}

// handlePasswordChange stores the new password of a person whose password
// someone else chose (the generated first administrator's, a temporary
// one), proven earlier in this sign-in, then goes on with the sign-in.
func (e *Engine) handlePasswordChange(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	t, ok := e.load(w, r, r.PostForm.Get(web.FieldRequest))
	if !ok {
		return
	}
	ch, isChanger := e.pw.(directory.PasswordChanger)
	if !t.st.MustChange || t.st.PersonID == "" || !isChanger {
		e.next(w, r, t)
		return
	}
	next, confirm := r.PostForm.Get(web.FieldNewPassword), r.PostForm.Get(web.FieldConfirmPassword)
	if next != confirm {
		e.renderPasswordChange(w, r, t, http.StatusBadRequest, "password.mismatch")
		return
	}
	ctx := r.Context()
	// The current password may not come back: the person typed it a moment
	// ago, and it was someone else's choice.
	if _, err := e.pw.Authenticate(ctx, t.st.Identifier, next); err == nil {
		e.renderPasswordChange(w, r, t, http.StatusBadRequest, "password.same")
		return
	}
	if err := ch.SetPassword(ctx, t.st.PersonID, next); err != nil {
		var pe *local.PolicyError
		if errors.As(err, &pe) {
			e.renderPasswordChange(w, r, t, http.StatusBadRequest, pe.Code)
			return
		}
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.log.InfoContext(ctx, "password changed", "client_id", t.ClientID, "person_id", t.st.PersonID)
	e.record(ctx, audit.Event{Type: audit.PasswordChanged, PersonID: t.st.PersonID, ClientID: t.ClientID})
	if person, err := e.store.GetPerson(ctx, t.st.PersonID); err == nil {
		e.notify(r, person, noticePasswordChanged)
	}
	t.st.MustChange = false
	if err := e.save(ctx, t); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.continueAuthentication(w, r, t)
}
