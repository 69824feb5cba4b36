package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/territoires-ouverts/tno/internal/keys"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// signInAt is signIn through another redirect URI.
func (h *harness) signInAt(b *http.Client, clientID, redirect, username, scope string) tokens {
	h.t.Helper()
	extra := url.Values{"scope": {scope}}
	form := url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {redirect}}
	if h.secrets[clientID] == "" { // public: PKCE
		verifier, challenge := pkcePair()
		extra.Set("code_challenge", challenge)
		extra.Set("code_challenge_method", "S256")
		form.Set("code_verifier", verifier)
	}
	form.Set("code", h.code(b, clientID, redirect, username, extra))
	return h.okCall("/token", clientID, form)
}

// rp is a third-party relying party library (coreos/go-oidc) pointed at
// the harness.
func (h *harness) rp() (context.Context, *oidc.Provider) {
	h.t.Helper()
	ctx := oidc.ClientContext(h.t.Context(), h.srv.Client())
	provider, err := oidc.NewProvider(ctx, h.issuer)
	if err != nil {
		h.t.Fatal(err)
	}
	return ctx, provider
}

// idSubject verifies an ID token for clientID with go-oidc and returns its
// sub.
func (h *harness) idSubject(provider *oidc.Provider, clientID, raw string) string {
	h.t.Helper()
	ctx := oidc.ClientContext(h.t.Context(), h.srv.Client())
	idt, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, raw)
	if err != nil {
		h.t.Fatalf("ID token for %s: %v", clientID, err)
	}
	return idt.Subject
}

// TestPairwiseSubjects: a pairwise application sees one sub, not the
// person ID, in the ID token, userinfo (sub and uid), introspection and
// after refreshes; the applications of its sector (redirect host) see the
// same, another sector another, and a public application the person ID.
func TestPairwiseSubjects(t *testing.T) {
	h := newHarness(t)
	person := h.person("jdupont", h.metropole)
	pairwise := func(a *storage.Application) { a.Settings.SubjectType = "pairwise" }
	h.app("intranet", storage.ClientConfidential, rpCallback, pairwise)
	h.app("intranet-mobile", storage.ClientPublic, rpCallback2, pairwise) // same host: same sector
	const elsewhere = "http://localhost:9/cb"
	h.app("agenda", storage.ClientConfidential, elsewhere, pairwise) // another sector
	h.app("portal", storage.ClientConfidential, rpCallback)          // public subject
	h.app("api", storage.ClientConfidential, rpCallback)             // a resource server of the métropole
	_, provider := h.rp()
	b := h.browser()

	tok := h.signIn(b, "intranet", "jdupont", "openid profile uid offline_access")
	sub := h.idSubject(provider, "intranet", tok.id)
	if sub == person.ID || len(sub) != 43 {
		t.Fatalf("pairwise sub = %q (person %q): want 43 base64url characters, not the person ID", sub, person.ID)
	}
	if ui := h.userinfo(tok.access); ui["sub"] != sub || ui["uid"] != sub {
		t.Errorf("userinfo sub, uid = %v, %v; want the ID token's %q", ui["sub"], ui["uid"], sub)
	}
	for name, token := range map[string]string{"access": tok.access, "refresh": tok.refresh} {
		if got := h.introspect("api", token); got["active"] != true || got["sub"] != sub || got["username"] != nil {
			t.Errorf("introspection of the %s token: %v, want sub %q and no username", name, got, sub)
		}
	}
	next := tok
	for range 2 {
		next = h.mustRefresh("intranet", next.refresh, "")
		if got := h.idSubject(provider, "intranet", next.id); got != sub {
			t.Errorf("refreshed ID token sub = %q, want %q", got, sub)
		}
		if ui := h.userinfo(next.access); ui["sub"] != sub {
			t.Errorf("userinfo after refresh: sub = %v, want %q", ui["sub"], sub)
		}
		if got := h.introspect("api", next.access); got["sub"] != sub {
			t.Errorf("introspection after refresh: sub = %v, want %q", got["sub"], sub)
		}
	}

	mobile := h.signInAt(b, "intranet-mobile", rpCallback2, "jdupont", "openid")
	if got := h.idSubject(provider, "intranet-mobile", mobile.id); got != sub {
		t.Errorf("same sector: sub = %q, want %q", got, sub)
	}
	agenda := h.signInAt(b, "agenda", elsewhere, "jdupont", "openid")
	if got := h.idSubject(provider, "agenda", agenda.id); got == sub || got == person.ID {
		t.Errorf("another sector: sub = %q (intranet %q, person %q)", got, sub, person.ID)
	}
	portal := h.signIn(b, "portal", "jdupont", "openid uid")
	if got := h.idSubject(provider, "portal", portal.id); got != person.ID {
		t.Errorf("public application: sub = %q, want the person ID %q", got, person.ID)
	}
	if got := h.introspect("api", portal.access); got["sub"] != person.ID || got["username"] == nil {
		t.Errorf("public application, introspection: sub = %v", got["sub"])
	}
}

// signedUserinfo fetches userinfo as application/jwt and verifies it with
// go-jose against the published JWKS; it returns the JWS header and
// claims.
func (h *harness) signedUserinfo(access string) (jose.Header, map[string]any) {
	h.t.Helper()
	resp, body := h.userinfoRaw(access)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jwt" {
		h.t.Fatalf("userinfo: %d %s %s, want 200 application/jwt", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	jws, err := jose.ParseSignedCompact(body, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		h.t.Fatalf("userinfo is not a JWS: %v: %s", err, body)
	}
	_, jwksBody := get(h.t, h.srv.Client(), h.issuer+"/jwks")
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(jwksBody), &set); err != nil {
		h.t.Fatal(err)
	}
	hdr := jws.Signatures[0].Header
	ks := set.Key(hdr.KeyID)
	if len(ks) != 1 {
		h.t.Fatalf("kid %q: %d keys in /jwks", hdr.KeyID, len(ks))
	}
	payload, err := jws.Verify(ks[0])
	if err != nil {
		h.t.Fatalf("userinfo signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		h.t.Fatal(err)
	}
	return hdr, claims
}

// TestSignedUserinfo: userinfo_signed_response_alg answers a JWT (OpenID
// Connect Core section 5.3.2) that go-jose verifies against /jwks and
// go-oidc's Provider.UserInfo accepts, carrying iss, aud and iat with the
// userinfo claims, under both signing algorithms. The current key signs
// whatever the application registered.
func TestSignedUserinfo(t *testing.T) {
	h := newHarness(t)
	h.person("jdupont", h.metropole)
	h.app("proconnect", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Settings.UserinfoSignedResponseAlg = "RS256"
		a.Settings.SubjectType = "pairwise"
	})
	h.app("proconnect-es", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Settings.UserinfoSignedResponseAlg = "ES256"
	})
	b := h.browser()

	check := func(clientID, wantAlg string) {
		t.Helper()
		tok := h.signIn(b, clientID, "jdupont", "openid profile email siret")
		ctx, provider := h.rp()
		sub := h.idSubject(provider, clientID, tok.id)

		hdr, claims := h.signedUserinfo(tok.access)
		if hdr.Algorithm != wantAlg || hdr.ExtraHeaders[jose.HeaderType] != "JWT" {
			t.Errorf("%s: header alg %q typ %v, want %s JWT", clientID, hdr.Algorithm, hdr.ExtraHeaders[jose.HeaderType], wantAlg)
		}
		for k, want := range map[string]any{
			"iss": h.issuer, "aud": clientID, "iat": float64(h.clock.now().Unix()), "sub": sub,
			"email": "jdupont@exemple.fr", "siret": h.metropole.SIRET, "name": "Jeanne Dupont",
		} {
			if claims[k] != want {
				t.Errorf("%s: signed userinfo %s = %v, want %v", clientID, k, claims[k], want)
			}
		}

		ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.access, TokenType: "Bearer"}))
		if err != nil {
			t.Fatalf("%s: go-oidc UserInfo: %v", clientID, err)
		}
		var extra struct {
			Iss   string `json:"iss"`
			Aud   string `json:"aud"`
			Siret string `json:"siret"`
		}
		if err := ui.Claims(&extra); err != nil {
			t.Fatal(err)
		}
		if ui.Subject != sub || ui.Email != "jdupont@exemple.fr" || !ui.EmailVerified ||
			extra.Iss != h.issuer || extra.Aud != clientID || extra.Siret != h.metropole.SIRET {
			t.Errorf("%s: go-oidc UserInfo: sub %q, email %q (verified %v), %+v", clientID, ui.Subject, ui.Email, ui.EmailVerified, extra)
		}
	}
	check("proconnect", "RS256")
	check("proconnect-es", "RS256") // asked ES256; the current key is RS256

	// Rotate to an ES256 key, as `tno keys rotate --algorithm ES256` does;
	// the server picks it up within a minute.
	km, err := keys.New(keys.Options{Store: h.store, Now: h.clock.now, Algorithm: keys.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if err := km.Rotate(t.Context(), 0, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	h.clock.advance(2 * time.Minute)
	check("proconnect-es", "ES256")
	check("proconnect", "ES256") // asked RS256; the current key is ES256
}
