package storage

import (
	"context"
	"time"
)

// Organization is a collectivité: métropole, city, commune, syndicate.
type Organization struct {
	ID    string
	Slug  string // unique, URL- and CLI-friendly ("ville-exemple")
	Name  string
	SIREN string // 9 digits, Luhn-valid
	SIRET string // 14 digits, Luhn-valid, optional; starts with SIREN
	// MFAPolicy requires a second factor at sign-in: MFANone, MFAElus
	// (its élus), MFAAll (all its members). A person is under the
	// strictest policy of the organizations they have a current
	// membership in.
	MFAPolicy string
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64 // 1 when created, one more at each update
}

// Second-factor policies of an organization (Organization.MFAPolicy).
const (
	MFANone = ""
	MFAElus = "elus"
	MFAAll  = "all"
)

// Person is one territory identity, whatever the number of organizations
// the human being serves.
type Person struct {
	ID            string
	Username      string // sign-in identifier, unique, lowercase
	GivenName     string
	FamilyName    string // birth name
	UsualName     string // usual name (nom d'usage), empty if same as FamilyName
	Email         string
	EmailVerified bool
	Phone         string
	Disabled      bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Version       int64 // 1 when created, one more at each update
}

// Membership kinds.
const (
	KindAgent = "agent"
	KindElu   = "elu"
)

// Membership links a person to an organization.
type Membership struct {
	ID         string
	PersonID   string
	OrgID      string
	Kind       string // KindAgent or KindElu
	Service    string // service / direction (organizational_unit)
	Title      string // job title
	Email      string // professional e-mail for this membership, optional
	Phone      string // professional phone for this membership, optional
	ValidFrom  time.Time
	ValidUntil *time.Time // nil: no end date
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Version    int64 // 1 when created, one more at each update
}

// ActiveAt reports whether the membership is valid at t.
func (m Membership) ActiveAt(t time.Time) bool {
	if t.Before(m.ValidFrom) {
		return false
	}
	return m.ValidUntil == nil || t.Before(*m.ValidUntil)
}

// Mandate is an élu's function inside a membership.
type Mandate struct {
	ID           string
	MembershipID string
	OrgID        string
	Function     string // "Maire", "Adjointe déléguée à la culture"…
	Delegations  string // free text
	StartsAt     time.Time
	EndsAt       *time.Time
	CreatedAt    time.Time
}

// ActiveAt reports whether the mandate is in force at t.
func (m Mandate) ActiveAt(t time.Time) bool {
	if t.Before(m.StartsAt) {
		return false
	}
	return m.EndsAt == nil || t.Before(*m.EndsAt)
}

// Group is a set of memberships inside one organization.
type Group struct {
	ID        string
	OrgID     string
	Slug      string // unique within the organization
	Name      string
	CreatedAt time.Time
}

// Organizations stores organizations.
type Organizations interface {
	CreateOrganization(ctx context.Context, o *Organization) error // sets ID (if empty), CreatedAt, UpdatedAt
	GetOrganization(ctx context.Context, id string) (Organization, error)
	GetOrganizationBySlug(ctx context.Context, slug string) (Organization, error)
	ListOrganizations(ctx context.Context) ([]Organization, error) // by slug
	UpdateOrganization(ctx context.Context, o *Organization) error // by ID; sets UpdatedAt
}

// People stores persons.
type People interface {
	CreatePerson(ctx context.Context, p *Person) error // sets ID (if empty), CreatedAt, UpdatedAt
	GetPerson(ctx context.Context, id string) (Person, error)
	GetPersonByUsername(ctx context.Context, username string) (Person, error)
	// GetPersonByEmail returns the one person with that e-mail address,
	// ignoring case; ErrNotFound if none or several have it.
	GetPersonByEmail(ctx context.Context, email string) (Person, error)
	UpdatePerson(ctx context.Context, p *Person) error // by ID; sets UpdatedAt
	ListPeople(ctx context.Context) ([]Person, error)  // by username
	// ListPeopleInOrganization returns the people holding a membership
	// (active or not) in orgID.
	ListPeopleInOrganization(ctx context.Context, orgID string) ([]Person, error)
	// CountPeopleInOrganization counts them.
	CountPeopleInOrganization(ctx context.Context, orgID string) (int, error)
}

// Credentials stores local authentication secrets (PHC-formatted hashes).
type Credentials interface {
	// SetPasswordHash sets or replaces the hash, and leaves whether a
	// change is required as it was (false for a new row).
	SetPasswordHash(ctx context.Context, personID, phc string) error
	GetPasswordHash(ctx context.Context, personID string) (string, error)
	// SetPasswordChangeRequired says whether the person must choose a new
	// password at their next sign-in; ErrNotFound if they have none.
	SetPasswordChangeRequired(ctx context.Context, personID string, required bool) error
	// PasswordChangeRequired tells it; false for a person without password.
	PasswordChangeRequired(ctx context.Context, personID string) (bool, error)
}

// Memberships stores memberships. Reads through an organization ID never
// return another organization's memberships.
type Memberships interface {
	CreateMembership(ctx context.Context, m *Membership) error // sets ID, CreatedAt, UpdatedAt; ErrConflict if person already member of org with that kind
	GetMembership(ctx context.Context, orgID, id string) (Membership, error)
	UpdateMembership(ctx context.Context, m *Membership) error // by OrgID+ID
	DeleteMembership(ctx context.Context, orgID, id string) error
	ListMemberships(ctx context.Context, orgID string) ([]Membership, error)
	// ListPersonMemberships returns all of a person's memberships, every
	// organization: used at sign-in to compute eligibility.
	ListPersonMemberships(ctx context.Context, personID string) ([]Membership, error)
}

// Mandates stores élus' mandates.
type Mandates interface {
	CreateMandate(ctx context.Context, m *Mandate) error // OrgID must match the membership's
	ListMandates(ctx context.Context, orgID, membershipID string) ([]Mandate, error)
	DeleteMandate(ctx context.Context, orgID, id string) error
}

// Groups stores groups and their members.
type Groups interface {
	CreateGroup(ctx context.Context, g *Group) error
	GetGroup(ctx context.Context, orgID, id string) (Group, error)
	GetGroupBySlug(ctx context.Context, orgID, slug string) (Group, error)
	ListGroups(ctx context.Context, orgID string) ([]Group, error)
	DeleteGroup(ctx context.Context, orgID, id string) error
	// AddGroupMember adds a membership of the same organization to a group.
	// ErrNotFound if the group or membership is not in orgID.
	AddGroupMember(ctx context.Context, orgID, groupID, membershipID string) error
	RemoveGroupMember(ctx context.Context, orgID, groupID, membershipID string) error
	ListGroupMembers(ctx context.Context, orgID, groupID string) ([]Membership, error)
	// ListMembershipGroups lists the IDs of the groups a membership belongs to.
	ListMembershipGroups(ctx context.Context, orgID, membershipID string) ([]string, error)
}

// Admin roles (internal/authz maps them to permissions).
const (
	RolePlatformAdmin = "platform_admin" // OrgID empty
	RoleOrgAdmin      = "org_admin"
	RoleOrgHelpdesk   = "org_helpdesk"
	RoleAppManager    = "app_manager" // AppID names the application
)

// AdminRole grants administration rights to a person.
type AdminRole struct {
	PersonID  string
	OrgID     string // empty for platform-wide roles
	AppID     string // the application of an app_manager, else empty
	Role      string
	CreatedAt time.Time
}

// AdminRoles stores administration rights.
type AdminRoles interface {
	GrantRole(ctx context.Context, r *AdminRole) error // idempotent
	// RevokeRole removes the grant r names (PersonID, OrgID, AppID,
	// Role); ErrNotFound if it was not held.
	RevokeRole(ctx context.Context, r AdminRole) error
	ListRoles(ctx context.Context, personID string) ([]AdminRole, error)
	// ListOrgRoles lists the grants in an organization (orgID "" for the
	// platform-wide ones), by person and role.
	ListOrgRoles(ctx context.Context, orgID string) ([]AdminRole, error)
	// CountRole counts holders of a role (any organization).
	CountRole(ctx context.Context, role string) (int, error)
}
