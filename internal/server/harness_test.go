package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"github.com/territoires-ouverts/tno/internal/mail"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/server"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
	"github.com/territoires-ouverts/tno/internal/territory"
)

// harnessParams are the argon2id parameters of the harness: cheap ones
// for tests, the production defaults for BenchmarkFailedSignIn.
var harnessParams = local.TestParams()

// clock is a settable test clock, safe to read from the server's own
// goroutines (the back-channel sender, the mail queue) while a test
// moves it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness runs the real TNO handler on a loopback port with a territory:
// a métropole and a commune, people, memberships and applications.
type harness struct {
	t      testing.TB
	srv    *httptest.Server
	store  storage.Store
	issuer string
	clock  *clock
	server *server.Server
	terr   *territory.Service
	apps   *apps.Service
	local  *local.Local

	metropole, commune storage.Organization
	// secrets of confidential applications, by client ID
	secrets map[string]string
}

const (
	rpCallback  = "http://127.0.0.1:9/cb" // never contacted: the test client stops at it
	rpCallback2 = "http://127.0.0.1:9/cb2"
	password    = "correct horse battery staple"
)

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessHost(t, "")
}

// newHarnessHost is newHarness with an issuer on host (the listener's
// port): "localhost" for passkeys, which need a host name; "" for the
// listener's address.
func newHarnessHost(t testing.TB, host string) *harness {
	t.Helper()
	return newHarnessWith(t, harnessOptions{host: host})
}

// harnessOptions vary the harness: the issuer's host, the mail sender
// (Options.Mail; nil builds none unless the configuration has one), and
// the configuration.
type harnessOptions struct {
	host string
	mail mail.Sender
	edit func(*config.Config)
}

func newHarnessWith(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	store := storagetest.NewStore(t)
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	if o.host != "" {
		_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
		issuer = "http://" + net.JoinHostPort(o.host, port)
	}
	cfg := config.Default()
	cfg.Issuer = issuer
	if o.edit != nil {
		o.edit(&cfg)
	}
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	params := harnessParams
	srv, err := server.New(server.Options{
		Config: cfg, Store: store, Now: clk.now, PasswordParams: &params, Mail: o.mail,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	terr := srv.Core.Territory
	h := &harness{
		t: t, srv: ts, store: store, issuer: issuer, clock: clk, server: srv, terr: terr,
		apps: srv.Core.Apps, local: srv.Local, secrets: map[string]string{},
	}
	ctx := context.Background()
	h.metropole = storage.Organization{Slug: "metropole", Name: "Métropole Exemple", SIREN: "200046977", SIRET: "20004697700019"}
	h.commune = storage.Organization{Slug: "paris", Name: "Ville de Paris", SIREN: "217500016", SIRET: "21750001600019"}
	for _, o := range []*storage.Organization{&h.metropole, &h.commune} {
		if err := terr.CreateOrganization(ctx, authz.CLI(), o); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// person creates a person with the test password and memberships in orgs.
func (h *harness) person(username string, orgs ...storage.Organization) storage.Person {
	h.t.Helper()
	ctx := context.Background()
	p := storage.Person{Username: username, GivenName: "Jeanne", FamilyName: "Martin", UsualName: "Dupont", Email: username + "@exemple.fr", EmailVerified: true}
	if err := h.terr.CreatePerson(ctx, authz.CLI(), &p, territory.NewPerson{}); err != nil {
		h.t.Fatal(err)
	}
	if err := h.local.SetPassword(ctx, p.ID, password); err != nil {
		h.t.Fatal(err)
	}
	for _, o := range orgs {
		m := storage.Membership{PersonID: p.ID, OrgID: o.ID, Kind: storage.KindAgent, Service: "Direction du numérique", Title: "Cheffe de projet", ValidFrom: h.clock.now().Add(-time.Hour)}
		if err := h.terr.CreateMembership(ctx, authz.CLI(), &m); err != nil {
			h.t.Fatal(err)
		}
	}
	return p
}

// app registers an application owned by the métropole. It is first-party
// (no consent screen) unless mutate says otherwise: consent_test.go does.
func (h *harness) app(clientID, typ string, redirect string, mutate ...func(*storage.Application)) storage.Application {
	h.t.Helper()
	a := storage.Application{
		OrgID: h.metropole.ID, ClientID: clientID, Name: "Appli " + clientID, ClientType: typ,
		RedirectURIs: []string{redirect}, FirstParty: true,
	}
	for _, f := range mutate {
		f(&a)
	}
	secret, err := h.apps.Create(context.Background(), authz.CLI(), &a)
	if err != nil {
		h.t.Fatal(err)
	}
	h.secrets[clientID] = secret
	return a
}

// browser is a cookie-keeping HTTP client that does not follow redirects
// to the relying parties' callbacks.
func (h *harness) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if !strings.HasPrefix(req.URL.String(), h.issuer) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

var requestFieldRE = regexp.MustCompile(`name="request" value="([^"]+)"`)

// page GETs a URL and returns the final response and body.
func get(t testing.TB, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func postForm(t testing.TB, c *http.Client, u string, v url.Values, origin string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// requestID extracts the pending request ID from a login or chooser page.
func requestID(t testing.TB, body string) string {
	t.Helper()
	m := requestFieldRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no request field in page:\n%s", body)
	}
	return m[1]
}

// login submits the login form found in body.
func (h *harness) login(c *http.Client, body, identifier, pw string) (*http.Response, string) {
	h.t.Helper()
	id := requestID(h.t, body)
	if !strings.Contains(body, `name="password"`) {
		// The identifier page: the password page follows, for anyone.
		resp, page := postForm(h.t, c, h.issuer+"/login", url.Values{"request": {id}, "identifier": {identifier}}, h.issuer)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="password"`) || !strings.Contains(page, `autocomplete="current-password"`) {
			h.t.Fatalf("after the identifier: %d, want the password page\n%s", resp.StatusCode, page)
		}
		id = requestID(h.t, page)
	}
	return postForm(h.t, c, h.issuer+"/login", url.Values{
		"request": {id}, "identifier": {identifier}, "password": {pw},
	}, h.issuer)
}

// callback returns the query of a redirect to a relying party, or fails.
func callback(t testing.TB, resp *http.Response, want string) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302 to %s", resp.StatusCode, want)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != want {
		t.Fatalf("redirected to %s, want %s", got, want)
	}
	return u.Query()
}

func pkcePair() (verifier, challenge string) {
	verifier = base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("v", 40) + time.Now().String()))[:64]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeURL builds an authorization request.
func (h *harness) authorizeURL(clientID, redirect string, extra url.Values) string {
	v := url.Values{"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid profile email"}, "state": {"st4te"}}
	for k, vs := range extra {
		v[k] = vs
	}
	return h.issuer + "/authorize?" + v.Encode()
}

// code runs a full browser sign-in and returns the authorization code.
func (h *harness) code(c *http.Client, clientID, redirect, username string, extra url.Values) string {
	h.t.Helper()
	resp, body := get(h.t, c, h.authorizeURL(clientID, redirect, extra))
	if resp.Request.URL.Path == "/login" {
		resp, body = h.login(c, body, username, password)
	}
	_ = body
	q := callback(h.t, resp, redirect)
	if q.Get("code") == "" {
		h.t.Fatalf("no code in callback: %v", q)
	}
	return q.Get("code")
}

// tokenRequest posts to the token endpoint.
func (h *harness) tokenRequest(form url.Values, basicID, basicSecret string) (*http.Response, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func jsonField(t testing.TB, body, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	s, _ := m[key].(string)
	return s
}

// userinfo calls the userinfo endpoint and returns its claims; it fails
// the test unless the answer is 200.
func (h *harness) userinfo(accessToken string) map[string]any {
	h.t.Helper()
	resp, body := h.userinfoRaw(accessToken)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("userinfo: %d %s", resp.StatusCode, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		h.t.Fatal(err)
	}
	return m
}

func (h *harness) userinfoRaw(accessToken string) (*http.Response, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.issuer+"/userinfo", nil)
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
