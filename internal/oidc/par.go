package oidc

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// Pushed authorization requests (RFC 9126).
const (
	pathPAR = "/par"
	// parLifetime is how long a request_uri may be used (RFC 9126
	// section 2.2 suggests 5 to 600 seconds: the browser goes to the
	// authorization endpoint at once).
	parLifetime      = 60 * time.Second
	requestURIPrefix = "urn:ietf:params:oauth:request_uri:"
)

// parResponse is RFC 9126 section 2.2.
type parResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int64  `json:"expires_in"`
}

// handlePAR takes an authorization request pushed by an authenticated
// client (the token endpoint's methods, and none for a public client
// sending its client_id), validates it as the authorization endpoint
// would, stores it and answers the request_uri the browser will bring to
// the authorization endpoint. Errors are JSON (section 2.3), never
// redirects.
func (p *Provider) handlePAR(w http.ResponseWriter, r *http.Request) {
	app, form, ok := p.clientRequest(w, r, "par", nil)
	if !ok {
		return
	}
	if form.Has("request_uri") {
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest("request_uri must not be pushed (RFC 9126 section 2.1)"))
		return
	}
	// The authorization request: the body without the client's
	// credentials, for the client authenticated.
	params := url.Values{}
	for k, vs := range form {
		switch k {
		case "client_secret", "client_assertion", "client_assertion_type":
		default:
			params[k] = vs
		}
	}
	params.Set("client_id", app.ClientID)
	pa := p.parseAuthorize(r, params)
	switch {
	case pa.pageMessage == "error.generic":
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	case pa.pageMessage == "error.invalid_redirect_uri":
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest("redirect_uri is missing or not registered for this client"))
		return
	case pa.pageMessage != "":
		d := pa.pageDetail
		if d == "" {
			d = "invalid authorization request"
		}
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest(d))
		return
	case pa.redirectErr != nil:
		writeJSONError(w, http.StatusBadRequest, pa.redirectErr)
		return
	}
	ctx := r.Context()
	raw, hash, err := randomToken()
	if err == nil {
		now := p.now().UTC()
		err = p.store.CreatePushedRequest(ctx, &storage.PushedRequest{
			ID: hash, ClientID: app.ClientID, Params: params.Encode(), CreatedAt: now, ExpiresAt: now.Add(parLifetime),
		})
	}
	if err != nil {
		p.log.ErrorContext(ctx, "par: store request", "client_id", app.ClientID, "err", err)
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(parResponse{RequestURI: requestURIPrefix + raw, ExpiresIn: int64(parLifetime.Seconds())})
}

// pushedAuthorize serves an authorization request that carries a
// request_uri: it takes the pushed request, once, and goes on with its
// parameters; the others in the query, but client_id, are ignored (RFC
// 9126 section 4). A request_uri unknown, used, expired or pushed by
// another client is shown an error page: there is no redirect URI to
// trust.
func (p *Provider) pushedAuthorize(w http.ResponseWriter, r *http.Request, form url.Values) {
	badPage := func(detail string) {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.expired", detail))
	}
	if len(form["request_uri"]) > 1 || len(form["client_id"]) > 1 {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", "request_uri or client_id is repeated"))
		return
	}
	clientID, uri := form.Get("client_id"), form.Get("request_uri")
	if clientID == "" {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.invalid_client", "client_id is missing"))
		return
	}
	ref, ok := strings.CutPrefix(uri, requestURIPrefix)
	if !ok || ref == "" || len(ref) > 128 {
		badPage("unknown request_uri")
		return
	}
	ctx := r.Context()
	pr, err := p.store.ConsumePushedRequest(ctx, hashToken(ref), clientID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		p.log.InfoContext(ctx, "authorize: unknown, used or another client's request_uri", "client_id", clientID)
		badPage("unknown or already used request_uri")
		return
	case err != nil:
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	case !p.now().Before(pr.ExpiresAt):
		badPage("expired request_uri")
		return
	}
	params, err := url.ParseQuery(pr.Params)
	if err != nil { // stored by handlePAR: cannot happen
		p.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", err)
		return
	}
	p.authorize(w, r, params, true)
}
