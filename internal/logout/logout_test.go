package logout

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/keys"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
)

const issuer = "https://tno.ville-exemple.fr"

// clock is a test clock safe for the sender's goroutines.
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

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type env struct {
	t     *testing.T
	store storage.Store
	keys  *keys.Manager
	clock *clock
	svc   *Service
	logs  *syncBuffer
	org   storage.Organization
}

func newEnv(t *testing.T, edit ...func(*Options)) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{t: t, store: storagetest.NewStore(t), clock: &clock{t: time.Now().UTC().Truncate(time.Second)}, logs: &syncBuffer{}}
	var err error
	e.keys, err = keys.New(keys.Options{Store: e.store, Now: e.clock.now, Algorithm: keys.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Issuer: issuer, Store: e.store, Signer: e.keys, Now: e.clock.now,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
	}
	for _, f := range edit {
		f(&opts)
	}
	if e.svc, err = New(opts); err != nil {
		t.Fatal(err)
	}
	e.org = storage.Organization{Slug: "ville", Name: "Ville", SIREN: "123456782"}
	if err := e.store.CreateOrganization(ctx, &e.org); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) app(clientID string, s storage.ClientSettings) {
	e.t.Helper()
	a := storage.Application{
		OrgID: e.org.ID, ClientID: clientID, Name: "Appli " + clientID, ClientType: storage.ClientConfidential,
		RedirectURIs: []string{"https://" + clientID + ".example/cb"}, Settings: s,
	}
	if err := e.store.CreateApplication(e.t.Context(), &a); err != nil {
		e.t.Fatal(err)
	}
}

// session creates a live session of person that signed into clients.
func (e *env) session(id, person string, clients ...string) {
	e.t.Helper()
	now := e.clock.now()
	s := storage.Session{ID: id, PersonID: person, AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := e.store.CreateSession(e.t.Context(), &s); err != nil {
		e.t.Fatal(err)
	}
	for i, c := range clients {
		sc := storage.SessionClient{SessionID: id, ClientID: c, SID: "sid-" + id, Subject: person, FirstAt: now.Add(time.Duration(i) * time.Second)}
		if err := e.store.RecordSessionClient(e.t.Context(), &sc); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) deliveries(clientID string) []storage.LogoutDelivery {
	e.t.Helper()
	ds, err := e.store.ListLogoutDeliveries(e.t.Context(), clientID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

// verify checks a logout token's signature against the published keys and
// returns its header type and claims.
func (e *env) verify(raw string) (typ string, claims map[string]any) {
	e.t.Helper()
	set, err := e.keys.PublicKeys(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		e.t.Fatalf("logout token: %v", err)
	}
	h := jws.Signatures[0].Header
	ks := set.Key(h.KeyID)
	if len(ks) != 1 {
		e.t.Fatalf("kid %q not published", h.KeyID)
	}
	payload, err := jws.Verify(ks[0])
	if err != nil {
		e.t.Fatalf("signature: %v", err)
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		e.t.Fatal(err)
	}
	typ, _ = h.ExtraHeaders[jose.HeaderType].(string)
	return typ, claims
}

func TestEndSession(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.app("both", storage.ClientSettings{
		BackchannelLogoutURI:  "https://both.example/bc",
		FrontchannelLogoutURI: "https://both.example/fc?tenant=7", FrontchannelLogoutSessionRequired: true,
	})
	e.app("front", storage.ClientSettings{FrontchannelLogoutURI: "https://front.example/fc"})
	e.app("none", storage.ClientSettings{})
	e.session("s1", "person-1", "both", "front", "none", "deleted-app")
	e.session("s2", "person-1", "both")

	got, err := e.svc.EndSession(ctx, "s1", ReasonRPInitiated)
	if err != nil {
		t.Fatal(err)
	}
	want := Ended{
		Frontchannel: []Frontchannel{
			{ClientID: "both", AppName: "Appli both", URL: "https://both.example/fc?iss=" + url.QueryEscape(issuer) + "&sid=sid-s1&tenant=7"},
			{ClientID: "front", AppName: "Appli front", URL: "https://front.example/fc"},
		},
		Backchannel: 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Ended (-want +got):\n%s", diff)
	}
	if s, _ := e.store.GetSession(ctx, "s1"); s.RevokedAt == nil {
		t.Error("session not revoked")
	}
	if s, _ := e.store.GetSession(ctx, "s2"); s.RevokedAt != nil {
		t.Error("another session revoked")
	}
	ds := e.deliveries("both")
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	d := ds[0]
	if d.URI != "https://both.example/bc" || d.SID != "sid-s1" || d.Subject != "person-1" || !d.NextAttemptAt.Equal(e.clock.now()) {
		t.Errorf("delivery = %+v", d)
	}
	typ, claims := e.verify(d.Token)
	if typ != TokenType {
		t.Errorf("typ = %q, want %q", typ, TokenType)
	}
	now := float64(e.clock.now().Unix())
	for k, v := range map[string]any{
		"iss": issuer, "aud": "both", "sub": "person-1", "sid": "sid-s1", "iat": now, "exp": now + 120,
		"events": map[string]any{EventBackchannelLogout: map[string]any{}},
	} {
		if !cmp.Equal(claims[k], v) {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if jti, _ := claims["jti"].(string); len(jti) < 16 {
		t.Errorf("jti = %v", claims["jti"])
	}
	if _, ok := claims["nonce"]; ok {
		t.Error("logout token carries a nonce")
	}

	// Ending it again notifies nobody a second time.
	again, err := e.svc.EndSession(ctx, "s1", ReasonRPInitiated)
	if err != nil || again.Backchannel != 0 || len(again.Frontchannel) != 0 {
		t.Errorf("second EndSession = %+v, %v", again, err)
	}
	if _, err := e.svc.EndSession(ctx, "nope", ReasonAdmin); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown session: %v, want ErrNotFound", err)
	}
}

func TestEndPersonSessions(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.app("rp", storage.ClientSettings{BackchannelLogoutURI: "https://rp.example/bc"})
	e.session("expired", "p", "rp") // lives one hour
	e.clock.advance(2 * time.Hour)
	e.session("live1", "p", "rp")
	e.session("live2", "p", "rp")
	e.session("revoked", "p", "rp")
	e.session("other-person", "q", "rp")
	if err := e.store.RevokeSession(ctx, "revoked", e.clock.now()); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(time.Minute)
	n, err := e.svc.EndPersonSessions(ctx, "p", ReasonPersonDisabled)
	if err != nil || n != 2 {
		t.Fatalf("EndPersonSessions = %d, %v; want 2 live sessions", n, err)
	}
	var sids []string
	for _, d := range e.deliveries("rp") {
		sids = append(sids, d.SID)
	}
	slices.Sort(sids)
	// A session revoked without notifying is notified now; an expired
	// one is left alone.
	if diff := cmp.Diff([]string{"sid-live1", "sid-live2", "sid-revoked"}, sids); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	if s, _ := e.store.GetSession(ctx, "other-person"); s.RevokedAt != nil {
		t.Error("another person's session revoked")
	}
	if !strings.Contains(e.logs.String(), "reason=person_disabled") {
		t.Errorf("reason not logged: %s", e.logs.String())
	}
	// Again: nothing left to end or notify.
	if n, err := e.svc.EndPersonSessions(ctx, "p", ReasonPersonDisabled); err != nil || n != 0 || len(e.deliveries("rp")) != 3 {
		t.Errorf("second call = %d, %v, %d deliveries", n, err, len(e.deliveries("rp")))
	}
}

func TestNew(t *testing.T) {
	store := storagetest.NewStore(t)
	signer, _ := keys.New(keys.Options{Store: store})
	for name, o := range map[string]Options{
		"no store":        {Issuer: issuer, Signer: signer},
		"no signer":       {Issuer: issuer, Store: store},
		"relative issuer": {Issuer: "/tno", Store: store, Signer: signer},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	// A given client is copied and made safe: no redirects, a timeout.
	given := &http.Client{}
	s, err := New(Options{Issuer: issuer + "/", Store: store, Signer: signer, Client: given})
	if err != nil {
		t.Fatal(err)
	}
	if s.client == given || s.client.Timeout != 5*time.Second || s.client.CheckRedirect == nil || given.CheckRedirect != nil {
		t.Errorf("client not made safe: %+v", s.client)
	}
	if s.issuer != issuer {
		t.Errorf("issuer = %q", s.issuer)
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc"},
		{"déjà", 2, "d"}, // é is two bytes: never cut in half
		{"déjà", 3, "dé"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// rp is a relying party's back-channel logout endpoint.
type rp struct {
	srv      *httptest.Server
	mu       sync.Mutex
	status   int
	tokens   []string
	received chan string
}

func newRP(t *testing.T, status int) *rp {
	r := &rp{status: status, received: make(chan string, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		tok := req.PostFormValue("logout_token")
		r.mu.Lock()
		status := r.status
		r.tokens = append(r.tokens, tok)
		r.mu.Unlock()
		if status == http.StatusFound {
			http.Redirect(w, req, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(status)
		r.received <- tok
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rp) setStatus(s int) {
	r.mu.Lock()
	r.status = s
	r.mu.Unlock()
}

func (r *rp) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tokens)
}
