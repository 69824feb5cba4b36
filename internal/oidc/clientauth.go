package oidc

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// clientCredentials is what a request presents to authenticate a client.
type clientCredentials struct {
	method   string // "client_secret_basic", "client_secret_post", "none"
	clientID string
	secret   string
}

// parseBasic decodes an HTTP Basic client authentication header. Per RFC
// 6749 section 2.3.1 the client ID and secret are form-urlencoded before
// Basic encoding, so each part is form-decoded ("tno%2Dpeer" is
// "tno-peer", "+" is a space); a value with "+" or "/" in base64 is kept
// whole.
func parseBasic(h string) (id, secret string, err error) {
	const prefix = "basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", errors.New("not Basic")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(prefix):]))
	if err != nil {
		return "", "", errors.New("malformed Basic credentials")
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", errors.New("malformed Basic credentials")
	}
	if id, err = url.QueryUnescape(user); err != nil {
		return "", "", errors.New("malformed client_id encoding")
	}
	if secret, err = url.QueryUnescape(pass); err != nil {
		return "", "", errors.New("malformed client_secret encoding")
	}
	return id, secret, nil
}

// readClientCredentials extracts client authentication from a token
// request: exactly one method may be used.
func readClientCredentials(r *http.Request, form url.Values) (clientCredentials, *oauthError) {
	formID, formSecret := form.Get("client_id"), form.Get("client_secret")
	if h := r.Header.Get("Authorization"); h != "" {
		id, secret, err := parseBasic(h)
		if err != nil {
			return clientCredentials{}, errInvalidClient(err.Error())
		}
		if form.Has("client_secret") {
			return clientCredentials{}, errInvalidRequest("use one client authentication method, not Basic and client_secret together")
		}
		if formID != "" && formID != id {
			return clientCredentials{}, errInvalidRequest("client_id does not match the Basic credentials")
		}
		return clientCredentials{"client_secret_basic", id, secret}, nil
	}
	if formID == "" {
		return clientCredentials{}, errInvalidClient("client authentication is missing")
	}
	if form.Has("client_secret") {
		return clientCredentials{"client_secret_post", formID, formSecret}, nil
	}
	return clientCredentials{"none", formID, ""}, nil
}

// authenticateClient checks the presented credentials. Every failure is
// invalid_client; a secret is compared in constant time, and an unknown
// client costs the same comparison.
func (p *Provider) authenticateClient(r *http.Request, cc clientCredentials) (storage.Application, *oauthError) {
	app, err := p.store.GetApplicationByClientID(r.Context(), cc.clientID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		p.log.ErrorContext(r.Context(), "token: load client", "client_id", cc.clientID, "err", err)
		return storage.Application{}, errServerError("try again later")
	}
	known := err == nil && !app.Disabled
	switch cc.method {
	case "none":
		if !known || app.ClientType != storage.ClientPublic {
			return storage.Application{}, errInvalidClient("client authentication failed")
		}
		return app, nil
	default:
		ok := apps.VerifySecret(app, cc.secret) // app is zero if unknown: same work
		if !known || app.ClientType != storage.ClientConfidential || !ok {
			return storage.Application{}, errInvalidClient("client authentication failed")
		}
		return app, nil
	}
}
