package oidc

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// clientCredentials is what a request presents to authenticate a client.
type clientCredentials struct {
	method    string // "client_secret_basic", "client_secret_post", "private_key_jwt", "none"
	clientID  string
	secret    string
	assertion *jwt.JSONWebToken // private_key_jwt: parsed, not verified yet
}

// clientAuthParams are the client authentication parameters of a form;
// none may be repeated.
var clientAuthParams = []string{"client_id", "client_secret", "client_assertion", "client_assertion_type"}

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

// readClientCredentials extracts client authentication from a request
// to an endpoint clients call (token, revocation, introspection, pushed
// authorization requests): exactly one method may be used.
func readClientCredentials(r *http.Request, form url.Values) (clientCredentials, *oauthError) {
	for _, k := range clientAuthParams {
		if len(form[k]) > 1 {
			return clientCredentials{}, errInvalidRequest(k + " must not be repeated")
		}
	}
	formID, formSecret := form.Get("client_id"), form.Get("client_secret")
	assertion := form.Has("client_assertion") || form.Has("client_assertion_type")
	if h := r.Header.Get("Authorization"); h != "" {
		id, secret, err := parseBasic(h)
		if err != nil {
			return clientCredentials{}, errInvalidClient(err.Error())
		}
		if form.Has("client_secret") || assertion {
			return clientCredentials{}, errInvalidRequest("use one client authentication method, not Basic and client_secret or client_assertion together")
		}
		if formID != "" && formID != id {
			return clientCredentials{}, errInvalidRequest("client_id does not match the Basic credentials")
		}
		return clientCredentials{method: apps.AuthClientSecretBasic, clientID: id, secret: secret}, nil
	}
	if assertion {
		if form.Has("client_secret") {
			return clientCredentials{}, errInvalidRequest("use one client authentication method, not client_secret and client_assertion together")
		}
		return readClientAssertion(form)
	}
	if formID == "" {
		return clientCredentials{}, errInvalidClient("client authentication is missing")
	}
	if form.Has("client_secret") {
		return clientCredentials{method: apps.AuthClientSecretPost, clientID: formID, secret: formSecret}, nil
	}
	return clientCredentials{method: apps.AuthNone, clientID: formID}, nil
}

// readClientAssertion reads private_key_jwt credentials (RFC 7523
// section 2.2): the client is the assertion's sub, and client_id, if
// sent, must be the same.
func readClientAssertion(form url.Values) (clientCredentials, *oauthError) {
	if t := form.Get("client_assertion_type"); t != clientAssertionType {
		return clientCredentials{}, errInvalidClient("client_assertion_type must be " + clientAssertionType)
	}
	raw := form.Get("client_assertion")
	if raw == "" {
		return clientCredentials{}, errInvalidClient("client_assertion is missing")
	}
	tok, c, err := parseAssertion(raw)
	if err != nil {
		return clientCredentials{}, errInvalidClient(err.Error())
	}
	if c.Subject == "" {
		return clientCredentials{}, errInvalidClient("client_assertion has no sub (the client_id)")
	}
	if id := form.Get("client_id"); id != "" && id != c.Subject {
		return clientCredentials{}, errInvalidClient("client_id does not match the client_assertion sub")
	}
	return clientCredentials{method: apps.AuthPrivateKeyJWT, clientID: c.Subject, assertion: tok}, nil
}

// allowedAuthMethods are the methods app may authenticate with: the one
// it is pinned to, else the secret methods (confidential) or none
// (public).
func allowedAuthMethods(app storage.Application) []string {
	switch {
	case app.Settings.TokenEndpointAuthMethod != "":
		return []string{app.Settings.TokenEndpointAuthMethod}
	case app.ClientType == storage.ClientPublic:
		return []string{apps.AuthNone}
	default:
		return []string{apps.AuthClientSecretBasic, apps.AuthClientSecretPost}
	}
}

// endpointPaths maps the endpoint names clientRequest receives to their
// paths: a client assertion may name the endpoint it is sent to.
var endpointPaths = map[string]string{"token": pathToken, "revoke": pathRevoke, "introspect": pathIntrospect, "par": pathPAR}

// authenticateClient checks the presented credentials at endpoint (see
// endpointPaths). Every failure is invalid_client; a secret is compared
// in constant time, and an unknown client costs the same comparison. A
// client uses only its allowed methods (allowedAuthMethods).
func (p *Provider) authenticateClient(r *http.Request, cc clientCredentials, endpoint string) (storage.Application, *oauthError) {
	ctx := r.Context()
	app, err := p.store.GetApplicationByClientID(ctx, cc.clientID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		p.log.ErrorContext(ctx, endpoint+": load client", "client_id", cc.clientID, "err", err)
		return storage.Application{}, errServerError("try again later")
	}
	known := err == nil && !app.Disabled
	secretOK := false
	if cc.method == apps.AuthClientSecretBasic || cc.method == apps.AuthClientSecretPost {
		secretOK = apps.VerifySecret(app, cc.secret) // app is zero if unknown: same work
	}
	failed := errInvalidClient("client authentication failed")
	if !known {
		return storage.Application{}, failed
	}
	if allowed := allowedAuthMethods(app); !slices.Contains(allowed, cc.method) {
		return storage.Application{}, errInvalidClient(fmt.Sprintf("this client may not authenticate with %s: it uses %s",
			cc.method, strings.Join(allowed, " or ")))
	}
	switch cc.method {
	case apps.AuthNone:
		if app.ClientType != storage.ClientPublic {
			return storage.Application{}, failed
		}
	case apps.AuthPrivateKeyJWT:
		if oe := p.verifyClientAssertion(ctx, app, cc.assertion, p.url(endpointPaths[endpoint])); oe != nil {
			return storage.Application{}, oe
		}
	default:
		if app.ClientType != storage.ClientConfidential || !secretOK {
			return storage.Application{}, failed
		}
	}
	return app, nil
}
