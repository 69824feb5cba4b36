package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/territoires-ouverts/tno/internal/audit"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// tokenResponse is RFC 6749 section 5.1 plus the ID token.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

var tokenParams = []string{"grant_type", "code", "redirect_uri", "code_verifier", "client_id", "client_secret", "scope", "refresh_token"}

func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	app, form, ok := p.clientRequest(w, r, "token", tokenParams)
	if !ok {
		return
	}
	p.grant(w, r, app, form)
}

// clientRequest reads the form a client posts to the token, revocation
// or introspection endpoint (none of params may be repeated) and
// authenticates the client. On failure it answers the error and returns
// ok=false.
func (p *Provider) clientRequest(w http.ResponseWriter, r *http.Request, endpoint string, params []string) (app storage.Application, form url.Values, ok bool) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest("the body must be application/x-www-form-urlencoded"))
		return app, nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest("malformed form body"))
		return app, nil, false
	}
	form = r.PostForm
	for _, k := range params {
		if len(form[k]) > 1 {
			writeJSONError(w, http.StatusBadRequest, errInvalidRequest(k+" must not be repeated"))
			return app, nil, false
		}
	}
	cc, oe := readClientCredentials(r, form)
	if oe == nil {
		app, oe = p.authenticateClient(r, cc, endpoint)
		if oe == nil {
			return app, form, true
		}
	}
	if oe.Code == "invalid_client" {
		p.log.InfoContext(r.Context(), endpoint+": client authentication failed", "client_id", cc.clientID, "method", cc.method)
	}
	writeClientError(w, oe)
	return app, nil, false
}

// writeClientError answers an error at an endpoint clients call with
// their credentials (RFC 6749 section 5.2).
func writeClientError(w http.ResponseWriter, oe *oauthError) {
	switch oe.Code {
	case "invalid_client":
		w.Header().Set("WWW-Authenticate", `Basic realm="tno", charset="UTF-8"`)
		writeJSONError(w, http.StatusUnauthorized, oe)
	case "server_error":
		writeJSONError(w, http.StatusInternalServerError, oe)
	default:
		writeJSONError(w, http.StatusBadRequest, oe)
	}
}

func (p *Provider) grant(w http.ResponseWriter, r *http.Request, app storage.Application, form url.Values) {
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		p.grantAuthorizationCode(w, r, app, form)
	case "refresh_token":
		p.grantRefreshToken(w, r, app, form)
	case "client_credentials":
		p.grantClientCredentials(w, r, app, form)
	case "":
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest("grant_type is missing"))
	default:
		writeJSONError(w, http.StatusBadRequest, errUnsupportedGrant("grant_type "+gt+" is not supported"))
	}
}

func (p *Provider) grantAuthorizationCode(w http.ResponseWriter, r *http.Request, app storage.Application, form url.Values) {
	ctx := r.Context()
	code, redirectURI, verifier := form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier")
	switch {
	case code == "":
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest("code is missing"))
		return
	case redirectURI == "":
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest("redirect_uri is missing"))
		return
	case verifier != "" && !pkceRE.MatchString(verifier):
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest("code_verifier must be 43-128 characters of [A-Za-z0-9._~-]"))
		return
	}
	now := p.now().UTC()
	c, err := p.store.ConsumeAuthCode(ctx, hashToken(code), now)
	switch {
	case errors.Is(err, storage.ErrAlreadyUsed):
		// Mark first, then revoke: an exchange of this code still storing
		// its tokens sees the mark once they are stored (see below).
		if merr := p.store.MarkAuthCodeReplayed(context.WithoutCancel(ctx), c.Hash, now); merr != nil {
			p.log.ErrorContext(ctx, "token: mark code replayed", "client_id", app.ClientID, "err", merr)
		}
		n, rerr := p.store.RevokeTokensByCode(context.WithoutCancel(ctx), c.Hash, now)
		if rerr != nil {
			p.log.ErrorContext(ctx, "token: revoke after code reuse", "client_id", app.ClientID, "err", rerr)
		}
		p.record(ctx, audit.Event{Type: audit.CodeReuse, PersonID: c.PersonID, ClientID: app.ClientID, SessionID: c.SessionID,
			Details: map[string]string{"revoked": fmt.Sprint(n)}})
		p.log.WarnContext(ctx, "token: authorization code reused; issued tokens revoked", "client_id", app.ClientID, "person_id", c.PersonID, "revoked", n)
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the authorization code was already used"))
		return
	case errors.Is(err, storage.ErrNotFound):
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the authorization code is invalid"))
		return
	case err != nil:
		p.log.ErrorContext(ctx, "token: consume code", "client_id", app.ClientID, "err", err)
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	}
	switch {
	case subtle.ConstantTimeCompare([]byte(c.ClientID), []byte(app.ClientID)) != 1:
		p.log.WarnContext(ctx, "token: code presented by another client", "client_id", app.ClientID)
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the authorization code was not issued to this client"))
		return
	case !now.Before(c.ExpiresAt):
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the authorization code has expired"))
		return
	case redirectURI != c.RedirectURI:
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("redirect_uri does not match the authorization request"))
		return
	}
	if e := verifyPKCE(c, verifier); e != nil {
		writeJSONError(w, http.StatusBadRequest, e)
		return
	}
	if ok, err := p.sessions.Valid(ctx, c.SessionID); err != nil || !ok {
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the sign-in session has ended"))
		return
	}
	person, err := p.store.GetPerson(ctx, c.PersonID)
	if err != nil || person.Disabled {
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the account is not active"))
		return
	}
	ms, err := p.store.ListPersonMemberships(ctx, c.PersonID)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	}
	eligible := apps.Eligible(app, ms, now)
	i := slices.IndexFunc(eligible, func(m storage.Membership) bool { return m.ID == c.MembershipID })
	if i < 0 {
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the membership no longer grants access"))
		return
	}
	is := issuance{
		app: app, person: person, membership: eligible[i], sessionID: c.SessionID,
		authTime: c.AuthTime, amr: c.AMR, acr: c.ACR, claims: c.Claims, nonce: c.Nonce, codeHash: c.Hash, scope: c.Scope,
	}
	// Refresh tokens: asked for (offline_access, allowed at the
	// authorization endpoint by the application's scopes) or always
	// issued to this application. Each code exchange starts a family.
	if hasScope(c.Scope, "offline_access") || app.Settings.RefreshTokens {
		is.familyID, is.refreshScope = storage.NewID(), c.Scope
	}
	resp, err := p.issueTokens(ctx, is, nil)
	if err != nil {
		p.log.ErrorContext(ctx, "token: issue", "client_id", app.ClientID, "err", err)
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
		return
	}
	// A replay of this code may have run between its consumption and the
	// storing of these tokens, finding nothing to revoke yet: if so, they
	// go now, and this answer is refused too.
	if replayed, err := p.store.AuthCodeReplayed(ctx, c.Hash); err != nil || replayed {
		if _, rerr := p.store.RevokeTokensByCode(context.WithoutCancel(ctx), c.Hash, now); rerr != nil {
			p.log.ErrorContext(ctx, "token: revoke after concurrent code reuse", "client_id", app.ClientID, "err", rerr)
		}
		if err != nil {
			p.log.ErrorContext(ctx, "token: check code replay", "client_id", app.ClientID, "err", err)
			writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
			return
		}
		writeJSONError(w, http.StatusBadRequest, errInvalidGrant("the authorization code was already used"))
		return
	}
	writeJSON(w, resp)
}

// verifyPKCE checks the code verifier against the stored S256 challenge
// (RFC 7636 section 4.6). A verifier without a challenge is refused too
// (PKCE downgrade, RFC 9700 section 2.1.1).
func verifyPKCE(c storage.AuthCode, verifier string) *oauthError {
	if c.CodeChallenge == "" {
		if verifier != "" {
			return errInvalidGrant("code_verifier sent but no code_challenge was in the authorization request")
		}
		return nil
	}
	if verifier == "" {
		return errInvalidGrant("code_verifier is required")
	}
	sum := sha256.Sum256([]byte(verifier))
	computed := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(computed), []byte(c.CodeChallenge)) != 1 {
		return errInvalidGrant("code_verifier does not match the code_challenge")
	}
	return nil
}

// issuance is what the token endpoint issues tokens for: a person,
// through one membership, in one sign-in.
type issuance struct {
	app        storage.Application
	person     storage.Person
	membership storage.Membership
	sessionID  string
	authTime   time.Time
	amr        []string
	acr        string // acr claim released; "" (tokens issued before) follows from amr
	claims     string // the authorization request's claims parameter
	nonce      string // authorization code exchange only
	codeHash   string // the code the tokens descend from
	scope      string // of the access token and ID token
	// familyID, if set, issues a refresh token of refreshScope in that
	// family; the access token joins the family too.
	familyID     string
	refreshScope string
}

// issueTokens makes an access token (and a refresh token when the
// issuance has a family), signs the ID token when the scope has openid,
// and last hands the token records to save, which stores them; nil save
// creates them one by one.
func (p *Provider) issueTokens(ctx context.Context, is issuance, save func(ts ...*storage.Token) error) (tokenResponse, error) {
	now := p.now().UTC()
	access, hash, err := randomToken()
	if err != nil {
		return tokenResponse{}, err
	}
	t := storage.Token{
		Hash: hash, Kind: storage.TokenAccess, ClientID: is.app.ClientID, PersonID: is.person.ID,
		MembershipID: is.membership.ID, SessionID: is.sessionID, Scope: is.scope, CodeHash: is.codeHash,
		FamilyID: is.familyID, AuthTime: is.authTime, AMR: is.amr, ACR: is.acr, Claims: is.claims,
		CreatedAt: now, ExpiresAt: now.Add(p.accessTTL),
	}
	records := []*storage.Token{&t}
	resp := tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(p.accessTTL.Seconds()), Scope: is.scope}
	if is.familyID != "" {
		refresh, rhash, err := randomToken()
		if err != nil {
			return tokenResponse{}, err
		}
		rt := t
		rt.Hash, rt.Kind, rt.Scope, rt.ExpiresAt = rhash, storage.TokenRefresh, is.refreshScope, p.refreshExpiry(now, is.authTime)
		records = append(records, &rt)
		resp.RefreshToken = refresh
	}
	if hasScope(is.scope, "openid") {
		if resp.IDToken, err = p.idToken(ctx, is, access, now); err != nil {
			return tokenResponse{}, err
		}
	}
	if save == nil {
		save = func(ts ...*storage.Token) error {
			for _, t := range ts {
				if err := p.store.CreateToken(ctx, t); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if err := save(records...); err != nil {
		return tokenResponse{}, err
	}
	return resp, nil
}

// idToken signs the ID token of an issuance, issued at now with the
// access token access.
func (p *Provider) idToken(ctx context.Context, is issuance, access string, now time.Time) (string, error) {
	claims, err := p.claims(ctx, is.app, is.person, is.membership, strings.Fields(is.scope))
	if err != nil {
		return "", err
	}
	alg, err := p.signer.SigningAlgorithm(ctx)
	if err != nil {
		return "", err
	}
	claims["iss"] = p.issuer
	claims["aud"] = is.app.ClientID
	claims["azp"] = is.app.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(p.idTTL).Unix()
	claims["auth_time"] = is.authTime.Unix()
	// acr and amr always: OpenID Connect Core section 2 (acr voluntary
	// or required through the claims parameter, section 5.5.1.1).
	if acr := session.Level(is.acr, is.amr); acr != "" {
		claims["acr"] = acr
	}
	if len(is.amr) > 0 {
		claims["amr"] = is.amr
	}
	if is.sessionID != "" {
		claims["sid"] = sessionSID(is.sessionID)
	}
	if is.nonce != "" {
		claims["nonce"] = is.nonce
	}
	if h, ok := halfHash(alg, access); ok {
		claims["at_hash"] = h
	}
	return p.signClaims(ctx, claims)
}

// hasScope reports whether the space-separated scope holds s.
func hasScope(scope, s string) bool { return slices.Contains(strings.Fields(scope), s) }
