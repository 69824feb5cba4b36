package web

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

var consentPages = []struct {
	name string
	page any
}{
	{"consent", ConsentPage{
		AppName: "Agenda partagé", OrgName: "Ville de Paris", Action: "/consent", RequestID: "req-123", MembershipID: "m1",
		Scopes: []string{"openid", "profile", "email", "siret", "mandates", "offline_access"},
	}},
	{"account_consents", AccountConsentsPage{
		PersonName: "Jeanne Dupont", RevokeAction: "/account/consents/revoke", LogoutURL: "/logout",
		Consents: []ConsentItem{
			{ClientID: "agenda", AppName: "Agenda partagé", OrgName: "Ville de Paris", Scopes: []string{"openid", "profile"},
				Date: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)},
			{ClientID: "rh", AppName: "Portail RH", Scopes: []string{"openid", "email", "custom"},
				Date: time.Date(2026, 8, 1, 23, 59, 0, 0, time.UTC)},
		},
	}},
	{"account_consents_revoked", &AccountConsentsPage{RevokeAction: "/account/consents/revoke", Revoked: "Agenda partagé"}},
	{"login_account", LoginPage{Action: "/account/login"}},
}

func TestConsentGolden(t *testing.T) {
	r := newTestRenderer(t, nil)
	for _, tc := range consentPages {
		for _, lang := range languages() {
			t.Run(tc.name+"_"+lang, func(t *testing.T) {
				rec := render(t, r, "/consent?request=req-123&lang="+lang, http.StatusOK, tc.page)
				if rec.Code != http.StatusOK {
					t.Fatalf("status = %d", rec.Code)
				}
				body := rec.Body.String()
				checkMarkup(t, body)
				if strings.Contains(body, "scope.") || strings.Contains(body, "month.") {
					t.Errorf("a message key is shown instead of its text:\n%s", body)
				}
				goldenCheck(t, tc.name+"_"+lang, body)
			})
		}
	}
}

func TestDate(t *testing.T) {
	d := time.Date(2026, 8, 1, 23, 30, 0, 0, time.FixedZone("UTC-2", -2*3600)) // 2 August in UTC
	for lang, want := range map[string]string{LangFR: "2 août 2026", LangEN: "2 August 2026"} {
		v := view{Lang: lang}
		if got := v.Date(d); got != want {
			t.Errorf("%s: Date = %q, want %q", lang, got, want)
		}
		if got := v.ISODate(d); got != "2026-08-02" {
			t.Errorf("ISODate = %q", got)
		}
	}
	first := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for lang, want := range map[string]string{LangFR: "1er mai 2026", LangEN: "1 May 2026"} {
		if got := (view{Lang: lang}).Date(first); got != want {
			t.Errorf("%s: Date = %q, want %q", lang, got, want)
		}
	}
	if got := (view{Lang: LangFR}).Scope("inconnu"); got != "inconnu" {
		t.Errorf("unknown scope shown as %q", got)
	}
}
