package oidc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// bearerError answers a protected-resource request with RFC 6750's
// WWW-Authenticate challenge.
func (p *Provider) bearerError(w http.ResponseWriter, status int, code, desc string) {
	v := `Bearer realm="` + p.issuer + `"`
	if code != "" {
		v += `, error="` + code + `"`
		if desc != "" {
			v += `, error_description="` + safeDescription(desc) + `"`
		}
	}
	w.Header().Set("WWW-Authenticate", v)
	if code == "" {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		return
	}
	writeJSONError(w, status, &oauthError{code, desc})
}

// bearerToken reads the access token from the Authorization header or,
// for POST, the form body (RFC 6750 sections 2.1 and 2.2), never both.
func bearerToken(r *http.Request) (string, bool, string) {
	h := r.Header.Get("Authorization")
	var fromForm string
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(nil, r.Body, 16<<10)
		if err := r.ParseForm(); err == nil {
			fromForm = r.PostForm.Get("access_token")
		}
	}
	if r.URL.Query().Has("access_token") {
		return "", false, "access tokens in the query string are not accepted"
	}
	switch {
	case h != "" && fromForm != "":
		return "", false, "use one way to send the access token"
	case h != "":
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return "", false, "the Authorization header must be Bearer"
		}
		return strings.TrimSpace(tok), true, ""
	case fromForm != "":
		return fromForm, true, ""
	}
	return "", false, ""
}

func (p *Provider) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Access-Control-Allow-Origin", "*")
	raw, ok, problem := bearerToken(r)
	if problem != "" {
		p.bearerError(w, http.StatusBadRequest, "invalid_request", problem)
		return
	}
	if !ok {
		p.bearerError(w, http.StatusUnauthorized, "", "")
		return
	}
	t, err := p.store.GetToken(ctx, hashToken(raw))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		p.log.ErrorContext(ctx, "userinfo: load token", "err", err)
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	}
	now := p.now()
	if err != nil || t.Kind != storage.TokenAccess || t.RevokedAt != nil || !now.Before(t.ExpiresAt) {
		p.bearerError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked")
		return
	}
	if t.PersonID == "" {
		p.bearerError(w, http.StatusUnauthorized, "invalid_token", "the access token was issued to a client, for no person")
		return
	}
	scopes := strings.Fields(t.Scope)
	if !slices.Contains(scopes, "openid") {
		p.bearerError(w, http.StatusForbidden, "insufficient_scope", "the openid scope is required")
		return
	}
	person, err := p.store.GetPerson(ctx, t.PersonID)
	if err != nil || person.Disabled {
		p.bearerError(w, http.StatusUnauthorized, "invalid_token", "the account is not active")
		return
	}
	app, err := p.store.GetApplicationByClientID(ctx, t.ClientID)
	if err != nil || app.Disabled {
		p.bearerError(w, http.StatusUnauthorized, "invalid_token", "the application is not active")
		return
	}
	ms, err := p.store.ListPersonMemberships(ctx, t.PersonID)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	}
	eligible := apps.Eligible(app, ms, now)
	i := slices.IndexFunc(eligible, func(m storage.Membership) bool { return m.ID == t.MembershipID })
	if i < 0 {
		p.bearerError(w, http.StatusUnauthorized, "invalid_token", "the membership no longer grants access")
		return
	}
	claims, err := p.claims(ctx, app, person, eligible[i], scopes)
	if err != nil {
		p.log.ErrorContext(ctx, "userinfo: claims", "client_id", app.ClientID, "err", err)
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	}
	addRequestedAuthClaims(claims, t)
	if app.Settings.UserinfoSignedResponseAlg == "" {
		writeJSON(w, claims)
		return
	}
	jwt, err := p.signedUserinfo(ctx, app, claims, now)
	if err != nil {
		p.log.ErrorContext(ctx, "userinfo: sign", "client_id", app.ClientID, "err", err)
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	_, _ = io.WriteString(w, jwt)
}

// addRequestedAuthClaims adds to the userinfo claims the authentication
// claims that the authorization request's claims parameter asked for at
// userinfo (OpenID Connect Core section 5.5): acr and amr.
func addRequestedAuthClaims(claims map[string]any, t storage.Token) {
	req, _ := parseClaimsRequest(t.Claims) // validated at the authorization endpoint
	if req.userinfoRequests("acr") {
		if acr := session.Level(t.ACR, t.AMR); acr != "" {
			claims["acr"] = acr
		}
	}
	if req.userinfoRequests("amr") && len(t.AMR) > 0 {
		claims["amr"] = t.AMR
	}
}

// signedUserinfo signs the userinfo claims for app as a JWT (OpenID
// Connect Core section 5.3.2), with iss, aud (the client ID) and iat.
//
// TNO holds one signing algorithm at a time (signing.algorithm, see
// internal/keys), so the JWT is signed with the current key whatever alg
// the application registered. When they differ, the application is
// probably misconfigured (or the keys were rotated to another
// algorithm): a warning is logged, once per application, algorithm pair
// and process, and the answer is still signed, as ID tokens are.
func (p *Provider) signedUserinfo(ctx context.Context, app storage.Application, claims map[string]any, now time.Time) (string, error) {
	alg, err := p.signer.SigningAlgorithm(ctx)
	if err != nil {
		return "", err
	}
	if want := app.Settings.UserinfoSignedResponseAlg; alg != want && p.userinfoAlgWarned.first(app.ClientID+" "+want+" "+alg) {
		p.log.WarnContext(ctx, "userinfo: the application asks for another signing algorithm than the current key's; signed with the current key",
			"client_id", app.ClientID, "userinfo_signed_response_alg", want, "alg", alg)
	}
	claims["iss"] = p.issuer
	claims["aud"] = app.ClientID
	claims["iat"] = now.Unix()
	return p.signClaims(ctx, claims)
}

// onceSet remembers keys: first reports whether it sees key for the first
// time. Its zero value is ready to use.
type onceSet struct{ m sync.Map }

func (s *onceSet) first(key string) bool {
	_, seen := s.m.LoadOrStore(key, struct{}{})
	return !seen
}
