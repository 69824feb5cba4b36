package admin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// The membership pages of the console: edit, add an existing person, end,
// mandates.

func (c *Console) membershipUpdate(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	ctx := r.Context()
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.PeopleWrite, authz.Org(o.ID)); err != nil {
		return err
	}
	ms, err := c.terr.Memberships(ctx, a, o.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ms, func(m storage.Membership) bool { return m.ID == r.PathValue("id") })
	if i < 0 {
		return storage.ErrNotFound
	}
	cur := ms[i]
	m := cur
	id := "m-" + m.ID + "-"
	m.Service, m.Title = strings.TrimSpace(r.PostFormValue(id+"service")), strings.TrimSpace(r.PostFormValue(id+"title"))
	m.Email = strings.TrimSpace(r.PostFormValue(id + "email"))
	m.Version = parseVersion(r.PostFormValue("version"))
	from, err1 := formDate(id+"from", r.PostFormValue(id+"from"))
	until, err2 := formDate(id+"until", r.PostFormValue(id+"until"))
	if err1 == nil && !from.IsZero() {
		m.ValidFrom = from
	}
	m.ValidUntil = nil
	if err2 == nil && !until.IsZero() {
		m.ValidUntil = &until
	}
	err = err1
	if err == nil {
		err = err2
	}
	if err == nil {
		err = c.terr.UpdateMembership(ctx, a, &m)
	}
	if err != nil {
		p, pms, perr := c.personOf(r, a, o, cur.PersonID)
		if perr != nil {
			return perr
		}
		f := c.membershipForm(o, m)
		f.Version = version(cur.Version)
		for _, fe := range field.List(err) {
			if !strings.HasPrefix(fe.Field, id) {
				fe.Field = id + aliasOf(fe.Field)
			}
		}
		if !c.setErrors(r, &f, err) {
			return err
		}
		return c.showPerson(w, r, a, o, p, pms, c.identityForm(o, p), map[string]form{m.ID: f}, http.StatusUnprocessableEntity)
	}
	done(w, r, c.orgPath(o)+"/people/"+url.PathEscape(m.PersonID), "updated")
	return nil
}

func aliasOf(name string) string {
	if a, ok := fieldAlias[name]; ok {
		return a
	}
	return name
}

func (c *Console) personOf(r *http.Request, a authz.Actor, o storage.Organization, id string) (storage.Person, []storage.Membership, error) {
	p, err := c.terr.Person(r.Context(), a, id)
	if err != nil {
		return p, nil, err
	}
	ms, err := c.terr.PersonMemberships(r.Context(), a, id)
	return p, ms, err
}

// membershipCreate makes an existing person (of another organization, or
// who left) a member of this one: one identity per person.
func (c *Console) membershipCreate(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	ctx := r.Context()
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.PeopleWrite, authz.Org(o.ID)); err != nil {
		return err
	}
	username := strings.TrimSpace(r.PostFormValue("x-username"))
	m := storage.Membership{OrgID: o.ID, Kind: r.PostFormValue("x-kind"),
		Service: strings.TrimSpace(r.PostFormValue("x-service")), Title: strings.TrimSpace(r.PostFormValue("x-title"))}
	p, err := c.terr.PersonByUsername(ctx, a, username)
	if err == nil {
		m.PersonID = p.ID
		err = c.terr.CreateMembership(ctx, a, &m)
	} else if errors.Is(err, storage.ErrNotFound) {
		err = field.New("username", "unknown", "no person has this identifier")
	}
	if err != nil {
		f := c.existingForm(o, username, m)
		for _, fe := range field.List(err) {
			fe.Field = "x-" + fe.Field
		}
		if !c.setErrors(r, &f, err) {
			return err
		}
		return c.showPeopleWith(w, r, a, o, c.personForm(o, storage.Person{}, storage.Membership{}), f, http.StatusUnprocessableEntity)
	}
	done(w, r, c.orgPath(o)+"/people/"+url.PathEscape(p.ID), "added")
	return nil
}

// membershipOf returns the membership {id} of the organization.
func (c *Console) membershipOf(r *http.Request, a authz.Actor, o storage.Organization) (storage.Membership, error) {
	ms, err := c.terr.Memberships(r.Context(), a, o.ID)
	if err != nil {
		return storage.Membership{}, err
	}
	i := slices.IndexFunc(ms, func(m storage.Membership) bool { return m.ID == r.PathValue("id") })
	if i < 0 {
		return storage.Membership{}, storage.ErrNotFound
	}
	return ms[i], nil
}

// membershipEnd ends a membership today: access through it stops.
func (c *Console) membershipEnd(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	m, err := c.membershipOf(r, a, o)
	if err != nil {
		return err
	}
	if _, err := c.terr.EndMembership(r.Context(), a, o.ID, m.ID, c.now().UTC().Truncate(time.Second)); err != nil {
		return err
	}
	done(w, r, c.orgPath(o)+"/people/"+url.PathEscape(m.PersonID), "ended")
	return nil
}

// mandateAdd adds a mandate to an élu's membership.
func (c *Console) mandateAdd(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	ctx := r.Context()
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	m, err := c.membershipOf(r, a, o)
	if err != nil {
		return err
	}
	id := "md-" + m.ID + "-"
	md := storage.Mandate{OrgID: o.ID, MembershipID: m.ID, Function: strings.TrimSpace(r.PostFormValue(id + "function")),
		Delegations: strings.TrimSpace(r.PostFormValue(id + "delegations"))}
	from, err1 := formDate(id+"from", r.PostFormValue(id+"from"))
	until, err2 := formDate(id+"until", r.PostFormValue(id+"until"))
	md.StartsAt = from
	if !until.IsZero() {
		md.EndsAt = &until
	}
	err = errors.Join(err1, err2)
	if err == nil {
		err = c.terr.AddMandate(ctx, a, &md)
	}
	if err != nil {
		p, pms, perr := c.personOf(r, a, o, m.PersonID)
		if perr != nil {
			return perr
		}
		f := c.mandateForm(o, m)
		for _, fe := range field.List(err) {
			if !strings.HasPrefix(fe.Field, id) {
				fe.Field = id + aliasOf(fe.Field)
			}
		}
		setValue(&f, id+"function", md.Function)
		setValue(&f, id+"delegations", md.Delegations)
		setValue(&f, id+"from", r.PostFormValue(id+"from"))
		setValue(&f, id+"until", r.PostFormValue(id+"until"))
		if !c.setErrors(r, &f, err) {
			return err
		}
		return c.showPersonMandate(w, r, a, o, p, pms, m.ID, f)
	}
	done(w, r, c.orgPath(o)+"/people/"+url.PathEscape(m.PersonID), "added")
	return nil
}

func (c *Console) mandateRemove(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	m, err := c.membershipOf(r, a, o)
	if err != nil {
		return err
	}
	if err := c.terr.RemoveMandate(r.Context(), a, o.ID, m.ID, r.PathValue("mandate")); err != nil {
		return err
	}
	done(w, r, c.orgPath(o)+"/people/"+url.PathEscape(m.PersonID), "removed")
	return nil
}

// mandateForm adds a mandate to an élu's membership m.
func (c *Console) mandateForm(o storage.Organization, m storage.Membership) form {
	id := "md-" + m.ID + "-"
	return form{Action: c.orgPath(o) + "/memberships/" + url.PathEscape(m.ID) + "/mandates", Submit: "admin.mandate.add", Fields: []formField{
		{Name: id + "function", LabelKey: "admin.mandate.function", HintKey: "admin.mandate.function_hint", Type: "text", Required: true},
		{Name: id + "delegations", LabelKey: "admin.mandate.delegations", Type: "text"},
		{Name: id + "from", LabelKey: "admin.mandate.from", HintKey: "admin.mandate.from_hint", Type: "date"},
		{Name: id + "until", LabelKey: "admin.membership.until", Type: "date"},
	}}
}
