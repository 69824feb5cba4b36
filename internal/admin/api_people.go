package admin

import (
	"encoding/json"
	"errors"
	"fmt"
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

func (c *Console) apiPeopleRoutes() []apiRoute {
	p := "/orgs/{org}/people"
	m := "/orgs/{org}/memberships"
	return []apiRoute{
		{pattern: "GET " + apiPrefix + p, h: c.apiPeopleList},
		{pattern: "POST " + apiPrefix + p, h: c.apiPersonCreate},
		{pattern: "GET " + apiPrefix + p + "/{id}", h: c.apiPersonGet},
		{pattern: "PATCH " + apiPrefix + p + "/{id}", h: c.apiPersonPatch},
		{pattern: "POST " + apiPrefix + p + "/{id}/disable", h: c.apiPersonDisable},
		{pattern: "POST " + apiPrefix + p + "/{id}/enable", h: c.apiPersonEnable},
		{pattern: "GET " + apiPrefix + m, h: c.apiMembershipList},
		{pattern: "POST " + apiPrefix + m, h: c.apiMembershipCreate},
		{pattern: "GET " + apiPrefix + m + "/{id}", h: c.apiMembershipGet},
		{pattern: "PATCH " + apiPrefix + m + "/{id}", h: c.apiMembershipPatch},
	}
}

// apiOrgURL is the API's URL of an organization's resource.
func (c *Console) apiOrgURL(o storage.Organization, parts ...string) string {
	u := c.base + apiPrefix + "/orgs/" + url.PathEscape(o.Slug)
	for _, p := range parts {
		u += "/" + url.PathEscape(p)
	}
	return u
}

// apiPeopleList lists the organization's people (a membership, current
// or not), by ID, a page at a time; ?q= keeps those whose names,
// identifier, e-mail, or service and title here hold every word
// (ignoring case and accents), as the console's search does.
func (c *Console) apiPeopleList(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	ctx := r.Context()
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	people, err := c.terr.People(ctx, a, o.ID)
	if err != nil {
		return err
	}
	if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" {
		ms, err := c.terr.Memberships(ctx, a, o.ID)
		if err != nil {
			return err
		}
		byPerson := map[string][]storage.Membership{}
		for _, m := range ms {
			byPerson[m.PersonID] = append(byPerson[m.PersonID], m)
		}
		people = slices.DeleteFunc(people, func(p storage.Person) bool {
			fields := []string{p.Username, p.GivenName, p.FamilyName, p.UsualName, p.Email}
			for _, m := range byPerson[p.ID] {
				fields = append(fields, m.Service, m.Title, m.Email)
			}
			return !matches(q, fields...)
		})
	}
	slices.SortFunc(people, func(x, y storage.Person) int { return strings.Compare(x.ID, y.ID) })
	views := make([]territory.PersonView, len(people))
	for i, p := range people {
		views[i] = territory.ViewPerson(p)
	}
	page, err := paginate(r, views, func(v territory.PersonView) string { return v.ID })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// apiMembershipFields are a membership's settable fields.
type apiMembershipFields struct {
	Kind       string `json:"kind"`
	Service    string `json:"service"`
	Title      string `json:"title"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
	ValidFrom  string `json:"valid_from"`  // "" for now
	ValidUntil string `json:"valid_until"` // "" for no end
}

// membership returns the membership of orgID these fields describe;
// prefix names the fields in errors ("membership.").
func (in apiMembershipFields) membership(orgID, prefix string) (storage.Membership, error) {
	m := storage.Membership{OrgID: orgID, Kind: strings.TrimSpace(in.Kind), Service: strings.TrimSpace(in.Service),
		Title: strings.TrimSpace(in.Title), Email: strings.TrimSpace(in.Email), Phone: strings.TrimSpace(in.Phone)}
	var errs []error
	if in.ValidFrom != "" {
		t, err := apiDate(prefix+"valid_from", in.ValidFrom)
		m.ValidFrom, errs = t, append(errs, err)
	}
	if in.ValidUntil != "" {
		t, err := apiDate(prefix+"valid_until", in.ValidUntil)
		if err == nil {
			m.ValidUntil = &t
		}
		errs = append(errs, err)
	}
	return m, errors.Join(errs...)
}

// apiNewPerson is the body that creates a person with their membership
// of the organization.
type apiNewPerson struct {
	Username   string               `json:"username"`
	GivenName  string               `json:"given_name"`
	FamilyName string               `json:"family_name"`
	UsualName  string               `json:"usual_name"`
	Email      string               `json:"email"`
	Phone      string               `json:"phone"`
	Membership *apiMembershipFields `json:"membership"`
}

// membershipFields are the fields of a membership's errors, in a
// person's creation: "membership.kind"…
var membershipFields = []string{"kind", "service", "title", "valid_from", "valid_until", "person", "organization"}

// apiPersonCreate creates a person and their membership of the
// organization in one transaction, as the console's form does.
func (c *Console) apiPersonCreate(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.PeopleWrite, authz.Org(o.ID)); err != nil {
		return err
	}
	var in apiNewPerson
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	p := storage.Person{Username: strings.TrimSpace(in.Username), GivenName: strings.TrimSpace(in.GivenName),
		FamilyName: strings.TrimSpace(in.FamilyName), UsualName: strings.TrimSpace(in.UsualName),
		Email: strings.TrimSpace(in.Email), Phone: strings.TrimSpace(in.Phone)}
	// Validate both records first, so that each error names its field
	// in the body (a person's and a membership's e-mail are both "email").
	check := p
	check.Username = territory.NormalizeUsername(p.Username)
	errs := []error{territory.ValidatePerson(check)}
	var m storage.Membership
	if in.Membership == nil {
		errs = append(errs, field.New("membership", field.Required, "the person's membership of the organization is required (kind, service, title…)"))
	} else {
		var derr error
		m, derr = in.Membership.membership(o.ID, "membership.")
		mc := m
		mc.PersonID = "pending"
		if mc.ValidFrom.IsZero() {
			mc.ValidFrom = c.now()
		}
		errs = append(errs, derr, prefixed("membership.", territory.ValidateMembership(mc)))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := c.terr.CreatePerson(r.Context(), a, &p, territory.NewPerson{Membership: &m}); err != nil {
		for _, fe := range field.List(err) {
			if slices.Contains(membershipFields, fe.Field) {
				fe.Field = "membership." + fe.Field
			}
		}
		return err
	}
	w.Header().Set("Location", c.apiOrgURL(o, "people", p.ID))
	writeRecord(w, http.StatusCreated, p.Version, territory.ViewPerson(p))
	return nil
}

// prefixed returns err's field errors with their fields under prefix.
func prefixed(prefix string, err error) error {
	var out []error
	for _, fe := range field.List(err) {
		c := *fe
		c.Field = prefix + fe.Field
		out = append(out, &c)
	}
	return errors.Join(out...)
}

// apiPerson loads {id}: a person with a membership (even ended) in the
// organization of the path, whom the actor may see.
func (c *Console) apiPerson(r *http.Request, a authz.Actor, o storage.Organization) (storage.Person, error) {
	ctx := r.Context()
	p, err := c.terr.Person(ctx, a, r.PathValue("id"))
	if err != nil {
		return p, err
	}
	ms, err := c.terr.PersonMemberships(ctx, a, p.ID)
	if err != nil {
		return p, err
	}
	if !slices.ContainsFunc(ms, func(m storage.Membership) bool { return m.OrgID == o.ID }) {
		return p, fmt.Errorf("person of %s: %w", o.Slug, storage.ErrNotFound)
	}
	return p, nil
}

func (c *Console) apiPersonGet(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	p, err := c.apiPerson(r, a, o)
	if err != nil {
		return err
	}
	writeRecord(w, http.StatusOK, p.Version, territory.ViewPerson(p))
	return nil
}

// mergePatch reads an RFC 7396 merge patch of string fields: the value
// of each key given (nil for null, which clears the field). A key of
// readOnly is refused (422), another unknown key too (400).
func mergePatch(w http.ResponseWriter, r *http.Request, settable, readOnly []string) (map[string]*string, error) {
	var raw map[string]json.RawMessage
	if err := decodeBody(w, r, &raw, "application/merge-patch+json"); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, badRequest("the body must be a JSON object")
	}
	out := map[string]*string{}
	var errs []error
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := raw[k]
		switch {
		case slices.Contains(readOnly, k):
			errs = append(errs, field.New(k, "read_only", "cannot be changed here"))
			continue
		case !slices.Contains(settable, k):
			return nil, badRequest("unknown field %q: the fields are listed in the OpenAPI document", k)
		}
		if string(v) == "null" {
			out[k] = nil
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			errs = append(errs, field.New(k, "type", "must be a JSON string or null"))
			continue
		}
		s = strings.TrimSpace(s)
		out[k] = &s
	}
	return out, errors.Join(errs...)
}

// The fields a merge patch may change, and those it may not.
var (
	personPatchFields     = []string{"username", "given_name", "family_name", "usual_name", "email", "phone"}
	personReadOnly        = []string{"id", "version", "disabled", "email_verified"}
	membershipPatchFields = []string{"kind", "service", "title", "email", "phone", "valid_from", "valid_until"}
	membershipReadOnly    = []string{"id", "person_id", "org_id", "version"}
)

// set copies a merge patch's value of key onto dst.
func set(patch map[string]*string, key string, dst *string) {
	if v, ok := patch[key]; ok {
		*dst = ""
		if v != nil {
			*dst = *v
		}
	}
}

// apiPersonPatch changes a person's identity and contact (a JSON merge
// patch, with If-Match).
func (c *Console) apiPersonPatch(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	cur, err := c.apiPerson(r, a, o)
	if err != nil {
		return err
	}
	if err := requireIfMatch(r); err != nil {
		return err
	}
	patch, err := mergePatch(w, r, personPatchFields, personReadOnly)
	if err != nil {
		return err
	}
	if err := ifMatch(r, cur.Version); err != nil {
		return err
	}
	p := cur
	set(patch, "username", &p.Username)
	set(patch, "given_name", &p.GivenName)
	set(patch, "family_name", &p.FamilyName)
	set(patch, "usual_name", &p.UsualName)
	set(patch, "email", &p.Email)
	set(patch, "phone", &p.Phone)
	if p.Email != cur.Email {
		p.EmailVerified = false
	}
	if err := c.terr.UpdatePerson(r.Context(), a, o.ID, &p); err != nil {
		return err
	}
	writeRecord(w, http.StatusOK, p.Version, territory.ViewPerson(p))
	return nil
}

func (c *Console) apiPersonDisable(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	return c.apiPersonSetDisabled(w, r, a, true)
}

func (c *Console) apiPersonEnable(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	return c.apiPersonSetDisabled(w, r, a, false)
}

// apiPersonSetDisabled forbids (or allows again) a person to sign in;
// disabling ends their sessions. It answers the person.
func (c *Console) apiPersonSetDisabled(w http.ResponseWriter, r *http.Request, a authz.Actor, disabled bool) error {
	ctx := r.Context()
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	p, err := c.apiPerson(r, a, o)
	if err != nil {
		return err
	}
	if _, _, err := c.terr.SetDisabled(ctx, a, o.ID, p.ID, disabled); err != nil {
		return err
	}
	if p, err = c.terr.Person(ctx, a, p.ID); err != nil {
		return err
	}
	writeRecord(w, http.StatusOK, p.Version, territory.ViewPerson(p))
	return nil
}

// apiMembershipList lists the organization's memberships by ID, a page
// at a time; ?person_id= keeps one person's.
func (c *Console) apiMembershipList(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	ms, err := c.terr.Memberships(r.Context(), a, o.ID)
	if err != nil {
		return err
	}
	if pid := r.URL.Query().Get("person_id"); pid != "" {
		ms = slices.DeleteFunc(ms, func(m storage.Membership) bool { return m.PersonID != pid })
	}
	slices.SortFunc(ms, func(x, y storage.Membership) int { return strings.Compare(x.ID, y.ID) })
	views := make([]territory.MembershipView, len(ms))
	for i, m := range ms {
		views[i] = territory.ViewMembership(m)
	}
	page, err := paginate(r, views, func(v territory.MembershipView) string { return v.ID })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// apiNewMembership is the body that makes a person (of this organization
// or another) a member of the organization.
type apiNewMembership struct {
	PersonID string `json:"person_id"`
	apiMembershipFields
}

func (c *Console) apiMembershipCreate(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.PeopleWrite, authz.Org(o.ID)); err != nil {
		return err
	}
	var in apiNewMembership
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	m, err := in.membership(o.ID, "")
	if err != nil {
		return err
	}
	if m.PersonID = strings.TrimSpace(in.PersonID); m.PersonID == "" {
		return field.New("person_id", field.Required, "is required")
	}
	if err := c.terr.CreateMembership(r.Context(), a, &m); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return field.New("person_id", "unknown", "no person has this ID")
		}
		for _, fe := range field.List(err) {
			if fe.Field == "person" {
				fe.Field = "person_id"
			}
		}
		return err
	}
	w.Header().Set("Location", c.apiOrgURL(o, "memberships", m.ID))
	writeRecord(w, http.StatusCreated, m.Version, territory.ViewMembership(m))
	return nil
}

// apiMembership loads the organization's membership {id}.
func (c *Console) apiMembership(r *http.Request, a authz.Actor, o storage.Organization) (storage.Membership, error) {
	if err := authz.Check(a, authz.PeopleRead, authz.Org(o.ID)); err != nil {
		return storage.Membership{}, err
	}
	return c.store.GetMembership(r.Context(), o.ID, r.PathValue("id"))
}

func (c *Console) apiMembershipGet(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	m, err := c.apiMembership(r, a, o)
	if err != nil {
		return err
	}
	writeRecord(w, http.StatusOK, m.Version, territory.ViewMembership(m))
	return nil
}

// apiMembershipPatch changes a membership (a JSON merge patch, with
// If-Match): its kind, service, title, contact and dates.
func (c *Console) apiMembershipPatch(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	cur, err := c.apiMembership(r, a, o)
	if err != nil {
		return err
	}
	if err := requireIfMatch(r); err != nil {
		return err
	}
	patch, err := mergePatch(w, r, membershipPatchFields, membershipReadOnly)
	if err != nil {
		return err
	}
	if err := ifMatch(r, cur.Version); err != nil {
		return err
	}
	m := cur
	set(patch, "kind", &m.Kind)
	set(patch, "service", &m.Service)
	set(patch, "title", &m.Title)
	set(patch, "email", &m.Email)
	set(patch, "phone", &m.Phone)
	var errs []error
	if v, ok := patch["valid_from"]; ok {
		if v == nil || *v == "" {
			errs = append(errs, field.New("valid_from", field.Required, "a membership has a start"))
		} else {
			t, err := apiDate("valid_from", *v)
			m.ValidFrom, errs = t, append(errs, err)
		}
	}
	if v, ok := patch["valid_until"]; ok {
		var until *time.Time
		if v != nil && *v != "" {
			t, err := apiDate("valid_until", *v)
			until, errs = &t, append(errs, err)
		}
		m.ValidUntil = until
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := c.terr.UpdateMembership(r.Context(), a, &m); err != nil {
		return err
	}
	writeRecord(w, http.StatusOK, m.Version, territory.ViewMembership(m))
	return nil
}
