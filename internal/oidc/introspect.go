package oidc

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// pathIntrospect is the token introspection endpoint (RFC 7662).
const pathIntrospect = "/introspect"

var introspectParams = []string{"token", "token_type_hint", "client_id", "client_secret"}

// introspection is an RFC 7662 section 2.2 response. An inactive token
// is {"active":false} and nothing else.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Aud       string `json:"aud,omitempty"`
	Iss       string `json:"iss,omitempty"`
	AuthTime  int64  `json:"auth_time,omitempty"`
	Sid       string `json:"sid,omitempty"`
}

// handleIntrospect tells a resource server whether a token is active
// (RFC 7662). Only confidential clients may ask, with the token
// endpoint's secret methods; they see the tokens issued to any
// application of their own organization, and every other token is
// reported inactive. A token is active while it is neither expired,
// revoked nor (refresh tokens) used, its application is enabled, and for
// a person's token while the person is active, the membership still
// eligible and, for a refresh token without offline_access, the session
// still running.
func (p *Provider) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	app, form, ok := p.clientRequest(w, r, "introspect", introspectParams)
	if !ok {
		return
	}
	if app.ClientType != storage.ClientConfidential {
		p.log.InfoContext(r.Context(), "introspect: public client refused", "client_id", app.ClientID)
		writeClientError(w, errInvalidClient("introspection is for confidential clients"))
		return
	}
	raw := form.Get("token")
	if raw == "" {
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest("token is missing"))
		return
	}
	resp, err := p.introspect(r.Context(), app, raw)
	if err != nil {
		p.log.ErrorContext(r.Context(), "introspect", "client_id", app.ClientID, "err", err)
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	}
	writeJSON(w, resp)
}

// introspect describes the token raw to the caller application.
func (p *Provider) introspect(ctx context.Context, caller storage.Application, raw string) (introspection, error) {
	var inactive introspection
	t, err := p.store.GetToken(ctx, hashToken(raw))
	if errors.Is(err, storage.ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return inactive, err
	}
	now := p.now()
	if t.RevokedAt != nil || t.UsedAt != nil || !now.Before(t.ExpiresAt) {
		return inactive, nil
	}
	owner, err := p.store.GetApplicationByClientID(ctx, t.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return inactive, err
	}
	if owner.Disabled || owner.OrgID != caller.OrgID {
		return inactive, nil
	}
	out := introspection{
		Active: true, Scope: t.Scope, ClientID: t.ClientID, TokenType: "Bearer",
		Exp: t.ExpiresAt.Unix(), Iat: t.CreatedAt.Unix(), Sub: t.ClientID, Aud: t.ClientID, Iss: p.issuer,
	}
	if t.Kind == storage.TokenRefresh {
		out.TokenType = "refresh_token"
		if !hasScope(t.Scope, "offline_access") {
			ok, err := p.sessions.Valid(ctx, t.SessionID)
			if err != nil || !ok {
				return inactive, err
			}
		}
	}
	if t.PersonID == "" { // client_credentials: the application is the subject
		return out, nil
	}
	person, err := p.store.GetPerson(ctx, t.PersonID)
	if errors.Is(err, storage.ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return inactive, err
	}
	if person.Disabled {
		return inactive, nil
	}
	ms, err := p.store.ListPersonMemberships(ctx, t.PersonID)
	if err != nil {
		return inactive, err
	}
	if !slices.ContainsFunc(apps.Eligible(owner, ms, now), func(m storage.Membership) bool { return m.ID == t.MembershipID }) {
		return inactive, nil
	}
	sub, err := p.subject(ctx, owner, person.ID) // as the token's application sees the person
	if err != nil {
		return inactive, err
	}
	out.Sub, out.AuthTime = sub, t.AuthTime.Unix()
	// A pairwise application must not learn an identifier shared with the
	// others: no username for its tokens.
	if owner.Settings.SubjectType != "pairwise" {
		out.Username = person.Username
	}
	if t.SessionID != "" {
		out.Sid = sessionSID(t.SessionID)
	}
	return out, nil
}
