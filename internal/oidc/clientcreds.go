package oidc

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// grantClientCredentials issues an access token to a confidential
// application for itself (RFC 6749 section 4.4): machine to machine, with
// no person, so no ID token, no refresh token and no "openid" scope. The
// application needs "client_credentials" among its grant types; its
// ClientCredentialsScopes bound what it may ask for, and a request without
// scope gets them all.
func (p *Provider) grantClientCredentials(w http.ResponseWriter, r *http.Request, app storage.Application, form url.Values) {
	ctx := r.Context()
	if app.ClientType != storage.ClientConfidential || !slices.Contains(app.Settings.GrantTypes, "client_credentials") {
		writeJSONError(w, http.StatusBadRequest, errUnauthorizedClient("this application may not use the client_credentials grant"))
		return
	}
	allowed := slices.DeleteFunc(slices.Clone(app.Settings.ClientCredentialsScopes), func(s string) bool { return s == "openid" })
	scopes := dedupe(strings.Fields(form.Get("scope")))
	if len(scopes) == 0 {
		scopes = dedupe(allowed)
	}
	for _, s := range scopes {
		switch {
		case s == "openid":
			writeJSONError(w, http.StatusBadRequest, errInvalidScope("openid needs a person: not available with client_credentials"))
			return
		case !slices.Contains(allowed, s):
			writeJSONError(w, http.StatusBadRequest, errInvalidScope("the requested scope is not granted to this application"))
			return
		}
	}
	scope := strings.Join(scopes, " ")
	now := p.now().UTC()
	access, hash, err := randomToken()
	if err == nil {
		err = p.store.CreateToken(ctx, &storage.Token{
			Hash: hash, Kind: storage.TokenAccess, ClientID: app.ClientID, Scope: scope,
			AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(p.accessTTL),
		})
	}
	if err != nil {
		p.log.ErrorContext(ctx, "token: issue client credentials", "client_id", app.ClientID, "err", err)
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	}
	writeJSON(w, tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(p.accessTTL.Seconds()), Scope: scope})
}
