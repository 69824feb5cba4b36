package oidc

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// tokenResponse is RFC 6749 section 5.1 plus the ID token.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	IDToken     string `json:"id_token,omitempty"`
	Scope       string `json:"scope,omitempty"`
}

var tokenParams = []string{"grant_type", "code", "redirect_uri", "code_verifier", "client_id", "client_secret", "scope"}

func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest("the body must be application/x-www-form-urlencoded"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, http.StatusBadRequest, errInvalidRequest("malformed form body"))
		return
	}
	form := r.PostForm
	for _, k := range tokenParams {
		if len(form[k]) > 1 {
			writeJSONError(w, http.StatusBadRequest, errInvalidRequest(k+" must not be repeated"))
			return
		}
	}
	cc, oe := readClientCredentials(r, form)
	if oe == nil {
		var app storage.Application
		app, oe = p.authenticateClient(r, cc)
		if oe == nil {
			p.grant(w, r, app, form)
			return
		}
	}
	switch oe.Code {
	case "invalid_client":
		p.log.InfoContext(r.Context(), "token: client authentication failed", "client_id", cc.clientID, "method", cc.method)
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
		n, rerr := p.store.RevokeTokensByCode(ctx, c.Hash, now)
		if rerr != nil {
			p.log.ErrorContext(ctx, "token: revoke after code reuse", "client_id", app.ClientID, "err", rerr)
		}
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
	resp, err := p.issueTokens(r, app, person, eligible[i], c)
	if err != nil {
		p.log.ErrorContext(ctx, "token: issue", "client_id", app.ClientID, "err", err)
		writeJSONError(w, http.StatusInternalServerError, errServerError("try again later"))
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

// issueTokens stores an access token bound to the code and signs the ID
// token.
func (p *Provider) issueTokens(r *http.Request, app storage.Application, person storage.Person, m storage.Membership, c storage.AuthCode) (tokenResponse, error) {
	ctx := r.Context()
	now := p.now().UTC()
	access, hash, err := randomToken()
	if err != nil {
		return tokenResponse{}, err
	}
	t := storage.Token{
		Hash: hash, Kind: storage.TokenAccess, ClientID: app.ClientID, PersonID: person.ID,
		MembershipID: m.ID, SessionID: c.SessionID, Scope: c.Scope, CodeHash: c.Hash,
		AuthTime: c.AuthTime, CreatedAt: now, ExpiresAt: now.Add(p.accessTTL),
	}
	if err := p.store.CreateToken(ctx, &t); err != nil {
		return tokenResponse{}, err
	}
	scopes := strings.Fields(c.Scope)
	claims, err := p.claims(ctx, person, m, scopes)
	if err != nil {
		return tokenResponse{}, err
	}
	alg, err := p.signer.SigningAlgorithm(ctx)
	if err != nil {
		return tokenResponse{}, err
	}
	claims["iss"] = p.issuer
	claims["aud"] = app.ClientID
	claims["azp"] = app.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(p.idTTL).Unix()
	claims["auth_time"] = c.AuthTime.Unix()
	if len(c.AMR) > 0 {
		claims["amr"] = c.AMR
	}
	if c.SessionID != "" {
		claims["sid"] = sessionSID(c.SessionID)
	}
	if c.Nonce != "" {
		claims["nonce"] = c.Nonce
	}
	if h, ok := halfHash(alg, access); ok {
		claims["at_hash"] = h
	}
	idToken, err := p.signClaims(ctx, claims)
	if err != nil {
		return tokenResponse{}, err
	}
	return tokenResponse{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(p.accessTTL.Seconds()),
		IDToken: idToken, Scope: c.Scope,
	}, nil
}
