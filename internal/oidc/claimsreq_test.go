package oidc

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseClaimsRequest(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    claimsRequest
		wantErr bool
	}{
		{"empty", "", claimsRequest{}, false},
		{"empty object", "{}", claimsRequest{}, false},
		{"null members", `{"id_token":null,"userinfo":null}`, claimsRequest{}, false},
		{"OpenID Connect Core 5.5 example", `{
			"userinfo": {"given_name": {"essential": true}, "nickname": null,
				"email": {"essential": true}, "email_verified": {"essential": true},
				"picture": null, "http://example.info/claims/groups": null},
			"id_token": {"auth_time": {"essential": true},
				"acr": {"values": ["urn:mace:incommon:iap:silver"]}}}`, claimsRequest{
			Userinfo: map[string]claimRequest{
				"given_name": {Essential: true}, "nickname": {}, "email": {Essential: true},
				"email_verified": {Essential: true}, "picture": {}, "http://example.info/claims/groups": {},
			},
			IDToken: map[string]claimRequest{
				"auth_time": {Essential: true}, "acr": {Values: []string{"urn:mace:incommon:iap:silver"}},
			},
		}, false},
		{"essential acr and amr", `{"id_token":{"acr":{"essential":true,"values":["eidas1","eidas2"]},"amr":{"essential":true}}}`, claimsRequest{
			IDToken: map[string]claimRequest{"acr": {Essential: true, Values: []string{"eidas1", "eidas2"}}, "amr": {Essential: true}},
		}, false},
		{"acr value", `{"userinfo":{"acr":{"value":"eidas1"}}}`, claimsRequest{
			Userinfo: map[string]claimRequest{"acr": {Values: []string{"eidas1"}}},
		}, false},
		{"unknown top-level member ignored", `{"verified_claims":{"x":1},"id_token":{}}`, claimsRequest{IDToken: map[string]claimRequest{}}, false},
		{"unknown claim member ignored", `{"id_token":{"email":{"purpose":"x","essential":false}}}`, claimsRequest{
			IDToken: map[string]claimRequest{"email": {}},
		}, false},
		{"values of other claims are not read", `{"id_token":{"sub":{"value":42}}}`, claimsRequest{
			IDToken: map[string]claimRequest{"sub": {}},
		}, false},

		{"not JSON", `{"id_token":`, claimsRequest{}, true},
		{"array", `[]`, claimsRequest{}, true},
		{"string", `"x"`, claimsRequest{}, true},
		{"null", `null`, claimsRequest{}, true},
		{"trailing data", `{} {}`, claimsRequest{}, true},
		{"id_token not an object", `{"id_token":[]}`, claimsRequest{}, true},
		{"userinfo a string", `{"userinfo":"acr"}`, claimsRequest{}, true},
		{"claim request a boolean", `{"id_token":{"acr":true}}`, claimsRequest{}, true},
		{"essential a string", `{"id_token":{"acr":{"essential":"true"}}}`, claimsRequest{}, true},
		{"essential null", `{"id_token":{"acr":{"essential":null}}}`, claimsRequest{}, true},
		{"values not an array", `{"id_token":{"acr":{"values":"eidas1"}}}`, claimsRequest{}, true},
		{"values of other claims not an array", `{"id_token":{"email":{"values":"x"}}}`, claimsRequest{}, true},
		{"acr values not strings", `{"id_token":{"acr":{"values":[1]}}}`, claimsRequest{}, true},
		{"acr value null", `{"id_token":{"acr":{"value":null}}}`, claimsRequest{}, true},
		{"repeated member", `{"id_token":{},"id_token":{}}`, claimsRequest{}, true},
		{"repeated claim", `{"id_token":{"acr":null,"acr":{"essential":true}}}`, claimsRequest{}, true},
		{"too long", `{"id_token":{"x":"` + strings.Repeat("a", maxClaimsLength) + `"}}`, claimsRequest{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseClaimsRequest(tt.raw)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseClaimsRequest: err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// The claim name said back in an error description is a plain token.
func TestClaimsRequestErrorNames(t *testing.T) {
	for raw, want := range map[string]string{
		`{"id_token":{"acr":{"essential":1}}}`:     "id_token.acr: essential is not a boolean",
		`{"userinfo":{"a b\"<>":{"essential":1}}}`: "userinfo.*: essential is not a boolean",
	} {
		_, err := parseClaimsRequest(raw)
		if err == nil || err.Error() != want {
			t.Errorf("parseClaimsRequest(%s) = %v, want %q", raw, err, want)
		}
	}
}

func TestACRRequirement(t *testing.T) {
	tests := []struct {
		name          string
		acrValues     string
		claims        string
		achieved      string
		wantReachable bool
		wantACR       string
		wantOK        bool
	}{
		{"nothing asked", "", "", "eidas1", true, "eidas1", true},
		{"acr_values satisfied", "eidas1", "", "eidas1", true, "eidas1", true},
		{"acr_values unsatisfiable: voluntary, the level reached", "eidas2", "", "eidas1", true, "eidas1", true},
		{"acr_values: first satisfied in order", "eidas3 eidas1", "", "eidas1", true, "eidas1", true},
		{"acr_values unknown", "urn:x", "", "eidas1", true, "eidas1", true},
		{"voluntary acr claim unsatisfiable", "", `{"id_token":{"acr":{"values":["eidas2"]}}}`, "eidas1", true, "eidas1", true},
		{"essential acr met", "", `{"id_token":{"acr":{"essential":true,"values":["eidas2","eidas1"]}}}`, "eidas1", true, "eidas1", true},
		{"essential acr at userinfo met", "", `{"userinfo":{"acr":{"essential":true,"value":"eidas1"}}}`, "eidas1", true, "eidas1", true},
		{"essential acr unmet", "", `{"id_token":{"acr":{"essential":true,"values":["eidas2"]}}}`, "eidas1", true, "", false},
		{"essential acr no sign-in reaches", "", `{"id_token":{"acr":{"essential":true,"values":["eidas3"]}}}`, "eidas2", false, "", false},
		{"essential acr unknown", "", `{"id_token":{"acr":{"essential":true,"values":["urn:x"]}}}`, "eidas1", false, "", false},
		{"essential acr wins over acr_values", "eidas1", `{"id_token":{"acr":{"essential":true,"values":["eidas2"]}}}`, "eidas1", true, "", false},
		{"essential without values: any level", "", `{"id_token":{"acr":{"essential":true}}}`, "eidas1", true, "eidas1", true},
		{"a higher session meets a lower requirement", "", `{"id_token":{"acr":{"essential":true,"values":["eidas1"]}}}`, "eidas2", true, "eidas1", true},
		{"essential met by a level no session reaches yet", "", `{"id_token":{"acr":{"essential":true,"values":["eidas3"]}}}`, "eidas3", false, "eidas3", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseClaimsRequest(tt.claims)
			if err != nil {
				t.Fatal(err)
			}
			req := acrRequirementOf(tt.acrValues, c)
			if got := req.reachable(); got != tt.wantReachable {
				t.Errorf("reachable = %v, want %v", got, tt.wantReachable)
			}
			acr, ok := req.release(tt.achieved)
			if acr != tt.wantACR || ok != tt.wantOK {
				t.Errorf("release(%q) = %q, %v; want %q, %v", tt.achieved, acr, ok, tt.wantACR, tt.wantOK)
			}
		})
	}
}

// FuzzParseClaimsRequest: the parser never panics, and what it accepts is
// a JSON object whose acr values are strings.
func FuzzParseClaimsRequest(f *testing.F) {
	for _, s := range []string{
		"", "{}", `{"id_token":{"acr":{"essential":true,"values":["eidas1"]},"amr":{"essential":true}}}`,
		`{"userinfo":{"acr":{"value":"eidas1"},"amr":null}}`, `{"id_token":null}`, `[1]`, `{"a":{"b":`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := parseClaimsRequest(raw)
		if err != nil {
			for _, c := range err.Error() {
				// RFC 6749 section 4.1.2.1: %x20-21 / %x23-5B / %x5D-7E.
				if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
					t.Fatalf("%q: error %q is not safe for error_description", raw, err)
				}
			}
			return
		}
		if raw != "" && !strings.HasPrefix(strings.TrimSpace(raw), "{") {
			t.Fatalf("%q: accepted a non-object", raw)
		}
		req := acrRequirementOf("", c)
		if acr, ok := req.release("eidas1"); ok && acr == "" {
			t.Fatalf("%q: released an empty acr", raw)
		}
	})
}
