package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/pquerna/otp/totp"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/sqlite"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines to write
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveProc is one `tno serve` running in process.
type serveProc struct {
	t              *testing.T
	issuer         string
	cancel         context.CancelFunc
	done           chan int // receives run's exit code once
	code           int
	exited         bool
	stdout, stderr *syncBuffer
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// startServe runs `tno serve` on dir and addr and waits until discovery
// answers. The server is stopped at the end of the test if still running.
func startServe(t *testing.T, dir, addr string) *serveProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &serveProc{
		t: t, issuer: "http://" + addr, cancel: cancel, done: make(chan int, 1),
		stdout: &syncBuffer{}, stderr: &syncBuffer{},
	}
	env := &cliEnv{stdin: strings.NewReader(""), stdout: p.stdout, stderr: p.stderr, environ: testEnviron}
	go func() {
		p.done <- run(ctx, []string{"serve", "--data-dir", dir, "--listen", addr, "--issuer", p.issuer}, env)
	}()
	t.Cleanup(func() {
		if !p.exited {
			p.cancel()
			select {
			case <-p.done:
			case <-time.After(20 * time.Second):
				t.Errorf("tno serve did not stop")
			}
		}
	})
	p.waitReady()
	return p
}

// waitReady polls discovery until it answers 200 (a readiness wait, not a
// timing assertion), failing early if serve exits.
func (p *serveProc) waitReady() {
	p.t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	var lastErr string
	for time.Now().Before(deadline) {
		select {
		case code := <-p.done:
			p.exited, p.code = true, code
			p.t.Fatalf("tno serve exited with %d before answering\nstdout:\n%s\nstderr:\n%s", code, p.stdout, p.stderr)
		default:
		}
		resp, err := client.Get(p.issuer + "/.well-known/openid-configuration")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			lastErr = resp.Status
		} else {
			lastErr = err.Error()
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("discovery did not answer 200 within 10s (last: %s)\nstdout:\n%s\nstderr:\n%s", lastErr, p.stdout, p.stderr)
}

// stop cancels serve's context and returns run's exit code.
func (p *serveProc) stop() int {
	p.t.Helper()
	if p.exited {
		return p.code
	}
	p.cancel()
	select {
	case p.code = <-p.done:
		p.exited = true
	case <-time.After(20 * time.Second):
		p.t.Fatalf("tno serve did not stop within 20s\nstderr:\n%s", p.stderr)
	}
	return p.code
}

// getJSON GETs u and decodes a 200 JSON answer into v.
func getJSON(t *testing.T, c *http.Client, u string, v any) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", u, err, body)
	}
}

// checkDiscovery checks the discovery document against issuer and returns
// the kids of the JWKS.
func checkDiscovery(t *testing.T, c *http.Client, issuer string) []string {
	t.Helper()
	var doc map[string]any
	getJSON(t, c, issuer+"/.well-known/openid-configuration", &doc)
	if doc["issuer"] != issuer {
		t.Errorf("discovery issuer = %v, want %s", doc["issuer"], issuer)
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"} {
		s, _ := doc[k].(string)
		if !strings.HasPrefix(s, issuer+"/") {
			t.Errorf("discovery %s = %q, not under %s", k, s, issuer)
		}
	}
	jwksURI, _ := doc["jwks_uri"].(string)
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	getJSON(t, c, jwksURI, &jwks)
	var kids []string
	for _, k := range jwks.Keys {
		kids = append(kids, k.Kid)
	}
	if len(kids) == 0 || slices.Contains(kids, "") {
		t.Errorf("JWKS kids = %q, want at least one non-empty kid", kids)
	}
	slices.Sort(kids)
	return kids
}

var (
	adminIdentifierRE = regexp.MustCompile(`(?m)^\s*identifier: (\S+)$`)
	adminPasswordRE   = regexp.MustCompile(`(?m)^\s*password:\s+(\S+)$`)
	requestInputRE    = regexp.MustCompile(`name="request" value="([^"]+)"`)
	clientSecretRE    = regexp.MustCompile(`client_secret: (\S+)`)
)

// browser is a cookie-keeping client that follows redirects within the
// issuer and stops at any other URL (the relying party's callback).
func browser(issuer string) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if !strings.HasPrefix(req.URL.String(), issuer+"/") {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

func fetch(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// startLogin GETs an authorization URL and returns the login page's
// pending request ID.
func startLogin(t *testing.T, c *http.Client, authURL string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, authURL, nil)
	resp, body := fetch(t, c, req)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" {
		t.Fatalf("authorize: got %d at %s, want the login page\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	m := requestInputRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("login page has no hidden request input:\n%s", body)
	}
	return m[1]
}

// submitLogin posts the login form as a same-origin browser would.
func submitLogin(t *testing.T, c *http.Client, issuer, requestID, identifier, password string) (*http.Response, string) {
	t.Helper()
	form := url.Values{"request": {requestID}, "identifier": {identifier}, "password": {password}}
	req, _ := http.NewRequest(http.MethodPost, issuer+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", issuer)
	return fetch(t, c, req)
}

// dbFiles returns the contents of the SQLite database and its WAL and
// shared-memory files, whichever exist.
func dbFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, name := range []string{"tno.db", "tno.db-wal", "tno.db-shm", "tno.db-journal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			out[name] = b
		} else if !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if _, ok := out["tno.db"]; !ok {
		t.Fatalf("no tno.db in %s", dir)
	}
	return out
}

// assertNotInFiles fails if any secret appears in the database files.
func assertNotInFiles(t *testing.T, dir string, secrets map[string]string) {
	t.Helper()
	for name, b := range dbFiles(t, dir) {
		for what, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s is stored in clear in %s", what, name)
			}
		}
	}
}

// TestServeEndToEnd runs `tno serve` as a new user would: first start on
// an empty data directory, administration with the CLI while it runs, a
// sign-in with third-party OpenID Connect libraries, then a restart.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	issuer := "http://" + addr
	srv := startServe(t, dir, addr)
	httpc := &http.Client{Timeout: 10 * time.Second}
	defer httpc.CloseIdleConnections()

	// Discovery and keys.
	kids := checkDiscovery(t, httpc, issuer)

	// The first administrator's credentials are printed once.
	out := srv.stdout.String()
	idm, pwm := adminIdentifierRE.FindStringSubmatch(out), adminPasswordRE.FindStringSubmatch(out)
	if idm == nil || pwm == nil {
		t.Fatalf("serve did not print the first administrator's credentials:\n%s", out)
	}
	adminID, adminPW := idm[1], pwm[1]
	if adminID != "admin" || len(adminPW) < 12 {
		t.Errorf("administrator %q with password %q", adminID, adminPW)
	}
	for _, want := range []string{"listening on http://" + addr, "Issuer: " + issuer, issuer + "/.well-known/openid-configuration"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve's output lacks %q:\n%s", want, out)
		}
	}

	// Administration with the CLI while the server runs (SQLite in WAL
	// mode lets both write).
	c := &cli{t: t, dir: dir}
	c.ok("org", "create", "--slug", "metropole", "--name", "Métropole Exemple", "--siren", "200046977")
	const personPW = "un mot de passe assez long"
	if r := c.runIn(personPW+"\n", "person", "create", "--username", "jdupont", "--given-name", "Jeanne",
		"--family-name", "Dupont", "--email", "jeanne.dupont@exemple.fr", "--email-verified", "--password-stdin"); r.code != 0 {
		t.Fatalf("person create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	c.ok("membership", "create", "--person", "jdupont", "--org", "metropole", "--kind", "agent",
		"--service", "Direction du numérique", "--title", "Chargée de mission")
	const redirect = "http://127.0.0.1:9/cb" // never contacted: the browser stops at it
	out = c.ok("app", "create", "--org", "metropole", "--client-id", "intranet", "--name", "Intranet",
		"--type", "confidential", "--redirect-uri", redirect, "--first-party") // no consent screen
	sm := clientSecretRE.FindStringSubmatch(out)
	if sm == nil {
		t.Fatalf("app create did not print a client secret:\n%s", out)
	}
	clientSecret := sm[1]

	// Sign-in with golang.org/x/oauth2 and coreos/go-oidc.
	ctx := oidc.ClientContext(context.Background(), httpc)
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("oidc discovery: %v", err)
	}
	rp := oauth2.Config{
		ClientID: "intranet", ClientSecret: clientSecret, RedirectURL: redirect,
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
	}
	const nonce = "n-0S6_WzA2Mj"
	verifier := oauth2.GenerateVerifier()
	b := browser(issuer)
	defer b.CloseIdleConnections()
	reqID := startLogin(t, b, rp.AuthCodeURL("state-1", oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	if resp, body := submitLogin(t, b, issuer, reqID, "jdupont", "not the password"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want 401\n%s", resp.StatusCode, body)
	}
	resp, body := submitLogin(t, b, issuer, reqID, "jdupont", personPW)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("login: status %d, want 302 to %s\n%s", resp.StatusCode, redirect, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirect {
		t.Fatalf("redirected to %s, want %s", loc, redirect)
	}
	q := loc.Query()
	if q.Get("state") != "state-1" || q.Get("code") == "" {
		t.Fatalf("callback query %v", q)
	}
	if iss := q.Get("iss"); iss != "" && iss != issuer {
		t.Errorf("callback iss = %q, want %q", iss, issuer)
	}
	tok, err := rp.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: "intranet"}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
	}
	if idt.AccessTokenHash == "" {
		t.Errorf("ID token has no at_hash")
	} else if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims struct {
		Email      string `json:"email"`
		GivenName  string `json:"given_name"`
		FamilyName string `json:"family_name"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Email != "jeanne.dupont@exemple.fr" || claims.GivenName != "Jeanne" || claims.FamilyName != "Dupont" {
		t.Errorf("ID token claims %+v", claims)
	}
	if ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
		t.Errorf("userinfo: %v", err)
	} else if ui.Subject != idt.Subject {
		t.Errorf("userinfo sub %q, ID token sub %q", ui.Subject, idt.Subject)
	}

	// The printed administrator password is the real one, and temporary:
	// it leads to the password change page (a wrong one is refused with
	// 401); once the administrator chose theirs, the sign-in goes on (403:
	// the administrator has no membership granting the application).
	adminBrowser := browser(issuer)
	defer adminBrowser.CloseIdleConnections()
	reqID = startLogin(t, adminBrowser, rp.AuthCodeURL("state-2", oidc.Nonce("n2"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if resp, body := submitLogin(t, adminBrowser, issuer, reqID, adminID, adminPW+"x"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("administrator with a wrong password: status %d, want 401\n%s", resp.StatusCode, body)
	}
	if resp, body := submitLogin(t, adminBrowser, issuer, reqID, adminID, adminPW); resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="new_password"`) {
		t.Errorf("administrator sign-in: status %d, want the password change page\n%s", resp.StatusCode, body)
	}
	const adminChosen = "la phrase choisie par la directrice"
	changeForm := url.Values{"request": {reqID}, "identifier": {adminID}, "password": {adminPW},
		"new_password": {adminChosen}, "confirm_password": {adminChosen}}
	changeReq, _ := http.NewRequest(http.MethodPost, issuer+"/password", strings.NewReader(changeForm.Encode()))
	changeReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	changeReq.Header.Set("Origin", issuer)
	resp, body = fetch(t, adminBrowser, changeReq)
	// An administrator must have a second factor: enrolment follows, at
	// once, in the same sign-in.
	key := regexp.MustCompile(`<code class="key">([A-Z2-7 ]+)</code>`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || key == nil || !strings.Contains(body, `action="/login/enrol"`) {
		t.Fatalf("administrator's password change: status %d, want the enrolment of a second factor\n%s", resp.StatusCode, body)
	}
	code, err := totp.GenerateCode(strings.ReplaceAll(key[1], " ", ""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	enrolReq, _ := http.NewRequest(http.MethodPost, issuer+"/login/enrol", strings.NewReader(url.Values{"request": {reqID}, "code": {code}}.Encode()))
	enrolReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	enrolReq.Header.Set("Origin", issuer)
	if resp, body = fetch(t, adminBrowser, enrolReq); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Vos codes de secours") {
		t.Fatalf("administrator's enrolment: status %d\n%s", resp.StatusCode, body)
	}
	contReq, _ := http.NewRequest(http.MethodGet, issuer+"/login?request="+reqID, nil)
	if resp, body = fetch(t, adminBrowser, contReq); resp.StatusCode != http.StatusForbidden {
		t.Errorf("administrator after enrolment: status %d, want 403 (authenticated, no membership)\n%s", resp.StatusCode, body)
	}

	secrets := map[string]string{"the administrator's password": adminPW, "the administrator's chosen password": adminChosen, "the person's password": personPW, "the client secret": clientSecret}
	// While running: the database and its WAL.
	assertNotInFiles(t, dir, secrets)

	// Clean shutdown.
	httpc.CloseIdleConnections()
	if code := srv.stop(); code != 0 {
		t.Fatalf("serve exited with %d after cancellation, want 0\nstderr:\n%s", code, srv.stderr)
	}
	assertNotInFiles(t, dir, secrets)

	// The stored hash is argon2id, and there is exactly one administrator.
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "tno.db"))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := st.GetPersonByUsername(context.Background(), adminID)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := st.GetPasswordHash(context.Background(), admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, adminPW) || strings.Contains(hash, adminChosen) {
		t.Errorf("administrator's stored password %q is not an argon2id hash", hash)
	}
	if n, err := st.CountRole(context.Background(), storage.RolePlatformAdmin); err != nil || n != 1 {
		t.Errorf("platform administrators: %d (%v), want 1", n, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart on the same data directory: no new administrator, the same
	// signing key.
	srv2 := startServe(t, dir, addr)
	out = srv2.stdout.String()
	if strings.Contains(out, "password") || strings.Contains(out, adminPW) || strings.Contains(out, "administrator") {
		t.Errorf("second start printed administrator credentials again:\n%s", out)
	}
	if !strings.Contains(out, "listening on http://"+addr) {
		t.Errorf("second start output:\n%s", out)
	}
	if kids2 := checkDiscovery(t, httpc, issuer); !slices.Equal(kids, kids2) {
		t.Errorf("JWKS kids changed across restart: %q then %q", kids, kids2)
	}
	// The password the administrator chose still signs in, then the
	// second factor they enrolled.
	b3 := browser(issuer)
	defer b3.CloseIdleConnections()
	reqID = startLogin(t, b3, rp.AuthCodeURL("state-3", oidc.Nonce("n3"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if resp, body := submitLogin(t, b3, issuer, reqID, adminID, adminChosen); resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/login/factor"`) {
		t.Errorf("administrator sign-in after restart: status %d, want the second-factor page\n%s", resp.StatusCode, body)
	}
	httpc.CloseIdleConnections()
	if code := srv2.stop(); code != 0 {
		t.Fatalf("second serve exited with %d, want 0\nstderr:\n%s", code, srv2.stderr)
	}
}

// TestServeBadConfig: serve reports every configuration problem at once
// and does not start.
func TestServeBadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tno.yaml")
	if err := os.WriteFile(path, []byte("issuer: ftp://x\nlisten: 127.0.0.1:0\nfrobnicate: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, environ: testEnviron}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, []string{"serve", "--config", path, "--data-dir", filepath.Join(dir, "data")}, env)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	errText := stderr.String()
	for _, want := range []string{`unknown key "frobnicate"`, "issuer:", "ftp://x"} {
		if !strings.Contains(errText, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errText)
		}
	}
	if stdout.String() != "" {
		t.Errorf("stdout:\n%s", &stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("a bad configuration created the data directory (stat: %v)", err)
	}
}
