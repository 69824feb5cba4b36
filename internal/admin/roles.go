package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// rolesRoutes lists the pages that say who administers what: an
// organization's roles, and the platform's administrators.
func (c *Console) rolesRoutes() []route {
	return []route{
		{"GET /admin/orgs/{org}/roles", c.rolesList},
		{"POST /admin/orgs/{org}/roles", c.roleGrant},
		{"POST /admin/orgs/{org}/roles/revoke", c.roleRevoke},
		{"GET /admin/platform/admins", c.platformAdmins},
		{"POST /admin/platform/admins", c.platformAdminGrant},
		{"POST /admin/platform/admins/revoke", c.platformAdminRevoke},
	}
}

// orgRoles are the roles an organization's page grants, highest first.
func orgRoles() []string {
	return []string{storage.RoleOrgAdmin, storage.RoleOrgHelpdesk, storage.RoleAppManager}
}

// roleRow is one grant of the list.
type roleRow struct {
	PersonID string
	Username string
	Name     string
	Href     string // the person's page, "" on the platform's
	Role     string
	AppID    string
	App      string // the application's name
	Since    string // date of the grant, YYYY-MM-DD
	Self     bool   // the actor's own role: no button to drop it here
	CanDrop  bool
}

// permTable is authz.Table() for the page: roles × permissions.
type permTable struct {
	Roles []string
	Rows  []permRow
}

type permRow struct {
	Perm  string
	Holds []bool
}

type rolesPage struct {
	Frame    frame
	Org      *storage.Organization
	Rows     []roleRow
	Form     form
	Revoke   string // URL of the revoke button
	Roles    []string
	Table    permTable
	Platform bool // the platform's administrators
}

// grantInput is what the grant form sent.
type grantInput struct {
	Username, Role, AppID string
}

func (c *Console) grantForm(o *storage.Organization, in grantInput, apps []storage.Application) form {
	if o == nil {
		return form{Action: c.path("/admin/platform/admins"), Submit: "admin.roles.grant_platform", Fields: []formField{
			{Name: "username", LabelKey: "admin.roles.username", HintKey: "admin.roles.username_platform_hint", Type: "text", Value: in.Username, Required: true, Autocomplete: "off"},
		}}
	}
	if in.Role == "" {
		in.Role = storage.RoleOrgHelpdesk
	}
	var roles []option
	for _, role := range orgRoles() {
		roles = append(roles, option{Value: role, LabelKey: "admin.roles.role." + role, Selected: in.Role == role})
	}
	appOpts := []option{{Value: "", LabelKey: "admin.roles.no_app", Selected: in.AppID == ""}}
	for _, app := range apps {
		appOpts = append(appOpts, option{Value: app.ID, Label: app.Name, Selected: in.AppID == app.ID})
	}
	return form{Action: c.orgPath(*o) + "/roles", Submit: "admin.roles.grant", Fields: []formField{
		{Name: "username", LabelKey: "admin.roles.username", HintKey: "admin.roles.username_hint", Type: "text", Value: in.Username, Required: true, Autocomplete: "off"},
		{Name: "role", LabelKey: "admin.roles.role", Type: "select", Options: roles},
		{Name: "app", LabelKey: "admin.roles.app", HintKey: "admin.roles.app_hint", Type: "select", Options: appOpts},
	}}
}

func (c *Console) rolesList(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.RolesGrant, authz.Org(o.ID)); err != nil {
		return err
	}
	apps, err := c.apps.List(r.Context(), a, o.ID)
	if err != nil {
		return err
	}
	return c.showRoles(w, r, a, &o, c.grantForm(&o, grantInput{}, apps), apps, http.StatusOK)
}

func (c *Console) platformAdmins(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	if err := authz.Check(a, authz.PlatformRead, authz.Platform); err != nil {
		return err
	}
	return c.showRoles(w, r, a, nil, c.grantForm(nil, grantInput{}, nil), nil, http.StatusOK)
}

// showRoles draws the grants of o (nil: the platform's administrators).
func (c *Console) showRoles(w http.ResponseWriter, r *http.Request, a authz.Actor, o *storage.Organization, f form,
	apps []storage.Application, status int) error {
	ctx := r.Context()
	orgID, section, revoke := "", "admins", c.path("/admin/platform/admins/revoke")
	if o != nil {
		orgID, section, revoke = o.ID, "roles", c.orgPath(*o)+"/roles/revoke"
	}
	grants, err := c.terr.OrgRoles(ctx, a, orgID)
	if err != nil {
		return err
	}
	appNames := map[string]string{}
	for _, app := range apps {
		appNames[app.ID] = app.Name
	}
	page := rolesPage{Frame: c.newFrame(r, a, o, section), Org: o, Form: f, Revoke: revoke, Platform: o == nil, Table: newPermTable()}
	if o != nil {
		page.Roles = orgRoles()
	} else {
		page.Roles = []string{storage.RolePlatformAdmin}
	}
	people := map[string]storage.Person{}
	for _, g := range grants {
		p, ok := people[g.PersonID]
		if !ok {
			if p, err = c.store.GetPerson(ctx, g.PersonID); err != nil {
				return err
			}
			people[g.PersonID] = p
		}
		row := roleRow{PersonID: p.ID, Username: p.Username, Name: strings.TrimSpace(p.GivenName + " " + lastName(p)),
			Role: g.Role, AppID: g.AppID, App: appNames[g.AppID], Self: a.Kind == authz.KindPerson && a.ID == p.ID,
			CanDrop: authz.CanGrant(a, g.Role, authz.Scope{OrgID: g.OrgID, AppID: g.AppID}) == nil}
		if !g.CreatedAt.IsZero() {
			row.Since = g.CreatedAt.Local().Format("2006-01-02")
		}
		if g.AppID != "" && row.App == "" {
			row.App = g.AppID
		}
		if o != nil && a.Can(authz.PeopleRead, authz.Org(o.ID)) {
			row.Href = c.orgPath(*o) + "/people/" + url.PathEscape(p.ID)
		}
		page.Rows = append(page.Rows, row)
	}
	title, args := "admin.roles.platform_title", []any(nil)
	if o != nil {
		title, args = "admin.roles.title", []any{o.Name}
	}
	if status != http.StatusOK {
		c.renderForm(w, r, "roles", title, args, page)
		return nil
	}
	c.render(w, r, status, "roles", title, args, page)
	return nil
}

func newPermTable() permTable {
	roles, perms, holds := authz.Table()
	t := permTable{Roles: roles}
	for i, p := range perms {
		row := permRow{Perm: string(p)}
		for j := range roles {
			row.Holds = append(row.Holds, holds[j][i])
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (c *Console) roleGrant(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.RolesGrant, authz.Org(o.ID)); err != nil {
		return err
	}
	in := grantInput{Username: strings.TrimSpace(r.PostFormValue("username")), Role: r.PostFormValue("role"), AppID: r.PostFormValue("app")}
	if in.Role != storage.RoleAppManager {
		in.AppID = "" // the select is there for application managers only
	}
	if err := c.grant(r, a, o.ID, in); err != nil {
		apps, aerr := c.apps.List(r.Context(), a, o.ID)
		if aerr != nil {
			return aerr
		}
		f := c.grantForm(&o, in, apps)
		if !c.setErrors(r, &f, err) {
			return err
		}
		return c.showRoles(w, r, a, &o, f, apps, http.StatusUnprocessableEntity)
	}
	done(w, r, c.orgPath(o)+"/roles", "granted")
	return nil
}

func (c *Console) platformAdminGrant(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	if err := authz.Check(a, authz.PlatformRead, authz.Platform); err != nil {
		return err
	}
	in := grantInput{Username: strings.TrimSpace(r.PostFormValue("username")), Role: storage.RolePlatformAdmin}
	if err := c.grant(r, a, "", in); err != nil {
		f := c.grantForm(nil, in, nil)
		if !c.setErrors(r, &f, err) {
			return err
		}
		return c.showRoles(w, r, a, nil, f, nil, http.StatusUnprocessableEntity)
	}
	done(w, r, c.path("/admin/platform/admins"), "granted")
	return nil
}

// grant finds the person by username and grants them the role through
// the use case; its errors come back as field errors of the form.
func (c *Console) grant(r *http.Request, a authz.Actor, orgID string, in grantInput) error {
	ctx := r.Context()
	if in.Username == "" {
		return field.New("username", field.Required, "is required")
	}
	p, err := c.terr.PersonByUsername(ctx, a, in.Username)
	if errors.Is(err, storage.ErrNotFound) {
		return field.New("username", "unknown", "%s", c.T(r, "admin.roles.unknown_person", in.Username))
	}
	if err != nil {
		return err
	}
	err = c.terr.GrantRole(ctx, a, storage.AdminRole{PersonID: p.ID, OrgID: orgID, AppID: in.AppID, Role: in.Role})
	return c.roleFieldErrors(r, in, err)
}

// roleFieldErrors places the use case's errors on the form's fields: the
// person is the username field, the application the app select, and a
// role above the actor's own is said next to the role.
func (c *Console) roleFieldErrors(r *http.Request, in grantInput, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, authz.ErrForbidden) && !field.Is(err) {
		return errors.Join(field.New("role", "above", "%s", c.T(r, "admin.roles.above_own")), err)
	}
	for _, fe := range field.List(err) {
		switch fe.Field {
		case "person", "organization":
			fe.Field = "username"
			if fe.Code == "not_member" {
				fe.Msg = c.T(r, "admin.roles.not_member", in.Username)
			}
		case "application":
			fe.Field = "app"
			if fe.Code == field.Required {
				fe.Code, fe.Msg = "choose", c.T(r, "admin.roles.app_required")
			}
		}
	}
	return err
}

func (c *Console) roleRevoke(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.RolesGrant, authz.Org(o.ID)); err != nil {
		return err
	}
	if err := c.revoke(r.Context(), a, storage.AdminRole{PersonID: r.PostFormValue("person"), OrgID: o.ID,
		AppID: r.PostFormValue("app"), Role: r.PostFormValue("role")}); err != nil {
		return err
	}
	done(w, r, c.orgPath(o)+"/roles", "revoked")
	return nil
}

func (c *Console) platformAdminRevoke(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	if err := authz.Check(a, authz.PlatformRead, authz.Platform); err != nil {
		return err
	}
	if err := c.revoke(r.Context(), a, storage.AdminRole{PersonID: r.PostFormValue("person"), Role: storage.RolePlatformAdmin}); err != nil {
		return err
	}
	done(w, r, c.path("/admin/platform/admins"), "revoked")
	return nil
}

// revoke takes a grant back; a form that names no grant is a bad request.
func (c *Console) revoke(ctx context.Context, a authz.Actor, role storage.AdminRole) error {
	if role.PersonID == "" {
		return errBadRequest
	}
	err := c.terr.RevokeRole(ctx, a, role)
	if field.Is(err) {
		return errors.Join(errBadRequest, err)
	}
	return err
}
