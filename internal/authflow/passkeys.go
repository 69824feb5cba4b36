package authflow

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/factor/passkey"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/throttle"
	"github.com/territoires-ouverts/tno/internal/web"
)

// Passkeys (WebAuthn). The options of each ceremony are generated when
// the page is rendered and travel in the page (no request from the
// script: the Content-Security-Policy keeps connect-src at 'none'); the
// state stays in the transaction and is used once. A page's passkey form
// is hidden without JavaScript and posts the browser's answer like any
// other form, so the flow goes on with the usual redirects.
//
//   - On the identifier page: a discoverable credential (passwordless,
//     and the browser's autofill where it supports conditional UI), user
//     verification required: amr hwk or swk, user, mfa (eidas2).
//   - On the second-factor page, for a person whose password was proven
//     (or whose session steps up): their own passkeys.
//   - On the security page: registration, several per person, named.

// PathPasskey is where the passkey forms of the sign-in post.
const PathPasskey = "/login/passkey"

const (
	pathSecurityPasskey        = "/account/security/passkey"
	pathSecurityPasskeyConfirm = "/account/security/passkey/confirm"
	fieldCredential            = "credential"
	maxCredentialJSON          = 8 << 10
)

// passkeyUser is the WebAuthn user of a person with their stored
// passkeys. The user handle is the person's ID: random, and nothing
// personal.
func (e *Engine) passkeyUser(ctx context.Context, person storage.Person) (passkey.User, []storage.Factor, error) {
	fs, err := e.store.ListFactors(ctx, person.ID)
	if err != nil {
		return passkey.User{}, nil, err
	}
	u := passkey.User{Handle: []byte(person.ID), Name: personAccount(person), DisplayName: personName(person)}
	var keys []storage.Factor
	for _, f := range fs {
		if f.Kind != storage.FactorPasskey {
			continue
		}
		c, err := passkey.UnmarshalCredential(f.Data)
		if err != nil {
			e.log.ErrorContext(ctx, "stored passkey unreadable", "person_id", person.ID, "factor_id", f.ID, "err", err)
			continue
		}
		u.Credentials = append(u.Credentials, c)
		keys = append(keys, f)
	}
	return u, keys, nil
}

// personAccount is how authenticators and apps name the account.
func personAccount(p storage.Person) string {
	if p.Email != "" {
		return p.Email
	}
	return p.Username
}

func hasPasskey(fs []storage.Factor) bool {
	return slices.ContainsFunc(fs, func(f storage.Factor) bool { return f.Kind == storage.FactorPasskey })
}

// passkeyMethods are the methods a passkey proved.
func passkeyMethods(c passkey.Credential) []string {
	kind := session.AMRSoftware
	if c.HardwareBound() {
		kind = session.AMRHardware
	}
	if c.UserVerified {
		return []string{kind, session.AMRUser}
	}
	return []string{kind}
}

// discoverableForm prepares the identifier page's passkey form (nil when
// passkeys are off).
func (e *Engine) discoverableForm(ctx context.Context, t *txn) (*web.PasskeyForm, error) {
	if e.passkeys == nil {
		return nil, nil
	}
	opts, st, err := e.passkeys.BeginDiscoverable()
	if err != nil {
		return nil, err
	}
	t.st.Passkey = st
	if err := e.save(ctx, t); err != nil {
		return nil, err
	}
	return &web.PasskeyForm{Action: e.basePath + PathPasskey, RequestID: t.ID, Mode: web.PasskeyGet, Options: string(opts), Conditional: true}, nil
}

// secondFactorForm prepares the factor page's passkey form for the
// person's own passkeys (nil if they have none, or passkeys are off).
func (e *Engine) secondFactorForm(ctx context.Context, t *txn, person storage.Person) (*web.PasskeyForm, error) {
	if e.passkeys == nil {
		return nil, nil
	}
	u, keys, err := e.passkeyUser(ctx, person)
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	opts, st, err := e.passkeys.BeginLogin(u, false)
	if err != nil {
		return nil, err
	}
	t.st.Passkey = st
	if err := e.save(ctx, t); err != nil {
		return nil, err
	}
	return &web.PasskeyForm{Action: e.basePath + PathPasskey, RequestID: t.ID, Mode: web.PasskeyGet, Options: string(opts)}, nil
}

// handlePasskey reads a passkey answer posted by the identifier page
// (passwordless) or the second-factor page.
func (e *Engine) handlePasskey(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	t, ok := e.load(w, r, r.PostForm.Get(web.FieldRequest))
	if !ok {
		return
	}
	ctx := r.Context()
	st := t.st.Passkey
	t.st.Passkey = nil // a state is used once, whatever the outcome
	if err := e.save(ctx, t); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	response := []byte(r.PostForm.Get(fieldCredential))
	if e.passkeys == nil || len(st) == 0 || len(response) == 0 || len(response) > maxCredentialJSON {
		e.passkeyRefused(w, r, t, "", errors.New("no passkey ceremony in progress"))
		return
	}
	if t.st.PersonID == "" || t.st.MustChange {
		e.passwordless(w, r, t, st, response)
		return
	}
	person, err := e.store.GetPerson(ctx, t.st.PersonID)
	if err != nil || person.Disabled {
		e.restart(w, r, t)
		return
	}
	u, keys, err := e.passkeyUser(ctx, person)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	c, err := e.passkeys.FinishLogin(u, st, response)
	if err != nil {
		e.passkeyRefused(w, r, t, person.ID, err)
		return
	}
	if err := e.passkeyUsed(ctx, person.ID, keys, c); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	now := e.now().UTC()
	for _, m := range passkeyMethods(c) {
		t.st.Proofs = append(t.st.Proofs, proof{Method: m, At: now})
	}
	if err := e.save(ctx, t); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.continueAuthentication(w, r, t)
}

// passwordless signs in with a discoverable passkey: the person is the
// one whose user handle the authenticator returned, and the credential
// must be one of theirs.
func (e *Engine) passwordless(w http.ResponseWriter, r *http.Request, t *txn, st, response []byte) {
	ctx := r.Context()
	var (
		person storage.Person
		keys   []storage.Factor
	)
	lookup := func(handle, credentialID []byte) (passkey.User, error) {
		f, err := e.store.GetFactorByCredentialID(ctx, base64.RawURLEncoding.EncodeToString(credentialID))
		if err != nil {
			return passkey.User{}, err
		}
		if f.PersonID != string(handle) {
			return passkey.User{}, errors.New("user handle of another person")
		}
		p, err := e.store.GetPerson(ctx, f.PersonID)
		if err != nil {
			return passkey.User{}, err
		}
		if p.Disabled {
			return passkey.User{}, errors.New("person disabled")
		}
		u, ks, err := e.passkeyUser(ctx, p)
		person, keys = p, ks
		return u, err
	}
	_, c, err := e.passkeys.FinishDiscoverable(st, response, lookup)
	if err != nil {
		e.passkeyRefused(w, r, t, person.ID, err)
		return
	}
	if err := e.passkeyUsed(ctx, person.ID, keys, c); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	now := e.now().UTC()
	t.st.PersonID, t.st.StepUp, t.st.MustChange, t.st.Proofs = person.ID, false, false, nil
	t.st.Identifier = personAccount(person)
	for _, m := range passkeyMethods(c) {
		t.st.Proofs = append(t.st.Proofs, proof{Method: m, At: now})
	}
	if err := e.save(ctx, t); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.continueAuthentication(w, r, t)
}

// passkeyUsed stores a passkey's new sign count and last use.
func (e *Engine) passkeyUsed(ctx context.Context, personID string, keys []storage.Factor, c passkey.Credential) error {
	id := base64.RawURLEncoding.EncodeToString(c.ID)
	for _, f := range keys {
		if f.CredentialID != id {
			continue
		}
		data, err := c.Marshal()
		if err != nil {
			return err
		}
		return e.store.UseFactorData(ctx, personID, f.ID, data, e.now().UTC())
	}
	return errors.New("authflow: passkey used is not stored")
}

// passkeyRefused shows the page the passkey was tried from again, with an
// error, and audits the attempt (a cloned authenticator separately).
func (e *Engine) passkeyRefused(w http.ResponseWriter, r *http.Request, t *txn, personID string, cause error) {
	ctx := r.Context()
	e.log.InfoContext(ctx, "passkey refused", "client_id", t.ClientID, "person_id", personID, "err", cause)
	ev := audit.Event{Type: audit.SecondFactorFailed, PersonID: personID, ClientID: t.ClientID,
		Details: map[string]string{"method": storage.FactorPasskey}}
	if errors.Is(cause, passkey.ErrCloned) {
		ev.Details["reason"] = "cloned"
	}
	e.record(ctx, ev)
	if e.limiter != nil {
		// A flood of bad answers from one address slows its next
		// attempts, like wrong passwords do.
		if err := e.limiter.Failed(ctx, throttle.Attempt{Address: remoteHost(r)}); err != nil {
			e.log.WarnContext(ctx, "throttle: passkey failure not counted", "err", err)
		}
	}
	if t.st.PersonID == "" {
		app, ok := e.application(w, r, t)
		if !ok {
			return
		}
		page := e.loginPage(r, t, app)
		page.ErrorKey = "passkey.refused"
		if form, err := e.discoverableForm(ctx, t); err == nil {
			page.Passkey = form
		}
		e.web.Render(w, r, http.StatusUnauthorized, page)
		return
	}
	fs, err := e.store.ListFactors(ctx, t.st.PersonID)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.renderFactor(w, r, t, fs, http.StatusUnauthorized, "", "passkey.refused")
}

// handlePasskeyStart begins registering a passkey from the security page.
func (e *Engine) handlePasskeyStart(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	_, person, ok := e.securitySession(w, r, true)
	if !ok {
		return
	}
	if e.passkeys == nil {
		e.web.Render(w, r, http.StatusNotFound, messagePage(http.StatusNotFound, "error.title", "error.not_found", ""))
		return
	}
	ctx := r.Context()
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
	t, err := e.newLocalTxn(w, r, state{PersonID: person.ID, Passkey: st})
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.web.Render(w, r, http.StatusOK, web.PasskeyEnrolPage{
		Form:      web.PasskeyForm{Action: e.basePath + pathSecurityPasskeyConfirm, RequestID: t.ID, Mode: web.PasskeyCreate, Options: string(opts)},
		CancelURL: e.basePath + PathSecurity,
	})
}

// handlePasskeyConfirm stores the passkey the browser created.
func (e *Engine) handlePasskeyConfirm(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	sess, person, ok := e.securitySession(w, r, false)
	if !ok {
		return
	}
	t, ok := e.load(w, r, r.PostForm.Get(web.FieldRequest))
	if !ok {
		return
	}
	ctx := r.Context()
	st := t.st.Passkey
	_ = e.store.DeleteSignIn(ctx, t.ID) // used once
	response := []byte(r.PostForm.Get(fieldCredential))
	if e.passkeys == nil || len(st) == 0 || t.st.PersonID != person.ID || len(response) == 0 || len(response) > maxCredentialJSON {
		e.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.expired", ""))
		return
	}
	c, name, codes, err := e.registerPasskey(r, person, st, response)
	if errors.Is(err, errPasskeyRefused) || errors.Is(err, storage.ErrConflict) {
		e.log.InfoContext(ctx, "passkey registration refused", "person_id", person.ID, "err", err)
		e.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "passkey.registration_refused", ""))
		return
	}
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.log.InfoContext(ctx, "factor enrolled", "person_id", person.ID, "kind", storage.FactorPasskey)
	e.record(ctx, audit.Event{Type: audit.FactorEnrolled, PersonID: person.ID, SessionID: sess.ID,
		Details: map[string]string{"kind": storage.FactorPasskey, "name": name, "synced": boolString(!c.HardwareBound())}})
	e.notify(r, person, noticePasskeyEnrolled)
	if len(codes) > 0 {
		e.web.Render(w, r, http.StatusOK, web.RecoveryCodesPage{Codes: codes, ContinueURL: e.basePath + PathSecurity + "?notice=enrolled_passkey"})
		return
	}
	http.Redirect(w, r, e.basePath+PathSecurity+"?notice=enrolled_passkey", http.StatusSeeOther)
}

// errPasskeyRefused is a browser's answer the WebAuthn check refused.
var errPasskeyRefused = errors.New("authflow: passkey registration refused")

// registerPasskey checks the browser's answer to a registration and
// stores the passkey for person, with recovery codes if they had none
// (returned, to show once).
func (e *Engine) registerPasskey(r *http.Request, person storage.Person, st, response []byte) (passkey.Credential, string, []string, error) {
	ctx := r.Context()
	u, _, err := e.passkeyUser(ctx, person)
	if err != nil {
		return passkey.Credential{}, "", nil, err
	}
	c, err := e.passkeys.FinishRegistration(u, st, response)
	if err != nil {
		return c, "", nil, errors.Join(errPasskeyRefused, err)
	}
	data, err := c.Marshal()
	if err != nil {
		return c, "", nil, err
	}
	name := factorName(r.PostForm.Get(fieldName), web.T(web.Lang(r), "passkey.default_name"))
	fs, err := e.store.ListFactors(ctx, person.ID)
	if err != nil {
		return c, "", nil, err
	}
	// The first second factor comes with recovery codes.
	var codes []string
	if !slices.ContainsFunc(fs, func(f storage.Factor) bool { return f.Kind == storage.FactorRecovery }) {
		if codes, err = newRecoveryCodes(); err != nil {
			return c, "", nil, err
		}
	}
	now := e.now().UTC()
	err = e.replaceFactors(r, person.ID, []string{storageNoKind}, func(add func(storage.Factor) error) error {
		if err := add(storage.Factor{Kind: storage.FactorPasskey, Name: name, CredentialID: base64.RawURLEncoding.EncodeToString(c.ID), Data: data, CreatedAt: now}); err != nil {
			return err
		}
		return addRecoveryCodes(add, codes, now)
	})
	return c, name, codes, err
}

// handleSignInPasskeyEnrol stores the passkey a person under a policy
// created during their sign-in, and counts it as the sign-in's second
// factor.
func (e *Engine) handleSignInPasskeyEnrol(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	t, ok := e.load(w, r, r.PostForm.Get(web.FieldRequest))
	if !ok {
		return
	}
	ctx := r.Context()
	st := t.st.Passkey
	t.st.Passkey = nil
	if err := e.save(ctx, t); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	response := []byte(r.PostForm.Get(fieldCredential))
	if e.passkeys == nil || t.st.PersonID == "" || t.st.MustChange || len(st) == 0 || len(response) == 0 || len(response) > maxCredentialJSON {
		e.next(w, r, t)
		return
	}
	person, err := e.store.GetPerson(ctx, t.st.PersonID)
	if err != nil || person.Disabled {
		e.restart(w, r, t)
		return
	}
	c, name, codes, err := e.registerPasskey(r, person, st, response)
	if errors.Is(err, errPasskeyRefused) || errors.Is(err, storage.ErrConflict) {
		e.log.InfoContext(ctx, "passkey registration refused", "person_id", person.ID, "err", err)
		e.renderSignInEnrol(w, r, t, person, http.StatusBadRequest, "passkey.registration_refused")
		return
	}
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.log.InfoContext(ctx, "factor enrolled at sign-in", "client_id", t.ClientID, "person_id", person.ID, "kind", storage.FactorPasskey)
	e.record(ctx, audit.Event{Type: audit.FactorEnrolled, PersonID: person.ID, ClientID: t.ClientID,
		Details: map[string]string{"kind": storage.FactorPasskey, "name": name, "at": "sign-in", "synced": boolString(!c.HardwareBound())}})
	e.notify(r, person, noticePasskeyEnrolled)
	now := e.now().UTC()
	t.st.Enrol = ""
	for _, m := range passkeyMethods(c) {
		t.st.Proofs = append(t.st.Proofs, proof{Method: m, At: now})
	}
	if err := e.save(ctx, t); err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	next := e.basePath + PathLogin + "?request=" + t.ID
	if len(codes) > 0 {
		e.web.Render(w, r, http.StatusOK, web.RecoveryCodesPage{Codes: codes, ContinueURL: next})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// storageNoKind deletes nothing in replaceFactors (no factor has it).
const storageNoKind = "-"

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// passkeysFor returns the rp ID and origin passkeys use for issuer, ok
// false when its host is an IP address (WebAuthn needs a domain name:
// "localhost" works locally).
func passkeysFor(issuerHost, scheme string) (rpID, origin string, ok bool) {
	host := issuerHost
	if i := strings.LastIndex(host, ":"); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	if host == "" || strings.Trim(host, "0123456789.") == "" || strings.Contains(host, ":") || strings.HasPrefix(host, "[") {
		return "", "", false
	}
	return host, scheme + "://" + issuerHost, true
}
