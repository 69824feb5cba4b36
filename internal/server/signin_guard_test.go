package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// TestPendingSignInOtherBrowser: a link to someone's pending sign-in,
// opened in another browser, shows a clear page and an audit event, and
// posting the login form from there opens no session; the browser that
// started the request still signs in.
func TestPendingSignInOtherBrowser(t *testing.T) {
	h := newHarness(t)
	h.app("intranet", "confidential", rpCallback)
	h.person("jeanne", h.metropole)
	mine, other := h.browser(), h.browser()

	resp, body := get(t, mine, h.authorizeURL("intranet", rpCallback, nil))
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("authorize led to %s", resp.Request.URL)
	}
	id := requestID(t, body)

	resp, body = get(t, other, h.issuer+"/login?request="+url.QueryEscape(id))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "autre navigateur") {
		t.Fatalf("other browser's login page: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = postForm(t, other, h.issuer+"/login", url.Values{
		"request": {id}, "identifier": {"jeanne"}, "password": {password},
	}, h.issuer)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("other browser's login post: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	u, _ := url.Parse(h.issuer)
	for _, c := range other.Jar.Cookies(u) {
		if c.Name == "tno_session" {
			t.Errorf("the other browser got a session")
		}
	}

	resp, _ = h.login(mine, body0(t, mine, h, id), "jeanne", password)
	if q := callback(t, resp, rpCallback); q.Get("code") == "" || q.Get("state") != "st4te" {
		t.Errorf("the starting browser: %v", q)
	}

	evs, err := h.store.ListAuditEvents(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == audit.SignInOtherBrowser {
			n++
			if e.ClientID != "intranet" {
				t.Errorf("event client = %q", e.ClientID)
			}
		}
	}
	if n != 2 { // the page, then the post
		t.Errorf("%d %s events, want 2", n, audit.SignInOtherBrowser)
	}
}

// body0 loads the login page of request id in browser c.
func body0(t *testing.T, c *http.Client, h *harness, id string) string {
	t.Helper()
	resp, body := get(t, c, h.issuer+"/login?request="+url.QueryEscape(id))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d", resp.StatusCode)
	}
	return body
}

// TestIdleSessionStopsRefresh: once the sign-in session went idle past
// session.idle_timeout, its refresh tokens are refused and introspect as
// inactive, as prompt=none says login_required; an offline_access token
// still refreshes, and a session kept in use still does.
func TestIdleSessionStopsRefresh(t *testing.T) {
	h := newHarness(t)
	h.app("intranet", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Settings.GrantTypes, a.Settings.RefreshTokens = []string{"refresh_token"}, true
	})
	h.person("jeanne", h.metropole)
	h.person("paul", h.metropole)

	idle := h.browser()
	online := h.signIn(idle, "intranet", "jeanne", "openid profile")
	offline := h.signIn(h.browser(), "intranet", "paul", "openid offline_access")
	active := h.browser()
	kept := h.signIn(active, "intranet", "jeanne", "openid")

	// An hour later the active browser comes back (its session is
	// touched); the idle one does not.
	h.clock.advance(time.Hour)
	get(t, active, h.authorizeURL("intranet", rpCallback, url.Values{"prompt": {"none"}}))
	h.clock.advance(time.Hour + time.Minute) // past the 2 h idle timeout of the idle one

	resp, body := get(t, idle, h.authorizeURL("intranet", rpCallback, url.Values{"prompt": {"none"}}))
	if q := callback(t, resp, rpCallback); q.Get("error") != "login_required" {
		t.Fatalf("prompt=none on the idle session: %v %s", q, body)
	}
	resp, body = h.refresh("intranet", online.refresh, nil)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	h.wantInactive("intranet", online.refresh)

	h.mustRefresh("intranet", offline.refresh, "")
	h.mustRefresh("intranet", kept.refresh, "")
}

// TestJanitorDeletesExpiredRequestsAtOnce: pending authorization requests
// go as soon as they expire (not a day later, like codes), and pending
// ones stay.
func TestJanitorDeletesExpiredRequestsAtOnce(t *testing.T) {
	h := newLogoutHarness(t)
	ctx := t.Context()
	now := h.clk.now()
	expired := storage.AuthRequest{ClientID: "intranet", ExpiresAt: now.Add(-time.Second)}
	pending := storage.AuthRequest{ClientID: "intranet", ExpiresAt: now.Add(time.Minute)}
	for _, r := range []*storage.AuthRequest{&expired, &pending} {
		if err := h.store.CreateAuthRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	jctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { h.server.RunJanitor(jctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := h.store.GetAuthRequest(ctx, expired.ID)
		if errors.Is(err, storage.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expired request still there: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := h.store.GetAuthRequest(ctx, pending.ID); err != nil {
		t.Errorf("pending request: %v", err)
	}
}

// TestSwitchAccount: the chooser says who is signed in; « Changer de
// compte » leads to the login page of the same pending sign-in, where
// someone else signs in and goes on; that new sign-in ended the first
// session.
func TestSwitchAccount(t *testing.T) {
	h := newHarness(t)
	h.app("intranet", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.GrantedOrgIDs = []string{h.metropole.ID, h.commune.ID}
	})
	jeanne := h.person("jeanne", h.metropole, h.commune)
	paul := h.person("paul", h.metropole)
	b := h.browser()
	_, body := get(t, b, h.authorizeURL("intranet", rpCallback, nil))
	resp, body := h.login(b, body, "jeanne", password) // two memberships: the chooser
	if resp.Request.URL.Path != "/select" || !strings.Contains(body, "connecté ou connectée en tant que Jeanne Dupont") {
		t.Fatalf("chooser: %s\n%s", resp.Request.URL, body)
	}
	id := requestID(t, body)
	link := regexpValue(t, body, `<a href="(/login\?request=[^"]+)">Changer de compte</a>`)
	resp, body = get(t, b, h.issuer+strings.ReplaceAll(link, "&amp;", "&"))
	if resp.StatusCode != http.StatusOK || requestID(t, body) != id {
		t.Fatalf("after switching: %d %s", resp.StatusCode, resp.Request.URL)
	}
	resp, _ = h.login(b, body, "paul", password)
	q := callback(t, resp, rpCallback)
	code := q.Get("code")
	if code == "" {
		t.Fatalf("callback: %v", q)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}}
	tok := h.okCall("/token", "intranet", form)
	if ui := h.userinfo(tok.access); ui["email"] != paul.Email {
		t.Errorf("signed in as %v, want paul", ui["email"])
	}
	// Jeanne's session ended with Paul's sign-in.
	sessions, err := h.store.ListPersonSessions(context.Background(), jeanne.ID)
	if err != nil || len(sessions) != 1 || sessions[0].RevokedAt == nil {
		t.Errorf("Jeanne's sessions: %+v (%v), want one, ended", sessions, err)
	}
}
