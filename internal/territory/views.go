package territory

import (
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// The JSON forms of the territory's records, as the audit log keeps them
// (before and after a change) and the REST API returns them. They carry
// no secret.

// OrgView is an organization.
type OrgView struct {
	ID        string `json:"id"`
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	SIREN     string `json:"siren"`
	SIRET     string `json:"siret,omitempty"`
	MFAPolicy string `json:"mfa_policy,omitempty"`
	Version   int64  `json:"version"`
}

// ViewOrg returns o's JSON form.
func ViewOrg(o storage.Organization) OrgView {
	return OrgView{ID: o.ID, Slug: o.Slug, Name: o.Name, SIREN: o.SIREN, SIRET: o.SIRET, MFAPolicy: o.MFAPolicy, Version: o.Version}
}

// PersonView is a person.
type PersonView struct {
	ID            string `json:"id"`
	Username      string `json:"username"`
	GivenName     string `json:"given_name"`
	FamilyName    string `json:"family_name"`
	UsualName     string `json:"usual_name,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	Phone         string `json:"phone,omitempty"`
	Disabled      bool   `json:"disabled"`
	Version       int64  `json:"version"`
}

// ViewPerson returns p's JSON form.
func ViewPerson(p storage.Person) PersonView {
	return PersonView{ID: p.ID, Username: p.Username, GivenName: p.GivenName, FamilyName: p.FamilyName,
		UsualName: p.UsualName, Email: p.Email, EmailVerified: p.EmailVerified, Phone: p.Phone,
		Disabled: p.Disabled, Version: p.Version}
}

// MembershipView is a membership.
type MembershipView struct {
	ID         string     `json:"id"`
	PersonID   string     `json:"person_id"`
	OrgID      string     `json:"org_id"`
	Kind       string     `json:"kind"`
	Service    string     `json:"service,omitempty"`
	Title      string     `json:"title,omitempty"`
	Email      string     `json:"email,omitempty"`
	Phone      string     `json:"phone,omitempty"`
	ValidFrom  time.Time  `json:"valid_from"`
	ValidUntil *time.Time `json:"valid_until,omitempty"`
	Version    int64      `json:"version"`
}

// ViewMembership returns m's JSON form.
func ViewMembership(m storage.Membership) MembershipView {
	return MembershipView{ID: m.ID, PersonID: m.PersonID, OrgID: m.OrgID, Kind: m.Kind, Service: m.Service,
		Title: m.Title, Email: m.Email, Phone: m.Phone, ValidFrom: m.ValidFrom, ValidUntil: m.ValidUntil, Version: m.Version}
}

// MandateView is an élu's mandate.
type MandateView struct {
	ID           string     `json:"id"`
	MembershipID string     `json:"membership_id"`
	Function     string     `json:"function"`
	Delegations  string     `json:"delegations,omitempty"`
	StartsAt     time.Time  `json:"starts_at"`
	EndsAt       *time.Time `json:"ends_at,omitempty"`
}

// ViewMandate returns md's JSON form.
func ViewMandate(md storage.Mandate) MandateView {
	return MandateView{ID: md.ID, MembershipID: md.MembershipID, Function: md.Function,
		Delegations: md.Delegations, StartsAt: md.StartsAt, EndsAt: md.EndsAt}
}

// GroupView is a group.
type GroupView struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// RoleView is an administration role held by a person.
type RoleView struct {
	PersonID string `json:"person_id"`
	Role     string `json:"role"`
	OrgID    string `json:"org_id,omitempty"`
	AppID    string `json:"app_id,omitempty"`
}
