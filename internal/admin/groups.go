package admin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// groupsRoutes lists the pages of an organization's groups: the list, a
// group with its members, and the deletion with its confirmation.
func (c *Console) groupsRoutes() []route {
	return []route{
		{"GET /admin/orgs/{org}/groups", c.groupsList},
		{"POST /admin/orgs/{org}/groups", c.groupCreate},
		{"GET /admin/orgs/{org}/groups/{id}", c.groupShow},
		{"POST /admin/orgs/{org}/groups/{id}/members", c.groupMemberAdd},
		{"POST /admin/orgs/{org}/groups/{id}/members/{membership}/remove", c.groupMemberRemove},
		{"GET /admin/orgs/{org}/groups/{id}/delete", c.groupDeleteConfirm},
		{"POST /admin/orgs/{org}/groups/{id}/delete", c.groupDelete},
	}
}

// groupRow is one group of the list.
type groupRow struct {
	Href    string
	Group   storage.Group
	Members int
}

type groupsPage struct {
	Frame    frame
	Org      storage.Organization
	Rows     []groupRow
	CanWrite bool
	Form     form
}

func (c *Console) groupForm(o storage.Organization, g storage.Group) form {
	return form{Action: c.orgPath(o) + "/groups", Submit: "admin.groups.create", Fields: []formField{
		{Name: "name", LabelKey: "admin.groups.name", Type: "text", Value: g.Name, Required: true, Autocomplete: "off"},
		{Name: "slug", LabelKey: "admin.groups.slug", HintKey: "admin.groups.slug_hint", Type: "text", Value: g.Slug, Required: true, Autocomplete: "off"},
	}}
}

func (c *Console) groupPath(o storage.Organization, id string) string {
	return c.orgPath(o) + "/groups/" + url.PathEscape(id)
}

func (c *Console) groupsList(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	return c.showGroups(w, r, a, o, c.groupForm(o, storage.Group{}), http.StatusOK)
}

func (c *Console) showGroups(w http.ResponseWriter, r *http.Request, a authz.Actor, o storage.Organization, f form, status int) error {
	ctx := r.Context()
	groups, err := c.terr.Groups(ctx, a, o.ID) // checks PeopleRead
	if err != nil {
		return err
	}
	slices.SortFunc(groups, func(x, y storage.Group) int { return strings.Compare(fold(x.Name), fold(y.Name)) })
	page := groupsPage{Frame: c.newFrame(r, a, &o, "groups"), Org: o, Form: f, CanWrite: a.Can(authz.GroupsWrite, authz.Org(o.ID))}
	for _, g := range groups {
		members, err := c.store.ListGroupMembers(ctx, o.ID, g.ID)
		if err != nil {
			return err
		}
		page.Rows = append(page.Rows, groupRow{Href: c.groupPath(o, g.ID), Group: g, Members: len(members)})
	}
	if status != http.StatusOK {
		c.renderForm(w, r, "groups", "admin.groups.title", []any{o.Name}, page)
		return nil
	}
	c.render(w, r, status, "groups", "admin.groups.title", []any{o.Name}, page)
	return nil
}

func (c *Console) groupCreate(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	g := storage.Group{OrgID: o.ID, Name: strings.TrimSpace(r.PostFormValue("name")), Slug: strings.TrimSpace(r.PostFormValue("slug"))}
	if err := c.terr.CreateGroup(r.Context(), a, &g); err != nil {
		f := c.groupForm(o, g)
		if !c.setErrors(r, &f, err) {
			return err
		}
		return c.showGroups(w, r, a, o, f, http.StatusUnprocessableEntity)
	}
	done(w, r, c.groupPath(o, g.ID), "created")
	return nil
}

// group loads the {id} of the path, a group of o, for an actor who may
// see the organization's people.
func (c *Console) group(r *http.Request, a authz.Actor, o storage.Organization) (storage.Group, error) {
	if err := authz.Check(a, authz.PeopleRead, authz.Org(o.ID)); err != nil {
		return storage.Group{}, err
	}
	return c.store.GetGroup(r.Context(), o.ID, r.PathValue("id"))
}

// groupMember is one member of a group.
type groupMember struct {
	Person  storage.Person
	Name    string
	Href    string
	M       storage.Membership
	Current bool
	Remove  string
}

type groupPage struct {
	Frame    frame
	Org      storage.Organization
	Group    storage.Group
	Members  []groupMember
	CanWrite bool
	Form     form
	Back     string
	Delete   string
}

func (c *Console) memberForm(o storage.Organization, g storage.Group, username, kind string) form {
	kinds := []option{{Value: "", LabelKey: "admin.groups.kind_any", Selected: kind == ""}}
	for _, k := range []string{storage.KindAgent, storage.KindElu} {
		kinds = append(kinds, option{Value: k, LabelKey: "admin.kind." + k, Selected: kind == k})
	}
	return form{Action: c.groupPath(o, g.ID) + "/members", Submit: "admin.groups.add", Fields: []formField{
		{Name: "username", LabelKey: "admin.groups.username", HintKey: "admin.groups.username_hint", Type: "text", Value: username, Required: true, Autocomplete: "off"},
		{Name: "kind", LabelKey: "admin.groups.kind", HintKey: "admin.groups.kind_hint", Type: "select", Options: kinds},
	}}
}

func (c *Console) groupShow(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	g, err := c.group(r, a, o)
	if err != nil {
		return err
	}
	return c.showGroup(w, r, a, o, g, c.memberForm(o, g, "", ""), http.StatusOK)
}

func (c *Console) showGroup(w http.ResponseWriter, r *http.Request, a authz.Actor, o storage.Organization, g storage.Group, f form, status int) error {
	ctx := r.Context()
	ms, err := c.store.ListGroupMembers(ctx, o.ID, g.ID)
	if err != nil {
		return err
	}
	page := groupPage{Frame: c.newFrame(r, a, &o, "groups"), Org: o, Group: g, Form: f,
		CanWrite: a.Can(authz.GroupsWrite, authz.Org(o.ID)), Back: c.orgPath(o) + "/groups", Delete: c.groupPath(o, g.ID) + "/delete"}
	now := c.now()
	for _, m := range ms {
		p, err := c.store.GetPerson(ctx, m.PersonID)
		if err != nil {
			return err
		}
		page.Members = append(page.Members, groupMember{Person: p, Name: strings.TrimSpace(lastName(p) + " " + p.GivenName),
			Href: c.orgPath(o) + "/people/" + url.PathEscape(p.ID), M: m,
			Current: m.ValidUntil == nil || now.Before(*m.ValidUntil),
			Remove:  c.groupPath(o, g.ID) + "/members/" + url.PathEscape(m.ID) + "/remove"})
	}
	slices.SortFunc(page.Members, func(x, y groupMember) int { return strings.Compare(fold(x.Name), fold(y.Name)) })
	if status != http.StatusOK {
		c.renderForm(w, r, "groups_show", "admin.groups.show_title", []any{g.Name}, page)
		return nil
	}
	c.render(w, r, status, "groups_show", "admin.groups.show_title", []any{g.Name}, page)
	return nil
}

func (c *Console) groupMemberAdd(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	g, err := c.group(r, a, o)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.GroupsWrite, authz.Org(o.ID)); err != nil {
		return err
	}
	username, kind := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("kind")
	if err := c.addGroupMember(r, a, o, g, username, kind); err != nil {
		f := c.memberForm(o, g, username, kind)
		if !c.setErrors(r, &f, err) {
			return err
		}
		return c.showGroup(w, r, a, o, g, f, http.StatusUnprocessableEntity)
	}
	done(w, r, c.groupPath(o, g.ID), "added")
	return nil
}

// addGroupMember finds the person's membership in the organization (the
// one of kind, when they have several) and adds it to the group.
func (c *Console) addGroupMember(r *http.Request, a authz.Actor, o storage.Organization, g storage.Group, username, kind string) error {
	ctx := r.Context()
	if username == "" {
		return field.New("username", field.Required, "is required")
	}
	p, err := c.terr.PersonByUsername(ctx, a, username)
	if errors.Is(err, storage.ErrNotFound) {
		return field.New("username", "unknown", "%s", c.T(r, "admin.groups.unknown_person", username))
	}
	if err != nil {
		return err
	}
	all, err := c.terr.Memberships(ctx, a, o.ID)
	if err != nil {
		return err
	}
	now := c.now()
	var theirs, match []storage.Membership
	for _, m := range all {
		if m.PersonID != p.ID || (m.ValidUntil != nil && !now.Before(*m.ValidUntil)) {
			continue
		}
		theirs = append(theirs, m)
		if kind == "" || m.Kind == kind {
			match = append(match, m)
		}
	}
	switch {
	case len(theirs) == 0:
		return field.New("username", "not_member", "%s", c.T(r, "admin.groups.not_member", username))
	case len(match) == 0:
		return field.New("kind", "no_such_kind", "%s", c.T(r, "admin.groups.no_such_kind", username))
	case len(match) > 1:
		return field.New("kind", "choose", "%s", c.T(r, "admin.groups.choose_kind", username))
	}
	members, err := c.store.ListGroupMembers(ctx, o.ID, g.ID)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(members, func(m storage.Membership) bool { return m.ID == match[0].ID }) {
		return field.New("username", "already", "%s", c.T(r, "admin.groups.already", username))
	}
	return c.terr.SetGroupMember(ctx, a, o.ID, g.ID, match[0].ID, true)
}

func (c *Console) groupMemberRemove(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	g, err := c.group(r, a, o)
	if err != nil {
		return err
	}
	if err := c.terr.SetGroupMember(r.Context(), a, o.ID, g.ID, r.PathValue("membership"), false); err != nil {
		return err
	}
	done(w, r, c.groupPath(o, g.ID), "removed")
	return nil
}

type groupDeletePage struct {
	Frame   frame
	Org     storage.Organization
	Group   storage.Group
	Members int
	Action  string
	Cancel  string
}

func (c *Console) groupDeleteConfirm(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	g, err := c.group(r, a, o)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.GroupsWrite, authz.Org(o.ID)); err != nil {
		return err
	}
	ms, err := c.store.ListGroupMembers(r.Context(), o.ID, g.ID)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "groups_delete", "admin.groups.delete_title", []any{g.Name}, groupDeletePage{
		Frame: c.newFrame(r, a, &o, "groups"), Org: o, Group: g, Members: len(ms),
		Action: c.groupPath(o, g.ID) + "/delete", Cancel: c.groupPath(o, g.ID)})
	return nil
}

func (c *Console) groupDelete(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	g, err := c.group(r, a, o)
	if err != nil {
		return err
	}
	if err := c.terr.DeleteGroup(r.Context(), a, o.ID, g.ID); err != nil {
		return err
	}
	done(w, r, c.orgPath(o)+"/groups", "deleted")
	return nil
}
