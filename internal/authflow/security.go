package authflow

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/factor/passkey"
	"github.com/territoires-ouverts/tno/internal/factor/totp"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// The person's own security page: their authenticator app and recovery
// codes (passkeys next), enrolled, renamed and removed by themselves. Its
// home will be the portal's account pages.
const (
	PathSecurity        = "/account/security"
	pathSecurityTOTP    = "/account/security/totp"
	pathSecurityConfirm = "/account/security/totp/confirm"
	pathSecurityCodes   = "/account/security/recovery"
	pathSecurityRemove  = "/account/security/remove"
	pathSecurityRename  = "/account/security/rename"
)

// recentAuth is how long after proving who they are a person may change
// their factors without proving it again.
const recentAuth = 10 * time.Minute

// recoveryCodes is how many recovery codes a person holds.
const recoveryCodes = 10

const (
	fieldFactor = "factor"
	fieldName   = "name"
	fieldNotice = "notice"
	maxName     = 64
)

func (e *Engine) registerSecurity(mux *http.ServeMux) {
	mux.HandleFunc("GET "+e.basePath+PathSecurity, e.handleSecurity)
	mux.HandleFunc("POST "+e.basePath+pathSecurityTOTP, e.handleTOTPStart)
	mux.HandleFunc("POST "+e.basePath+pathSecurityConfirm, e.handleTOTPConfirm)
	mux.HandleFunc("POST "+e.basePath+pathSecurityCodes, e.handleRecoveryRenew)
	mux.HandleFunc("POST "+e.basePath+pathSecurityRemove, e.handleFactorRemove)
	mux.HandleFunc("POST "+e.basePath+pathSecurityRename, e.handleFactorRename)
	mux.HandleFunc("POST "+e.basePath+pathSecurityPasskey, e.handlePasskeyStart)
	mux.HandleFunc("POST "+e.basePath+pathSecurityPasskeyConfirm, e.handlePasskeyConfirm)
}

// securitySession returns the browser's session and person, or starts a
// sign-in that comes back to the security page. With fresh=true the
// person must have proven who they are in the last recentAuth (else they
// sign in again first: re-authentication before any change).
func (e *Engine) securitySession(w http.ResponseWriter, r *http.Request, fresh bool) (storage.Session, storage.Person, bool) {
	sess, ok, err := e.currentSession(w, r)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return sess, storage.Person{}, false
	}
	if !ok {
		e.StartLocal(w, r, e.basePath+PathSecurity)
		return sess, storage.Person{}, false
	}
	if fresh && e.now().Sub(sess.AuthTime) > recentAuth {
		e.StartLocal(w, r, e.basePath+PathSecurity, PromptLogin)
		return sess, storage.Person{}, false
	}
	person, err := e.store.GetPerson(r.Context(), sess.PersonID)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return sess, person, false
	}
	return sess, person, true
}

func (e *Engine) securityPage(r *http.Request, person storage.Person, fs []storage.Factor, notice string) web.SecurityPage {
	page := web.SecurityPage{
		PersonName: personName(person), Notice: notice, Passkeys: e.passkeys != nil,
		PasskeyAction: e.basePath + pathSecurityPasskey,
		EnrolAction:   e.basePath + pathSecurityTOTP, RecoveryAction: e.basePath + pathSecurityCodes,
		RemoveAction: e.basePath + pathSecurityRemove, RenameAction: e.basePath + pathSecurityRename,
		ReauthWithin: int(recentAuth / time.Minute),
	}
	for _, f := range fs {
		switch f.Kind {
		case storage.FactorRecovery:
			page.RecoveryLeft++
		default:
			item := web.FactorItem{ID: f.ID, Kind: f.Kind, Name: f.Name, Created: f.CreatedAt, LastUsed: f.LastUsedAt}
			switch f.Kind {
			case storage.FactorTOTP:
				page.HasTOTP = true
				page.Factors = append(page.Factors, item)
			case storage.FactorPasskey:
				if c, err := passkey.UnmarshalCredential(f.Data); err == nil {
					item.Synced = !c.HardwareBound()
				}
				page.PasskeyItems = append(page.PasskeyItems, item)
			}
		}
	}
	return page
}

// securityNotices are the notices the page shows after a change.
var securityNotices = map[string]bool{"enrolled": true, "enrolled_passkey": true, "removed": true, "renamed": true}

func (e *Engine) handleSecurity(w http.ResponseWriter, r *http.Request) {
	_, person, ok := e.securitySession(w, r, false)
	if !ok {
		return
	}
	fs, err := e.store.ListFactors(r.Context(), person.ID)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	notice := r.URL.Query().Get(fieldNotice)
	if !securityNotices[notice] {
		notice = ""
	}
	e.web.Render(w, r, http.StatusOK, e.securityPage(r, person, fs, notice))
}

// enrolment is the state of a TOTP enrolment in progress, kept in a
// transaction of the local front end bound to the browser.
func (e *Engine) enrolPage(r *http.Request, t *txn, person storage.Person, errKey string) (web.TOTPEnrolPage, error) {
	secret, err := totp.ParseSecret(t.st.Enrol)
	if err != nil {
		return web.TOTPEnrolPage{}, err
	}
	account := person.Username
	if person.Email != "" {
		account = person.Email
	}
	uri, err := totp.KeyURI(e.totpIssuer, strings.ReplaceAll(account, ":", " "), secret)
	if err != nil {
		return web.TOTPEnrolPage{}, err
	}
	qr, err := totp.QRCode(uri, web.T(web.Lang(r), "enrol.qr_label"))
	if err != nil {
		return web.TOTPEnrolPage{}, err
	}
	return web.TOTPEnrolPage{
		Action: e.basePath + pathSecurityConfirm, RequestID: t.ID, QRCode: template.HTML(qr), //nolint:gosec // SVG built by totp.QRCode from our own URI
		Key: totp.FormatKey(secret), ErrorKey: errKey, CancelURL: e.basePath + PathSecurity,
	}, nil
}

// handleTOTPStart begins enrolling an authenticator app: a new secret,
// shown as a QR code and a key, confirmed by a first code.
func (e *Engine) handleTOTPStart(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	_, person, ok := e.securitySession(w, r, true)
	if !ok {
		return
	}
	secret, err := totp.NewSecret()
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	t, err := e.newLocalTxn(w, r, state{PersonID: person.ID, Enrol: secret.Base32()})
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	page, err := e.enrolPage(r, t, person, "")
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.web.Render(w, r, http.StatusOK, page)
}

// handleTOTPConfirm checks the first code of the app being enrolled, then
// stores it (replacing an earlier app) with 10 new recovery codes, shown
// once.
func (e *Engine) handleTOTPConfirm(w http.ResponseWriter, r *http.Request) {
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
	if t.st.Enrol == "" || t.st.PersonID != person.ID {
		e.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.expired", ""))
		return
	}
	ctx := r.Context()
	name, codes, errKey, err := e.enrolTOTP(r, person, t.st.Enrol)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if errKey != "" {
		page, err := e.enrolPage(r, t, person, errKey)
		if err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
		e.web.Render(w, r, http.StatusBadRequest, page)
		return
	}
	_ = e.store.DeleteSignIn(ctx, t.ID)
	e.log.InfoContext(ctx, "factor enrolled", "person_id", person.ID, "kind", storage.FactorTOTP)
	e.record(ctx, audit.Event{Type: audit.FactorEnrolled, PersonID: person.ID, SessionID: sess.ID,
		Details: map[string]string{"kind": storage.FactorTOTP, "name": name}})
	e.notify(r, person, noticeTOTPEnrolled)
	e.web.Render(w, r, http.StatusOK, web.RecoveryCodesPage{Codes: codes, ContinueURL: e.basePath + PathSecurity + "?notice=enrolled"})
}

// enrolTOTP checks the first code posted for the authenticator app being
// enrolled with secret, then stores it for person (replacing an earlier
// app) with 10 new recovery codes, returned to be shown once. A code that
// is wrong or malformed gives errKey, the page's message, and stores
// nothing.
func (e *Engine) enrolTOTP(r *http.Request, person storage.Person, secretB32 string) (name string, codes []string, errKey string, err error) {
	secret, err := totp.ParseSecret(secretB32)
	if err != nil {
		return "", nil, "", err
	}
	step, verr := totp.Verify(secret, r.PostForm.Get(fieldCode), e.now(), 0)
	switch {
	case errors.Is(verr, totp.ErrMalformed):
		return "", nil, "factor.malformed_totp", nil
	case verr != nil:
		return "", nil, "factor.invalid_totp", nil
	}
	name = factorName(r.PostForm.Get(fieldName), web.T(web.Lang(r), "enrol.default_name"))
	if codes, err = newRecoveryCodes(); err != nil {
		return "", nil, "", err
	}
	now := e.now().UTC()
	err = e.replaceFactors(r, person.ID, []string{storage.FactorTOTP, storage.FactorRecovery}, func(add func(storage.Factor) error) error {
		if err := add(storage.Factor{Kind: storage.FactorTOTP, Name: name, Secret: secret.Base32(), LastStep: step, CreatedAt: now}); err != nil {
			return err
		}
		return addRecoveryCodes(add, codes, now)
	})
	return name, codes, "", err
}

// newLocalTxn stores a transaction of the local front end for a
// ceremony of the security page (a factor being enrolled), bound to the
// browser.
func (e *Engine) newLocalTxn(w http.ResponseWriter, r *http.Request, st state) (*txn, error) {
	hash, err := e.sessions.Bind(w, r)
	if err != nil {
		return nil, err
	}
	st.Req = Request{Protocol: protocolLocal, ProtocolRef: e.basePath + PathSecurity}
	t := &txn{st: st}
	data, err := json.Marshal(t.st)
	if err != nil {
		return nil, err
	}
	now := e.now().UTC()
	t.SignIn = storage.SignIn{BrowserHash: hash, Source: remoteHost(r), Protocol: protocolLocal, Data: data,
		ProtocolRef: e.basePath + PathSecurity, CreatedAt: now, ExpiresAt: now.Add(e.ttl)}
	if err := e.store.CreateSignIn(r.Context(), &t.SignIn); err != nil {
		return nil, err
	}
	t.stored = true
	return t, nil
}

func newRecoveryCodes() ([]string, error) { return totp.NewRecoveryCodes(recoveryCodes) }

// addRecoveryCodes adds the hashes of codes.
func addRecoveryCodes(add func(storage.Factor) error, codes []string, now time.Time) error {
	for _, c := range codes {
		if err := add(storage.Factor{Kind: storage.FactorRecovery, Secret: totp.HashRecoveryCode(c), CreatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}

// replaceFactors deletes the person's factors of kinds and adds new ones,
// in one transaction when the store has them.
func (e *Engine) replaceFactors(r *http.Request, personID string, kinds []string, fill func(add func(storage.Factor) error) error) error {
	run := func(s storage.Factors) error {
		if _, err := s.DeleteFactors(r.Context(), personID, kinds...); err != nil {
			return err
		}
		return fill(func(f storage.Factor) error {
			f.PersonID = personID
			return s.CreateFactor(r.Context(), &f)
		})
	}
	if s, ok := e.store.(storage.Store); ok {
		return s.WithTx(r.Context(), func(tx storage.Store) error { return run(tx) })
	}
	return run(e.store)
}

// handleRecoveryRenew replaces the person's recovery codes with 10 new
// ones, shown once.
func (e *Engine) handleRecoveryRenew(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	sess, person, ok := e.securitySession(w, r, true)
	if !ok {
		return
	}
	fs, err := e.store.ListFactors(r.Context(), person.ID)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if !hasSecondFactor(fs) {
		e.web.Render(w, r, http.StatusBadRequest, e.securityPage(r, person, fs, ""))
		return
	}
	codes, err := newRecoveryCodes()
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	now := e.now().UTC()
	err = e.replaceFactors(r, person.ID, []string{storage.FactorRecovery}, func(add func(storage.Factor) error) error {
		return addRecoveryCodes(add, codes, now)
	})
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	e.record(r.Context(), audit.Event{Type: audit.RecoveryCodesRenewed, PersonID: person.ID, SessionID: sess.ID})
	e.notify(r, person, noticeRecoveryRenewed)
	e.web.Render(w, r, http.StatusOK, web.RecoveryCodesPage{Codes: codes, ContinueURL: e.basePath + PathSecurity})
}

// handleFactorRemove removes one of the person's factors; removing the
// authenticator app removes the recovery codes that back it up.
func (e *Engine) handleFactorRemove(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	sess, person, ok := e.securitySession(w, r, true)
	if !ok {
		return
	}
	ctx := r.Context()
	fs, err := e.store.ListFactors(ctx, person.ID)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	id := r.PostForm.Get(fieldFactor)
	var victim *storage.Factor
	for i := range fs {
		if fs[i].ID == id && fs[i].Kind != storage.FactorRecovery {
			victim = &fs[i]
		}
	}
	if victim == nil {
		e.web.Render(w, r, http.StatusNotFound, messagePage(http.StatusNotFound, "error.title", "error.not_found", ""))
		return
	}
	if err := e.store.DeleteFactor(ctx, person.ID, victim.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	rest, err := e.store.ListFactors(ctx, person.ID)
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	if !hasSecondFactor(rest) {
		if _, err := e.store.DeleteFactors(ctx, person.ID, storage.FactorRecovery); err != nil {
			e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
			return
		}
	}
	e.log.InfoContext(ctx, "factor removed", "person_id", person.ID, "kind", victim.Kind)
	e.record(ctx, audit.Event{Type: audit.FactorRemoved, PersonID: person.ID, SessionID: sess.ID,
		Details: map[string]string{"kind": victim.Kind, "name": victim.Name}})
	e.notify(r, person, noticeFactorRemoved)
	http.Redirect(w, r, e.basePath+PathSecurity+"?notice=removed", http.StatusSeeOther)
}

func (e *Engine) handleFactorRename(w http.ResponseWriter, r *http.Request) {
	if !e.parseForm(w, r) {
		return
	}
	_, person, ok := e.securitySession(w, r, false)
	if !ok {
		return
	}
	name := factorName(r.PostForm.Get(fieldName), "")
	if name == "" {
		e.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", "a name is required"))
		return
	}
	err := e.store.RenameFactor(r.Context(), person.ID, r.PostForm.Get(fieldFactor), name)
	if errors.Is(err, storage.ErrNotFound) {
		e.web.Render(w, r, http.StatusNotFound, messagePage(http.StatusNotFound, "error.title", "error.not_found", ""))
		return
	}
	if err != nil {
		e.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	http.Redirect(w, r, e.basePath+PathSecurity+"?notice=renamed", http.StatusSeeOther)
}

// factorName cleans a name typed for a factor: trimmed, at most maxName
// characters, no control characters; def if empty.
func factorName(s, def string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if !utf8.ValidString(s) {
		s = ""
	}
	if utf8.RuneCountInString(s) > maxName {
		s = string([]rune(s)[:maxName])
	}
	if s == "" {
		return def
	}
	return s
}
