package admin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// appsRoutes are an organization's applications: the list, creation,
// the edit form, the secret (shown once, never in a URL or a log),
// deactivation and deletion after a confirmation page.
func (c *Console) appsRoutes() []route {
	return []route{
		{"GET /admin/orgs/{org}/apps", c.appList},
		{"POST /admin/orgs/{org}/apps", c.appCreate},
		{"GET /admin/orgs/{org}/apps/{id}", c.appShow},
		{"POST /admin/orgs/{org}/apps/{id}", c.appUpdate},
		{"POST /admin/orgs/{org}/apps/{id}/rotate-secret", c.appRotateSecret},
		{"POST /admin/orgs/{org}/apps/{id}/disable", c.appDisable},
		{"POST /admin/orgs/{org}/apps/{id}/enable", c.appEnable},
		{"GET /admin/orgs/{org}/apps/{id}/delete", c.appDeleteConfirm},
		{"POST /admin/orgs/{org}/apps/{id}/delete", c.appDelete},
	}
}

func (c *Console) appsPath(o storage.Organization) string { return c.orgPath(o) + "/apps" }

func (c *Console) appPath(o storage.Organization, app storage.Application) string {
	return c.appsPath(o) + "/" + url.PathEscape(app.ID)
}

// orgDirectory lists every organization (their names are not secret):
// the grants' checkboxes for who may create applications, the names of
// the granted organizations for who may see the organization.
func (c *Console) orgDirectory(ctx context.Context, a authz.Actor, o storage.Organization) ([]storage.Organization, error) {
	perm := authz.AppsCreate
	if !a.Can(perm, authz.Org(o.ID)) {
		perm = authz.OrgRead
	}
	if err := authz.Check(a, perm, authz.Org(o.ID)); err != nil {
		return nil, err
	}
	return c.store.ListOrganizations(ctx)
}

// appSetup is what the application's developers configure: TNO's
// addresses and the application's identifier.
type appSetup struct {
	Issuer     string
	Discovery  string
	ClientID   string
	Public     bool
	AuthMethod string // token_endpoint_auth_method, "" for the default
	UsesSecret bool
	HasSecret  bool
	Redirects  []string
	Scopes     string // what it may ask for, openid first
}

// issuer is TNO's issuer URL: the deployment's setting, else the
// request's origin and the base path.
func (c *Console) issuer(r *http.Request) string {
	for _, s := range c.settings {
		if s.Name == "issuer" && s.Value != "" {
			return strings.TrimSuffix(s.Value, "/")
		}
	}
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host + c.base
}

func (c *Console) setup(r *http.Request, app storage.Application) appSetup {
	iss := c.issuer(r)
	scopes := app.Scopes
	if len(scopes) == 0 {
		scopes = apps.Scopes()
	}
	scopes = append([]string{"openid"}, slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return s == "openid" })...)
	return appSetup{
		Issuer: iss, Discovery: iss + "/.well-known/openid-configuration", ClientID: app.ClientID,
		Public: app.ClientType == storage.ClientPublic, AuthMethod: app.Settings.TokenEndpointAuthMethod,
		UsesSecret: apps.UsesSecret(app), HasSecret: app.SecretHash != "", Redirects: app.RedirectURIs,
		Scopes: strings.Join(scopes, " "),
	}
}

// appRow is one line of the list.
type appRow struct {
	Href    string
	App     storage.Application
	Granted []string // organizations besides the owner, by name
}

type appsPage struct {
	Frame     frame
	Org       storage.Organization
	Rows      []appRow
	CanCreate bool
	Form      appForm
}

func (c *Console) appList(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	orgs, err := c.orgDirectory(r.Context(), a, o)
	if err != nil {
		return err
	}
	f := c.appForm(r, o, storage.Application{}, c.appFormOptions(a, o, orgs), c.appsPath(o), "admin.apps.create")
	return c.showApps(w, r, a, o, orgs, f, http.StatusOK)
}

func (c *Console) showApps(w http.ResponseWriter, r *http.Request, a authz.Actor, o storage.Organization, orgs []storage.Organization, f appForm, status int) error {
	list, err := c.apps.List(r.Context(), a, o.ID)
	if err != nil {
		return err
	}
	slices.SortFunc(list, func(x, y storage.Application) int { return strings.Compare(fold(x.Name), fold(y.Name)) })
	page := appsPage{Frame: c.newFrame(r, a, &o, "apps"), Org: o, Form: f, CanCreate: a.Can(authz.AppsCreate, authz.Org(o.ID))}
	for _, app := range list {
		page.Rows = append(page.Rows, appRow{Href: c.appPath(o, app), App: app, Granted: orgNames(app, orgs)})
	}
	if status != http.StatusOK {
		c.renderForm(w, r, "apps", "admin.apps.title", []any{o.Name}, page)
		return nil
	}
	c.render(w, r, status, "apps", "admin.apps.title", []any{o.Name}, page)
	return nil
}

func (c *Console) appCreate(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	ctx := r.Context()
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.AppsCreate, authz.Org(o.ID)); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errBadRequest
	}
	orgs, err := c.orgDirectory(ctx, a, o)
	if err != nil {
		return err
	}
	app, err := appFromForm(r.PostForm, storage.Application{OrgID: o.ID}, orgs, true)
	if err != nil {
		return err
	}
	secret, err := c.apps.Create(ctx, a, &app)
	if err != nil {
		f := c.appForm(r, o, app, appFormOptions{canGrant: true, orgs: orgs}, c.appsPath(o), "admin.apps.create")
		f.Version = ""
		if !c.setAppErrors(r, &f, app, err) {
			return err
		}
		return c.showApps(w, r, a, o, orgs, f, http.StatusUnprocessableEntity)
	}
	if secret == "" {
		done(w, r, c.appPath(o, app), "created")
		return nil
	}
	return c.showSecret(w, r, a, o, app, secret, "created")
}

// app loads {id} of the organization of the path.
func (c *Console) app(r *http.Request, a authz.Actor) (storage.Organization, storage.Application, error) {
	o, err := c.org(r, a)
	if err != nil {
		return o, storage.Application{}, err
	}
	app, err := c.apps.Get(r.Context(), a, o.ID, r.PathValue("id"))
	return o, app, err
}

type appPage struct {
	Frame      frame
	Org        storage.Organization
	App        storage.Application
	Setup      appSetup
	Form       appForm
	Granted    string
	Kinds      string
	Scopes     string
	CanWrite   bool
	CanDelete  bool
	UsesSecret bool
	Actions    string // the application's URL, base of its actions
	Back       string
	IconURL    string // "" without an icon
	IconError  string // the upload's error, translated
}

func (c *Console) appShow(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, app, err := c.app(r, a)
	if err != nil {
		return err
	}
	orgs, err := c.orgDirectory(r.Context(), a, o)
	if err != nil {
		return err
	}
	f := c.appForm(r, o, app, c.appFormOptions(a, o, orgs), c.appPath(o, app), "admin.save")
	return c.showApp(w, r, a, o, app, orgs, f, http.StatusOK)
}

func (c *Console) appFormOptions(a authz.Actor, o storage.Organization, orgs []storage.Organization) appFormOptions {
	return appFormOptions{canGrant: a.Can(authz.AppsCreate, authz.Org(o.ID)), orgs: orgs}
}

func (c *Console) showApp(w http.ResponseWriter, r *http.Request, a authz.Actor, o storage.Organization, app storage.Application,
	orgs []storage.Organization, f appForm, status int) error {
	return c.showAppWith(w, r, a, o, app, orgs, f, status, "")
}

// showAppIcon shows the application's page with the icon upload's error.
func (c *Console) showAppIcon(w http.ResponseWriter, r *http.Request, a authz.Actor, o storage.Organization, app storage.Application,
	orgs []storage.Organization, f appForm, iconErr string) error {
	return c.showAppWith(w, r, a, o, app, orgs, f, http.StatusUnprocessableEntity, iconErr)
}

func (c *Console) showAppWith(w http.ResponseWriter, r *http.Request, a authz.Actor, o storage.Organization, app storage.Application,
	orgs []storage.Organization, f appForm, status int, iconErr string) error {
	scopes := strings.Join(app.Scopes, " ")
	if scopes == "" {
		scopes = c.T(r, "admin.apps.scopes_all")
	}
	page := appPage{Frame: c.newFrame(r, a, &o, "apps"), Org: o, App: app, Setup: c.setup(r, app), Form: f,
		Granted: c.grantedNames(r, o, app, orgs), Kinds: c.kindNames(r, app.AllowedKinds), Scopes: scopes,
		CanWrite:   a.Can(authz.AppsWrite, authz.App(o.ID, app.ID)),
		CanDelete:  a.Can(authz.AppsCreate, authz.Org(o.ID)),
		UsesSecret: apps.UsesSecret(app),
		Actions:    c.appPath(o, app), Back: c.appsPath(o), IconURL: c.IconURL(app), IconError: iconErr}
	if status != http.StatusOK {
		c.renderForm(w, r, "app", "admin.apps.app_title", []any{app.Name}, page)
		return nil
	}
	c.render(w, r, status, "app", "admin.apps.app_title", []any{app.Name}, page)
	return nil
}

func (c *Console) appUpdate(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	ctx := r.Context()
	o, cur, err := c.app(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.AppsWrite, authz.App(o.ID, cur.ID)); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errBadRequest
	}
	orgs, err := c.orgDirectory(ctx, a, o)
	if err != nil {
		return err
	}
	opt := c.appFormOptions(a, o, orgs)
	want, err := appFromForm(r.PostForm, cur, orgs, opt.canGrant)
	if err != nil {
		return err
	}
	want.Version = parseVersion(r.PostFormValue("version"))
	secret, err := c.apps.Update(ctx, a, &want)
	if err != nil {
		f := c.appForm(r, o, want, opt, c.appPath(o, cur), "admin.save")
		// The version the person's copy came from: saving it again
		// after someone else's change is refused again.
		f.Version = version(cur.Version)
		if want.Version > 0 {
			f.Version = version(want.Version)
		}
		if !c.setAppErrors(r, &f, want, err) {
			return err
		}
		return c.showApp(w, r, a, o, cur, orgs, f, http.StatusUnprocessableEntity)
	}
	if secret != "" { // the application now authenticates with a secret
		return c.showSecret(w, r, a, o, want, secret, "updated")
	}
	done(w, r, c.appPath(o, want), "updated")
	return nil
}

type appSecretPage struct {
	Frame  frame
	Org    storage.Organization
	App    storage.Application
	Setup  appSetup
	Secret string
	Event  string // "created", "updated", "rotated"
	Href   string
}

// showSecret answers the form that made a secret with the page showing
// it, once: never cached (render sends no-store), never in a URL.
func (c *Console) showSecret(w http.ResponseWriter, r *http.Request, a authz.Actor, o storage.Organization, app storage.Application, secret, event string) error {
	page := appSecretPage{Frame: c.newFrame(r, a, &o, "apps"), Org: o, App: app, Setup: c.setup(r, app),
		Secret: secret, Event: event, Href: c.appPath(o, app)}
	c.render(w, r, http.StatusOK, "app_secret", "admin.apps.secret.title", []any{app.Name}, page)
	return nil
}

func (c *Console) appRotateSecret(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	ctx := r.Context()
	o, app, err := c.app(r, a)
	if err != nil {
		return err
	}
	secret, err := c.apps.RotateSecret(ctx, a, o.ID, app.ID)
	if err != nil {
		if !field.Is(err) {
			return err
		}
		// A public application, or one with keys: there is no secret.
		orgs, oerr := c.orgDirectory(ctx, a, o)
		if oerr != nil {
			return oerr
		}
		f := c.appForm(r, o, app, c.appFormOptions(a, o, orgs), c.appPath(o, app), "admin.save")
		f.Errors = append(f.Errors, formError{Message: c.T(r, "admin.apps.error.no_secret")})
		return c.showApp(w, r, a, o, app, orgs, f, http.StatusUnprocessableEntity)
	}
	return c.showSecret(w, r, a, o, app, secret, "rotated")
}

func (c *Console) appDisable(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	return c.appSetDisabled(w, r, a, true)
}

func (c *Console) appEnable(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	return c.appSetDisabled(w, r, a, false)
}

func (c *Console) appSetDisabled(w http.ResponseWriter, r *http.Request, a authz.Actor, disabled bool) error {
	o, app, err := c.app(r, a)
	if err != nil {
		return err
	}
	if _, err := c.apps.SetDisabled(r.Context(), a, o.ID, app.ID, disabled); err != nil {
		return err
	}
	// The page says whether sign-ins are refused; "disabled" and
	// "enabled" speak of a person's account.
	done(w, r, c.appPath(o, app), "updated")
	return nil
}

type appDeletePage struct {
	Frame  frame
	Org    storage.Organization
	App    storage.Application
	Action string
	Back   string
}

// appDeleteConfirm asks before deleting: what deleting does, and the
// button that does it.
func (c *Console) appDeleteConfirm(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, app, err := c.app(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.AppsCreate, authz.Org(o.ID)); err != nil {
		return err
	}
	page := appDeletePage{Frame: c.newFrame(r, a, &o, "apps"), Org: o, App: app,
		Action: c.appPath(o, app) + "/delete", Back: c.appPath(o, app)}
	c.render(w, r, http.StatusOK, "app_delete", "admin.apps.delete.title", []any{app.Name}, page)
	return nil
}

func (c *Console) appDelete(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, app, err := c.app(r, a)
	if err != nil {
		return err
	}
	if err := c.apps.Delete(r.Context(), a, o.ID, app.ID); err != nil {
		return err
	}
	done(w, r, c.appsPath(o), "deleted")
	return nil
}
