package oidc

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestFloodSlowedThenRefused opens pending authorization requests from
// one address (httptest's 192.0.2.1): past slowAfter each new one waits,
// past refuseAfter it is refused with temporarily_unavailable and nothing
// is stored, while another address is served as usual.
func TestFloodSlowedThenRefused(t *testing.T) {
	e := newLogoutEnv(t)
	e.p.flood = floodLimits{slowAfter: 2, refuseAfter: 4, step: 20 * time.Millisecond, maxDelay: 30 * time.Millisecond, refresh: time.Second}
	ctx := t.Context()
	for i := range 4 {
		start := time.Now()
		out := e.authorize(authorizeQuery(), nil)
		if out.path != pathLogin {
			t.Fatalf("request %d: %d to %q, want the login page", i, out.status, out.path)
		}
		// The third and fourth wait (pending 2 then 3); the first two do not
		// (pending 0 and 1). Only the lower bound is checked: a slow machine
		// may take longer, never shorter.
		if took := time.Since(start); i >= 2 && took < 20*time.Millisecond {
			t.Errorf("request %d took %v, want it slowed", i, took)
		}
	}
	out := e.authorize(authorizeQuery(), nil)
	if out.query.Get("error") != "temporarily_unavailable" {
		t.Fatalf("fifth pending request: %v, want temporarily_unavailable", out.query)
	}
	if n, err := e.store.CountPendingAuthRequests(ctx, "192.0.2.1", testNow); err != nil || n != 4 {
		t.Errorf("pending from the address = %d, %v; want 4 (the refused one is not stored)", n, err)
	}
	// Another address is not affected.
	req := authorizeRequest(t, e)
	req.RemoteAddr = "198.51.100.9:4242"
	rec := httptestRecorder(e, req)
	if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, pathLogin+"?") {
		t.Errorf("other address: %d %q, want the login page", rec.Code, loc)
	}
}

// TestAuthorizeBounds: a request storing more than 4 KiB of caller-chosen
// values is refused (nothing stored), and a POST body past 16 KiB too.
func TestAuthorizeBounds(t *testing.T) {
	e := newLogoutEnv(t)
	big := strings.Repeat("s", 2000)
	out := e.authorize(authorizeQuery("state", big, "nonce", big, "login_hint", strings.Repeat("h", 200)), nil)
	if out.query.Get("error") != "invalid_request" || !strings.Contains(out.query.Get("error_description"), "too large") {
		t.Fatalf("oversized request: %v", out.query)
	}
	if n, _ := e.store.CountPendingAuthRequests(t.Context(), "192.0.2.1", testNow); n != 0 {
		t.Errorf("%d requests stored, want none", n)
	}
	// Just under the bound is fine.
	out = e.authorize(authorizeQuery("state", big, "nonce", strings.Repeat("n", 1500)), nil)
	if out.path != pathLogin {
		t.Errorf("request under the bound: %d to %q %v", out.status, out.path, out.query)
	}

	form := authorizeQuery("state", strings.Repeat("x", 17<<10))
	rec := e.do(http.MethodPost, "/authorize", form, nil)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("POST /authorize of 17 KiB: %d, want 400", rec.Code)
	}
}

// TestPendingRequestBoundToBrowser: the login and chooser pages of a
// pending request answer only the browser that started it.
func TestPendingRequestBoundToBrowser(t *testing.T) {
	e := newLogoutEnv(t)
	out := e.authorize(authorizeQuery(), nil)
	id := out.query.Get("request")
	if id == "" {
		t.Fatalf("no pending request: %+v", out)
	}
	for _, tc := range []struct {
		name   string
		cookie *http.Cookie
	}{
		{"no binding cookie", nil},
		{"another browser's cookie", &http.Cookie{Name: e.p.sessions.BrowserCookieName(), Value: strings.Repeat("A", 43)}},
		{"malformed cookie", &http.Cookie{Name: e.p.sessions.BrowserCookieName(), Value: "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{pathLogin, pathSelect} {
				req := httptestRequest(http.MethodGet, path+"?request="+id)
				if tc.cookie != nil {
					req.AddCookie(tc.cookie)
				}
				rec := httptestRecorder(e, req)
				if rec.Code != http.StatusBadRequest || e.web.page != any(messagePage(http.StatusBadRequest, "error.title", "error.other_browser", "")) {
					t.Errorf("%s: %d %+v, want the other-browser page", path, rec.Code, e.web.page)
				}
			}
		})
	}
	// The browser that started it goes on.
	rec := e.do(http.MethodGet, pathLogin, map[string][]string{"request": {id}}, nil)
	if rec.Code != http.StatusOK {
		t.Errorf("same browser: %d %+v", rec.Code, e.web.page)
	}
}

func httptestRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}

func httptestRecorder(e *logoutEnv, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// authorizeRequest is a GET authorization request from e's browser.
func authorizeRequest(t *testing.T, e *logoutEnv) *http.Request {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/authorize?"+authorizeQuery().Encode(), nil)
	req.AddCookie(&http.Cookie{Name: e.p.sessions.BrowserCookieName(), Value: testBrowserCookie})
	return req
}
