package authflow

import (
	"net/http"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/factor/totp"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// PathEnrol is where a person whom a policy requires a second factor of
// (an administrator, an élu of an organization that asks it, an
// application at eidas2) enrols one during the sign-in, once their
// password is proven.
const PathEnrol = "/login/enrol"

// PathEnrolPasskey is where the same enrolment posts a passkey instead.
const PathEnrolPasskey = "/login/enrol/passkey"

// renderSignInEnrol shows the enrolment of an authenticator app inside
// the sign-in: a secret kept in the transaction, its QR code and key.
func (e *Engine) renderSignInEnrol(w http.ResponseWriter, r *http.Request, t *txn, person storage.Person, status int, errKey string) {
	ctx := r.Context()
	if t.st.Enrol == "" {
		secret, err := totp.NewSecret()
		if err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		t.st.Enrol = secret.Base32()
		if err := e.save(ctx, t); err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
	}
	page, err := e.enrolPage(r, t, person, errKey)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	page.Action, page.Required = e.basePath+PathEnrol, true
	page.CancelURL = e.basePath + PathLogin + "?request=" + t.ID + "&" + fieldMethod + "=cancel"
	if e.passkeys != nil {
		u, _, err := e.passkeyUser(ctx, person)
		if err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		opts, st, err := e.passkeys.BeginRegistration(u)
		if err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		t.st.Passkey = st
		if err := e.save(ctx, t); err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		page.Passkey = &web.PasskeyForm{Action: e.basePath + PathEnrolPasskey, RequestID: t.ID, Mode: web.PasskeyCreate, Options: string(opts)}
	}
	e.web.Render(w, r, status, page)
}

// handleSignInEnrol checks the first code of the app being enrolled in a
// sign-in, stores it with 10 recovery codes (shown once), and counts the
// code as the second factor of this sign-in.
func (e *Engine) handleSignInEnrol(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	t, ok := e.load(w, r, r.PostForm.Get(web.FieldRequest))
	if !ok {
		return
	}
	if t.st.PersonID == "" || t.st.Enrol == "" || t.st.MustChange {
		e.next(w, r, t)
		return
	}
	ctx := r.Context()
	person, err := e.store.GetPerson(ctx, t.st.PersonID)
	if err != nil || person.Disabled {
		e.restart(w, r, t)
		return
	}
	name, codes, errKey, err := e.enrolTOTP(r, person, t.st.Enrol)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if errKey != "" {
		e.renderSignInEnrol(w, r, t, person, http.StatusBadRequest, errKey)
		return
	}
	now := e.now().UTC()
	e.log.InfoContext(ctx, "factor enrolled at sign-in", "client_id", t.ClientID, "person_id", person.ID, "kind", storage.FactorTOTP)
	e.record(ctx, audit.Event{Type: audit.FactorEnrolled, PersonID: person.ID, ClientID: t.ClientID,
		Details: map[string]string{"kind": storage.FactorTOTP, "name": name, "at": "sign-in"}})
	e.notify(r, person, noticeTOTPEnrolled)
	t.st.Enrol = ""
	t.st.Proofs = append(t.st.Proofs, proof{Method: session.AMROTP, At: now})
	if err := e.save(ctx, t); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	// The codes are shown once, here; the sign-in goes on from the link.
	e.web.Render(w, r, http.StatusOK, web.RecoveryCodesPage{Codes: codes, ContinueURL: e.basePath + PathLogin + "?request=" + t.ID})
}
