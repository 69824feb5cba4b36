package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"github.com/territoires-ouverts/tno/internal/audit"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// grantRefreshToken exchanges a refresh token (RFC 6749 section 6) for a
// new access token, a new ID token and a new refresh token of the same
// family: refresh tokens rotate on every use, and presenting a used one
// revokes its whole family (RFC 9700 section 4.14.2). There is no grace
// period: of two requests with the same token, the second revokes the
// family.
//
// Tokens issued with offline_access outlive the sign-in session (OpenID
// Connect Core section 11); the others end with it.
func (p *Provider) grantRefreshToken(w http.ResponseWriter, r *http.Request, app storage.Application, form url.Values) {
	ctx := r.Context()
	raw := form.Get("refresh_token")
	if raw == "" {
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest("refresh_token is missing"))
		return
	}
	hash := hashToken(raw)
	now := p.now().UTC()
	t, err := p.store.GetToken(ctx, hash)
	switch {
	case errors.Is(err, storage.ErrNotFound) || err == nil && t.Kind != storage.TokenRefresh:
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the refresh token is invalid"))
		return
	case err != nil:
		p.log.ErrorContext(ctx, "token: load refresh token", "client_id", app.ClientID, "err", err)
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	}
	// Checked before the token is marked used: another client cannot
	// spend it.
	if subtle.ConstantTimeCompare([]byte(t.ClientID), []byte(app.ClientID)) != 1 {
		p.log.WarnContext(ctx, "token: refresh token presented by another client", "client_id", app.ClientID)
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the refresh token was not issued to this client"))
		return
	}
	if t.UsedAt != nil {
		p.refreshReused(ctx, t, now)
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the refresh token was already used"))
		return
	}
	switch {
	case t.RevokedAt != nil:
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the refresh token was revoked"))
		return
	case !now.Before(t.ExpiresAt):
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the refresh token has expired"))
		return
	}
	scope, oe := narrowScope(t.Scope, form.Get("scope"))
	if oe != nil {
		writeJSONError(w, http.StatusBadRequest, oe)
		return
	}
	person, m, oe := p.refreshSubject(ctx, app, t, now)
	if oe != nil {
		if oe.Code == "server_error" {
			writeJSONError(w, http.StatusInternalServerError, oe)
		} else {
			writeJSONError(w, http.StatusBadRequest, oe)
		}
		return
	}
	// Every check passed: spend the token and store its successors in one
	// step, so that a concurrent family revocation catches them.
	var spent storage.Token
	resp, err := p.issueTokens(ctx, issuance{
		app: app, person: person, membership: m, sessionID: t.SessionID, authTime: t.AuthTime, amr: t.AMR,
		acr: t.ACR, claims: t.Claims, codeHash: t.CodeHash, scope: scope, familyID: t.FamilyID, refreshScope: t.Scope,
	}, func(next ...*storage.Token) error {
		var err error
		spent, err = p.store.RotateRefreshToken(ctx, hash, now, next...)
		return err
	})
	switch {
	case errors.Is(err, storage.ErrAlreadyUsed): // a concurrent request won
		p.refreshReused(ctx, spent, now)
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the refresh token was already used"))
		return
	case errors.Is(err, storage.ErrNotFound): // revoked or deleted meanwhile
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the refresh token is invalid"))
		return
	case err != nil:
		p.log.ErrorContext(ctx, "token: refresh", "client_id", app.ClientID, "err", err)
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	}
	writeJSON(w, resp)
}

// refreshReused revokes the family of a refresh token presented again
// after it was used: either the client or an attacker holds a stolen copy,
// and the server cannot tell which, so every token of the family goes.
func (p *Provider) refreshReused(ctx context.Context, t storage.Token, now time.Time) {
	// The client leaving must not stop the revocation.
	n, err := p.store.RevokeTokenFamily(context.WithoutCancel(ctx), t.FamilyID, now)
	if err != nil {
		p.log.ErrorContext(ctx, "token: revoke family after refresh token reuse", "client_id", t.ClientID, "err", err)
	}
	p.record(ctx, audit.Event{Type: audit.RefreshTokenReuse, PersonID: t.PersonID, ClientID: t.ClientID, SessionID: t.SessionID,
		Details: map[string]string{"family": t.FamilyID, "revoked": fmt.Sprint(n)}})
	p.log.WarnContext(ctx, "token: refresh token reused; family revoked", "event", "refresh_token_reuse",
		"client_id", t.ClientID, "person_id", t.PersonID, "family_id", t.FamilyID, "revoked", n)
}

// refreshSubject checks that the person behind a refresh token may still
// use the application: the session still runs (unless offline_access),
// the person is active and the membership still eligible.
func (p *Provider) refreshSubject(ctx context.Context, app storage.Application, t storage.Token, now time.Time) (storage.Person, storage.Membership, *oauthError) {
	if !hasScope(t.Scope, "offline_access") {
		ok, err := p.sessions.Valid(ctx, t.SessionID)
		if err != nil {
			p.log.ErrorContext(ctx, "token: check session", "client_id", app.ClientID, "err", err)
			return storage.Person{}, storage.Membership{}, errServerError("try again later")
		}
		if !ok {
			return storage.Person{}, storage.Membership{}, errInvalidGrant("the sign-in session has ended")
		}
	}
	person, err := p.store.GetPerson(ctx, t.PersonID)
	if err != nil || person.Disabled {
		return storage.Person{}, storage.Membership{}, errInvalidGrant("the account is not active")
	}
	ms, err := p.store.ListPersonMemberships(ctx, t.PersonID)
	if err != nil {
		p.log.ErrorContext(ctx, "token: list memberships", "client_id", app.ClientID, "err", err)
		return storage.Person{}, storage.Membership{}, errServerError("try again later")
	}
	eligible := apps.Eligible(app, ms, now)
	i := slices.IndexFunc(eligible, func(m storage.Membership) bool { return m.ID == t.MembershipID })
	if i < 0 {
		return storage.Person{}, storage.Membership{}, errInvalidGrant("the membership no longer grants access")
	}
	return person, eligible[i], nil
}

// narrowScope returns the scope of the tokens a refresh issues: the
// requested one, which may only narrow the granted scope (RFC 6749
// section 6), or the granted one when none is requested.
func narrowScope(granted, requested string) (string, *oauthError) {
	req := strings.Fields(requested)
	if len(req) == 0 {
		return granted, nil
	}
	have := strings.Fields(granted)
	for _, s := range req {
		if !slices.Contains(have, s) {
			return "", errInvalidScope("the requested scope exceeds the scope granted to the refresh token")
		}
	}
	return strings.Join(dedupe(req), " "), nil
}

// refreshExpiry is when a refresh token issued at now expires: after the
// refresh token lifetime, but never later than the family lifetime after
// the sign-in.
func (p *Provider) refreshExpiry(now, authTime time.Time) time.Time {
	exp := now.Add(p.refreshTTL)
	if limit := authTime.Add(p.familyTTL); limit.Before(exp) {
		return limit
	}
	return exp
}
