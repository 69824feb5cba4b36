package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/territory"
)

// openAPIDoc is the part of the OpenAPI document the tests read.
type openAPIDoc struct {
	OpenAPI string                                 `json:"openapi"`
	Servers []struct{ URL string }                 `json:"servers"`
	Paths   map[string]map[string]openAPIOperation `json:"paths"`
	Comps   struct {
		Schemas map[string]struct {
			Properties           map[string]json.RawMessage `json:"properties"`
			Required             []string                   `json:"required"`
			AdditionalProperties *bool                      `json:"additionalProperties"`
		} `json:"schemas"`
		SecuritySchemes map[string]struct {
			Type  string `json:"type"`
			Flows struct {
				ClientCredentials *struct {
					TokenURL string `json:"tokenUrl"`
				} `json:"clientCredentials"`
			} `json:"flows"`
		} `json:"securitySchemes"`
	} `json:"components"`
	Security []map[string][]string `json:"security"`
}

type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Responses   map[string]json.RawMessage `json:"responses"`
	Security    *[]map[string][]string     `json:"security"`
}

func readOpenAPI(t *testing.T, b []byte) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// TestOpenAPIDescribesEveryRoute: the document lists every operation the
// API registers and no other; each has an ID and its responses, success
// and errors; every $ref names a component that exists.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc := readOpenAPI(t, openAPI)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != apiPrefix {
		t.Fatalf("servers = %+v, want one at %s", doc.Servers, apiPrefix)
	}
	var documented []string
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			name := strings.ToUpper(method) + " " + apiPrefix + path
			documented = append(documented, name)
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s: operationId %q missing or not unique", name, op.OperationID)
			}
			ids[op.OperationID] = true
			var success, failure bool
			for code := range op.Responses {
				success = success || strings.HasPrefix(code, "2")
				failure = failure || strings.HasPrefix(code, "4")
			}
			public := op.Security != nil && len(*op.Security) == 0
			if !success || (!failure && !public) {
				t.Errorf("%s: responses %v, want a success and its errors", name, sortedKeys(op.Responses))
			}
			if _, ok := op.Responses["401"]; !ok && !public {
				t.Errorf("%s: needs a token but lists no 401", name)
			}
			if method == "patch" {
				for _, code := range []string{"412", "428", "422"} {
					if _, ok := op.Responses[code]; !ok {
						t.Errorf("%s: no %s response", name, code)
					}
				}
			}
		}
	}
	var registered []string
	for _, rt := range (&Console{}).apiTable() {
		registered = append(registered, rt.pattern)
		op := doc.Paths[strings.TrimPrefix(strings.SplitN(rt.pattern, " ", 2)[1], apiPrefix)][strings.ToLower(strings.SplitN(rt.pattern, " ", 2)[0])]
		if public := op.Security != nil && len(*op.Security) == 0; public != rt.public {
			t.Errorf("%s: public in the document %v, in the table %v", rt.pattern, public, rt.public)
		}
	}
	sort.Strings(documented)
	sort.Strings(registered)
	if d := cmp.Diff(registered, documented); d != "" {
		t.Errorf("registered routes (-) and documented operations (+) differ:\n%s", d)
	}

	cc := doc.Comps.SecuritySchemes["clientCredentials"]
	if cc.Type != "oauth2" || cc.Flows.ClientCredentials == nil || cc.Flows.ClientCredentials.TokenURL != "/token" {
		t.Errorf("security scheme = %+v, want OAuth 2 client credentials at /token", cc)
	}
	if len(doc.Security) != 1 || doc.Security[0]["clientCredentials"] == nil {
		t.Errorf("security = %v, want the client credentials scheme for every operation", doc.Security)
	}

	// Every $ref resolves.
	var all any
	if err := json.Unmarshal(openAPI, &all); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					if !resolves(all, s) {
						t.Errorf("$ref %s names nothing", s)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(all)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func resolves(doc any, ref string) bool {
	if !strings.HasPrefix(ref, "#/") {
		return false
	}
	cur := doc
	for part := range strings.SplitSeq(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// jsonNames returns the JSON names of a struct's fields, embedded ones
// included.
func jsonNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case f.Anonymous && name == "":
			out = append(out, jsonNames(f.Type)...)
		case f.IsExported():
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPISchemasMatchTheViews: each schema names exactly the fields
// of the Go type the API encodes or decodes.
func TestOpenAPISchemasMatchTheViews(t *testing.T) {
	doc := readOpenAPI(t, openAPI)
	for schema, v := range map[string]any{
		"Org": territory.OrgView{}, "Person": territory.PersonView{}, "Membership": territory.MembershipView{},
		"App": apps.View{}, "AuditEvent": apiAuditEvent{}, "Problem": problem{}, "FieldError": field.Error{},
		"PersonCreate": apiNewPerson{}, "MembershipFields": apiMembershipFields{}, "MembershipCreate": apiNewMembership{},
		"AuditPage": apiAuditPage{}, "PersonList": apiList[territory.PersonView]{},
	} {
		s, ok := doc.Comps.Schemas[schema]
		if !ok {
			t.Errorf("no schema %s", schema)
			continue
		}
		if d := cmp.Diff(jsonNames(reflect.TypeOf(v)), sortedKeys(s.Properties)); d != "" {
			t.Errorf("schema %s and %T differ (-Go +schema):\n%s", schema, v, d)
		}
	}
	for schema, fields := range map[string][]string{"PersonPatch": personPatchFields, "MembershipPatch": membershipPatchFields} {
		want := slices.Clone(fields)
		sort.Strings(want)
		if d := cmp.Diff(want, sortedKeys(doc.Comps.Schemas[schema].Properties)); d != "" {
			t.Errorf("schema %s and its patchable fields differ (-Go +schema):\n%s", schema, d)
		}
	}
	for _, schema := range []string{"PersonCreate", "MembershipFields", "MembershipCreate", "PersonPatch", "MembershipPatch"} {
		if ap := doc.Comps.Schemas[schema].AdditionalProperties; ap == nil || *ap {
			t.Errorf("schema %s allows unknown fields: the API refuses them", schema)
		}
	}
}

// TestOpenAPIUnderAPath: an issuer with a path serves the document with
// its URLs under that path.
func TestOpenAPIUnderAPath(t *testing.T) {
	b, err := openAPIDocument("/tno")
	if err != nil {
		t.Fatal(err)
	}
	doc := readOpenAPI(t, b)
	if doc.Servers[0].URL != "/tno/api/v1" || doc.Comps.SecuritySchemes["clientCredentials"].Flows.ClientCredentials.TokenURL != "/tno/token" {
		t.Errorf("under /tno: servers %+v, token URL %+v", doc.Servers, doc.Comps.SecuritySchemes)
	}
}

func TestPaginate(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e"}
	id := func(s string) string { return s }
	var got []string
	cursor, pages := "", 0
	for {
		r := httptest.NewRequest(http.MethodGet, "/x?limit=2&cursor="+cursor, nil)
		page, err := paginate(r, items, id)
		if err != nil {
			t.Fatal(err)
		}
		got, pages = append(got, page.Items...), pages+1
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, items) || pages != 3 {
		t.Errorf("pages of 2: %v in %d pages", got, pages)
	}
	for _, q := range []string{"limit=0", "limit=501", "limit=x", "cursor=%21%21"} {
		r := httptest.NewRequest(http.MethodGet, "/x?"+q, nil)
		var ae *apiError
		if _, err := paginate(r, items, id); !errors.As(err, &ae) || ae.status != http.StatusBadRequest || len(ae.errs) != 1 {
			t.Errorf("%s: err = %v, want 400 with a field error", q, err)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	if page, _ := paginate(r, []string{}, id); page.Items == nil || page.NextCursor != "" {
		t.Errorf("empty list: %#v, want [] and no cursor", page)
	}
}

func TestIfMatch(t *testing.T) {
	for _, tc := range []struct {
		header string
		status int // 0: matches
	}{
		{`"3"`, 0},
		{`"1", "3"`, 0},
		{`*`, 0},
		{`"2"`, http.StatusPreconditionFailed},
		{`W/"3"`, http.StatusPreconditionFailed}, // weak tags never match If-Match
		{`3`, http.StatusPreconditionFailed},
		{``, http.StatusPreconditionRequired},
	} {
		r := httptest.NewRequest(http.MethodPatch, "/x", nil)
		if tc.header != "" {
			r.Header.Set("If-Match", tc.header)
		}
		err := ifMatch(r, 3)
		var ae *apiError
		switch {
		case tc.status == 0 && err != nil:
			t.Errorf("If-Match %s: %v, want a match", tc.header, err)
		case tc.status != 0 && (!errors.As(err, &ae) || ae.status != tc.status):
			t.Errorf("If-Match %s: %v, want %d", tc.header, err, tc.status)
		}
	}
}

func TestDecodeBody(t *testing.T) {
	type target struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	for _, tc := range []struct {
		name, ctype, body string
		status            int    // 0: decoded
		field             string // for 422
	}{
		{"ok", "application/json; charset=utf-8", `{"name": "a", "count": 2}`, 0, ""},
		{"no content type", "", `{}`, http.StatusUnsupportedMediaType, ""},
		{"form", "application/x-www-form-urlencoded", `name=a`, http.StatusUnsupportedMediaType, ""},
		{"empty", "application/json", ``, http.StatusBadRequest, ""},
		{"not JSON", "application/json", `{"name": `, http.StatusBadRequest, ""},
		{"garbage", "application/json", `{x}`, http.StatusBadRequest, ""},
		{"unknown field", "application/json", `{"nom": "a"}`, http.StatusBadRequest, ""},
		{"two values", "application/json", `{} {}`, http.StatusBadRequest, ""},
		{"an array", "application/json", `[]`, http.StatusBadRequest, ""},
		{"wrong type", "application/json", `{"count": "2"}`, http.StatusUnprocessableEntity, "count"},
		{"too large", "application/json", `{"name": "` + strings.Repeat("a", apiMaxBody) + `"}`, http.StatusRequestEntityTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(tc.body))
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			var v target
			err := decodeBody(httptest.NewRecorder(), r, &v)
			var ae *apiError
			switch {
			case tc.status == 0:
				if err != nil || v != (target{"a", 2}) {
					t.Errorf("decoded %+v, %v", v, err)
				}
			case tc.status == http.StatusUnprocessableEntity:
				if fes := field.List(err); len(fes) != 1 || fes[0].Field != tc.field {
					t.Errorf("err = %v, want a field error on %s", err, tc.field)
				}
			case !errors.As(err, &ae) || ae.status != tc.status:
				t.Errorf("err = %v, want %d", err, tc.status)
			}
		})
	}
}

func TestAPIDate(t *testing.T) {
	if d, err := apiDate("from", "2026-09-01"); err != nil || d.Hour() != 0 || d.Day() != 1 {
		t.Errorf("a day: %v %v", d, err)
	}
	if d, err := apiDate("from", "2026-09-01T08:00:00Z"); err != nil || d.UTC().Hour() != 8 {
		t.Errorf("a date-time: %v %v", d, err)
	}
	if _, err := apiDate("from", "01/09/2026"); len(field.List(err)) != 1 || field.List(err)[0].Field != "from" {
		t.Errorf("a French date: %v, want a field error", err)
	}
}
