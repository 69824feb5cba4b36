package admin

// The REST API: JSON under /api/v1 for scripts and HR tools, the
// console's sibling front end over the same use cases. It lives on the
// protocol mux: no cookies, no cross-origin browser protection (nothing
// ambient to forge); every request carries an access token that TNO's
// token endpoint issued to the application itself (client_credentials),
// and acts as that application (authz.KindClient) with the roles it
// holds (storage.ClientRole, granted with tno app grant-admin).
//
// Errors are RFC 9457 problem details; field errors are internal/field's.
// Records carry their version as an entity tag: a PATCH needs If-Match.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// apiPrefix is where the API lives, under the issuer's path.
const apiPrefix = "/api/v1"

// apiMaxBody bounds a request body.
const apiMaxBody = 1 << 20

// apiRoute is one API operation.
type apiRoute struct {
	pattern string // "GET /api/v1/orgs/{org}", without the base path
	h       handler
	public  bool // no access token needed (the OpenAPI document)
}

// apiTable lists every API operation. The OpenAPI document describes
// exactly these (a test checks both ways).
func (c *Console) apiTable() []apiRoute {
	rs := []apiRoute{{pattern: "GET " + apiPrefix + "/openapi.json", h: c.apiOpenAPI, public: true}}
	rs = append(rs, c.apiOrgRoutes()...)
	rs = append(rs, c.apiPeopleRoutes()...)
	return rs
}

// RegisterAPI mounts the REST API on mux (the protocol mux: it
// authenticates with bearer tokens only). Paths under the API's prefix
// that name no operation answer a problem document (404, or 405 with
// Allow).
func (c *Console) RegisterAPI(mux *http.ServeMux) {
	api := http.NewServeMux()
	for _, rt := range c.apiTable() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		api.Handle(method+" "+c.base+path, c.apiServe(rt))
	}
	mux.Handle(c.base+"/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := api.Handler(r); pattern != "" {
			api.ServeHTTP(w, r)
			return
		}
		rec := &headerRecorder{header: http.Header{}}
		h, _ := api.Handler(r)
		h.ServeHTTP(rec, r)
		switch rec.status {
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", rec.header.Get("Allow"))
			writeProblem(w, http.StatusMethodNotAllowed, "this path does not answer "+r.Method, nil)
		case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			w.Header().Set("Location", rec.header.Get("Location")) // a path to clean
			w.WriteHeader(rec.status)
		default:
			writeProblem(w, http.StatusNotFound, "no such operation: see "+c.base+apiPrefix+"/openapi.json", nil)
		}
	}))
}

// APIPatterns lists the API's operations ("GET /api/v1/orgs").
func (c *Console) APIPatterns() []string {
	var out []string
	for _, rt := range c.apiTable() {
		out = append(out, rt.pattern)
	}
	return out
}

// headerRecorder keeps what the mux's own 404, 405 or redirect says.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(status int)      { h.status = status }

// apiServe authenticates the client (unless the route is public), then
// runs the operation and writes its error.
func (c *Console) apiServe(rt apiRoute) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var a authz.Actor
		if !rt.public {
			var err error
			if a, err = c.apiActor(r); err != nil {
				c.apiFail(w, r, err)
				return
			}
		}
		if err := rt.h(w, r, a); err != nil {
			c.apiFail(w, r, err)
		}
	})
}

// apiActor authenticates the request: an access token TNO issued to an
// application for itself (client_credentials: no person), not expired,
// not revoked, of an application that is not disabled. The actor holds
// the application's roles.
func (c *Console) apiActor(r *http.Request) (authz.Actor, error) {
	ctx := r.Context()
	scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	raw = strings.TrimSpace(raw)
	if !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return authz.Actor{}, &apiError{status: http.StatusUnauthorized, challenge: `Bearer realm="tno"`,
			detail: "send an access token from the token endpoint (grant_type=client_credentials): Authorization: Bearer <token>"}
	}
	refuse := func(why string) (authz.Actor, error) {
		c.log.InfoContext(ctx, "api: access token refused", "reason", why, "path", r.URL.Path)
		return authz.Actor{}, &apiError{status: http.StatusUnauthorized, detail: "the access token is " + why,
			challenge: `Bearer realm="tno", error="invalid_token", error_description="the access token is ` + why + `"`}
	}
	sum := sha256.Sum256([]byte(raw)) // tokens are stored as their hex SHA-256, as internal/oidc stores them
	t, err := c.store.GetToken(ctx, hex.EncodeToString(sum[:]))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return refuse("unknown")
	case err != nil:
		return authz.Actor{}, fmt.Errorf("api: load token: %w", err)
	case t.Kind != storage.TokenAccess:
		return refuse("not an access token")
	case t.PersonID != "":
		return refuse("a person's: the API takes the application's own token (client_credentials)")
	case t.RevokedAt != nil:
		return refuse("revoked")
	case !c.now().Before(t.ExpiresAt):
		return refuse("expired")
	}
	app, err := c.store.GetApplicationByClientID(ctx, t.ClientID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return refuse("of an application that no longer exists")
	case err != nil:
		return authz.Actor{}, fmt.Errorf("api: load application: %w", err)
	case app.Disabled:
		return refuse("of a disabled application")
	}
	crs, err := c.terr.ClientRoles(ctx, app.ClientID)
	if err != nil {
		return authz.Actor{}, err
	}
	roles := make([]storage.AdminRole, 0, len(crs))
	for _, cr := range crs {
		if cr.Role == storage.RoleOrgAdmin || cr.Role == storage.RoleOrgHelpdesk { // never the platform's
			roles = append(roles, storage.AdminRole{OrgID: cr.OrgID, Role: cr.Role, CreatedAt: cr.CreatedAt})
		}
	}
	return authz.Actor{Kind: authz.KindClient, ID: app.ClientID, Address: clientIP(r), Roles: roles}, nil
}

// apiError is an answer other than the storage and permission sentinels.
type apiError struct {
	status    int
	detail    string
	errs      []*field.Error
	challenge string // WWW-Authenticate, for 401
	etag      string // the current version, for 412
}

func (e *apiError) Error() string { return fmt.Sprintf("api: %d %s", e.status, e.detail) }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, detail: fmt.Sprintf(format, args...)}
}

// problem is an RFC 9457 problem details document.
type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Errors []*field.Error `json:"errors,omitempty"`
}

func writeProblem(w http.ResponseWriter, status int, detail string, errs []*field.Error) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs})
}

// apiFail writes err as a problem: 403 for a refused permission, 404 for
// what does not exist (or exists in another organization), 412 or 409
// for an edit from an outdated copy, 409 for a value already taken, 422
// for invalid fields, 500 otherwise (with an error ID in the log).
func (c *Console) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		if ae.challenge != "" {
			w.Header().Set("WWW-Authenticate", ae.challenge)
		}
		if ae.etag != "" {
			w.Header().Set("ETag", ae.etag)
		}
		writeProblem(w, ae.status, ae.detail, ae.errs)
	case errors.Is(err, authz.ErrForbidden):
		writeProblem(w, http.StatusForbidden, "the application's roles do not allow this", nil)
	case errors.Is(err, storage.ErrNotFound):
		writeProblem(w, http.StatusNotFound, "not found", nil)
	case errors.Is(err, storage.ErrStale):
		status := http.StatusConflict
		if r.Header.Get("If-Match") != "" {
			status = http.StatusPreconditionFailed
		}
		writeProblem(w, status, "changed by someone else meanwhile: read it again and make the change again", nil)
	case errors.Is(err, storage.ErrConflict):
		writeProblem(w, http.StatusConflict, "already exists", field.List(err))
	case field.Is(err):
		writeProblem(w, http.StatusUnprocessableEntity, "invalid fields: see errors", field.List(err))
	case errors.Is(err, context.Canceled):
	default:
		id := web.NewErrorID()
		c.log.ErrorContext(r.Context(), "api request failed", "err", err, "error_id", id, "path", r.URL.Path)
		writeProblem(w, http.StatusInternalServerError, "internal error, ID "+id, nil)
	}
}

// writeJSON answers v.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// etag is a record version's entity tag.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// writeRecord answers one record with its version as ETag.
func writeRecord(w http.ResponseWriter, status int, version int64, v any) {
	w.Header().Set("ETag", etag(version))
	writeJSON(w, status, v)
}

// requireIfMatch refuses a change that does not say which version it
// was made from (428).
func requireIfMatch(r *http.Request) error {
	if strings.TrimSpace(r.Header.Get("If-Match")) == "" {
		return &apiError{status: http.StatusPreconditionRequired,
			detail: `send If-Match with the ETag of the record as read (If-Match: "1" for version 1), so that a change made meanwhile is not lost`}
	}
	return nil
}

// ifMatch checks If-Match against the record's current version: a list
// of strong entity tags, or "*" (RFC 9110 section 13.1.1). It returns
// 412 with the current ETag when none matches.
func ifMatch(r *http.Request, current int64) error {
	if err := requireIfMatch(r); err != nil {
		return err
	}
	for tag := range strings.SplitSeq(r.Header.Get("If-Match"), ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || tag == etag(current) {
			return nil
		}
	}
	return &apiError{status: http.StatusPreconditionFailed, etag: etag(current),
		detail: "the record changed since it was read (its ETag is now " + etag(current) + "): read it again and make the change again"}
}

// decodeBody reads a JSON body into v: one JSON value of at most 1 MiB,
// with no field v does not have. types lists the media types accepted
// besides application/json.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, types ...string) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !slices.Contains(types, mt)) {
		return &apiError{status: http.StatusUnsupportedMediaType, detail: "send the body as " + strings.Join(append([]string{"application/json"}, types...), " or ")}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, apiMaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return jsonError(err)
		}
		return badRequest("the body holds more than one JSON value")
	}
	return nil
}

// jsonError explains a decoding error: 413 for a body too large, 422 for
// a field of the wrong type, 400 for the rest.
func jsonError(err error) error {
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return &apiError{status: http.StatusRequestEntityTooLarge, detail: fmt.Sprintf("the body is larger than %d bytes", apiMaxBody)}
	case errors.Is(err, io.EOF):
		return badRequest("the body is empty: send a JSON object")
	case errors.As(err, &syntax):
		return badRequest("the body is not JSON: %v (at byte %d)", syntax, syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the body is not JSON: it ends too soon")
	case errors.As(err, &typ) && typ.Field == "":
		return badRequest("the body must be a JSON object")
	case errors.As(err, &typ):
		return field.New(typ.Field, "type", "must be a JSON %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("%s: the fields are listed in the OpenAPI document", strings.TrimPrefix(err.Error(), "json: "))
	}
	return badRequest("the body is not a valid JSON object")
}

// jsonKind names a Go kind as JSON does.
func jsonKind(goKind string) string {
	switch goKind {
	case "string", "ptr":
		return "string"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	}
	return "number"
}

// apiDate reads a date field: RFC 3339 ("2026-09-01T08:00:00Z") or a
// day ("2026-09-01", local midnight, as the console takes it).
func apiDate(name, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, time.Local); err == nil {
		return t, nil
	}
	return time.Time{}, field.New(name, "date", "not a date (YYYY-MM-DD or RFC 3339): %q", s)
}

// apiList is one page of a list.
type apiList[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"` // "" on the last page
}

const (
	apiDefaultLimit = 50
	apiMaxLimit     = 500
)

// apiLimit reads ?limit= (default 50, at most 500).
func apiLimit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return apiDefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > apiMaxLimit {
		return 0, &apiError{status: http.StatusBadRequest, detail: "invalid query parameter",
			errs: []*field.Error{field.New("limit", field.Invalid, "must be a number from 1 to %d", apiMaxLimit)}}
	}
	return n, nil
}

// paginate returns the page of items (sorted by key, unique) that
// follows ?cursor= with ?limit= items, and the cursor of the next page.
// The cursor is opaque to clients: the key of the last item returned.
func paginate[T any](r *http.Request, items []T, key func(T) string) (apiList[T], error) {
	limit, err := apiLimit(r)
	if err != nil {
		return apiList[T]{}, err
	}
	after := ""
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(b) == 0 {
			return apiList[T]{}, &apiError{status: http.StatusBadRequest, detail: "invalid query parameter",
				errs: []*field.Error{field.New("cursor", field.Invalid, "give back the next_cursor of the previous page")}}
		}
		after = string(b)
	}
	lo := 0
	for lo < len(items) && after != "" && key(items[lo]) <= after {
		lo++
	}
	hi := min(lo+limit, len(items))
	page := apiList[T]{Items: items[lo:hi]}
	if page.Items == nil {
		page.Items = []T{}
	}
	if hi < len(items) {
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(key(items[hi-1])))
	}
	return page, nil
}
