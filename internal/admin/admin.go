// Package admin is the administration console: server-rendered pages
// under /admin for the platform's and each organization's administrators,
// over the same use cases as the CLI (internal/territory, internal/apps).
// Every page acts as the signed-in person (authz.Actor with their roles),
// and every use case checks its permission: the console hides what a
// person may not do, the use cases refuse it.
//
// It imports the use cases, the permission model, storage (reads), the
// signing keys, the session levels and the presentation kit (internal/web).
package admin

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/keys"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
	"github.com/territoires-ouverts/tno/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed messages/*.json
var messageFS embed.FS

// Auth is what the console needs from the sign-in engine.
type Auth interface {
	// Session returns the browser's valid session.
	Session(w http.ResponseWriter, r *http.Request) (storage.Session, bool, error)
	// StartLocal signs the browser in (or steps its session up), then
	// comes back to returnTo.
	StartLocal(w http.ResponseWriter, r *http.Request, returnTo string, prompt ...string)
}

// Setting is one read-only deployment setting shown to the platform.
type Setting struct{ Name, Value string }

// Options configures a Console.
type Options struct {
	BasePath  string // the issuer's path, "" at the root
	Renderer  *web.Renderer
	Auth      Auth
	Store     storage.Store // reads the use cases do not offer (audit log, keys)
	Territory *territory.Service
	Apps      *apps.Service
	Keys      *keys.Manager
	Invites   Invitations // nil: no invitations
	Settings  []Setting
	Logger    *slog.Logger
	Now       func() time.Time
}

// Console serves the administration pages.
type Console struct {
	base     string
	surface  *web.Surface
	auth     Auth
	store    storage.Store
	terr     *territory.Service
	apps     *apps.Service
	keys     *keys.Manager
	invites  Invitations
	settings []Setting
	log      *slog.Logger
	now      func() time.Time
	routes   []route
}

// route is one console endpoint.
type route struct {
	pattern string // "GET /admin/orgs/{org}/people", without the base path
	h       handler
}

// handler serves one request for the signed-in actor.
type handler func(w http.ResponseWriter, r *http.Request, a authz.Actor) error

// New returns a Console.
func New(opts Options) (*Console, error) {
	if opts.Renderer == nil || opts.Auth == nil || opts.Store == nil || opts.Territory == nil || opts.Apps == nil {
		return nil, errors.New("admin: Renderer, Auth, Store, Territory and Apps are required")
	}
	tmpl, err := fs.Sub(templateFS, "templates")
	if err != nil {
		return nil, err
	}
	msgs, err := fs.Sub(messageFS, "messages")
	if err != nil {
		return nil, err
	}
	surface, err := opts.Renderer.NewSurface("admin", tmpl, msgs)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Console{
		base: strings.TrimSuffix(opts.BasePath, "/"), surface: surface, auth: opts.Auth, store: opts.Store,
		terr: opts.Territory, apps: opts.Apps, keys: opts.Keys, invites: opts.Invites, settings: opts.Settings, log: opts.Logger, now: opts.Now,
	}
	c.routes = c.table()
	return c, nil
}

// Register mounts every console route on mux (the browser mux: its
// cross-origin protection guards every form).
func (c *Console) Register(mux *http.ServeMux) {
	for _, rt := range c.routes {
		method, path, _ := strings.Cut(rt.pattern, " ")
		mux.Handle(method+" "+c.base+path, c.serve(rt.h))
	}
	mux.HandleFunc("GET "+c.base+PathIcon, c.serveIcon) // public: no actor
}

// Patterns lists the console's routes ("GET /admin/orgs/{org}"), for
// the test that checks every one refuses another organization.
func (c *Console) Patterns() []string {
	out := make([]string, len(c.routes))
	for i, rt := range c.routes {
		out[i] = rt.pattern
	}
	return out
}

// path returns the console URL for p ("/admin/…").
func (c *Console) path(p string) string { return c.base + p }

// serve signs the actor in, then runs h and renders its error.
func (c *Console) serve(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := c.actor(w, r)
		if !ok {
			return
		}
		if err := h(w, r, a); err != nil {
			c.fail(w, r, err)
		}
	})
}

// actor returns the signed-in person as an actor, or answers the request
// itself: a sign-in (or a step-up to a second factor, which every
// administrator needs), or a refusal for a person without a role.
func (c *Console) actor(w http.ResponseWriter, r *http.Request) (authz.Actor, bool) {
	ctx := r.Context()
	sess, ok, err := c.auth.Session(w, r)
	if err != nil {
		c.fail(w, r, err)
		return authz.Actor{}, false
	}
	returnTo := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		returnTo = c.path("/admin")
	}
	if !ok {
		c.auth.StartLocal(w, r, returnTo)
		return authz.Actor{}, false
	}
	roles, err := c.terr.Roles(ctx, sess.PersonID)
	if err != nil {
		c.fail(w, r, err)
		return authz.Actor{}, false
	}
	if len(roles) == 0 {
		c.render(w, r, http.StatusForbidden, "denied", "admin.denied.title", nil, deniedPage{})
		return authz.Actor{}, false
	}
	if session.Rank(sess.ACR) < session.Rank(session.ACREidas2) {
		c.auth.StartLocal(w, r, returnTo) // administrators sign in with a second factor
		return authz.Actor{}, false
	}
	return authz.Person(sess.PersonID, clientIP(r), roles), true
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type deniedPage struct{}

// fail renders err: 403 for a refused permission, 404 for what does not
// exist (or exists in another organization), 500 otherwise, with an error
// ID in the log.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, key := http.StatusInternalServerError, "admin.error.internal"
	switch {
	case errors.Is(err, authz.ErrForbidden):
		status, key = http.StatusForbidden, "admin.error.forbidden"
	case errors.Is(err, storage.ErrNotFound):
		status, key = http.StatusNotFound, "admin.error.not_found"
	case errors.Is(err, errBadRequest):
		status, key = http.StatusBadRequest, "admin.error.bad_request"
	case field.Is(err):
		// A field error of an action without a form (a button): say it.
		var msgs []string
		for _, fe := range field.List(err) {
			msgs = append(msgs, c.fieldMessage(r, fe))
		}
		c.render(w, r, http.StatusUnprocessableEntity, "error", "admin.error.title", nil,
			errorPage{Status: http.StatusUnprocessableEntity, MessageKey: "admin.error.invalid", Details: msgs, Home: c.path("/admin")})
		return
	case errors.Is(err, context.Canceled):
		return
	}
	id := web.NewErrorID()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	c.log.Log(r.Context(), level, "admin request failed", "err", err, "error_id", id, "status", status, "path", r.URL.Path)
	c.render(w, r, status, "error", "admin.error.title", nil, errorPage{Status: status, MessageKey: key, ErrorID: id, Home: c.path("/admin")})
}

var errBadRequest = errors.New("admin: bad request")

type errorPage struct {
	Status     int
	MessageKey string
	Details    []string // translated field errors
	ErrorID    string
	Home       string
}

// render draws a console page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name, titleKey string, titleArgs []any, data any) {
	c.surface.Render(w, r, status, web.SurfacePage{Name: name, TitleKey: titleKey, TitleArgs: titleArgs, Data: data})
}

// renderForm draws a page answering a form with errors.
func (c *Console) renderForm(w http.ResponseWriter, r *http.Request, name, titleKey string, titleArgs []any, data any) {
	c.surface.Render(w, r, http.StatusUnprocessableEntity, web.SurfacePage{Name: name, TitleKey: titleKey, TitleArgs: titleArgs, Error: true, Data: data})
}

// T translates for the request's language.
func (c *Console) T(r *http.Request, key string, args ...any) string {
	return c.surface.T(web.Lang(r), key, args...)
}
