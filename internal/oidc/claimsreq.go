package oidc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/territoires-ouverts/tno/internal/session"
)

// maxClaimsLength bounds the claims parameter accepted.
const maxClaimsLength = 8 << 10

// claimNameRE matches the claim names an error description may repeat.
var claimNameRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// claimRequest is one claim requested through the claims parameter
// (OpenID Connect Core section 5.5.1): null, or an object with essential,
// value and values. Members not understood are ignored.
type claimRequest struct {
	Essential bool
	Values    []string // value and values of a claim whose values are strings (acr)
}

// claimsRequest is a parsed claims parameter: the claims requested in
// the ID token and at userinfo, by name.
type claimsRequest struct {
	IDToken  map[string]claimRequest
	Userinfo map[string]claimRequest
}

// parseClaimsRequest parses and validates the claims parameter: a JSON
// object whose "id_token" and "userinfo" members, if present and not
// null, are objects; each of their members is null or an object whose
// "essential" is a boolean and whose "values" is an array. The "value"
// and "values" of acr must be strings. Other top-level members are
// ignored (section 5.5). An empty raw is no request.
func parseClaimsRequest(raw string) (claimsRequest, error) {
	var out claimsRequest
	if raw == "" {
		return out, nil
	}
	if len(raw) > maxClaimsLength {
		return out, fmt.Errorf("longer than %d bytes", maxClaimsLength)
	}
	top, err := jsonObject([]byte(raw))
	if err != nil || top == nil {
		return out, errors.New("not a JSON object")
	}
	for _, member := range []struct {
		name string
		dst  *map[string]claimRequest
	}{{"id_token", &out.IDToken}, {"userinfo", &out.Userinfo}} {
		raw, ok := top[member.name]
		if !ok {
			continue
		}
		m, err := jsonObject(raw)
		if err != nil {
			return out, fmt.Errorf("%s: not an object", member.name)
		}
		if m == nil {
			continue // null: nothing requested
		}
		*member.dst = make(map[string]claimRequest, len(m))
		for name, v := range m {
			cr, err := parseClaimRequest(name, v)
			if err != nil {
				if !claimNameRE.MatchString(name) {
					name = "*" // said back in error_description: no arbitrary text
				}
				return out, fmt.Errorf("%s.%s: %w", member.name, name, err)
			}
			(*member.dst)[name] = cr
		}
	}
	return out, nil
}

func parseClaimRequest(name string, raw json.RawMessage) (claimRequest, error) {
	var cr claimRequest
	m, err := jsonObject(raw)
	if err != nil {
		return cr, errors.New("not null or an object")
	}
	if m == nil {
		return cr, nil
	}
	if v, ok := m["essential"]; ok {
		if err := json.Unmarshal(v, &cr.Essential); err != nil || isNull(v) {
			return cr, errors.New("essential is not a boolean")
		}
	}
	var values []json.RawMessage
	if v, ok := m["values"]; ok {
		if err := json.Unmarshal(v, &values); err != nil || isNull(v) {
			return cr, errors.New("values is not an array")
		}
	}
	if v, ok := m["value"]; ok {
		values = append([]json.RawMessage{v}, values...)
	}
	if name != "acr" {
		return cr, nil // values of other claims are not used
	}
	for _, v := range values {
		var s string
		if err := json.Unmarshal(v, &s); err != nil || isNull(v) {
			return cr, errors.New("acr values must be strings")
		}
		cr.Values = append(cr.Values, s)
	}
	return cr, nil
}

// jsonObject decodes a JSON object into its members, nil for null.
// Duplicate member names are refused: which one counts would be
// ambiguous.
func jsonObject(raw []byte) (map[string]json.RawMessage, error) {
	if isNull(raw) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	m := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := tok.(string)
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("member %q is repeated", k)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		m[k] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("data after the object")
	}
	return m, nil
}

func isNull(raw []byte) bool { return string(bytes.TrimSpace(raw)) == "null" }

// userinfoRequests reports whether the claim name is requested at
// userinfo.
func (c claimsRequest) userinfoRequests(name string) bool {
	_, ok := c.Userinfo[name]
	return ok
}

// acrRequirement is what an authorization request asks of the
// authentication level: the values it requires (an essential acr claim
// with values, OpenID Connect Core section 5.5.1.1), or, failing that,
// the values it prefers (acr_values, or a voluntary acr claim).
type acrRequirement struct {
	essential []string
	preferred []string
}

// acrRequirementOf reads the acr requirement of a request's acr_values
// and parsed claims parameter.
func acrRequirementOf(acrValues string, c claimsRequest) acrRequirement {
	var req acrRequirement
	for _, m := range []map[string]claimRequest{c.IDToken, c.Userinfo} {
		if cr, ok := m["acr"]; ok {
			if cr.Essential && len(cr.Values) > 0 {
				req.essential = append(req.essential, cr.Values...)
			} else {
				req.preferred = append(req.preferred, cr.Values...)
			}
		}
	}
	req.preferred = append(req.preferred, strings.Fields(acrValues)...)
	return req
}

// reachable reports whether some sign-in could meet the requirement: an
// essential level none of whose values TNO supports can never be met.
func (a acrRequirement) reachable() bool {
	if len(a.essential) == 0 {
		return true
	}
	for _, v := range a.essential {
		if session.Reachable(v) {
			return true
		}
	}
	return false
}

// release returns the acr claim for a session at level achieved: the
// first required value the session satisfies (ok=false if there is
// none: the requirement is unmet); without requirement, the first
// preferred value it satisfies, or else the level achieved (a voluntary
// request, section 5.5.1.1, is no reason to fail).
func (a acrRequirement) release(achieved string) (acr string, ok bool) {
	if len(a.essential) > 0 {
		for _, v := range a.essential {
			if session.Satisfies(achieved, v) {
				return v, true
			}
		}
		return "", false
	}
	for _, v := range a.preferred {
		if session.Satisfies(achieved, v) {
			return v, true
		}
	}
	return achieved, true
}
