package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/logout"
	"github.com/territoires-ouverts/tno/internal/server"
	"github.com/territoires-ouverts/tno/internal/storage"
)

const (
	byeURI        = "http://127.0.0.1:9/bye" // post-logout redirect URI, never contacted
	frontchannel  = "http://127.0.0.1:9/frontchannel-logout"
	frontchannelO = "http://127.0.0.1:9" // its origin
)

// logoutHarness is the harness with the Server kept, its clock safe for
// the sender, and a way to restart it on the same store.
type logoutHarness struct {
	*harness
	server *server.Server
	clk    *clock
}

// startServer builds a Server on store and serves it on ln.
func startServer(t *testing.T, store storage.Store, clk *clock, ln net.Listener) (*server.Server, *httptest.Server) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	if ln != nil {
		ts.Listener.Close()
		ts.Listener = ln
	}
	cfg := config.Default()
	cfg.Issuer = "http://" + ts.Listener.Addr().String()
	params := local.TestParams()
	srv, err := server.New(server.Options{
		Config: cfg, Store: store, Now: clk.now, PasswordParams: &params,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Bootstrap(t.Context()); err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return srv, ts
}

func newLogoutHarness(t *testing.T) *logoutHarness {
	t.Helper()
	h := newHarness(t)
	return &logoutHarness{harness: h, server: h.server, clk: h.clock}
}

// deliverDue runs one pass of the back-channel sender.
func (h *logoutHarness) deliverDue() {
	h.t.Helper()
	if _, err := h.server.Logout.DeliverDue(h.t.Context()); err != nil {
		h.t.Fatal(err)
	}
}

// backchannelRP is a relying party's backchannel_logout_uri: it verifies
// each logout token as a third-party RP library does (coreos/go-oidc
// against the issuer's /jwks), plus what go-oidc leaves out (typ), and
// answers with its current status.
type backchannelRP struct {
	srv      *httptest.Server
	mu       sync.Mutex
	status   int
	received chan logoutResult
}

type logoutResult struct {
	token *oidc.LogoutToken
	err   error
}

func newBackchannelRP(t *testing.T, issuer, clientID string, clk *clock, status int) *backchannelRP {
	rp := &backchannelRP{status: status, received: make(chan logoutResult, 16)}
	client := &http.Client{Timeout: 5 * time.Second}
	ctx := oidc.ClientContext(context.Background(), client)
	verifier := oidc.NewVerifier(issuer, oidc.NewRemoteKeySet(ctx, issuer+"/jwks"), &oidc.Config{
		ClientID: clientID, Now: clk.now, SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256},
	})
	rp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := rp.verify(oidc.ClientContext(r.Context(), client), verifier, r)
		rp.mu.Lock()
		status := rp.status
		rp.mu.Unlock()
		if res.err != nil {
			status = http.StatusBadRequest
		}
		rp.received <- res // before answering: a sender's pass returns after this
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
	}))
	t.Cleanup(rp.srv.Close)
	return rp
}

func (rp *backchannelRP) verify(ctx context.Context, v *oidc.IDTokenVerifier, r *http.Request) logoutResult {
	if ct := r.Header.Get("Content-Type"); r.Method != http.MethodPost || ct != "application/x-www-form-urlencoded" {
		return logoutResult{err: errors.New("not a form POST: " + r.Method + " " + ct)}
	}
	raw := r.PostFormValue("logout_token")
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return logoutResult{err: err}
	}
	if typ := jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType]; typ != "logout+jwt" {
		return logoutResult{err: errors.New("typ is not logout+jwt")}
	}
	tok, err := v.VerifyLogout(ctx, raw) // signature, iss, aud, exp, events, no nonce, jti
	return logoutResult{token: tok, err: err}
}

func (rp *backchannelRP) setStatus(s int) {
	rp.mu.Lock()
	rp.status = s
	rp.mu.Unlock()
}

// next returns the next logout token the RP received, verified.
func (rp *backchannelRP) next(t *testing.T) *oidc.LogoutToken {
	t.Helper()
	select {
	case res := <-rp.received:
		if res.err != nil {
			t.Fatalf("back-channel RP refused the logout token: %v", res.err)
		}
		return res.token
	case <-time.After(10 * time.Second):
		t.Fatal("no logout token received")
		return nil
	}
}

// signIn signs the person into clientID and returns the ID token's sid
// and raw value.
func (h *logoutHarness) signIn(b *http.Client, clientID, redirect, username string) (sid, idToken string) {
	h.t.Helper()
	code := h.code(b, clientID, redirect, username, nil)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	if secret := h.secrets[clientID]; secret != "" {
		resp, body := h.tokenRequest(form, clientID, secret)
		if resp.StatusCode != http.StatusOK {
			h.t.Fatalf("token: %d %s", resp.StatusCode, body)
		}
		idToken = jsonField(h.t, body, "id_token")
	}
	if idToken == "" {
		return "", ""
	}
	ctx := oidc.ClientContext(context.Background(), h.srv.Client())
	v := oidc.NewVerifier(h.issuer, oidc.NewRemoteKeySet(ctx, h.issuer+"/jwks"), &oidc.Config{ClientID: clientID, Now: h.clk.now})
	idt, err := v.Verify(ctx, idToken)
	if err != nil {
		h.t.Fatal(err)
	}
	var c struct {
		SID string `json:"sid"`
	}
	if err := idt.Claims(&c); err != nil || c.SID == "" {
		h.t.Fatalf("ID token sid: %q %v", c.SID, err)
	}
	return c.SID, idToken
}

// signedIn reports whether the browser still has a single sign-on
// session: an authorization request comes straight back with a code.
func (h *logoutHarness) signedIn(b *http.Client, clientID, redirect string) bool {
	h.t.Helper()
	resp, _ := get(h.t, b, h.authorizeURL(clientID, redirect, nil))
	switch {
	case resp.StatusCode == http.StatusFound:
		return true
	case resp.Request.URL.Path == "/login":
		return false
	}
	h.t.Fatalf("authorize: %d %s", resp.StatusCode, resp.Request.URL)
	return false
}

// twoApps registers two applications: intranet, notified through the back
// channel if backchannelURI is set, and agenda.
func (h *logoutHarness) twoApps(backchannelURI string) {
	h.app("intranet", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.PostLogoutRedirectURIs = []string{byeURI}
		a.Settings.BackchannelLogoutURI = backchannelURI
	})
	h.app("agenda", storage.ClientConfidential, rpCallback2, func(a *storage.Application) {
		a.PostLogoutRedirectURIs = []string{byeURI}
	})
}

func logoutURL(h *logoutHarness, v url.Values) string { return h.issuer + "/logout?" + v.Encode() }

// TestLogoutBackChannel: RP-initiated logout with id_token_hint and a
// registered post_logout_redirect_uri ends the session at once, returns
// to the application with state, and the back-channel application gets a
// logout token for the ID token's session.
func TestLogoutBackChannel(t *testing.T) {
	h := newLogoutHarness(t)
	person := h.person("jdupont", h.metropole)
	rp := newBackchannelRP(t, h.issuer, "intranet", h.clk, http.StatusOK)
	h.twoApps(rp.srv.URL + "/backchannel")
	b := h.browser()
	sid, idToken := h.signIn(b, "intranet", rpCallback, "jdupont")
	h.signIn(b, "agenda", rpCallback2, "jdupont") // single sign-on: same session

	resp, _ := get(t, b, logoutURL(h, url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {byeURI}, "state": {"st-1"}}))
	q := callback(t, resp, byeURI)
	if q.Get("state") != "st-1" || len(q) != 1 {
		t.Errorf("post-logout redirect query = %v, want state only", q)
	}
	if h.signedIn(b, "agenda", rpCallback2) {
		t.Fatal("still signed in after logout")
	}

	h.deliverDue()
	tok := rp.next(t)
	if tok.SessionID != sid || tok.Subject != person.ID || tok.Issuer != h.issuer || len(tok.Audience) != 1 || tok.Audience[0] != "intranet" {
		t.Errorf("logout token sid %q sub %q iss %q aud %v; want sid %q of the ID token", tok.SessionID, tok.Subject, tok.Issuer, tok.Audience, sid)
	}
	ds, err := h.store.ListLogoutDeliveries(t.Context(), "intranet")
	if err != nil || len(ds) != 1 || ds[0].DeliveredAt == nil {
		t.Fatalf("deliveries = %+v, %v", ds, err)
	}
	if ds, _ := h.store.ListLogoutDeliveries(t.Context(), "agenda"); len(ds) != 0 {
		t.Errorf("agenda has no back-channel URI but got %d deliveries", len(ds))
	}
	// Signing out again (another tab): nothing to end, nobody notified again.
	resp, _ = get(t, b, logoutURL(h, url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {byeURI}}))
	callback(t, resp, byeURI)
	if ds, _ := h.store.ListLogoutDeliveries(t.Context(), "intranet"); len(ds) != 1 {
		t.Errorf("%d deliveries after a second logout, want 1", len(ds))
	}
}

// TestLogoutUnregisteredRedirect: an unregistered post_logout_redirect_uri
// is an error page; nobody is redirected and the session stays.
func TestLogoutUnregisteredRedirect(t *testing.T) {
	h := newLogoutHarness(t)
	h.person("jdupont", h.metropole)
	h.twoApps("")
	b := h.browser()
	_, idToken := h.signIn(b, "intranet", rpCallback, "jdupont")
	for name, v := range map[string]url.Values{
		"with hint":      {"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.example/"}, "state": {"s"}},
		"with client_id": {"client_id": {"intranet"}, "post_logout_redirect_uri": {byeURI + "/other"}},
		"no client":      {"post_logout_redirect_uri": {byeURI}},
	} {
		resp, body := get(t, b, logoutURL(h, v))
		if resp.StatusCode != http.StatusBadRequest || resp.Request.URL.Path != "/logout" || !strings.Contains(body, "Une erreur est survenue") {
			t.Errorf("%s: %d at %s", name, resp.StatusCode, resp.Request.URL)
		}
	}
	if !h.signedIn(b, "intranet", rpCallback) {
		t.Error("a refused logout request ended the session")
	}
}

// TestLogoutConfirmation: without id_token_hint the person confirms on a
// page whose form only a same-origin post can submit.
func TestLogoutConfirmation(t *testing.T) {
	h := newLogoutHarness(t)
	h.person("jdupont", h.metropole)
	rp := newBackchannelRP(t, h.issuer, "intranet", h.clk, http.StatusOK)
	h.twoApps(rp.srv.URL)
	b := h.browser()
	h.signIn(b, "intranet", rpCallback, "jdupont")

	params := url.Values{"client_id": {"intranet"}, "post_logout_redirect_uri": {byeURI}, "state": {"st"}}
	resp, body := get(t, b, logoutURL(h, params))
	for _, want := range []string{`action="/logout/confirm"`, `name="post_logout_redirect_uri" value="` + byeURI + `"`, "Se déconnecter"} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("confirmation page (%d) lacks %s", resp.StatusCode, want)
		}
	}
	// Another site posting the confirmation is refused…
	crossSite := func(path string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, h.issuer+path, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	if resp, _ := crossSite("/logout/confirm"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site confirmation: %d, want 403", resp.StatusCode)
	}
	// …and a relying party's cross-site POST to the endpoint, lawful,
	// becomes the same GET (which carries the SameSite=Lax cookie) and
	// only gets the confirmation page.
	if resp, body := crossSite("/logout"); resp.StatusCode != http.StatusOK || resp.Request.Method != http.MethodGet || !strings.Contains(body, `action="/logout/confirm"`) {
		t.Errorf("cross-site end_session POST: %d", resp.StatusCode)
	}
	if !h.signedIn(b, "intranet", rpCallback) {
		t.Fatal("signed out without confirmation")
	}

	resp, _ = postForm(t, b, h.issuer+"/logout/confirm", params, h.issuer)
	if q := callback(t, resp, byeURI); q.Get("state") != "st" {
		t.Errorf("state = %q", q.Get("state"))
	}
	if h.signedIn(b, "intranet", rpCallback) {
		t.Error("still signed in after confirming")
	}
	h.deliverDue()
	rp.next(t)
}

// TestLogoutFrontChannel: an application with a frontchannel_logout_uri is
// loaded in an iframe (with iss and sid) that the page's CSP allows, and
// the person continues to the post-logout URI by a link.
func TestLogoutFrontChannel(t *testing.T) {
	h := newLogoutHarness(t)
	h.person("jdupont", h.metropole)
	h.twoApps("")
	a, err := h.store.GetApplicationByClientID(t.Context(), "agenda")
	if err != nil {
		t.Fatal(err)
	}
	a.Settings.FrontchannelLogoutURI, a.Settings.FrontchannelLogoutSessionRequired = frontchannel, true
	if err := h.store.UpdateApplication(t.Context(), &a); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	sid, idToken := h.signIn(b, "intranet", rpCallback, "jdupont")
	h.signIn(b, "agenda", rpCallback2, "jdupont")
	resp, body := get(t, b, logoutURL(h, url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {byeURI}, "state": {"s1"}}))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want the logged-out page", resp.StatusCode)
	}
	iframe := `<iframe src="` + frontchannel + `?iss=` + url.QueryEscape(h.issuer) + `&amp;sid=` + sid + `"`
	link := `href="` + byeURI + `?state=s1"`
	for _, want := range []string{iframe, link, "Continuer vers Appli intranet"} {
		if !strings.Contains(body, want) {
			t.Errorf("logged-out page lacks %s:\n%s", want, body)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "; frame-src "+frontchannelO) {
		t.Errorf("CSP = %q, want frame-src %s", csp, frontchannelO)
	}
	if h.signedIn(b, "agenda", rpCallback2) {
		t.Error("still signed in")
	}
	resp, _ = get(t, b, h.authorizeURL("agenda", rpCallback2, nil)) // the login page
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "frame-src") {
		t.Errorf("another page allows frames: %q", csp)
	}
}

// TestLogoutBackChannelRetry: an application down when the session ends
// gets the logout token once it is up again, at the next retry.
func TestLogoutBackChannelRetry(t *testing.T) {
	h := newLogoutHarness(t)
	h.person("jdupont", h.metropole)
	rp := newBackchannelRP(t, h.issuer, "intranet", h.clk, http.StatusInternalServerError)
	h.twoApps(rp.srv.URL)
	b := h.browser()
	sid, idToken := h.signIn(b, "intranet", rpCallback, "jdupont")
	get(t, b, logoutURL(h, url.Values{"id_token_hint": {idToken}}))

	h.deliverDue()
	rp.next(t) // answered 500
	ds, _ := h.store.ListLogoutDeliveries(t.Context(), "intranet")
	if len(ds) != 1 || ds[0].DeliveredAt != nil || ds[0].Attempts != 1 || ds[0].LastError != "HTTP 500" {
		t.Fatalf("after a 500: %+v", ds)
	}
	rp.setStatus(http.StatusOK)
	h.deliverDue() // not due yet
	select {
	case <-rp.received:
		t.Fatal("retried before the back-off delay")
	default:
	}
	h.clk.advance(10 * time.Second)
	h.deliverDue()
	if tok := rp.next(t); tok.SessionID != sid {
		t.Errorf("sid %q, want %q", tok.SessionID, sid)
	}
	ds, _ = h.store.ListLogoutDeliveries(t.Context(), "intranet")
	if ds[0].DeliveredAt == nil || ds[0].Attempts != 2 {
		t.Errorf("after the retry: %+v", ds[0])
	}
}

// TestLogoutWorkerWakes: with the server's background jobs running, the
// logout token goes out as soon as the session ends.
func TestLogoutWorkerWakes(t *testing.T) {
	h := newLogoutHarness(t)
	h.person("jdupont", h.metropole)
	rp := newBackchannelRP(t, h.issuer, "intranet", h.clk, http.StatusOK)
	h.twoApps(rp.srv.URL)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { h.server.RunJanitor(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	b := h.browser()
	sid, idToken := h.signIn(b, "intranet", rpCallback, "jdupont")
	get(t, b, logoutURL(h, url.Values{"id_token_hint": {idToken}}))
	if tok := rp.next(t); tok.SessionID != sid {
		t.Errorf("sid %q, want %q", tok.SessionID, sid)
	}
}

// TestLogoutSurvivesRestart: a delivery queued by one server is sent by
// the next one started on the same database.
func TestLogoutSurvivesRestart(t *testing.T) {
	h := newLogoutHarness(t)
	h.person("jdupont", h.metropole)
	rp := newBackchannelRP(t, h.issuer, "intranet", h.clk, http.StatusOK)
	h.twoApps(rp.srv.URL)
	b := h.browser()
	sid, idToken := h.signIn(b, "intranet", rpCallback, "jdupont")
	get(t, b, logoutURL(h, url.Values{"id_token_hint": {idToken}})) // queued; nothing sends
	addr := h.srv.Listener.Addr().String()
	h.srv.Close() // the first server stops before sending

	ln, err := net.Listen("tcp", addr) // same issuer URL
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	next, _ := startServer(t, h.store, h.clk, ln)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { next.RunJanitor(ctx); close(done) }()
	if tok := rp.next(t); tok.SessionID != sid {
		t.Errorf("sid %q, want %q", tok.SessionID, sid)
	}
	cancel()
	<-done // the sender has recorded the delivery
	if ds, _ := h.store.ListLogoutDeliveries(t.Context(), "intranet"); len(ds) != 1 || ds[0].DeliveredAt == nil {
		t.Errorf("deliveries = %+v", ds)
	}
}

// TestEndPersonSessions: deactivating a person ends every session of
// theirs, in every browser, and notifies the applications.
func TestEndPersonSessions(t *testing.T) {
	h := newLogoutHarness(t)
	person := h.person("jdupont", h.metropole)
	h.person("autre", h.metropole)
	rp := newBackchannelRP(t, h.issuer, "intranet", h.clk, http.StatusOK)
	h.twoApps(rp.srv.URL)
	b1, b2, other := h.browser(), h.browser(), h.browser()
	sid1, _ := h.signIn(b1, "intranet", rpCallback, "jdupont")
	sid2, _ := h.signIn(b2, "intranet", rpCallback, "jdupont")
	h.signIn(other, "intranet", rpCallback, "autre")

	n, err := h.server.Logout.EndPersonSessions(t.Context(), person.ID, logout.ReasonPersonDisabled)
	if err != nil || n != 2 {
		t.Fatalf("EndPersonSessions = %d, %v; want 2", n, err)
	}
	if h.signedIn(b1, "intranet", rpCallback) || h.signedIn(b2, "intranet", rpCallback) {
		t.Error("a session of the person survived")
	}
	if !h.signedIn(other, "intranet", rpCallback) {
		t.Error("another person's session ended")
	}
	h.deliverDue()
	got := map[string]bool{rp.next(t).SessionID: true, rp.next(t).SessionID: true}
	if !got[sid1] || !got[sid2] {
		t.Errorf("logout tokens for %v, want %s and %s", got, sid1, sid2)
	}
}

// TestNewSignInNotifies: signing in again in the same browser (here as
// someone else, after prompt=login) replaces the session; the
// applications the previous one signed into are told it ended.
func TestNewSignInNotifies(t *testing.T) {
	h := newLogoutHarness(t)
	h.person("jdupont", h.metropole)
	h.person("autre", h.metropole)
	rp := newBackchannelRP(t, h.issuer, "intranet", h.clk, http.StatusOK)
	h.twoApps(rp.srv.URL)
	b := h.browser()
	sid, _ := h.signIn(b, "intranet", rpCallback, "jdupont")
	h.clk.advance(time.Second) // prompt=login asks for a sign-in later than the session's
	h.code(b, "agenda", rpCallback2, "autre", url.Values{"prompt": {"login"}})
	h.deliverDue()
	if tok := rp.next(t); tok.SessionID != sid {
		t.Errorf("logout token for sid %q, want the replaced session's %q", tok.SessionID, sid)
	}
}

// TestLogoutPairwiseSubject: the logout token of an application with
// pairwise subjects carries the same sub as its ID tokens.
func TestLogoutPairwiseSubject(t *testing.T) {
	h := newLogoutHarness(t)
	person := h.person("jdupont", h.metropole)
	rp := newBackchannelRP(t, h.issuer, "intranet", h.clk, http.StatusOK)
	h.app("intranet", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Settings.SubjectType = apps.SubjectPairwise
		a.Settings.BackchannelLogoutURI = rp.srv.URL
	})
	b := h.browser()
	_, idToken := h.signIn(b, "intranet", rpCallback, "jdupont")
	ctx := oidc.ClientContext(context.Background(), h.srv.Client())
	v := oidc.NewVerifier(h.issuer, oidc.NewRemoteKeySet(ctx, h.issuer+"/jwks"), &oidc.Config{ClientID: "intranet", Now: h.clk.now})
	idt, err := v.Verify(ctx, idToken)
	if err != nil {
		t.Fatal(err)
	}
	if idt.Subject == person.ID {
		t.Fatal("the ID token's sub is not pairwise")
	}
	get(t, b, logoutURL(h, url.Values{"id_token_hint": {idToken}}))
	h.deliverDue()
	if tok := rp.next(t); tok.Subject != idt.Subject {
		t.Errorf("logout token sub %q, want the ID token's %q", tok.Subject, idt.Subject)
	}
}
