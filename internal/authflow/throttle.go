package authflow

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/directory"
	"github.com/territoires-ouverts/tno/internal/factor/totp"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/throttle"
	"github.com/territoires-ouverts/tno/internal/web"
)

// Brute-force defence. Every password and every second-factor code is
// tried only after the limiter (internal/throttle, shared by every
// instance through the database) reserved the attempt: per account, per
// address, and per known browser of the account. Nothing is ever locked:
//
//   - the browser a person signed in from before (device cookie) has its
//     own budget, which an attacker elsewhere cannot spend;
//   - a person with a second factor gets in while their account is
//     throttled by typing the password and the code together: that
//     attempt is counted against the address, and, when the password is
//     right, against the person's second factor (so an attacker without
//     the password cannot spend that budget either, and the answer, the
//     same whichever part is wrong, tells nothing about the password);
//   - passkeys (next) are not guessable and are never throttled by
//     account.

// rememberDevice is how long a browser that finished a sign-in stays
// known for that account.
const rememberDevice = 400 * 24 * time.Hour

// mfaAccount is the throttle account of a person's second factor.
func mfaAccount(personID string) string { return "mfa:" + personID }

// attempt describes a try at account from this browser.
func (e *Engine) attempt(w http.ResponseWriter, r *http.Request, account string) (throttle.Attempt, error) {
	if e.limiter == nil {
		return throttle.Attempt{}, nil
	}
	dev, err := e.sessions.Device(w, r)
	if err != nil {
		return throttle.Attempt{}, err
	}
	return throttle.Attempt{Account: account, Address: remoteHost(r), DeviceHash: dev}, nil
}

// reserve counts one attempt, if the limiter allows it.
func (e *Engine) reserve(ctx context.Context, a throttle.Attempt) (throttle.Decision, error) {
	if e.limiter == nil {
		return throttle.Decision{Allowed: true}, nil
	}
	return e.limiter.Reserve(ctx, a)
}

// succeeded gives back the budget of a, and remembers the browser.
func (e *Engine) succeeded(ctx context.Context, a throttle.Attempt) {
	if e.limiter == nil || a.Account == "" {
		return
	}
	if err := e.limiter.Succeeded(ctx, a, rememberDevice); err != nil {
		e.log.WarnContext(ctx, "throttle: success not recorded", "err", err)
	}
}

// throttled logs and audits a refused attempt (what: "password", "code").
func (e *Engine) throttled(ctx context.Context, t *txn, dec throttle.Decision, what, identifier, personID string) {
	e.log.InfoContext(ctx, "sign-in throttled", "client_id", t.ClientID, "reason", dec.Reason, "wait", dec.Wait.Round(time.Second), "what", what)
	e.record(ctx, audit.Event{Type: audit.SignInThrottled, ClientID: t.ClientID, PersonID: personID, Details: map[string]string{
		"reason": dec.Reason, "what": what, "wait_seconds": strconv.Itoa(int(math.Ceil(dec.Wait.Seconds()))),
		"identifier": truncate(identifier, 128),
	}})
}

// waitMinutes rounds a wait up to whole minutes, at least 1.
func waitMinutes(d time.Duration) int {
	return max(1, int(math.Ceil(d.Minutes())))
}

// passwordAndCode is a sign-in while the account is throttled: the
// password and the authenticator app's code, posted together.
func (e *Engine) passwordAndCode(w http.ResponseWriter, r *http.Request, t *txn, page web.LoginPage, a throttle.Attempt, identifier string) {
	ctx := r.Context()
	dec, err := e.reserve(ctx, throttle.Attempt{Address: a.Address})
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if !dec.Allowed {
		e.throttled(ctx, t, dec, "password", identifier, "")
		page.Throttled, page.WaitMinutes, page.OfferCode = dec.Reason, waitMinutes(dec.Wait), false
		e.web.Render(w, r, http.StatusTooManyRequests, page)
		return
	}
	refuse := func() {
		e.log.InfoContext(ctx, "login failed", "client_id", t.ClientID, "with", "code")
		e.record(ctx, audit.Event{Type: audit.LoginFailed, ClientID: t.ClientID,
			Details: map[string]string{"identifier": truncate(identifier, 128), "with": "code"}})
		page.ErrorKey = "login.invalid_with_code"
		e.web.Render(w, r, http.StatusUnauthorized, page)
	}
	person, err := e.pw.Authenticate(ctx, identifier, r.PostForm.Get(web.FieldPassword))
	if errors.Is(err, directory.ErrInvalidCredentials) {
		refuse()
		return
	}
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	m := throttle.Attempt{Account: mfaAccount(person.ID), Address: a.Address, DeviceHash: a.DeviceHash}
	if dec, err = e.reserve(ctx, m); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if !dec.Allowed {
		e.throttled(ctx, t, dec, "code", identifier, person.ID)
		refuse()
		return
	}
	fs, err := e.store.ListFactors(ctx, person.ID)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if !hasTOTP(fs) {
		refuse()
		return
	}
	switch err := e.useTOTP(r, person.ID, fs, r.PostForm.Get(fieldCode)); {
	case errors.Is(err, errWrongCode), errors.Is(err, totp.ErrMalformed):
		e.record(ctx, audit.Event{Type: audit.SecondFactorFailed, PersonID: person.ID, ClientID: t.ClientID,
			Details: map[string]string{"method": methodTOTP}})
		refuse()
		return
	case err != nil:
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	t.st.Identifier = identifier
	e.passwordProven(w, r, t, person, proof{Method: session.AMROTP, At: e.now().UTC()})
}

// afterSignIn gives back the budgets of a finished sign-in: the account
// (or its known browser) and the person's second factor.
func (e *Engine) afterSignIn(w http.ResponseWriter, r *http.Request, t *txn, person storage.Person) {
	if e.limiter == nil {
		return
	}
	var amr []string
	for _, p := range t.st.Proofs {
		amr = append(amr, p.Method)
	}
	ctx := r.Context()
	// Only what was reserved is given back: the password's attempt (on
	// the identifier typed) and the code's (on the person's second
	// factor). A passkey reserved nothing.
	if t.st.Identifier != "" && slices.Contains(amr, session.AMRPassword) {
		if a, err := e.attempt(w, r, t.st.Identifier); err == nil {
			e.succeeded(ctx, a)
		}
	}
	if slices.Contains(amr, session.AMROTP) {
		if a, err := e.attempt(w, r, mfaAccount(person.ID)); err == nil {
			e.succeeded(ctx, a)
		}
	}
}
