package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// pathRevoke is the token revocation endpoint (RFC 7009).
const pathRevoke = "/revoke"

var revokeParams = []string{"token", "token_type_hint", "client_id", "client_secret"}

// handleRevoke revokes a token at its client's request (RFC 7009), with
// the token endpoint's client authentication. A refresh token takes its
// whole family with it (the access tokens issued with it included); an
// access token goes alone. The answer is 200 with an empty body whatever
// the token (unknown, already revoked, another client's — the latter left
// untouched, section 2.1), so it tells nothing about other tokens.
// token_type_hint is accepted and ignored: the lookup finds the kind.
func (p *Provider) handleRevoke(w http.ResponseWriter, r *http.Request) {
	app, form, ok := p.clientRequest(w, r, "revoke", revokeParams)
	if !ok {
		return
	}
	raw := form.Get("token")
	if raw == "" {
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest("token is missing"))
		return
	}
	ctx := r.Context()
	now := p.now().UTC()
	t, err := p.store.GetToken(ctx, hashToken(raw))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		// Unknown or deleted: nothing to revoke (RFC 7009 section 2.2).
	case err != nil:
		p.log.ErrorContext(ctx, "revoke: load token", "client_id", app.ClientID, "err", err)
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	case subtle.ConstantTimeCompare([]byte(t.ClientID), []byte(app.ClientID)) != 1:
		p.log.InfoContext(ctx, "revoke: token of another client left untouched", "client_id", app.ClientID)
	case t.Kind == storage.TokenRefresh && t.FamilyID != "":
		n, err := p.store.RevokeTokenFamily(context.WithoutCancel(ctx), t.FamilyID, now)
		if err != nil {
			p.log.ErrorContext(ctx, "revoke: family", "client_id", app.ClientID, "err", err)
			writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
			return
		}
		// audit: token_revoked (client, person, family, tokens revoked).
		p.log.InfoContext(ctx, "revoke: refresh token family revoked", "client_id", app.ClientID, "person_id", t.PersonID, "revoked", n)
	default:
		if err := p.store.RevokeToken(ctx, t.Hash, now); err != nil && !errors.Is(err, storage.ErrNotFound) {
			p.log.ErrorContext(ctx, "revoke: token", "client_id", app.ClientID, "err", err)
			writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
			return
		}
		// audit: token_revoked (client, person).
		p.log.InfoContext(ctx, "revoke: token revoked", "client_id", app.ClientID, "person_id", t.PersonID, "kind", t.Kind)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
}
