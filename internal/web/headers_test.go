package web

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	want := map[string]string{
		"Content-Security-Policy":    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Permissions-Policy":         "camera=(), microphone=(), geolocation=()",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"http", false}, {"https", true}} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusTeapot {
				t.Errorf("next not called: status %d", rec.Code)
			}
			for k, v := range want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			hsts := rec.Header().Get("Strict-Transport-Security")
			if tc.tls && !strings.HasPrefix(hsts, "max-age=63072000") {
				t.Errorf("HSTS = %q over TLS", hsts)
			}
			if !tc.tls && hsts != "" {
				t.Errorf("HSTS = %q over plain HTTP", hsts)
			}
		})
	}
	csp := want["Content-Security-Policy"]
	for _, forbidden := range []string{"unsafe-inline", "unsafe-eval", "script-src"} {
		if strings.Contains(csp, forbidden) {
			t.Errorf("CSP contains %q", forbidden)
		}
	}
}

func TestAllowFormAction(t *testing.T) {
	for _, tc := range []struct {
		name, target, want string
	}{
		{"https already allowed", "https://rp.example/cb", "form-action 'self' https: http:;"},
		{"http already allowed", "http://127.0.0.1:8080/cb", "form-action 'self' https: http:;"},
		{"private-use scheme", "com.example.app:/oauth2redirect", "form-action 'self' https: http: com.example.app:;"},
		{"scheme case", "Com.Example.App:/cb", "form-action 'self' https: http: com.example.app:;"},
		{"no scheme", "/relative", "form-action 'self' https: http:;"},
		{"invalid", "%zz:", "form-action 'self' https: http:;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("Content-Security-Policy", ContentSecurityPolicy)
			AllowFormAction(h, tc.target)
			AllowFormAction(h, tc.target) // idempotent
			got := h.Get("Content-Security-Policy")
			if !strings.Contains(got, tc.want) || !strings.HasSuffix(got, "base-uri 'none'") {
				t.Errorf("CSP = %q, want it to contain %q", got, tc.want)
			}
		})
	}
	h := http.Header{}
	AllowFormAction(h, "com.example.app:/cb")
	if len(h) != 0 {
		t.Errorf("header without CSP changed: %v", h)
	}
}

func TestAllowScripts(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	AllowScripts(h)
	AllowScripts(h) // idempotent
	got := h.Get("Content-Security-Policy")
	if want := ContentSecurityPolicy + "; script-src 'self'"; got != want {
		t.Errorf("CSP = %q, want %q", got, want)
	}
	for _, forbidden := range []string{"unsafe-inline", "unsafe-eval", "https:;", "data: ;"} {
		if strings.Contains(strings.TrimPrefix(got, ContentSecurityPolicy), forbidden) {
			t.Errorf("script policy allows %q: %q", forbidden, got)
		}
	}
	h = http.Header{}
	AllowScripts(h)
	if len(h) != 0 {
		t.Errorf("header without CSP changed: %v", h)
	}
}
