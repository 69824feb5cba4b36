package oidc

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// newConsentEnv is newPromptEnv whose confidential application is not
// first-party: it asks for consent.
func newConsentEnv(t *testing.T) (*logoutEnv, storage.Application) {
	e := newPromptEnv(t)
	app, err := e.store.GetApplicationByClientID(t.Context(), confidentialApp.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	app.FirstParty = false
	if err := e.store.UpdateApplication(t.Context(), &app); err != nil {
		t.Fatal(err)
	}
	return e, app
}

func TestConsentFlow(t *testing.T) {
	e, app := newConsentEnv(t)
	ctx := t.Context()
	person, cookie := e.signedIn("marie.dupont", 1)
	callbackURL := confidentialApp.RedirectURIs[0]

	// prompt=none without consent: consent_required.
	out := e.authorize(authorizeQuery("prompt", "none"), cookie)
	if out.query.Get("error") != "consent_required" {
		t.Fatalf("prompt=none: %v", out.query)
	}
	// The consent screen, after the membership is chosen.
	out = e.authorize(authorizeQuery("scope", "openid profile"), cookie)
	if out.path != pathConsent {
		t.Fatalf("%d to %q, want the consent screen", out.status, out.path)
	}
	e.do(http.MethodGet, pathConsent, out.query, cookie)
	want := web.ConsentPage{
		AppName: app.Name, OrgName: "Ville d'Exemple", Scopes: []string{"openid", "profile"},
		Action: pathConsent, RequestID: out.query.Get("request"), MembershipID: out.query.Get("membership"),
		Who: &web.SignedIn{Name: "Marie Dupont", SwitchURL: pathLogin + "?request=" + out.query.Get("request")},
	}
	if diff := cmp.Diff(any(want), e.web.page); diff != "" {
		t.Fatalf("consent page (-want +got):\n%s", diff)
	}

	post := func(q url.Values, decision string) (int, url.Values) {
		t.Helper()
		form := url.Values{"request": q["request"], "membership": q["membership"]}
		if decision != "" {
			form.Set("decision", decision)
		}
		rec := e.do(http.MethodPost, pathConsent, form, cookie)
		loc, _ := url.Parse(rec.Header().Get("Location"))
		return rec.Code, loc.Query()
	}
	// Bad posts: an error page, the request stays.
	if code, _ := post(out.query, ""); code != http.StatusBadRequest {
		t.Errorf("no decision: %d", code)
	}
	if code, _ := post(url.Values{"request": out.query["request"], "membership": {"other"}}, "allow"); code != http.StatusBadRequest {
		t.Errorf("another membership: %d", code)
	}
	// Allow: the code, and the consent recorded.
	code, q := post(out.query, "allow")
	if code != http.StatusFound || q.Get("code") == "" {
		t.Fatalf("allow: %d %v", code, q)
	}
	c, err := e.store.GetConsent(ctx, person.ID, app.ClientID)
	if err != nil || !slices.Equal(c.Scopes, []string{"openid", "profile"}) {
		t.Fatalf("consent %+v, %v", c, err)
	}
	// The request is spent: posting again is an expired request.
	if code, _ := post(out.query, "allow"); code != http.StatusBadRequest {
		t.Errorf("second post: %d", code)
	}

	// Covered: no screen. A new scope: the screen, and the union kept.
	if out = e.authorize(authorizeQuery("scope", "openid", "prompt", "none"), cookie); out.path != callbackURL || out.query.Get("code") == "" {
		t.Errorf("covered: %d %q %v", out.status, out.path, out.query)
	}
	out = e.authorize(authorizeQuery("scope", "openid email"), cookie)
	if out.path != pathConsent {
		t.Fatalf("new scope: %d to %q", out.status, out.path)
	}
	if code, q := post(out.query, "allow"); code != http.StatusFound || q.Get("code") == "" {
		t.Fatalf("allow: %d %v", code, q)
	}
	if c, _ = e.store.GetConsent(ctx, person.ID, app.ClientID); !slices.Equal(c.Scopes, []string{"openid", "profile", "email"}) {
		t.Errorf("scopes after the second consent: %v", c.Scopes)
	}

	// prompt=consent asks again; deny sends access_denied and keeps the
	// consent as it was.
	out = e.authorize(authorizeQuery("prompt", "consent", "response_mode", "form_post"), cookie)
	if out.path != pathConsent {
		t.Fatalf("prompt=consent: %d to %q", out.status, out.path)
	}
	form := url.Values{"request": out.query["request"], "membership": out.query["membership"], "decision": {"deny"}}
	e.do(http.MethodPost, pathConsent, form, cookie)
	page, ok := e.web.page.(web.FormPostPage)
	if !ok || !slices.Contains(page.Fields, web.FormField{Name: "error", Value: "access_denied"}) {
		t.Fatalf("deny, form_post: %+v", e.web.page)
	}
	if c2, _ := e.store.GetConsent(ctx, person.ID, app.ClientID); !cmp.Equal(c, c2) {
		t.Errorf("consent changed by a refusal: %+v, then %+v", c, c2)
	}
}

// Every scope TNO knows is told in plain words, in both languages.
func TestScopeMessages(t *testing.T) {
	for _, s := range apps.Scopes() {
		for _, lang := range []string{web.LangFR, web.LangEN} {
			if key := "scope." + s; web.T(lang, key) == key {
				t.Errorf("no %s message %s", lang, key)
			}
		}
	}
}

func TestAccountConsents(t *testing.T) {
	e, app := newConsentEnv(t)
	ctx := t.Context()
	person, cookie := e.signedIn("marie.dupont", 1)

	// Without a session: a sign-in to TNO itself, which comes back here.
	rec := e.do(http.MethodGet, pathAccountConsents, nil, nil)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, pathLogin+"?request=") {
		t.Fatalf("no session: %d %q", rec.Code, loc)
	}
	// /account leads there.
	if rec = e.do(http.MethodGet, pathAccount, nil, cookie); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != pathAccountConsents {
		t.Errorf("/account: %d %q", rec.Code, rec.Header().Get("Location"))
	}

	// No consent yet.
	e.do(http.MethodGet, pathAccountConsents, nil, cookie)
	if page, ok := e.web.page.(web.AccountConsentsPage); !ok || len(page.Consents) != 0 || page.PersonName != "Marie Dupont" {
		t.Fatalf("empty list: %+v", e.web.page)
	}
	if err := e.store.SaveConsent(ctx, &storage.Consent{PersonID: person.ID, ClientID: app.ClientID, Scopes: []string{"openid", "email"}}); err != nil {
		t.Fatal(err)
	}
	tokens := []storage.Token{
		{Hash: "a", Kind: storage.TokenAccess, ClientID: app.ClientID, PersonID: person.ID, Scope: "openid"},
		{Hash: "r", Kind: storage.TokenRefresh, ClientID: app.ClientID, PersonID: person.ID, Scope: "openid offline_access", FamilyID: "f"},
		{Hash: "o", Kind: storage.TokenAccess, ClientID: publicApp.ClientID, PersonID: person.ID, Scope: "openid"},
	}
	for i := range tokens {
		tokens[i].ExpiresAt = testNow.Add(time.Hour)
		if err := e.store.CreateToken(ctx, &tokens[i]); err != nil {
			t.Fatal(err)
		}
	}
	e.do(http.MethodGet, pathAccountConsents, nil, cookie)
	page, ok := e.web.page.(web.AccountConsentsPage)
	if !ok || len(page.Consents) != 1 || page.Revoked != "" {
		t.Fatalf("list: %+v", e.web.page)
	}
	item := page.Consents[0]
	if item.ClientID != app.ClientID || item.AppName != app.Name || item.OrgName != "Ville d'Exemple" || !slices.Equal(item.Scopes, []string{"openid", "email"}) || item.Date.IsZero() {
		t.Errorf("item = %+v", item)
	}
	if page.RevokeAction != pathAccountRevoke || page.LogoutURL != pathLogout {
		t.Errorf("actions %q, %q", page.RevokeAction, page.LogoutURL)
	}

	// Withdraw: the consent goes, and this application's tokens with it.
	rec = e.do(http.MethodPost, pathAccountRevoke, url.Values{"client_id": {app.ClientID}}, cookie)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != pathAccountConsents+"?revoked="+app.ClientID {
		t.Fatalf("revoke: %d %q", rec.Code, loc)
	}
	if _, err := e.store.GetConsent(ctx, person.ID, app.ClientID); err == nil {
		t.Error("consent still there")
	}
	for _, tok := range tokens {
		got, err := e.store.GetToken(ctx, tok.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if revoked := got.RevokedAt != nil; revoked != (tok.ClientID == app.ClientID) {
			t.Errorf("token %s of %s: revoked %v", tok.Hash, tok.ClientID, revoked)
		}
	}
	e.do(http.MethodGet, pathAccountConsents, url.Values{"revoked": {app.ClientID}}, cookie)
	if page, ok := e.web.page.(web.AccountConsentsPage); !ok || page.Revoked != app.Name || len(page.Consents) != 0 {
		t.Errorf("after withdrawal: %+v", e.web.page)
	}
	// Withdrawing again is harmless; a notice needs the consent gone.
	if rec = e.do(http.MethodPost, pathAccountRevoke, url.Values{"client_id": {app.ClientID}}, cookie); rec.Code != http.StatusSeeOther {
		t.Errorf("second withdrawal: %d", rec.Code)
	}
	if rec = e.do(http.MethodPost, pathAccountRevoke, url.Values{}, cookie); rec.Code != http.StatusBadRequest {
		t.Errorf("no client_id: %d", rec.Code)
	}
	// Without a session, withdrawing leads to the sign-in and does nothing.
	rec = e.do(http.MethodPost, pathAccountRevoke, url.Values{"client_id": {publicApp.ClientID}}, nil)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, pathLogin+"?request=") {
		t.Errorf("no session: %d %q", rec.Code, loc)
	}
	if got, _ := e.store.GetToken(ctx, "o"); got.RevokedAt != nil {
		t.Error("a withdrawal without session revoked a token")
	}
}
