package oidc

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func basic(userpass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass))
}

func TestParseBasic(t *testing.T) {
	tests := []struct {
		name       string
		header     string
		wantID     string
		wantSecret string
		wantErr    bool
	}{
		{"plain", basic("portail-rh:s3cret"), "portail-rh", "s3cret", false},
		{"percent-encoded hyphen", basic("tno%2Dpeer:s3cret"), "tno-peer", "s3cret", false},
		{"plus is a space", basic("my+client:a+b"), "my client", "a b", false},
		{"encoded plus is a plus", basic("c:a%2Bb"), "c", "a+b", false},
		{"encoded colon in the ID", basic("a%3Ab:c"), "a:b", "c", false},
		{"colons in the secret after the first", basic("client:pa:ss:word"), "client", "pa:ss:word", false},
		{"encoded percent", basic("c:100%25"), "c", "100%", false},
		{"UTF-8 secret", basic("c:%C3%A9t%C3%A9"), "c", "été", false},
		{"base64 with + and /", basic("c:>>>???"), "c", ">>>???", false},
		{"empty ID and secret", basic(":"), "", "", false},
		{"empty secret", basic("client:"), "client", "", false},
		{"lowercase scheme", "basic " + base64.StdEncoding.EncodeToString([]byte("c:s")), "c", "s", false},
		{"uppercase scheme", "BASIC " + base64.StdEncoding.EncodeToString([]byte("c:s")), "c", "s", false},
		{"extra spaces", "Basic   " + base64.StdEncoding.EncodeToString([]byte("c:s")) + "  ", "c", "s", false},
		{"missing colon", basic("client"), "", "", true},
		{"malformed base64", "Basic !!!not-base64!!!", "", "", true},
		{"unpadded base64", "Basic " + base64.RawStdEncoding.EncodeToString([]byte("ab:c")), "", "", true},
		{"base64url alphabet", "Basic " + base64.URLEncoding.EncodeToString([]byte("c:>>>???")), "", "", true},
		{"bad percent-encoding in ID", basic("a%zz:b"), "", "", true},
		{"truncated percent-encoding in secret", basic("a:b%"), "", "", true},
		{"truncated percent-encoding in secret, one digit", basic("a:b%4"), "", "", true},
		{"Bearer scheme", "Bearer abc", "", "", true},
		{"Basic without credentials", "Basic", "", "", true},
		{"Basic and a space only", "Basic ", "", "", true},
		{"tab instead of space", "Basic\t" + base64.StdEncoding.EncodeToString([]byte("c:s")), "", "", true},
		{"scheme prefix only", "Basicx " + base64.StdEncoding.EncodeToString([]byte("c:s")), "", "", true},
		{"empty", "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, secret, err := parseBasic(tt.header)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseBasic(%q) error = %v, want error %v", tt.header, err, tt.wantErr)
			}
			if err != nil {
				if id != "" || secret != "" {
					t.Errorf("parseBasic returned %q, %q with an error", id, secret)
				}
				return
			}
			if id != tt.wantID || secret != tt.wantSecret {
				t.Errorf("parseBasic(%q) = %q, %q; want %q, %q", tt.header, id, secret, tt.wantID, tt.wantSecret)
			}
		})
	}
}

// The error text reaches clients as error_description: it must not echo
// the credentials.
func TestParseBasicErrorDoesNotLeak(t *testing.T) {
	for _, h := range []string{basic("a%zz:hunter2"), basic("a:hunter2%"), basic("hunter2")} {
		_, _, err := parseBasic(h)
		if err == nil {
			t.Fatalf("parseBasic(%q) succeeded", h)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parseBasic error %q echoes the secret", err)
		}
	}
}

func TestReadClientCredentials(t *testing.T) {
	tests := []struct {
		name     string
		header   string
		form     url.Values
		want     clientCredentials
		wantCode string // OAuth error code, "" for success
	}{
		{"basic", basic("portail-rh:s3cret"), url.Values{}, clientCredentials{method: "client_secret_basic", clientID: "portail-rh", secret: "s3cret"}, ""},
		{"basic, form-encoded", basic("tno%2Dpeer:a%2Bb"), nil, clientCredentials{method: "client_secret_basic", clientID: "tno-peer", secret: "a+b"}, ""},
		{"basic with matching form client_id", basic("portail-rh:s3cret"), url.Values{"client_id": {"portail-rh"}}, clientCredentials{method: "client_secret_basic", clientID: "portail-rh", secret: "s3cret"}, ""},
		{"basic with mismatching form client_id", basic("portail-rh:s3cret"), url.Values{"client_id": {"mobile"}}, clientCredentials{}, "invalid_request"},
		{"basic and client_secret", basic("portail-rh:s3cret"), url.Values{"client_secret": {"s3cret"}}, clientCredentials{}, "invalid_request"},
		{"basic and empty client_secret", basic("portail-rh:s3cret"), url.Values{"client_secret": {""}}, clientCredentials{}, "invalid_request"},
		{"malformed basic", "Basic %%%", url.Values{"client_id": {"portail-rh"}}, clientCredentials{}, "invalid_client"},
		{"other scheme", "Bearer abc", url.Values{"client_id": {"portail-rh"}}, clientCredentials{}, "invalid_client"},
		{"post", "", url.Values{"client_id": {"portail-rh"}, "client_secret": {"s3cret"}}, clientCredentials{method: "client_secret_post", clientID: "portail-rh", secret: "s3cret"}, ""},
		{"post, empty secret", "", url.Values{"client_id": {"portail-rh"}, "client_secret": {""}}, clientCredentials{method: "client_secret_post", clientID: "portail-rh", secret: ""}, ""},
		{"none", "", url.Values{"client_id": {"mobile"}}, clientCredentials{method: "none", clientID: "mobile"}, ""},
		{"secret without client_id", "", url.Values{"client_secret": {"s3cret"}}, clientCredentials{}, "invalid_client"},
		{"nothing", "", url.Values{}, clientCredentials{}, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/token", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			form := tt.form
			if form == nil {
				form = url.Values{}
			}
			got, oe := readClientCredentials(r, form)
			if tt.wantCode != "" {
				if oe == nil || oe.Code != tt.wantCode {
					t.Fatalf("readClientCredentials = %+v, %v; want error %s", got, oe, tt.wantCode)
				}
				if oe.Description == "" {
					t.Errorf("error %s has no description", oe.Code)
				}
				return
			}
			if oe != nil {
				t.Fatalf("readClientCredentials error %v", oe)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(clientCredentials{})); diff != "" {
				t.Errorf("readClientCredentials (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseBasic checks that parseBasic never panics and that what it
// decodes, form-encoded and Basic-encoded again, decodes to the same
// client ID and secret (RFC 6749 section 2.3.1).
func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{
		basic("portail-rh:s3cret"),
		basic("tno%2Dpeer:a%2Bb"),
		basic("my+client:a+b"),
		basic("client:pa:ss"),
		basic("a%zz:b"),
		basic("client"),
		"basic " + base64.StdEncoding.EncodeToString([]byte("c:s")),
		"Basic !!!",
		"Bearer x",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		id, secret, err := parseBasic(h)
		if err != nil {
			return
		}
		again := basic(url.QueryEscape(id) + ":" + url.QueryEscape(secret))
		id2, secret2, err := parseBasic(again)
		if err != nil {
			t.Fatalf("parseBasic(%q) = %q, %q; re-encoded %q fails: %v", h, id, secret, again, err)
		}
		if id2 != id || secret2 != secret {
			t.Fatalf("round trip of %q: got %q, %q; want %q, %q", h, id2, secret2, id, secret)
		}
	})
}
