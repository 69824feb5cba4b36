package authflow

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/directory"
	"github.com/territoires-ouverts/tno/internal/logout"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// Why a level is required (target).
const (
	byNone    = ""
	byRequest = "request" // an essential acr asked by the application
	byPolicy  = "policy"  // the application's or an organization's policy, or an administrator's role
)

// target returns the level the sign-in must reach (why is byRequest or
// byPolicy) or should reach if the person can (why is byNone); "" if none
// is asked. Essential levels come first: the lowest of them TNO can
// reach; then the policies that apply to the application and the
// person; then the first preferred level TNO can reach.
//
// have is the level reached so far: from the highest level TNO reaches,
// no policy can ask more, and the policies are not looked up (single
// sign-on at eidas2 costs no query for them).
func (e *Engine) target(ctx context.Context, t *txn, app storage.Application, personID, have string) (level, why string, err error) {
	if len(t.st.Req.Essential) > 0 {
		for _, v := range t.st.Req.Essential {
			if session.Reachable(v) && (level == "" || session.Rank(v) < session.Rank(level)) {
				level = v
			}
		}
		if level == "" {
			level = t.st.Req.Essential[0] // reachable by no one: unmet
		}
		why = byRequest
	}
	supported := session.SupportedACRs()
	if session.Rank(have) < session.Rank(supported[len(supported)-1]) {
		if p, err := e.policyLevel(ctx, app, personID); err != nil {
			return "", "", err
		} else if p != "" && session.Rank(p) > session.Rank(level) {
			level, why = p, byPolicy
		}
	}
	if level != "" {
		return level, why, nil
	}
	for _, v := range t.st.Req.Preferred {
		if session.Reachable(v) {
			return v, byNone, nil
		}
	}
	return "", byNone, nil
}

// policyLevel is the level the policies require of personID signing in
// to app: the application's require_acr; eidas2 for a person holding an
// administrator role; eidas2 when one of the organizations they have a
// current membership in requires a second factor of its élus (and they
// are an élu there) or of all its members.
func (e *Engine) policyLevel(ctx context.Context, app storage.Application, personID string) (string, error) {
	level := app.Settings.RequireACR
	if session.Rank(level) >= session.Rank(session.ACREidas2) {
		return level, nil
	}
	roles, err := e.store.ListRoles(ctx, personID)
	if err != nil {
		return "", err
	}
	if len(roles) > 0 {
		return session.ACREidas2, nil
	}
	ms, err := e.store.ListPersonMemberships(ctx, personID)
	if err != nil {
		return "", err
	}
	now := e.now()
	orgs := map[string]storage.Organization{}
	for _, m := range ms {
		if !m.ActiveAt(now) {
			continue
		}
		o, ok := orgs[m.OrgID]
		if !ok {
			if o, err = e.store.GetOrganization(ctx, m.OrgID); err != nil {
				return "", err
			}
			orgs[m.OrgID] = o
		}
		if o.MFAPolicy == storage.MFAAll || (o.MFAPolicy == storage.MFAElus && m.Kind == storage.KindElu) {
			return session.ACREidas2, nil
		}
	}
	return level, nil
}

// hasSecondFactor reports whether fs holds a factor proven after a
// password (an authenticator app or a passkey; recovery codes only back
// one up).
func hasSecondFactor(fs []storage.Factor) bool {
	return slices.ContainsFunc(fs, func(f storage.Factor) bool {
		return f.Kind == storage.FactorTOTP || f.Kind == storage.FactorPasskey
	})
}

func hasTOTP(fs []storage.Factor) bool {
	return slices.ContainsFunc(fs, func(f storage.Factor) bool { return f.Kind == storage.FactorTOTP })
}

// provenMethods returns the methods proven in this sign-in, after those
// of the session it steps up.
func provenMethods(base []string, proofs []proof) []string {
	out := slices.Clone(base)
	out = slices.DeleteFunc(out, func(m string) bool { return m == session.AMRMFA })
	for _, p := range proofs {
		if !slices.Contains(out, p.Method) {
			out = append(out, p.Method)
		}
	}
	// Two kinds of factor (something known, something held) are
	// multi-factor, as is a key that verified its user.
	knows := slices.Contains(out, session.AMRPassword)
	holds := slices.Contains(out, session.AMROTP) || slices.Contains(out, session.AMRHardware) || slices.Contains(out, session.AMRSoftware)
	verified := slices.Contains(out, session.AMRUser)
	if holds && (knows || verified) {
		out = append(out, session.AMRMFA)
	}
	return out
}

func hasSecondProof(proofs []proof) bool {
	return slices.ContainsFunc(proofs, func(p proof) bool { return p.Method != session.AMRPassword })
}

// continueAuthentication goes on once a first factor is proven: a new
// password if it must change, a second factor if the person has one,
// then the session opens (or, for a step-up, is upgraded).
func (e *Engine) continueAuthentication(w http.ResponseWriter, r *http.Request, t *txn) {
	ctx := r.Context()
	person, err := e.store.GetPerson(ctx, t.st.PersonID)
	if err != nil || person.Disabled {
		e.restart(w, r, t)
		return
	}
	if t.st.MustChange {
		e.renderPasswordChange(w, r, t, http.StatusOK, "")
		return
	}
	fs, err := e.store.ListFactors(ctx, person.ID)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if hasSecondFactor(fs) && !hasSecondProof(t.st.Proofs) {
		e.renderFactor(w, r, t, fs, http.StatusOK, "", "")
		return
	}
	var base []string
	var current storage.Session
	if t.st.StepUp {
		sess, ok, err := e.currentSession(w, r)
		if err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		if !ok || sess.PersonID != person.ID {
			// The session ended (or changed) while the person proved the
			// factor: start again from the identifier.
			e.restart(w, r, t)
			return
		}
		current, base = sess, sess.AMR
	}
	amr := provenMethods(base, t.st.Proofs)
	acr := session.ACRFor(amr)
	app, ok := e.application(w, r, t)
	if !ok {
		return
	}
	if target, why, err := e.target(ctx, t, app, person.ID, acr); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	} else if why != byNone && !session.Satisfies(acr, target) {
		if why == byPolicy && !hasSecondFactor(fs) && session.Rank(target) <= session.Rank(session.ACREidas2) {
			// A policy requires a second factor the person does not have
			// yet: they enrol one now, then the sign-in goes on.
			e.renderSignInEnrol(w, r, t, person, http.StatusOK, "")
			return
		}
		e.log.InfoContext(ctx, "sign-in: level unmet", "client_id", t.ClientID, "person_id", person.ID, "level", target)
		e.fail(w, r, t, FailUnmetAuthnRequired, "the person has no factor that reaches the level required")
		return
	}
	var sess storage.Session
	if t.st.StepUp {
		sess, err = e.sessions.Upgrade(ctx, w, current, amr, acr)
		if errors.Is(err, storage.ErrNotFound) {
			e.restart(w, r, t)
			return
		}
		if err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		e.afterSignIn(w, r, t, person)
		e.log.InfoContext(ctx, "step-up", "client_id", t.ClientID, "person_id", person.ID, "acr", acr)
		e.record(ctx, audit.Event{Type: audit.StepUp, PersonID: person.ID, ClientID: t.ClientID, SessionID: sess.ID,
			Details: map[string]string{"acr": acr}})
	} else {
		// A new sign-in always gets a new session (no fixation); the
		// applications the previous one signed into are told it ended.
		e.endCurrentSession(ctx, w, r, logout.ReasonNewSignIn)
		sess, err = e.sessions.Create(ctx, w, person.ID, amr, acr)
		if err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		e.afterSignIn(w, r, t, person)
		e.log.InfoContext(ctx, "login", "client_id", t.ClientID, "person_id", person.ID, "acr", acr)
		e.record(ctx, audit.Event{Type: audit.LoginSucceeded, PersonID: person.ID, ClientID: t.ClientID, SessionID: sess.ID,
			Details: map[string]string{"acr": acr}})
	}
	t.st.PersonID, t.st.Proofs, t.st.StepUp = "", nil, false
	if err := e.save(ctx, t); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	// Go on with the session in hand: the request does not carry its new
	// cookie yet.
	e.proceed(w, r, t, sess)
}

// restart forgets what was proven and shows the first page again.
func (e *Engine) restart(w http.ResponseWriter, r *http.Request, t *txn) {
	t.st.PersonID, t.st.Proofs, t.st.StepUp, t.st.MustChange = "", nil, false, false
	if err := e.save(r.Context(), t); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.redirect(w, r, PathLogin, t)
}

// passwordProven records a password proven for person: the sign-in goes
// on to a new password, a second factor or the session.
func (e *Engine) passwordProven(w http.ResponseWriter, r *http.Request, t *txn, person storage.Person, more ...proof) {
	ctx := r.Context()
	t.st.PersonID, t.st.StepUp = person.ID, false
	t.st.Proofs = append([]proof{{Method: session.AMRPassword, At: e.now().UTC()}}, more...)
	t.st.MustChange = false
	if ch, ok := e.pw.(directory.PasswordChanger); ok {
		required, err := ch.PasswordChangeRequired(ctx, person.ID)
		if err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		if required {
			e.log.InfoContext(ctx, "login: password change required", "client_id", t.ClientID, "person_id", person.ID)
			t.st.MustChange = true
		}
	}
	if err := e.save(ctx, t); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.continueAuthentication(w, r, t)
}

// proceed is next once the browser's session is known to be valid and
// fresh enough.
func (e *Engine) proceed(w http.ResponseWriter, r *http.Request, t *txn, sess storage.Session) {
	ctx := r.Context()
	app, ok := e.application(w, r, t)
	if !ok {
		return
	}
	target, why, err := e.target(ctx, t, app, sess.PersonID, session.Level(sess.ACR, sess.AMR))
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if target != "" && !session.Satisfies(session.Level(sess.ACR, sess.AMR), target) {
		fs, err := e.store.ListFactors(ctx, sess.PersonID)
		if err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		switch {
		case (hasSecondFactor(fs) || why == byPolicy) && t.st.Req.has(PromptNone):
			e.fail(w, r, t, FailLoginRequired, "the person must prove a second factor")
			return
		case hasSecondFactor(fs) || why == byPolicy:
			// Step up: prove the second factor, or enrol one first when a
			// policy requires it.
			t.st.PersonID, t.st.StepUp, t.st.Proofs = sess.PersonID, true, nil
			if err := e.save(ctx, t); err != nil {
				e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
				return
			}
			e.redirect(w, r, PathLogin, t)
			return
		case why == byRequest:
			e.fail(w, r, t, FailUnmetAuthnRequired, "the person has no factor that reaches the level required")
			return
		}
	}
	if t.ClientID == "" {
		e.done(w, r, t, sess, storage.Membership{})
		return
	}
	e.chooseMembership(w, r, t, app, sess)
}
