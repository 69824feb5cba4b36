package server_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestLogoutRevokesSessionTokens: when the session ends, the access and
// refresh tokens issued in it stop working, but those granted
// offline_access outlive it (OpenID Connect Core section 11).
func TestLogoutRevokesSessionTokens(t *testing.T) {
	h := newLogoutHarness(t)
	h.person("jdupont", h.metropole)
	h.twoApps("")
	b := h.browser()
	exchange := func(scope string) (access, refresh, idToken string) {
		t.Helper()
		code := h.code(b, "intranet", rpCallback, "jdupont", url.Values{"scope": {scope}})
		resp, body := h.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}}, "intranet", h.secrets["intranet"])
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("token: %d %s", resp.StatusCode, body)
		}
		return jsonField(t, body, "access_token"), jsonField(t, body, "refresh_token"), jsonField(t, body, "id_token")
	}
	online, _, idToken := exchange("openid profile")
	offline, offlineRefresh, _ := exchange("openid offline_access")
	h.userinfo(online)
	h.userinfo(offline)

	resp, _ := get(t, b, logoutURL(h, url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {byeURI}}))
	callback(t, resp, byeURI)

	if r, body := h.userinfoRaw(online); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("access token of the ended session: %d %s, want 401", r.StatusCode, body)
	}
	h.userinfo(offline) // offline_access: still valid
	resp, body := h.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {offlineRefresh}}, "intranet", h.secrets["intranet"])
	if resp.StatusCode != http.StatusOK {
		t.Errorf("offline refresh after logout: %d %s, want 200", resp.StatusCode, body)
	}
}
