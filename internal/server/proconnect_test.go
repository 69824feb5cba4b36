package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// proConnectScope is what ProConnect asks of every identity provider.
const proConnectScope = "openid given_name usual_name email uid siren siret organizational_unit belonging_population phone chorusdt"

// TestProConnectProfile plays ProConnect's requests as its partner
// documentation for identity providers describes them: the fixed scope
// list (chorusdt, unknown here, is ignored, not refused), acr_values
// eidas1 and amr asked as essential, login_hint (an e-mail address)
// pre-filling and accepted as the identifier, sp_name shown, siret_hint
// choosing the membership without the chooser, idp_hint accepted, and
// client_secret_post at the token endpoint. The ID token and userinfo
// carry what ProConnect requires: sub, given_name, usual_name, email, uid,
// siret, acr eidas1, amr.
func TestProConnectProfile(t *testing.T) {
	h := newHarness(t)
	h.app("proconnect", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Name = "ProConnect"
		a.Settings.TokenEndpointAuthMethod = "client_secret_post"
		a.GrantedOrgIDs = []string{h.metropole.ID, h.commune.ID}
	})
	// An agent of both organizations: without a hint, the chooser.
	person := h.person("jeanne.martin", h.metropole, h.commune)
	email := person.Email
	b := h.browser()
	params := url.Values{
		"scope":      {proConnectScope},
		"acr_values": {"eidas1"},
		"claims":     {`{"id_token":{"amr":{"essential":true}}}`},
		"nonce":      {"nonce-pc-0123456789"},
		"login_hint": {email},
		"sp_name":    {"Bases Adresses Locales"},
		"siret_hint": {h.commune.SIRET},
		"idp_hint":   {"tno-territoire"},
		"prompt":     {"login"},
	}
	resp, body := get(t, b, h.authorizeURL("proconnect", rpCallback, params))
	wantLoginPage(t, resp)
	for _, want := range []string{"Se connecter au service « Bases Adresses Locales »", `value="` + email + `"`, "Connexion demandée par ProConnect"} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	resp, _ = h.login(b, body, strings.ToUpper(email), password)
	q := callback(t, resp, rpCallback) // no chooser: siret_hint chose
	if q.Get("code") == "" || q.Get("state") != "st4te" || q.Get("iss") != h.issuer {
		t.Fatalf("callback: %v", q)
	}

	// ProConnect authenticates with client_secret_post.
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {rpCallback},
		"client_id": {"proconnect"}, "client_secret": {h.secrets["proconnect"]},
	}
	tresp, tbody := h.tokenRequest(form, "", "")
	tok := okTokens(t, tresp, tbody)
	if strings.Contains(" "+tok.scope+" ", " chorusdt ") || !strings.Contains(tok.scope, "siret") {
		t.Errorf("granted scope %q", tok.scope)
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(context.Background(), h.srv.Client()), h.issuer)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: "proconnect", Now: h.clock.now}).Verify(oidc.ClientContext(t.Context(), h.srv.Client()), tok.id)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		ACR   string   `json:"acr"`
		AMR   []string `json:"amr"`
		Nonce string   `json:"nonce"`
	}
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.ACR != "eidas1" || !slices.Contains(c.AMR, "pwd") || c.Nonce != "nonce-pc-0123456789" || idt.Subject == "" {
		t.Errorf("ID token acr %q amr %v nonce %q sub %q", c.ACR, c.AMR, c.Nonce, idt.Subject)
	}
	ui := h.userinfo(tok.access)
	for k, want := range map[string]any{
		"sub": idt.Subject, "given_name": "Jeanne", "usual_name": "Dupont", "email": email,
		"siret": h.commune.SIRET, "siren": h.commune.SIREN, "uid": person.ID,
	} {
		if ui[k] != want {
			t.Errorf("userinfo %s = %v, want %v", k, ui[k], want)
		}
	}

	// Without siret_hint (or with one naming no membership) the person
	// chooses; a siret_hint that is not a SIRET is ignored.
	for _, hint := range []string{"", "00000000000000", "not-a-siret"} {
		p2 := url.Values{}
		for k, v := range params {
			p2[k] = v
		}
		p2.Set("siret_hint", hint)
		p2.Del("prompt")
		resp, _ := get(t, b, h.authorizeURL("proconnect", rpCallback, p2))
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/select" {
			t.Errorf("siret_hint %q: %d %s, want the chooser", hint, resp.StatusCode, resp.Request.URL)
		}
	}
}
