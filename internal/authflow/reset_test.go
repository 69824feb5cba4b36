package authflow

import (
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

func TestResetToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		token, hash, err := newResetToken()
		if err != nil {
			t.Fatal(err)
		}
		if !validToken(token) || len(token) != 43 || len(hash) != 64 || hash != hashResetToken(token) || seen[token] {
			t.Fatalf("token %q, hash %q", token, hash)
		}
		seen[token] = true
	}
	for _, bad := range []string{"", "abc", strings.Repeat("A", 42), strings.Repeat("A", 44), strings.Repeat("+", 43), strings.Repeat("A", 42) + "="} {
		if validToken(bad) {
			t.Errorf("validToken(%q) = true", bad)
		}
	}
}

func TestResetRequestID(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "",
		"abcdefghijklmnopqrstuvwxyz": "abcdefghijklmnopqrstuvwxyz",
		"a-B_9":                      "a-B_9",
		"a b":                        "",
		"x&token=y":                  "",
		strings.Repeat("a", 65):      "",
	} {
		if got := resetRequestID(in); got != want {
			t.Errorf("resetRequestID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResetMessages(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone data")
	}
	e := &Engine{reset: &resetConfig{territory: "Métropole Exemple", support: "Support : 01 23 45 67 89", ttl: 30 * time.Minute, zone: paris}}
	p := storage.Person{Username: "jeanne.martin", GivenName: "Jeanne", FamilyName: "Martin", UsualName: "Dupont", Email: "jeanne.martin@ville.fr"}
	at := time.Date(2026, 3, 1, 8, 26, 0, 0, time.UTC)
	for _, tc := range []struct {
		lang    string
		subject string
		want    []string
	}{
		{web.LangFR, "Réinitialisation de votre mot de passe — Métropole Exemple", []string{
			"Bonjour Jeanne Dupont,", "identifiant\u00a0: jeanne.martin", "30\u00a0minutes", "https://sso.example/login/reset?token=t",
			"Si vous n’êtes pas à l’origine", "Support : 01 23 45 67 89", "— Métropole Exemple",
		}},
		{web.LangEN, "Resetting your password — Métropole Exemple", []string{
			"Hello Jeanne Dupont,", "username: jeanne.martin", "30 minutes", "https://sso.example/login/reset?token=t",
			"If you did not ask for this", "Need help? Support : 01 23 45 67 89",
		}},
	} {
		m := e.resetLinkMessage(tc.lang, p, "https://sso.example/login/reset?token=t")
		if m.Subject != tc.subject || m.Lang != tc.lang || m.To != `"Jeanne Dupont" <jeanne.martin@ville.fr>` {
			t.Errorf("%s: %+v", tc.lang, m)
		}
		for _, w := range tc.want {
			if !strings.Contains(m.Text, w) {
				t.Errorf("%s: text lacks %q:\n%s", tc.lang, w, m.Text)
			}
		}
	}
	n := e.resetNoticeMessage(web.LangFR, p, at)
	if !strings.Contains(n.Text, "le 1er mars 2026 à 09:26 CET") || n.Subject != "Votre mot de passe a été modifié — Métropole Exemple" {
		t.Errorf("notice: %s\n%s", n.Subject, n.Text)
	}
	if n := e.resetNoticeMessage(web.LangEN, p, at); !strings.Contains(n.Text, "on 1 March 2026 at 09:26 CET") {
		t.Errorf("notice (en):\n%s", n.Text)
	}
}
