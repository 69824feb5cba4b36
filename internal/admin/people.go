package admin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

func (c *Console) peopleRoutes() []route {
	return []route{
		{"GET /admin/orgs/{org}/people", c.peopleList},
		{"POST /admin/orgs/{org}/people", c.personCreate},
		{"GET /admin/orgs/{org}/people/{id}", c.personShow},
		{"POST /admin/orgs/{org}/people/{id}", c.personUpdate},
		{"POST /admin/orgs/{org}/people/{id}/disable", c.personDisable},
		{"POST /admin/orgs/{org}/people/{id}/enable", c.personEnable},
		{"POST /admin/orgs/{org}/people/{id}/reset-factors", c.personResetFactors},
		{"POST /admin/orgs/{org}/people/{id}/end-sessions", c.personEndSessions},
		{"POST /admin/orgs/{org}/memberships/{id}", c.membershipUpdate},
		{"POST /admin/orgs/{org}/memberships", c.membershipCreate},
		{"POST /admin/orgs/{org}/memberships/{id}/end", c.membershipEnd},
		{"POST /admin/orgs/{org}/memberships/{id}/mandates", c.mandateAdd},
		{"POST /admin/orgs/{org}/memberships/{id}/mandates/{mandate}/remove", c.mandateRemove},
	}
}

// personRow is one line of the people list.
type personRow struct {
	Href     string
	Person   storage.Person
	Kinds    []string // of their memberships here
	Titles   string
	Current  bool // a membership here in force today
	Disabled bool
}

type peoplePage struct {
	Frame    frame
	Org      storage.Organization
	Rows     []personRow
	Query    string
	Pager    pager
	CanWrite bool
	Form     form
	Existing form // a person of another organization joins this one
}

func (c *Console) existingForm(o storage.Organization, username string, m storage.Membership) form {
	return form{Action: c.orgPath(o) + "/memberships", Submit: "admin.people.add_existing", Fields: []formField{
		{Name: "x-username", LabelKey: "admin.person.username", HintKey: "admin.people.existing_hint", Type: "text", Value: username, Required: true, Autocomplete: "off"},
		{Name: "x-kind", LabelKey: "admin.membership.kind", Type: "select", Options: kindOptions(m.Kind)},
		{Name: "x-service", LabelKey: "admin.membership.service", Type: "text", Value: m.Service},
		{Name: "x-title", LabelKey: "admin.membership.title", Type: "text", Value: m.Title},
	}}
}

func (c *Console) personForm(o storage.Organization, p storage.Person, m storage.Membership) form {
	from := ""
	if !m.ValidFrom.IsZero() {
		from = m.ValidFrom.Local().Format(time.DateOnly)
	}
	return form{Action: c.orgPath(o) + "/people", Submit: "admin.people.create", Fields: []formField{
		{Name: "given_name", LabelKey: "admin.person.given_name", Type: "text", Value: p.GivenName, Required: true, Autocomplete: "off"},
		{Name: "family_name", LabelKey: "admin.person.family_name", Type: "text", Value: p.FamilyName, Required: true, Autocomplete: "off"},
		{Name: "usual_name", LabelKey: "admin.person.usual_name", HintKey: "admin.person.usual_name_hint", Type: "text", Value: p.UsualName, Autocomplete: "off"},
		{Name: "username", LabelKey: "admin.person.username", HintKey: "admin.person.username_hint", Type: "text", Value: p.Username, Required: true, Autocomplete: "off"},
		{Name: "email", LabelKey: "admin.person.email", Type: "email", Value: p.Email, Autocomplete: "off"},
		{Name: "kind", LabelKey: "admin.membership.kind", Type: "select", Options: kindOptions(m.Kind)},
		{Name: "service", LabelKey: "admin.membership.service", Type: "text", Value: m.Service},
		{Name: "title", LabelKey: "admin.membership.title", Type: "text", Value: m.Title},
		{Name: "from", LabelKey: "admin.membership.from", HintKey: "admin.membership.from_hint", Type: "date", Value: from},
	}}
}

func kindOptions(kind string) []option {
	if kind == "" {
		kind = storage.KindAgent
	}
	return []option{
		{Value: storage.KindAgent, LabelKey: "admin.kind.agent", Selected: kind == storage.KindAgent},
		{Value: storage.KindElu, LabelKey: "admin.kind.elu", Selected: kind == storage.KindElu},
	}
}

func (c *Console) peopleList(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	return c.showPeople(w, r, a, o, c.personForm(o, storage.Person{}, storage.Membership{}), http.StatusOK)
}

func (c *Console) showPeople(w http.ResponseWriter, r *http.Request, a authz.Actor, o storage.Organization, f form, status int) error {
	return c.showPeopleWith(w, r, a, o, f, c.existingForm(o, "", storage.Membership{}), status)
}

func (c *Console) showPeopleWith(w http.ResponseWriter, r *http.Request, a authz.Actor, o storage.Organization, f, existing form, status int) error {
	ctx := r.Context()
	people, err := c.terr.People(ctx, a, o.ID)
	if err != nil {
		return err
	}
	ms, err := c.terr.Memberships(ctx, a, o.ID)
	if err != nil {
		return err
	}
	byPerson := map[string][]storage.Membership{}
	for _, m := range ms {
		byPerson[m.PersonID] = append(byPerson[m.PersonID], m)
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q != "" {
		people = slices.DeleteFunc(people, func(p storage.Person) bool {
			fields := []string{p.Username, p.GivenName, p.FamilyName, p.UsualName, p.Email}
			for _, m := range byPerson[p.ID] {
				fields = append(fields, m.Service, m.Title, m.Email)
			}
			return !matches(q, fields...)
		})
	}
	// Sorted by name: each key folded once, not at every comparison.
	keys := make(map[string]string, len(people))
	for _, p := range people {
		keys[p.ID] = fold(lastName(p) + " " + p.GivenName + " " + p.Username)
	}
	slices.SortFunc(people, func(x, y storage.Person) int { return strings.Compare(keys[x.ID], keys[y.ID]) })
	p := newPager(r, len(people))
	lo, hi := p.bounds()
	now := c.now()
	page := peoplePage{Frame: c.newFrame(r, a, &o, "people"), Org: o, Query: q, Pager: p, Form: f, Existing: existing,
		CanWrite: a.Can(authz.PeopleWrite, authz.Org(o.ID))}
	for _, person := range people[lo:hi] {
		row := personRow{Href: c.orgPath(o) + "/people/" + url.PathEscape(person.ID), Person: person, Disabled: person.Disabled}
		var titles []string
		for _, m := range byPerson[person.ID] {
			row.Kinds = append(row.Kinds, m.Kind)
			if m.Title != "" {
				titles = append(titles, m.Title)
			}
			if m.ValidUntil == nil || now.Before(*m.ValidUntil) {
				row.Current = true
			}
		}
		row.Titles = strings.Join(titles, ", ")
		page.Rows = append(page.Rows, row)
	}
	if status != http.StatusOK {
		c.renderForm(w, r, "people", "admin.people.title", []any{o.Name}, page)
		return nil
	}
	c.render(w, r, status, "people", "admin.people.title", []any{o.Name}, page)
	return nil
}

func lastName(p storage.Person) string {
	if p.UsualName != "" {
		return p.UsualName
	}
	return p.FamilyName
}

// formDate reads a YYYY-MM-DD input (local midnight); "" is the zero time.
func formDate(name, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, time.Local)
	if err != nil {
		return time.Time{}, field.New(name, "date", "not a date (YYYY-MM-DD): %q", s)
	}
	return t, nil
}

func (c *Console) personCreate(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	p := storage.Person{
		GivenName: strings.TrimSpace(r.PostFormValue("given_name")), FamilyName: strings.TrimSpace(r.PostFormValue("family_name")),
		UsualName: strings.TrimSpace(r.PostFormValue("usual_name")), Username: strings.TrimSpace(r.PostFormValue("username")),
		Email: strings.TrimSpace(r.PostFormValue("email")),
	}
	m := storage.Membership{OrgID: o.ID, Kind: r.PostFormValue("kind"),
		Service: strings.TrimSpace(r.PostFormValue("service")), Title: strings.TrimSpace(r.PostFormValue("title"))}
	from, derr := formDate("from", r.PostFormValue("from"))
	m.ValidFrom = from
	if derr == nil {
		err = c.terr.CreatePerson(r.Context(), a, &p, territory.NewPerson{Membership: &m})
	} else {
		err = derr
	}
	if err != nil {
		f := c.personForm(o, p, m)
		setValue(&f, "from", r.PostFormValue("from")) // as typed
		if !c.setErrors(r, &f, err) {
			return err
		}
		return c.showPeople(w, r, a, o, f, http.StatusUnprocessableEntity)
	}
	done(w, r, c.orgPath(o)+"/people/"+url.PathEscape(p.ID), "created")
	return nil
}

// setValue puts back what the person typed in a field.
func setValue(f *form, name, value string) {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			f.Fields[i].Value = value
		}
	}
}

// membershipView is one of the person's memberships in this organization.
type membershipView struct {
	M           storage.Membership
	Mandates    []storage.Mandate
	Form        form
	MandateForm form   // élus only
	Action      string // base URL of the membership's actions
	Current     bool
}

type personPage struct {
	Frame       frame
	Org         storage.Organization
	Person      storage.Person
	Form        form
	Memberships []membershipView
	Elsewhere   int  // memberships in other organizations (not shown)
	CanIdentity bool // identity, deactivation: authz.CheckPerson
	CanFactors  bool
	CanWrite    bool // memberships here
	Back        string
	Actions     string // base URL of the person's actions
}

func (c *Console) identityForm(o storage.Organization, p storage.Person) form {
	return form{Action: c.orgPath(o) + "/people/" + url.PathEscape(p.ID), Submit: "admin.save", Version: version(p.Version), Fields: []formField{
		{Name: "given_name", LabelKey: "admin.person.given_name", Type: "text", Value: p.GivenName, Required: true, Autocomplete: "off"},
		{Name: "family_name", LabelKey: "admin.person.family_name", Type: "text", Value: p.FamilyName, Required: true, Autocomplete: "off"},
		{Name: "usual_name", LabelKey: "admin.person.usual_name", HintKey: "admin.person.usual_name_hint", Type: "text", Value: p.UsualName, Autocomplete: "off"},
		{Name: "username", LabelKey: "admin.person.username", HintKey: "admin.person.username_hint", Type: "text", Value: p.Username, Required: true, Autocomplete: "off"},
		{Name: "email", LabelKey: "admin.person.email", Type: "email", Value: p.Email, Autocomplete: "off"},
		{Name: "phone", LabelKey: "admin.person.phone", Type: "tel", Value: p.Phone, Autocomplete: "off"},
	}}
}

func (c *Console) membershipForm(o storage.Organization, m storage.Membership) form {
	until := ""
	if m.ValidUntil != nil {
		until = m.ValidUntil.Local().Format(time.DateOnly)
	}
	id := "m-" + m.ID + "-"
	return form{Action: c.orgPath(o) + "/memberships/" + url.PathEscape(m.ID), Submit: "admin.save", Version: version(m.Version), Fields: []formField{
		{Name: id + "service", LabelKey: "admin.membership.service", Type: "text", Value: m.Service},
		{Name: id + "title", LabelKey: "admin.membership.title", Type: "text", Value: m.Title},
		{Name: id + "email", LabelKey: "admin.membership.email", Type: "email", Value: m.Email},
		{Name: id + "from", LabelKey: "admin.membership.from", Type: "date", Value: m.ValidFrom.Local().Format(time.DateOnly), Required: true},
		{Name: id + "until", LabelKey: "admin.membership.until", HintKey: "admin.membership.until_hint", Type: "date", Value: until},
	}}
}

// person loads {id} for the page: a person with a membership (even ended)
// in the organization of the path.
func (c *Console) person(r *http.Request, a authz.Actor, o storage.Organization) (storage.Person, []storage.Membership, error) {
	ctx := r.Context()
	p, err := c.terr.Person(ctx, a, r.PathValue("id"))
	if err != nil {
		return p, nil, err
	}
	ms, err := c.terr.PersonMemberships(ctx, a, p.ID)
	if err != nil {
		return p, nil, err
	}
	if !slices.ContainsFunc(ms, func(m storage.Membership) bool { return m.OrgID == o.ID }) {
		return p, nil, storage.ErrNotFound // not a person of this organization
	}
	return p, ms, nil
}

func (c *Console) personShow(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	p, ms, err := c.person(r, a, o)
	if err != nil {
		return err
	}
	return c.showPerson(w, r, a, o, p, ms, c.identityForm(o, p), nil, http.StatusOK)
}

func (c *Console) showPerson(w http.ResponseWriter, r *http.Request, a authz.Actor, o storage.Organization, p storage.Person,
	ms []storage.Membership, identity form, mform map[string]form, status int) error {
	ctx := r.Context()
	all, err := c.store.ListPersonMemberships(ctx, p.ID)
	if err != nil {
		return err
	}
	roles, err := c.terr.Roles(ctx, p.ID)
	if err != nil {
		return err
	}
	orgs := authz.PersonOrgs(all, c.now())
	page := personPage{Frame: c.newFrame(r, a, &o, "people"), Org: o, Person: p, Form: identity,
		CanIdentity: authz.CheckPerson(a, authz.PeopleWrite, orgs, roles) == nil,
		CanFactors:  authz.CheckPerson(a, authz.Credentials, orgs, roles) == nil,
		CanWrite:    a.Can(authz.PeopleWrite, authz.Org(o.ID)),
		Back:        c.orgPath(o) + "/people", Actions: c.orgPath(o) + "/people/" + url.PathEscape(p.ID)}
	for _, m := range all {
		if m.OrgID != o.ID {
			page.Elsewhere++
			continue
		}
		mv := membershipView{M: m, Form: c.membershipForm(o, m), Current: m.ValidUntil == nil || c.now().Before(*m.ValidUntil),
			Action: c.orgPath(o) + "/memberships/" + url.PathEscape(m.ID)}
		if m.Kind == storage.KindElu {
			mv.MandateForm = c.mandateForm(o, m)
		}
		if f, ok := mform[m.ID]; ok {
			mv.Form = f
		}
		if f, ok := mform["mandate:"+m.ID]; ok {
			mv.MandateForm = f
		}
		if mv.Mandates, err = c.terr.Mandates(ctx, a, o.ID, m.ID); err != nil {
			return err
		}
		page.Memberships = append(page.Memberships, mv)
	}
	name := p.GivenName + " " + lastName(p)
	if status != http.StatusOK {
		c.renderForm(w, r, "person", "admin.person.title", []any{name}, page)
		return nil
	}
	c.render(w, r, status, "person", "admin.person.title", []any{name}, page)
	return nil
}

// showPersonMandate re-renders the person page with a mandate form's errors.
func (c *Console) showPersonMandate(w http.ResponseWriter, r *http.Request, a authz.Actor, o storage.Organization, p storage.Person, ms []storage.Membership, membershipID string, f form) error {
	return c.showPerson(w, r, a, o, p, ms, c.identityForm(o, p), map[string]form{"mandate:" + membershipID: f}, http.StatusUnprocessableEntity)
}

func (c *Console) personUpdate(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	cur, ms, err := c.person(r, a, o)
	if err != nil {
		return err
	}
	p := cur
	p.GivenName, p.FamilyName = strings.TrimSpace(r.PostFormValue("given_name")), strings.TrimSpace(r.PostFormValue("family_name"))
	p.UsualName, p.Username = strings.TrimSpace(r.PostFormValue("usual_name")), strings.TrimSpace(r.PostFormValue("username"))
	p.Email, p.Phone = strings.TrimSpace(r.PostFormValue("email")), strings.TrimSpace(r.PostFormValue("phone"))
	if p.Email != cur.Email {
		p.EmailVerified = false
	}
	p.Version = parseVersion(r.PostFormValue("version"))
	if err := c.terr.UpdatePerson(r.Context(), a, o.ID, &p); err != nil {
		f := c.identityForm(o, p)
		f.Version = version(cur.Version)
		if !c.setErrors(r, &f, err) {
			return err
		}
		return c.showPerson(w, r, a, o, cur, ms, f, nil, http.StatusUnprocessableEntity)
	}
	done(w, r, c.orgPath(o)+"/people/"+url.PathEscape(p.ID), "updated")
	return nil
}

func (c *Console) personDisable(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	return c.personSetDisabled(w, r, a, true)
}

func (c *Console) personEnable(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	return c.personSetDisabled(w, r, a, false)
}

func (c *Console) personSetDisabled(w http.ResponseWriter, r *http.Request, a authz.Actor, disabled bool) error {
	return c.personAction(w, r, a, map[bool]string{true: "disabled", false: "enabled"}[disabled],
		func(ctx context.Context, o storage.Organization, p storage.Person) error {
			_, _, err := c.terr.SetDisabled(ctx, a, o.ID, p.ID, disabled)
			return err
		})
}

func (c *Console) personResetFactors(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	return c.personAction(w, r, a, "factors_reset", func(ctx context.Context, o storage.Organization, p storage.Person) error {
		_, err := c.terr.ResetFactors(ctx, a, o.ID, p.ID)
		return err
	})
}

func (c *Console) personEndSessions(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	return c.personAction(w, r, a, "sessions_ended", func(ctx context.Context, o storage.Organization, p storage.Person) error {
		_, err := c.terr.EndSessions(ctx, a, o.ID, p.ID)
		return err
	})
}

// personAction runs a button of the person page ({org}, {id}) and comes
// back to it with notice.
func (c *Console) personAction(w http.ResponseWriter, r *http.Request, a authz.Actor, notice string,
	do func(ctx context.Context, o storage.Organization, p storage.Person) error) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	p, _, err := c.person(r, a, o)
	if err != nil {
		return err
	}
	if err := do(r.Context(), o, p); err != nil {
		return err
	}
	done(w, r, c.orgPath(o)+"/people/"+url.PathEscape(p.ID), notice)
	return nil
}
