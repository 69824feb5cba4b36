package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/mail"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

// resetHarness is the harness with a mail sender (Options.Mail) and the
// territory's name and support line.
type resetHarness struct {
	*harness
	mail *mail.Recorder
}

// newResetHarness builds the harness with sender as Options.Mail (a
// *mail.Recorder if nil; none at all with noMail) and edit applied to
// the configuration.
func newResetHarness(t *testing.T, sender mail.Sender, edit func(*config.Config)) *resetHarness {
	t.Helper()
	rec := &mail.Recorder{}
	if sender == nil {
		sender = rec
	}
	if sender == noMail {
		sender = nil
	}
	h := newHarnessWith(t, harnessOptions{mail: sender, edit: func(cfg *config.Config) {
		cfg.Territory.Name = "Métropole Exemple"
		cfg.Territory.Support = "Support informatique : 01 23 45 67 89"
		if edit != nil {
			edit(cfg)
		}
	}})
	return &resetHarness{harness: h, mail: rec}
}

// noMail, given to newResetHarness, builds the server without a sender.
var noMail mail.Sender = &mail.Recorder{}

// advance moves the clock.
func (h *resetHarness) advance(d time.Duration) { h.clock.advance(d) }

// forgot asks for a link for identifier from browser b.
func (h *resetHarness) forgot(b *http.Client, identifier string, extra ...string) (*http.Response, string) {
	h.t.Helper()
	form := url.Values{"identifier": {identifier}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return postForm(h.t, b, h.issuer+"/login/forgot", form, h.issuer)
}

// waitMail waits until rec holds n messages, and returns them.
func waitMail(t *testing.T, rec *mail.Recorder, n int) []mail.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msgs := rec.Messages()
		if len(msgs) >= n {
			if len(msgs) > n {
				t.Fatalf("%d messages, want %d: %+v", len(msgs), n, msgs)
			}
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages after 10s, want %d", len(msgs), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var resetLinkRE = regexp.MustCompile(`http://[^\s]+/login/reset\?[^\s]+`)

// resetLink is the link of a reset message.
func resetLink(t *testing.T, m mail.Message) string {
	t.Helper()
	link := resetLinkRE.FindString(m.Text)
	if link == "" {
		t.Fatalf("no reset link in:\n%s", m.Text)
	}
	return link
}

// setPassword posts the reset form of link.
func (h *resetHarness) setPassword(b *http.Client, link, pw, confirm string) (*http.Response, string) {
	h.t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		h.t.Fatal(err)
	}
	form := url.Values{"token": {u.Query().Get("token")}, "new_password": {pw}, "confirm_password": {confirm}}
	if r := u.Query().Get("request"); r != "" {
		form.Set("request", r)
	}
	return postForm(h.t, b, h.issuer+"/login/reset", form, h.issuer)
}

// auditEvents waits for an event of type typ and returns those of that
// type (the mail queue records after it sent).
func (h *resetHarness) auditEvents(typ string) []storage.AuditEvent {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := h.auditNow(typ)
		if len(out) > 0 || time.Now().After(deadline) {
			return out
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// auditNow returns the events of type typ recorded so far.
func (h *resetHarness) auditNow(typ string) []storage.AuditEvent {
	h.t.Helper()
	all, err := h.store.ListAuditEvents(context.Background(), 0, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []storage.AuditEvent
	for _, e := range all {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// gateSender holds every message until release is closed.
type gateSender struct {
	release chan struct{}
	rec     *mail.Recorder
}

func (g *gateSender) Send(ctx context.Context, m mail.Message) error {
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.rec.Send(ctx, m)
}

// TestResetSameAnswer: known username, known address, unknown
// identifier, disabled person and person without a local password get
// the same page, before any message is sent; only the known, active ones
// get a message.
func TestResetSameAnswer(t *testing.T) {
	gate := &gateSender{release: make(chan struct{}), rec: &mail.Recorder{}}
	h := newResetHarness(t, gate, nil)
	h.person("alice", h.metropole)
	bob := h.person("bob", h.metropole)
	bob.Disabled = true
	if err := h.store.UpdatePerson(context.Background(), &bob); err != nil {
		t.Fatal(err)
	}
	carol := storage.Person{Username: "carol", GivenName: "Carole", FamilyName: "Petit", Email: "carol@exemple.fr"}
	if err := h.terr.CreatePerson(context.Background(), authz.CLI(), &carol, territory.NewPerson{}); err != nil { // no password
		t.Fatal(err)
	}

	b := h.browser()
	var first string
	for _, id := range []string{"nobody", "nobody@exemple.fr", "bob", "carol@exemple.fr", "Alice", "alice@exemple.fr"} {
		resp, body := h.forgot(b, id)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", id, resp.StatusCode)
		}
		// The page answers while the message is still held: nothing the
		// account's lookup or mail does is on the request's path.
		if n := len(gate.rec.Messages()); n != 0 {
			t.Fatalf("%s: %d messages before release", id, n)
		}
		if first == "" {
			first = body
			if !strings.Contains(body, "Si un compte correspond") || strings.Contains(body, `name="identifier"`) {
				t.Fatalf("answer page:\n%s", body)
			}
		} else if body != first {
			t.Errorf("%s: a different answer:\n%s\nwant:\n%s", id, body, first)
		}
	}
	close(gate.release)
	// The queue runs in order: once both of Alice's messages are there,
	// the other requests were done, without a message.
	msgs := waitMail(t, gate.rec, 2)
	for _, m := range msgs {
		if !strings.Contains(m.To, "alice@exemple.fr") {
			t.Errorf("message to %s, want alice only", m.To)
		}
	}
	outcomes := map[string]string{}
	deadline := time.Now().Add(10 * time.Second)
	for len(outcomes) < 6 && time.Now().Before(deadline) {
		for _, e := range h.auditEvents(audit.PasswordResetRequested) {
			outcomes[e.Details["identifier"]] = e.Details["outcome"] + "/" + map[bool]string{true: "person", false: ""}[e.PersonID != ""]
		}
		time.Sleep(5 * time.Millisecond)
	}
	want := map[string]string{
		"nobody": "unknown/", "nobody@exemple.fr": "unknown/", "bob": "disabled/person",
		"carol@exemple.fr": "no_local_password/person", "Alice": "sent/person", "alice@exemple.fr": "sent/person",
	}
	for id, w := range want {
		if outcomes[id] != w {
			t.Errorf("audit outcome of %q = %q, want %q", id, outcomes[id], w)
		}
	}
}

// TestResetFlow follows a reset from the password page of a sign-in:
// the link works once, the new password signs in and the old one no
// longer does, every session ends (with back-channel logout), and a
// notice is sent.
func TestResetFlow(t *testing.T) {
	h := newResetHarness(t, nil, nil)
	alice := h.person("alice", h.metropole)
	h.app("intranet", storage.ClientConfidential, rpCallback, func(a *storage.Application) {
		a.Settings.BackchannelLogoutURI = "http://127.0.0.1:9/backchannel"
	})
	// Two browsers signed in.
	first, second := h.browser(), h.browser()
	h.code(first, "intranet", rpCallback, "alice", nil)
	h.code(second, "intranet", rpCallback, "alice", nil)

	// A third browser forgot the password on the password page.
	b := h.browser()
	_, body := get(t, b, h.authorizeURL("intranet", rpCallback, nil))
	id := requestID(t, body)
	_, body = postForm(t, b, h.issuer+"/login", url.Values{"request": {id}, "identifier": {"alice"}}, h.issuer)
	if !strings.Contains(body, `name="password"`) {
		t.Fatalf("no password page:\n%s", body)
	}
	resp, body := get(t, b, h.issuer+"/login/forgot?request="+url.QueryEscape(id))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `value="alice"`) || !strings.Contains(body, `href="/login?request=`+id+`"`) {
		t.Fatalf("forgot page: %d, want the identifier pre-filled and a way back\n%s", resp.StatusCode, body)
	}
	h.forgot(b, "alice", "request", id)
	m := waitMail(t, h.mail, 1)[0]
	for _, want := range []string{"Métropole Exemple", "identifiant\u00a0: alice", "30\u00a0minutes", "Si vous n’êtes pas à l’origine de cette demande", "01 23 45 67 89"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("message lacks %q:\n%s", want, m.Text)
		}
	}
	if m.Lang != "fr" || !strings.Contains(m.Subject, "Métropole Exemple") || !strings.Contains(m.To, "<alice@exemple.fr>") {
		t.Errorf("message = %+v", m)
	}
	link := resetLink(t, m)
	token := mustQuery(t, link).Get("token")
	if len(token) != 43 { // 256 bits, base64url
		t.Errorf("token %q: %d characters, want 43", token, len(token))
	}

	// Opening the link (twice: a mail scanner, then the person) does not
	// use it.
	for range 2 {
		resp, body = get(t, b, link)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="new_password"`) || !strings.Contains(body, "alice") {
			t.Fatalf("reset page: %d\n%s", resp.StatusCode, body)
		}
	}
	// A refused password leaves the link usable.
	if resp, body = h.setPassword(b, link, "un tout nouveau mot de passe", "un autre mot de passe"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "ne sont pas identiques") {
		t.Fatalf("mismatch: %d\n%s", resp.StatusCode, body)
	}
	if resp, body = h.setPassword(b, link, "azertyuiop123", "azertyuiop123"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "trop courant") {
		t.Fatalf("common password: %d\n%s", resp.StatusCode, body)
	}
	const newPassword = "une phrase de passe toute neuve"
	resp, body = h.setPassword(b, link, newPassword, newPassword)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Votre mot de passe a été modifié") {
		t.Fatalf("reset: %d\n%s", resp.StatusCode, body)
	}
	// Back to the sign-in the person came from.
	if !strings.Contains(body, `href="/login?request=`+id+`"`) {
		t.Errorf("done page does not lead back to the sign-in:\n%s", body)
	}
	// Once only.
	for _, try := range []func() (*http.Response, string){
		func() (*http.Response, string) { return h.setPassword(b, link, newPassword+"!", newPassword+"!") },
		func() (*http.Response, string) { return get(t, b, link) },
	} {
		if resp, body := try(); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Lien expiré ou déjà utilisé") {
			t.Errorf("used link: %d\n%s", resp.StatusCode, body)
		}
	}

	// The notice.
	notice := waitMail(t, h.mail, 2)[1]
	if !strings.Contains(notice.Subject, "Votre mot de passe a été modifié") || !strings.Contains(notice.To, "alice@exemple.fr") ||
		!strings.Contains(notice.Text, "Si ce n’est pas vous") {
		t.Errorf("notice = %+v", notice)
	}

	// Every session ended, and the application was told through the
	// back channel, once per session.
	for name, c := range map[string]*http.Client{"first": first, "second": second} {
		resp, _ := get(t, c, h.authorizeURL("intranet", rpCallback, url.Values{"prompt": {"none"}}))
		if q := callback(t, resp, rpCallback); q.Get("error") != "login_required" {
			t.Errorf("%s browser after the reset: %v, want login_required", name, q)
		}
	}
	sessions, err := h.store.ListPersonSessions(context.Background(), alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		if s.RevokedAt == nil {
			t.Errorf("session %s still live", s.ID)
		}
	}
	deliveries, err := h.store.ListLogoutDeliveries(context.Background(), "intranet")
	if err != nil {
		t.Fatal(err)
	}
	if len(deliveries) != 2 {
		t.Errorf("%d back-channel logout tokens queued, want 2 (one per session)", len(deliveries))
	}
	if ev := h.auditEvents(audit.PasswordReset); len(ev) != 1 || ev[0].PersonID != alice.ID || ev[0].Details["sessions_ended"] != "2" {
		t.Errorf("password_reset events = %+v", ev)
	}

	// The old password no longer signs in; the new one does.
	c := h.browser()
	_, body = get(t, c, h.authorizeURL("intranet", rpCallback, nil))
	if resp, _ := h.login(c, body, "alice", password); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password: %d, want 401", resp.StatusCode)
	}
	_, body = get(t, c, h.authorizeURL("intranet", rpCallback, nil))
	resp, _ = h.login(c, body, "alice", newPassword)
	if q := callback(t, resp, rpCallback); q.Get("code") == "" {
		t.Errorf("new password: %v", q)
	}
}

func mustQuery(t *testing.T, link string) url.Values {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// TestResetExpiry: a link works for 30 minutes; using one ends the
// person's other links.
func TestResetExpiry(t *testing.T) {
	h := newResetHarness(t, nil, nil)
	h.person("alice", h.metropole)
	b := h.browser()
	h.forgot(b, "alice")
	expired := resetLink(t, waitMail(t, h.mail, 1)[0])
	h.advance(29 * time.Minute)
	h.forgot(b, "alice")
	other := resetLink(t, waitMail(t, h.mail, 2)[1])
	h.forgot(b, "alice@exemple.fr")
	last := resetLink(t, waitMail(t, h.mail, 3)[2])
	if resp, _ := get(t, b, expired); resp.StatusCode != http.StatusOK {
		t.Fatalf("link at 29 minutes: %d, want 200", resp.StatusCode)
	}
	h.advance(time.Minute + time.Second)
	if resp, body := get(t, b, expired); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Lien expiré") {
		t.Errorf("link after 30 minutes: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := h.setPassword(b, expired, "une phrase de passe toute neuve", "une phrase de passe toute neuve"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("posting an expired link: %d, want 400", resp.StatusCode)
	}
	if resp, _ := h.setPassword(b, last, "une phrase de passe toute neuve", "une phrase de passe toute neuve"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the latest link: %d", resp.StatusCode)
	}
	if resp, _ := get(t, b, other); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("another link after a reset: %d, want 400", resp.StatusCode)
	}
}

// TestResetThrottled: requests for one identifier are limited like
// password attempts (the same answer, audited); other identifiers go on.
func TestResetThrottled(t *testing.T) {
	h := newResetHarness(t, nil, nil)
	h.person("alice", h.metropole)
	h.person("bruno", h.metropole)
	b := h.browser()
	var answer string
	for i := range 9 {
		resp, body := h.forgot(b, "alice")
		if resp.StatusCode != http.StatusOK || (answer != "" && body != answer) {
			t.Fatalf("request %d: %d, not the same answer\n%s", i+1, resp.StatusCode, body)
		}
		answer = body
	}
	h.forgot(b, "bruno")
	msgs := waitMail(t, h.mail, 7)
	n := 0
	for _, m := range msgs {
		if strings.Contains(m.To, "alice@") {
			n++
		}
	}
	// The account policy: 5 free failures, and the sixth allowed at once
	// before the waits start.
	if n != 6 {
		t.Errorf("%d messages to alice for 9 requests, want 6", n)
	}
	throttled := h.auditEvents(audit.SignInThrottled)
	if len(throttled) != 3 || throttled[0].Details["what"] != "reset" || throttled[0].Details["reason"] != "account" {
		t.Errorf("throttle events = %+v, want 3 refused resets", throttled)
	}
	// Once the wait is over, the identifier may ask again.
	h.advance(time.Hour)
	h.forgot(b, "alice")
	waitMail(t, h.mail, 8)
}

// TestResetEnglish: the message is in the page's language.
func TestResetEnglish(t *testing.T) {
	h := newResetHarness(t, nil, nil)
	h.person("alice", h.metropole)
	b := h.browser()
	resp, body := postForm(t, b, h.issuer+"/login/forgot?lang=en", url.Values{"identifier": {"alice"}}, h.issuer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "If an account matches") {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
	m := waitMail(t, h.mail, 1)[0]
	if m.Lang != "en" || !strings.HasPrefix(m.Subject, "Resetting your password") || !strings.Contains(m.Text, "If you did not ask for this") {
		t.Errorf("message = %+v", m)
	}
}

// TestResetWithoutMail: with no mail server the page tells people to
// contact the support, and takes no request.
func TestResetWithoutMail(t *testing.T) {
	h := newResetHarness(t, noMail, nil)
	h.person("alice", h.metropole)
	b := h.browser()
	for _, try := range []func() (*http.Response, string){
		func() (*http.Response, string) { return get(t, b, h.issuer+"/login/forgot") },
		func() (*http.Response, string) { return h.forgot(b, "alice") },
	} {
		resp, body := try()
		if resp.StatusCode != http.StatusOK || strings.Contains(body, `name="identifier"`) ||
			!strings.Contains(body, "contactez le support") || !strings.Contains(body, "01 23 45 67 89") {
			t.Errorf("%d\n%s", resp.StatusCode, body)
		}
	}
	if n := len(h.auditNow(audit.PasswordResetRequested)); n != 0 {
		t.Errorf("%d requests audited, want none", n)
	}
}

// TestResetForm checks the request form's own refusals.
func TestResetForm(t *testing.T) {
	h := newResetHarness(t, nil, nil)
	b := h.browser()
	for name, id := range map[string]string{"empty": "  ", "too long": strings.Repeat("a", 257)} {
		if resp, body := h.forgot(b, id); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("%s: %d\n%s", name, resp.StatusCode, body)
		}
	}
	for name, link := range map[string]string{
		"no token":        h.issuer + "/login/reset",
		"malformed token": h.issuer + "/login/reset?token=abc",
		"unknown token":   h.issuer + "/login/reset?token=" + strings.Repeat("A", 43),
	} {
		if resp, body := get(t, b, link); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Demander un nouveau lien") {
			t.Errorf("%s: %d\n%s", name, resp.StatusCode, body)
		}
	}
	// The request form is a same-origin POST only.
	if resp := h.crossSitePost(b, "/login/forgot", url.Values{"identifier": {"alice"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site request: %d, want 403", resp.StatusCode)
	}
}
