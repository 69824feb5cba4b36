package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/keys"
	"github.com/territoires-ouverts/tno/internal/logout"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
	"github.com/territoires-ouverts/tno/internal/web"
)

const postLogoutURI = "https://rh.ville-exemple.fr/au-revoir"

// fakeEnder records the sessions it is asked to end.
type fakeEnder struct {
	mu     sync.Mutex
	ended  []string
	result logout.Ended
	err    error
}

func (f *fakeEnder) EndSession(_ context.Context, sessionID, reason string) (logout.Ended, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = append(f.ended, sessionID+" "+reason)
	return f.result, f.err
}

type logoutEnv struct {
	t       testing.TB
	p       *Provider
	store   storage.Store
	web     *fakeRenderer
	keys    *keys.Manager
	ender   *fakeEnder
	handler http.Handler
}

// newLogoutEnv returns the test provider signing with real keys, its
// confidential application registering postLogoutURI.
func newLogoutEnv(t testing.TB) *logoutEnv {
	t.Helper()
	ctx := t.Context()
	p, store, rend := newTestProvider(t, testIssuer)
	km, err := keys.New(keys.Options{Store: store, Now: func() time.Time { return testNow }, Algorithm: keys.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := km.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	p.signer = km
	app, err := store.GetApplicationByClientID(ctx, confidentialApp.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	app.PostLogoutRedirectURIs = []string{postLogoutURI, postLogoutURI + "?lang=fr"}
	if err := store.UpdateApplication(ctx, &app); err != nil {
		t.Fatal(err)
	}
	e := &logoutEnv{t: t, p: p, store: store, web: rend, keys: km, ender: &fakeEnder{}}
	p.logout = e.ender
	mux := http.NewServeMux()
	registerAll(p, mux)
	e.handler = web.SecurityHeaders(mux)
	return e
}

// idToken signs claims over defaults of an ID token from this provider.
func (e *logoutEnv) idToken(signer *keys.Manager, typ string, edit func(map[string]any)) string {
	e.t.Helper()
	c := map[string]any{
		"iss": testIssuer, "sub": "person-1", "aud": confidentialApp.ClientID, "azp": confidentialApp.ClientID,
		"iat": testNow.Unix(), "exp": testNow.Add(10 * time.Minute).Unix(), "sid": "sid-1", "nonce": "n",
	}
	if edit != nil {
		edit(c)
	}
	b, _ := json.Marshal(c)
	tok, err := signer.Sign(e.t.Context(), b, typ)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// session creates a session and returns it with its cookie.
func (e *logoutEnv) session() (storage.Session, *http.Cookie) {
	e.t.Helper()
	rec := httptest.NewRecorder()
	s, err := e.p.sessions.Create(e.t.Context(), rec, "person-1", []string{"pwd"}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return s, rec.Result().Cookies()[0]
}

func (e *logoutEnv) do(method, target string, form url.Values, c *http.Cookie) *httptest.ResponseRecorder {
	e.t.Helper()
	var req *http.Request
	if method == http.MethodPost {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target+"?"+form.Encode(), nil)
	}
	if c != nil {
		req.AddCookie(c)
	}
	// One browser: its binding cookie goes with every request, as a
	// browser's would (pending sign-ins are bound to it).
	req.AddCookie(&http.Cookie{Name: e.p.sessions.BrowserCookieName(), Value: testBrowserCookie})
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// testBrowserCookie is the browser-binding cookie of logoutEnv's browser.
const testBrowserCookie = "dGhlLWJyb3dzZXItb2YtdGhlLXRlc3RzLWluLW9pZGM"

func TestVerifyIDTokenHint(t *testing.T) {
	e := newLogoutEnv(t)
	otherKeys, err := keys.New(keys.Options{Store: storagetest.NewStore(t), Algorithm: keys.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otherKeys.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	valid := e.idToken(e.keys, "JWT", nil)
	hmac, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(strings.Repeat("k", 32))}, nil)
	hs, _ := hmac.Sign([]byte(`{"iss":"` + testIssuer + `","sub":"x","aud":"portail-rh"}`))
	hsCompact, _ := hs.CompactSerialize()
	tampered := strings.Split(valid, ".")
	tampered[1] = strings.TrimSuffix(tampered[1], tampered[1][len(tampered[1])-2:]) + "xx"

	want := idTokenHint{ClientID: "portail-rh", Subject: "person-1", SID: "sid-1"}
	for _, tc := range []struct {
		name string
		raw  string
		want *idTokenHint // nil: invalid
	}{
		{"valid", valid, &want},
		{"expired is accepted", e.idToken(e.keys, "JWT", func(c map[string]any) { c["exp"] = testNow.Add(-24 * time.Hour).Unix() }), &want},
		{"no typ", e.idToken(e.keys, "", nil), &want},
		{"several audiences, azp among them", e.idToken(e.keys, "JWT", func(c map[string]any) { c["aud"] = []string{"other", "portail-rh"} }), &want},
		{"several audiences, no azp", e.idToken(e.keys, "JWT", func(c map[string]any) { c["aud"] = []string{"other", "portail-rh"}; delete(c, "azp") }), nil},
		{"no sid", e.idToken(e.keys, "JWT", func(c map[string]any) { delete(c, "sid") }), &idTokenHint{ClientID: "portail-rh", Subject: "person-1"}},
		{"another issuer", e.idToken(e.keys, "JWT", func(c map[string]any) { c["iss"] = "https://evil.example" }), nil},
		{"no sub", e.idToken(e.keys, "JWT", func(c map[string]any) { delete(c, "sub") }), nil},
		{"no aud", e.idToken(e.keys, "JWT", func(c map[string]any) { delete(c, "aud") }), nil},
		{"a logout token (typ)", e.idToken(e.keys, logout.TokenType, nil), nil},
		{"a logout token (events)", e.idToken(e.keys, "JWT", func(c map[string]any) { c["events"] = map[string]any{logout.EventBackchannelLogout: map[string]any{}} }), nil},
		{"an access token JWT", e.idToken(e.keys, "at+jwt", nil), nil},
		{"signed by another key", e.idToken(otherKeys, "JWT", nil), nil},
		{"tampered", strings.Join(tampered, "."), nil},
		{"HS256", hsCompact, nil},
		{"garbage", "not.a.jwt", nil},
		{"too long", valid + strings.Repeat("A", maxHintLength), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.p.verifyIDTokenHint(t.Context(), tc.raw)
			if tc.want == nil {
				if !errors.Is(err, errInvalidHint) {
					t.Errorf("err = %v, want errInvalidHint", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(*tc.want, got); diff != "" {
				t.Errorf("hint (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEndSessionWithoutSession covers request validation: errors are
// pages, never redirects.
func TestEndSessionWithoutSession(t *testing.T) {
	e := newLogoutEnv(t)
	hint := e.idToken(e.keys, "JWT", nil)
	for _, tc := range []struct {
		name       string
		method     string
		form       url.Values
		status     int
		location   string
		messageKey string
	}{
		{"nothing: signed-out page", http.MethodGet, nil, http.StatusOK, "", ""},
		{"client_id and registered URI", http.MethodGet, url.Values{"client_id": {"portail-rh"}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"s t"}}, http.StatusFound, postLogoutURI + "?state=s+t", ""},
		{"registered URI with a query", http.MethodGet, url.Values{"client_id": {"portail-rh"}, "post_logout_redirect_uri": {postLogoutURI + "?lang=fr"}, "state": {"x"}}, http.StatusFound, postLogoutURI + "?lang=fr&state=x", ""},
		{"id_token_hint names the client", http.MethodGet, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {postLogoutURI}}, http.StatusFound, postLogoutURI, ""},
		{"POST from the relying party: the same as a GET", http.MethodPost, url.Values{"post_logout_redirect_uri": {postLogoutURI}, "client_id": {"portail-rh"}, "state": {"s"}, "other": {"x"}},
			http.StatusSeeOther, "/logout?client_id=portail-rh&post_logout_redirect_uri=" + url.QueryEscape(postLogoutURI) + "&state=s", ""},
		{"invalid POST: an error page at once", http.MethodPost, url.Values{"post_logout_redirect_uri": {"https://evil.example/"}, "client_id": {"portail-rh"}}, http.StatusBadRequest, "", "error.invalid_post_logout_redirect_uri"},
		{"unregistered URI", http.MethodGet, url.Values{"client_id": {"portail-rh"}, "post_logout_redirect_uri": {"https://evil.example/"}}, http.StatusBadRequest, "", "error.invalid_post_logout_redirect_uri"},
		{"prefix of a registered URI", http.MethodGet, url.Values{"client_id": {"portail-rh"}, "post_logout_redirect_uri": {postLogoutURI + "/x"}}, http.StatusBadRequest, "", "error.invalid_post_logout_redirect_uri"},
		{"another client's URI", http.MethodGet, url.Values{"client_id": {"mobile"}, "post_logout_redirect_uri": {postLogoutURI}}, http.StatusBadRequest, "", "error.invalid_post_logout_redirect_uri"},
		{"URI without client", http.MethodGet, url.Values{"post_logout_redirect_uri": {postLogoutURI}}, http.StatusBadRequest, "", "error.invalid_logout_request"},
		{"unknown client", http.MethodGet, url.Values{"client_id": {"nope"}, "post_logout_redirect_uri": {postLogoutURI}}, http.StatusBadRequest, "", "error.invalid_client"},
		{"disabled client", http.MethodGet, url.Values{"client_id": {"ancien"}}, http.StatusBadRequest, "", "error.invalid_client"},
		{"client_id disagrees with the hint", http.MethodGet, url.Values{"id_token_hint": {hint}, "client_id": {"mobile"}}, http.StatusBadRequest, "", "error.invalid_logout_request"},
		{"invalid hint", http.MethodGet, url.Values{"id_token_hint": {"x.y.z"}, "post_logout_redirect_uri": {postLogoutURI}}, http.StatusBadRequest, "", "error.invalid_logout_request"},
		{"repeated parameter", http.MethodGet, url.Values{"client_id": {"portail-rh"}, "post_logout_redirect_uri": {postLogoutURI, "https://evil.example/"}}, http.StatusBadRequest, "", "error.bad_request"},
		{"state too long", http.MethodGet, url.Values{"client_id": {"portail-rh"}, "post_logout_redirect_uri": {postLogoutURI}, "state": {strings.Repeat("s", 2049)}}, http.StatusBadRequest, "", "error.bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.web.page = nil
			rec := e.do(tc.method, "/logout", tc.form, nil)
			if rec.Code != tc.status || rec.Header().Get("Location") != tc.location {
				t.Fatalf("= %d %q, want %d %q", rec.Code, rec.Header().Get("Location"), tc.status, tc.location)
			}
			switch page := e.web.page.(type) {
			case web.MessagePage:
				if page.MessageKey != tc.messageKey {
					t.Errorf("message %q, want %q", page.MessageKey, tc.messageKey)
				}
			case web.LoggedOutPage:
				if tc.status != http.StatusOK || page.ContinueURL != "" {
					t.Errorf("page = %+v", page)
				}
			}
		})
	}
}

func TestEndSessionWithSession(t *testing.T) {
	e := newLogoutEnv(t)
	ctx := t.Context()
	valid := func(s storage.Session) bool {
		ok, err := e.p.sessions.Valid(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	redirect := url.Values{"client_id": {"portail-rh"}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"xyz"}, "ui_locales": {"en"}}

	// Without a hint: a confirmation page, nothing ended.
	sess, cookie := e.session()
	rec := e.do(http.MethodGet, "/logout", redirect, cookie)
	want := web.LogoutConfirmPage{
		AppName: "Portail RH", Action: "/logout/confirm", ClientID: "portail-rh",
		PostLogoutRedirectURI: postLogoutURI, State: "xyz", UILocales: "en",
	}
	if diff := cmp.Diff(any(want), e.web.page); rec.Code != http.StatusOK || diff != "" {
		t.Fatalf("status %d, page (-want +got):\n%s", rec.Code, diff)
	}
	// A hint from another session: a confirmation page too.
	other := e.idToken(e.keys, "JWT", nil)
	e.do(http.MethodGet, "/logout", url.Values{"id_token_hint": {other}}, cookie)
	if _, ok := e.web.page.(web.LogoutConfirmPage); !ok || !valid(sess) || len(e.ender.ended) != 0 {
		t.Fatalf("hint of another session: page %T, session valid %v, ended %v", e.web.page, valid(sess), e.ender.ended)
	}

	// The confirmation ends the session and returns to the application.
	rec = e.do(http.MethodPost, "/logout/confirm", redirect, cookie)
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != postLogoutURI+"?state=xyz" {
		t.Fatalf("confirm = %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if valid(sess) || !cmp.Equal(e.ender.ended, []string{sess.ID + " " + logout.ReasonRPInitiated}) {
		t.Errorf("session valid %v, ended %v", valid(sess), e.ender.ended)
	}
	if c := rec.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("cookie not cleared: %v", c)
	}

	// A hint issued in the current session ends it at once.
	sess, cookie = e.session()
	hint := e.idToken(e.keys, "JWT", func(c map[string]any) { c["sid"] = sessionSID(sess.ID) })
	rec = e.do(http.MethodGet, "/logout", url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {postLogoutURI}}, cookie)
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != postLogoutURI || valid(sess) {
		t.Errorf("hint of this session = %d %q, session valid %v", rec.Code, rec.Header().Get("Location"), valid(sess))
	}

	// Applications to notify through the browser: a page with iframes,
	// allowed by the CSP, and a link onwards.
	e.ender.result = logout.Ended{Frontchannel: []logout.Frontchannel{{ClientID: "x", AppName: "Agenda", URL: "https://agenda.example/fc?iss=a&sid=b"}}}
	sess, cookie = e.session()
	rec = e.do(http.MethodPost, "/logout/confirm", redirect, cookie)
	page, ok := e.web.page.(web.LoggedOutPage)
	wantPage := web.LoggedOutPage{
		Frames:      []web.LogoutFrame{{AppName: "Agenda", URL: "https://agenda.example/fc?iss=a&sid=b"}},
		ContinueURL: postLogoutURI + "?state=xyz", ContinueApp: "Portail RH",
	}
	if !ok || rec.Code != http.StatusOK || !cmp.Equal(page, wantPage) || valid(sess) {
		t.Errorf("front-channel: %d %+v", rec.Code, e.web.page)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "; frame-src https://agenda.example") {
		t.Errorf("CSP = %q", csp)
	}

	// A failure to end the session keeps it, and says so.
	e.ender.err = errors.New("database down")
	sess, cookie = e.session()
	rec = e.do(http.MethodPost, "/logout/confirm", url.Values{}, cookie)
	if rec.Code != http.StatusInternalServerError || !valid(sess) || len(rec.Result().Cookies()) != 0 {
		t.Errorf("failure: %d, session valid %v, cookies %v", rec.Code, valid(sess), rec.Result().Cookies())
	}
}

func TestWithUILocales(t *testing.T) {
	for _, tc := range []struct {
		name, target, accept, uiLocales, want string
	}{
		{"ui_locales over the browser", "/logout", "fr-FR,fr;q=0.9", "en-GB fr", web.LangEN},
		{"unsupported ui_locales: the browser", "/logout", "en", "de it", web.LangEN},
		{"none: the default", "/logout", "", "", web.LangFR},
		{"an explicit choice wins", "/logout?lang=fr", "", "en", web.LangFR},
		{"junk is dropped", "/logout", "", "e\"n;q=0,x", web.LangFR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.target, nil)
			if tc.accept != "" {
				r.Header.Set("Accept-Language", tc.accept)
			}
			if got := web.Lang(withUILocales(r, tc.uiLocales)); got != tc.want {
				t.Errorf("Lang = %q, want %q", got, tc.want)
			}
			if tc.accept != "" && r.Header.Get("Accept-Language") != tc.accept {
				t.Error("the original request was modified")
			}
		})
	}
}

// FuzzIDTokenHint: no input panics, and what passes names a client.
func FuzzIDTokenHint(f *testing.F) {
	e := newLogoutEnv(f)
	f.Add(e.idToken(e.keys, "JWT", nil))
	f.Add("eyJhbGciOiJFUzI1NiJ9.e30.")
	f.Add("..")
	f.Fuzz(func(t *testing.T, raw string) {
		h, err := e.p.verifyIDTokenHint(context.Background(), raw)
		if err == nil && (h.ClientID == "" || h.Subject == "") {
			t.Errorf("accepted a hint without client or subject: %+v", h)
		}
	})
}

// FuzzEndSession: whatever the parameters, the browser is redirected
// only to a registered post-logout URI.
func FuzzEndSession(f *testing.F) {
	e := newLogoutEnv(f)
	f.Add("client_id=portail-rh&post_logout_redirect_uri=" + url.QueryEscape(postLogoutURI) + "&state=x")
	f.Add("client_id=portail-rh&post_logout_redirect_uri=https%3A%2F%2Fevil.example")
	f.Add("post_logout_redirect_uri=" + url.QueryEscape(postLogoutURI) + "&id_token_hint=a.b.c")
	f.Fuzz(func(t *testing.T, query string) {
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/logout?"+url.PathEscape(query), nil))
		if loc := rec.Header().Get("Location"); loc != "" && !strings.HasPrefix(loc, postLogoutURI) {
			t.Errorf("redirected to %q", loc)
		}
	})
}
