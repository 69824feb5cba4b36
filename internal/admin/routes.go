package admin

import (
	"net/http"
	"slices"
	"strings"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// table lists every console route. A route added here is checked by the
// server's cross-organization test, which fails on a route it does not
// know.
func (c *Console) table() []route {
	rs := []route{
		{"GET /admin", c.home},
		{"GET /admin/orgs", c.orgList},
		{"POST /admin/orgs", c.orgCreate},
		{"GET /admin/orgs/{org}", c.orgOverview},
		{"POST /admin/orgs/{org}", c.orgUpdate},
	}
	rs = append(rs, c.peopleRoutes()...)
	rs = append(rs, c.appsRoutes()...)
	rs = append(rs, c.iconRoutes()...)
	rs = append(rs, c.groupsRoutes()...)
	rs = append(rs, c.rolesRoutes()...)
	rs = append(rs, c.auditRoutes()...)
	rs = append(rs, c.platformRoutes()...)
	rs = append(rs, c.importRoutes()...)
	rs = append(rs, c.inviteRoutes()...)
	return rs
}

// org resolves the {org} of the path for the actor: not found, or
// forbidden, for an organization they may not see.
func (c *Console) org(r *http.Request, a authz.Actor) (storage.Organization, error) {
	return c.terr.OrganizationBySlug(r.Context(), a, r.PathValue("org"))
}

type homePage struct {
	Frame frame
	Orgs  []storage.Organization
}

// home lists the organizations the actor administers; an administrator
// of one organization goes straight to it.
func (c *Console) home(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	orgs, err := c.terr.Organizations(r.Context(), a)
	if err != nil {
		return err
	}
	if len(orgs) == 1 && !a.IsPlatformAdmin() {
		http.Redirect(w, r, c.orgPath(orgs[0]), http.StatusSeeOther)
		return nil
	}
	c.render(w, r, http.StatusOK, "home", "admin.home.title", nil, homePage{Frame: c.newFrame(r, a, nil, "home"), Orgs: orgs})
	return nil
}

type orgListPage struct {
	Frame frame
	Orgs  []storage.Organization
	Query string
	Pager pager
	Form  form
}

func (c *Console) orgForm(o storage.Organization) form {
	return form{Action: c.path("/admin/orgs"), Submit: "admin.orgs.create", Fields: []formField{
		{Name: "name", LabelKey: "admin.org.name", Type: "text", Value: o.Name, Required: true, Autocomplete: "organization"},
		{Name: "slug", LabelKey: "admin.org.slug", HintKey: "admin.org.slug_hint", Type: "text", Value: o.Slug, Required: true},
		{Name: "siren", LabelKey: "admin.org.siren", HintKey: "admin.org.siren_hint", Type: "text", Value: o.SIREN, Required: true},
		{Name: "siret", LabelKey: "admin.org.siret", HintKey: "admin.org.siret_hint", Type: "text", Value: o.SIRET},
	}}
}

// orgList is the platform's list of organizations, with the form that
// creates one.
func (c *Console) orgList(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	if err := authz.Check(a, authz.PlatformRead, authz.Platform); err != nil {
		return err
	}
	return c.showOrgList(w, r, a, c.orgForm(storage.Organization{}), http.StatusOK)
}

func (c *Console) showOrgList(w http.ResponseWriter, r *http.Request, a authz.Actor, f form, status int) error {
	orgs, err := c.terr.Organizations(r.Context(), a)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q != "" {
		orgs = slices.DeleteFunc(orgs, func(o storage.Organization) bool {
			return !matches(q, o.Name, o.Slug, o.SIREN, o.SIRET)
		})
	}
	p := newPager(r, len(orgs))
	lo, hi := p.bounds()
	page := orgListPage{Frame: c.newFrame(r, a, nil, "orgs"), Orgs: orgs[lo:hi], Query: q, Pager: p, Form: f}
	if status != http.StatusOK {
		c.renderForm(w, r, "orgs", "admin.orgs.title", nil, page)
		return nil
	}
	c.render(w, r, status, "orgs", "admin.orgs.title", nil, page)
	return nil
}

func (c *Console) orgCreate(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	if err := authz.Check(a, authz.OrgsWrite, authz.Platform); err != nil {
		return err
	}
	o := storage.Organization{
		Name: strings.TrimSpace(r.PostFormValue("name")), Slug: strings.TrimSpace(r.PostFormValue("slug")),
		SIREN: digits(r.PostFormValue("siren")), SIRET: digits(r.PostFormValue("siret")),
	}
	if err := c.terr.CreateOrganization(r.Context(), a, &o); err != nil {
		f := c.orgForm(o)
		if !c.setErrors(r, &f, err) {
			return err
		}
		return c.showOrgList(w, r, a, f, http.StatusUnprocessableEntity)
	}
	done(w, r, c.orgPath(o), "created")
	return nil
}

// digits drops the spaces people type in SIREN and SIRET ("213 105 554").
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00a0' || r == '\u202f' || r == '.' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

type orgPage struct {
	Frame      frame
	Org        storage.Organization
	People     int
	Apps       int
	Form       form
	CanEdit    bool // the platform: name, SIREN, SIRET
	CanPolicy  bool // second-factor policy
	CanPeople  bool
	CanApps    bool
	CanImport  bool
	CanRoles   bool
	CanAudit   bool
	MFAOptions []option
}

func (c *Console) orgOverview(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	return c.showOrg(w, r, a, o, c.orgEditForm(a, o), http.StatusOK)
}

func (c *Console) orgEditForm(a authz.Actor, o storage.Organization) form {
	f := form{Action: c.orgPath(o), Submit: "admin.save", Version: version(o.Version)}
	if a.Can(authz.OrgsWrite, authz.Platform) {
		f.Fields = append(f.Fields,
			formField{Name: "name", LabelKey: "admin.org.name", Type: "text", Value: o.Name, Required: true},
			formField{Name: "siren", LabelKey: "admin.org.siren", HintKey: "admin.org.siren_hint", Type: "text", Value: o.SIREN, Required: true},
			formField{Name: "siret", LabelKey: "admin.org.siret", HintKey: "admin.org.siret_hint", Type: "text", Value: o.SIRET})
	}
	if a.Can(authz.OrgSecurity, authz.Org(o.ID)) {
		f.Fields = append(f.Fields, formField{Name: "mfa_policy", LabelKey: "admin.org.mfa_policy", HintKey: "admin.org.mfa_policy_hint", Type: "select",
			Options: []option{
				{Value: storage.MFANone, LabelKey: "admin.org.mfa_none", Selected: o.MFAPolicy == storage.MFANone},
				{Value: storage.MFAElus, LabelKey: "admin.org.mfa_elus", Selected: o.MFAPolicy == storage.MFAElus},
				{Value: storage.MFAAll, LabelKey: "admin.org.mfa_all", Selected: o.MFAPolicy == storage.MFAAll},
			}})
	}
	return f
}

func (c *Console) showOrg(w http.ResponseWriter, r *http.Request, a authz.Actor, o storage.Organization, f form, status int) error {
	ctx := r.Context()
	page := orgPage{Frame: c.newFrame(r, a, &o, "overview"), Org: o, Form: f,
		CanEdit: a.Can(authz.OrgsWrite, authz.Platform), CanPolicy: a.Can(authz.OrgSecurity, authz.Org(o.ID)),
		CanPeople: a.Can(authz.PeopleRead, authz.Org(o.ID)), CanApps: a.Can(authz.OrgRead, authz.Org(o.ID)),
		CanImport: a.Can(authz.PeopleImport, authz.Org(o.ID)), CanRoles: a.Can(authz.RolesGrant, authz.Org(o.ID)),
		CanAudit: a.Can(authz.AuditRead, authz.Org(o.ID))}
	if page.CanPeople {
		n, err := c.terr.CountPeople(ctx, a, o.ID)
		if err != nil {
			return err
		}
		page.People = n
	}
	list, err := c.apps.List(ctx, a, o.ID)
	if err != nil {
		return err
	}
	page.Apps = len(list)
	if status != http.StatusOK {
		c.renderForm(w, r, "org", "admin.org.title", []any{o.Name}, page)
		return nil
	}
	c.render(w, r, status, "org", "admin.org.title", []any{o.Name}, page)
	return nil
}

func (c *Console) orgUpdate(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	if !a.Can(authz.OrgsWrite, authz.Platform) && !a.Can(authz.OrgSecurity, authz.Org(o.ID)) {
		return authz.Check(a, authz.OrgSecurity, authz.Org(o.ID))
	}
	want := o
	want.Version = parseVersion(r.PostFormValue("version"))
	if a.Can(authz.OrgsWrite, authz.Platform) {
		want.Name = strings.TrimSpace(r.PostFormValue("name"))
		want.SIREN, want.SIRET = digits(r.PostFormValue("siren")), digits(r.PostFormValue("siret"))
	}
	if a.Can(authz.OrgSecurity, authz.Org(o.ID)) {
		want.MFAPolicy = r.PostFormValue("mfa_policy")
	}
	if err := c.terr.UpdateOrganization(r.Context(), a, &want); err != nil {
		f := c.orgEditForm(a, want)
		f.Version = version(o.Version)
		if !c.setErrors(r, &f, err) {
			return err
		}
		return c.showOrg(w, r, a, o, f, http.StatusUnprocessableEntity)
	}
	done(w, r, c.orgPath(want), "updated")
	return nil
}
