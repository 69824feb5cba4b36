package authflow

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/directory"
	"github.com/territoires-ouverts/tno/internal/factor/totp"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/throttle"
	"github.com/territoires-ouverts/tno/internal/web"
)

// maxFormBytes caps every form the engine reads: its forms are a few
// hundred bytes, not Go's default 10 MB.
const maxFormBytes = 16 << 10

// maxFactorFailures is how many wrong codes one sign-in accepts before
// it ends: the person starts again (and the attempts are audited).
const maxFactorFailures = 5

// Form fields of the engine's pages.
const (
	fieldCode   = "code"
	fieldMethod = "method"
)

// Second-factor methods offered on the factor page.
const (
	methodTOTP     = "totp"
	methodRecovery = "recovery"
)

func (e *Engine) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		e.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", ""))
		return false
	}
	return true
}

// loginPage is the first page (identifier) or, with the identifier given,
// the password page.
func (e *Engine) loginPage(r *http.Request, t *txn, app storage.Application) web.LoginPage {
	return web.LoginPage{
		AppName: appName(app), ServiceName: t.st.Req.SPName, Action: e.basePath + PathLogin,
		RequestID: t.ID, Identifier: t.st.Req.LoginHint,
	}
}

// handleLoginPage shows the step the sign-in is at: the identifier page,
// or the second factor (or new password) once a password is proven.
func (e *Engine) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	t, ok := e.load(w, r, r.URL.Query().Get(web.FieldRequest))
	if !ok {
		return
	}
	if t.st.PersonID != "" {
		m := r.URL.Query().Get(fieldMethod)
		if m == "cancel" {
			e.restart(w, r, t)
			return
		}
		if m == methodRecovery || m == methodTOTP {
			fs, err := e.store.ListFactors(r.Context(), t.st.PersonID)
			if err != nil {
				e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
				return
			}
			e.renderFactor(w, r, t, fs, http.StatusOK, m, "")
			return
		}
		e.continueAuthentication(w, r, t)
		return
	}
	app, ok := e.application(w, r, t)
	if !ok {
		return
	}
	page := e.loginPage(r, t, app)
	if t.st.Identifier != "" {
		page.Identifier = t.st.Identifier
	}
	form, err := e.discoverableForm(r.Context(), t)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	page.Passkey = form
	e.web.Render(w, r, http.StatusOK, page)
}

// handleLoginSubmit reads the identifier page, or the password page: the
// identifier alone shows the password page, the same for everyone (it is
// not looked up); with the password it is checked.
func (e *Engine) handleLoginSubmit(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	t, ok := e.load(w, r, r.PostForm.Get(web.FieldRequest))
	if !ok {
		return
	}
	app, ok := e.application(w, r, t)
	if !ok {
		return
	}
	identifier := strings.TrimSpace(r.PostForm.Get(web.FieldIdentifier))
	page := e.loginPage(r, t, app)
	page.Identifier = identifier
	if identifier == "" || len(identifier) > 256 || !utf8.ValidString(identifier) {
		page.ErrorKey = "login.identifier_required"
		e.web.Render(w, r, http.StatusBadRequest, page)
		return
	}
	if !r.PostForm.Has(web.FieldPassword) {
		// The identifier page: the password page comes next, whoever the
		// identifier names (or nobody).
		t.st.Identifier, t.st.PersonID, t.st.Proofs, t.st.StepUp = identifier, "", nil, false
		if err := e.save(r.Context(), t); err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		page.PasswordStep, page.ChangeURL = true, e.basePath+PathLogin+"?request="+t.ID
		e.web.Render(w, r, http.StatusOK, page)
		return
	}
	page.PasswordStep, page.ChangeURL = true, e.basePath+PathLogin+"?request="+t.ID
	ctx := r.Context()
	a, err := e.attempt(w, r, identifier)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	dec, err := e.reserve(ctx, a)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if !dec.Allowed {
		page.Throttled, page.WaitMinutes = dec.Reason, waitMinutes(dec.Wait)
		page.OfferCode = dec.Reason == throttle.ReasonAccount
		if page.OfferCode && r.PostForm.Get(fieldCode) != "" {
			e.passwordAndCode(w, r, t, page, a, identifier)
			return
		}
		e.throttled(ctx, t, dec, "password", identifier, "")
		e.web.Render(w, r, http.StatusTooManyRequests, page)
		return
	}
	person, err := e.pw.Authenticate(ctx, identifier, r.PostForm.Get(web.FieldPassword))
	if err != nil {
		if !errors.Is(err, directory.ErrInvalidCredentials) {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		e.log.InfoContext(ctx, "login failed", "client_id", t.ClientID)
		// The identifier typed is kept (an administrator needs it to see an
		// attack on an account); the password never is.
		e.record(ctx, audit.Event{Type: audit.LoginFailed, ClientID: t.ClientID,
			Details: map[string]string{"identifier": truncate(identifier, 128)}})
		page.ErrorKey = "login.invalid"
		e.web.Render(w, r, http.StatusUnauthorized, page)
		return
	}
	t.st.Identifier = identifier
	e.passwordProven(w, r, t, person)
}

// renderFactor shows the second-factor page: the authenticator app's
// code, or a recovery code (method).
func (e *Engine) renderFactor(w http.ResponseWriter, r *http.Request, t *txn, fs []storage.Factor, status int, method, errKey string) {
	e.renderFactorPage(w, r, t, fs, status, method, errKey, 0)
}

func (e *Engine) renderFactorPage(w http.ResponseWriter, r *http.Request, t *txn, fs []storage.Factor, status int, method, errKey string, waitMinutes int) {
	app, ok := e.application(w, r, t)
	if !ok {
		return
	}
	hasRecovery := slices.ContainsFunc(fs, func(f storage.Factor) bool { return f.Kind == storage.FactorRecovery })
	switch {
	case method == methodRecovery && hasRecovery:
	case !hasTOTP(fs) && hasRecovery:
		// Passkeys only: the code field is for a recovery code.
		method = methodRecovery
	default:
		method = methodTOTP
	}
	page := web.FactorPage{HasTOTP: hasTOTP(fs),
		AppName: appName(app), Action: e.basePath + PathFactor, RequestID: t.ID, Method: method, ErrorKey: errKey,
		WaitMinutes: waitMinutes,
		CancelURL:   e.basePath + PathLogin + "?request=" + t.ID + "&" + fieldMethod + "=cancel",
	}
	if hasPasskey(fs) {
		person, err := e.store.GetPerson(r.Context(), t.st.PersonID)
		if err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		if page.Passkey, err = e.secondFactorForm(r.Context(), t, person); err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
	}
	if hasRecovery && page.HasTOTP {
		other := methodRecovery
		if method == methodRecovery {
			other = methodTOTP
		}
		page.OtherURL = e.basePath + PathLogin + "?request=" + t.ID + "&" + fieldMethod + "=" + other
	}
	e.web.Render(w, r, status, page)
}

// renderFactorWait is the factor page while the person's codes are
// throttled.
func (e *Engine) renderFactorWait(w http.ResponseWriter, r *http.Request, t *txn, fs []storage.Factor, method string, minutes int) {
	e.renderFactorPage(w, r, t, fs, http.StatusTooManyRequests, method, "", minutes)
}

// handleFactorSubmit checks a one-time code from the authenticator app,
// or a recovery code, for the person whose password was proven (or whose
// session steps up).
func (e *Engine) handleFactorSubmit(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	t, ok := e.load(w, r, r.PostForm.Get(web.FieldRequest))
	if !ok {
		return
	}
	if t.st.PersonID == "" || t.st.MustChange {
		e.next(w, r, t)
		return
	}
	ctx := r.Context()
	personID := t.st.PersonID
	fs, err := e.store.ListFactors(ctx, personID)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	method, input := r.PostForm.Get(fieldMethod), r.PostForm.Get(fieldCode)
	if method != methodRecovery {
		method = methodTOTP
	}
	now := e.now()
	a, err := e.attempt(w, r, mfaAccount(personID))
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	dec, err := e.reserve(ctx, a)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if !dec.Allowed {
		e.throttled(ctx, t, dec, "code", t.st.Identifier, personID)
		e.renderFactorWait(w, r, t, fs, method, waitMinutes(dec.Wait))
		return
	}
	var verr error
	if method == methodRecovery {
		verr = e.useRecoveryCode(r, personID, fs, input)
	} else {
		verr = e.useTOTP(r, personID, fs, input)
	}
	switch {
	case errors.Is(verr, totp.ErrMalformed):
		e.renderFactor(w, r, t, fs, http.StatusBadRequest, method, "factor.malformed_"+method)
		return
	case errors.Is(verr, errWrongCode):
		e.log.InfoContext(ctx, "second factor failed", "client_id", t.ClientID, "person_id", personID, "method", method)
		e.record(ctx, audit.Event{Type: audit.SecondFactorFailed, PersonID: personID, ClientID: t.ClientID,
			Details: map[string]string{"method": method}})
		t.st.Failures++
		if t.st.Failures >= maxFactorFailures {
			_ = e.store.DeleteSignIn(ctx, t.ID)
			e.web.Render(w, r, http.StatusTooManyRequests, messagePage(http.StatusTooManyRequests, "error.title", "factor.too_many", ""))
			return
		}
		if err := e.save(ctx, t); err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		e.renderFactor(w, r, t, fs, http.StatusUnauthorized, method, "factor.invalid_"+method)
		return
	case verr != nil:
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", verr)
		return
	}
	if method == methodRecovery {
		e.record(ctx, audit.Event{Type: audit.RecoveryCodeUsed, PersonID: personID, ClientID: t.ClientID})
	}
	t.st.Proofs = append(t.st.Proofs, proof{Method: session.AMROTP, At: now.UTC()})
	if err := e.save(ctx, t); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.continueAuthentication(w, r, t)
}

// errWrongCode is a code that matches nothing (or was used already).
var errWrongCode = errors.New("authflow: wrong code")

// useTOTP accepts input if it is the current code of one of the person's
// authenticator apps, not used before: the time step is recorded
// atomically, so of two concurrent submissions of one code one wins.
func (e *Engine) useTOTP(r *http.Request, personID string, fs []storage.Factor, input string) error {
	now := e.now()
	malformed := true
	for _, f := range fs {
		if f.Kind != storage.FactorTOTP {
			continue
		}
		secret, err := totp.ParseSecret(f.Secret)
		if err != nil {
			return err
		}
		step, err := totp.Verify(secret, input, now, f.LastStep)
		switch {
		case errors.Is(err, totp.ErrMalformed):
			continue
		case errors.Is(err, totp.ErrInvalid), errors.Is(err, totp.ErrReplayed):
			malformed = false
			continue
		case err != nil:
			return err
		}
		err = e.store.UseFactorStep(r.Context(), personID, f.ID, step, now.UTC())
		if errors.Is(err, storage.ErrAlreadyUsed) {
			return errWrongCode
		}
		return err
	}
	if malformed {
		return totp.ErrMalformed
	}
	return errWrongCode
}

// useRecoveryCode consumes input if it is one of the person's unused
// recovery codes.
func (e *Engine) useRecoveryCode(r *http.Request, personID string, fs []storage.Factor, input string) error {
	var codes []storage.Factor
	var hashes []string
	for _, f := range fs {
		if f.Kind == storage.FactorRecovery {
			codes, hashes = append(codes, f), append(hashes, f.Secret)
		}
	}
	i, ok := totp.MatchRecoveryCode(input, hashes)
	if !ok {
		return errWrongCode
	}
	err := e.store.ConsumeFactor(r.Context(), personID, codes[i].ID)
	if errors.Is(err, storage.ErrNotFound) {
		return errWrongCode // used by a concurrent request
	}
	return err
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
