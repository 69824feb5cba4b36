package oidc

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBearerToken(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name        string
		method      string
		target      string
		header      string
		contentType string
		body        string
		wantToken   string
		wantOK      bool
		wantProblem bool
	}{
		{"header", http.MethodGet, "/userinfo", "Bearer abc.def", "", "", "abc.def", true, false},
		{"header, lowercase scheme", http.MethodGet, "/userinfo", "bearer abc", "", "", "abc", true, false},
		{"header, extra spaces", http.MethodGet, "/userinfo", "Bearer   abc  ", "", "", "abc", true, false},
		{"header on POST", http.MethodPost, "/userinfo", "Bearer abc", "", "", "abc", true, false},
		{"form body", http.MethodPost, "/userinfo", "", form, "access_token=abc", "abc", true, false},
		{"form body with charset", http.MethodPost, "/userinfo", "", form + "; charset=UTF-8", "access_token=abc", "abc", true, false},
		{"form body on GET is ignored", http.MethodGet, "/userinfo", "", form, "access_token=abc", "", false, false},
		{"JSON body is ignored", http.MethodPost, "/userinfo", "", "application/json", `{"access_token":"abc"}`, "", false, false},
		{"header and form body", http.MethodPost, "/userinfo", "Bearer abc", form, "access_token=abc", "", false, true},
		{"query string", http.MethodGet, "/userinfo?access_token=abc", "", "", "", "", false, true},
		{"query string, empty", http.MethodGet, "/userinfo?access_token=", "", "", "", "", false, true},
		{"query string and header", http.MethodGet, "/userinfo?access_token=abc", "Bearer abc", "", "", "", false, true},
		{"query string on POST with form", http.MethodPost, "/userinfo?access_token=abc", "", form, "access_token=abc", "", false, true},
		{"Basic scheme", http.MethodGet, "/userinfo", "Basic YTpi", "", "", "", false, true},
		{"Bearer without token", http.MethodGet, "/userinfo", "Bearer ", "", "", "", false, true},
		{"Bearer only", http.MethodGet, "/userinfo", "Bearer", "", "", "", false, true},
		{"scheme prefix only", http.MethodGet, "/userinfo", "Bearerx abc", "", "", "", false, true},
		{"DPoP scheme", http.MethodGet, "/userinfo", "DPoP abc", "", "", "", false, true},
		{"nothing", http.MethodGet, "/userinfo", "", "", "", "", false, false},
		{"empty form token", http.MethodPost, "/userinfo", "", form, "access_token=", "", false, false},
		{"over-large form body", http.MethodPost, "/userinfo", "", form, "access_token=" + strings.Repeat("a", 17<<10), "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			tok, ok, problem := bearerToken(r)
			if tok != tt.wantToken || ok != tt.wantOK || (problem != "") != tt.wantProblem {
				t.Errorf("bearerToken = %q, %v, %q; want %q, %v, problem %v", tok, ok, problem, tt.wantToken, tt.wantOK, tt.wantProblem)
			}
			if problem != "" && strings.Contains(problem, "abc") {
				t.Errorf("problem %q echoes the token", problem)
			}
		})
	}
}
