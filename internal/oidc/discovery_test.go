package oidc

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/apps"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestDiscoveryGolden(t *testing.T) {
	p, _, _ := newTestProvider(t, testIssuer)
	mux := http.NewServeMux()
	p.RegisterProtocol(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/openid-configuration", nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	for k, want := range map[string]string{
		"Content-Type":                "application/json",
		"Access-Control-Allow-Origin": "*",
		"Cache-Control":               "public, max-age=3600",
	} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	golden := filepath.Join("testdata", "discovery.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), string(body)); diff != "" {
		t.Errorf("discovery document differs from %s (-want +got):\n%s", golden, diff)
	}
}

func TestDiscoveryDocument(t *testing.T) {
	tests := []struct {
		name, issuer, wantIssuer, base string
	}{
		{"root issuer", testIssuer, testIssuer, ""},
		{"root issuer with trailing slash", testIssuer + "/", testIssuer, ""},
		{"issuer with a path", testIssuer + "/sso", testIssuer + "/sso", "/sso"},
		{"issuer with a path and trailing slash", testIssuer + "/sso/", testIssuer + "/sso", "/sso"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, _ := newTestProvider(t, tt.issuer)
			mux := http.NewServeMux()
			p.RegisterProtocol(mux)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.base+"/.well-known/openid-configuration", nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s/.well-known/openid-configuration: status %d", tt.base, rec.Code)
			}
			var doc map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Fatalf("discovery is not JSON: %v", err)
			}
			strs := func(k string) []string {
				raw, ok := doc[k].([]any)
				if !ok {
					t.Fatalf("%s = %v, want a list", k, doc[k])
				}
				var out []string
				for _, v := range raw {
					out = append(out, v.(string))
				}
				return out
			}
			want := map[string]any{
				"issuer":                 tt.wantIssuer,
				"authorization_endpoint": tt.wantIssuer + "/authorize",
				"token_endpoint":         tt.wantIssuer + "/token",
				"userinfo_endpoint":      tt.wantIssuer + "/userinfo",
				"jwks_uri":               tt.wantIssuer + "/jwks",
			}
			for k, v := range want {
				if doc[k] != v {
					t.Errorf("%s = %v, want %v", k, doc[k], v)
				}
			}
			lists := map[string][]string{
				"code_challenge_methods_supported":      {"S256"},
				"response_types_supported":              {"code"},
				"response_modes_supported":              {"query", "form_post"},
				"prompt_values_supported":               {"none", "login", "consent", "select_account"},
				"acr_values_supported":                  {"eidas1", "eidas2"},
				"grant_types_supported":                 {"authorization_code", "refresh_token", "client_credentials"},
				"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
				"scopes_supported":                      apps.Scopes(),
			}
			for k, v := range lists {
				if diff := cmp.Diff(v, strs(k)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
			if bytes.Contains(rec.Body.Bytes(), []byte(`"plain"`)) {
				t.Error(`discovery mentions "plain"`)
			}
			for k, want := range map[string]bool{
				"request_parameter_supported":                    false,
				"request_uri_parameter_supported":                false,
				"claims_parameter_supported":                     true,
				"authorization_response_iss_parameter_supported": true,
			} {
				if doc[k] != want {
					t.Errorf("%s = %v, want %v", k, doc[k], want)
				}
			}
			// Every endpoint advertised is served under the issuer's path.
			paths := map[string]bool{}
			for _, s := range p.ProtocolPaths() {
				paths[s] = true
			}
			for _, s := range []string{"/.well-known/openid-configuration", "/jwks", "/token", "/userinfo", "/revoke", "/introspect", "/par"} {
				if !paths[tt.base+s] {
					t.Errorf("ProtocolPaths() = %v, missing %s", p.ProtocolPaths(), tt.base+s)
				}
			}
		})
	}
}

func TestJWKS(t *testing.T) {
	p, _, _ := newTestProvider(t, testIssuer)
	mux := http.NewServeMux()
	p.RegisterProtocol(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/jwks", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != `{"keys":[]}` {
		t.Errorf("GET /jwks = %d %q", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("Content-Type"); got != "application/jwk-set+json" {
		t.Errorf("Content-Type = %q", got)
	}
}
