// Package territory owns the territory's model: organizations, people,
// memberships (agent or élu), mandates and groups, with their validation
// rules (SIREN/SIRET Luhn check, identifiers, validity dates).
//
// It imports internal/storage only. Every method that touches data owned
// by an organization takes the organization ID explicitly.
package territory

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// FieldError is one invalid input field. Code is stable, for translation.
type FieldError struct {
	Field string
	Code  string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, code, format string, args ...any) error {
	return &FieldError{Field: field, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Store is what the territory service needs from storage.
type Store interface {
	storage.Organizations
	storage.People
	storage.Memberships
	storage.Mandates
	storage.Groups
}

// Options configures a Service.
type Options struct {
	Store Store
	Now   func() time.Time
}

// Service validates and stores the territory's records.
type Service struct {
	store Store
	now   func() time.Time
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("territory: nil store")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{store: opts.Store, now: opts.Now}, nil
}

var (
	slugRE     = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	usernameRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9._@+-]{0,126}[a-z0-9])?$`)
)

// ValidSlug reports whether s is a valid organization or group slug.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// NormalizeUsername returns the canonical form of a sign-in identifier.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateOrganization checks an organization's fields.
func ValidateOrganization(o storage.Organization) error {
	var errs []error
	if !ValidSlug(o.Slug) {
		errs = append(errs, fieldErr("slug", "invalid", "must be 1-63 lowercase letters, digits or hyphens, got %q", o.Slug))
	}
	if strings.TrimSpace(o.Name) == "" {
		errs = append(errs, fieldErr("name", "required", "is required"))
	}
	if err := ValidateSIREN(o.SIREN); err != nil {
		errs = append(errs, fieldErr("siren", "invalid", "%v", err))
	}
	if o.SIRET != "" {
		if err := ValidateSIRET(o.SIRET); err != nil {
			errs = append(errs, fieldErr("siret", "invalid", "%v", err))
		} else if o.SIREN != "" && !strings.HasPrefix(o.SIRET, o.SIREN) {
			errs = append(errs, fieldErr("siret", "mismatch", "SIRET %s does not start with SIREN %s", o.SIRET, o.SIREN))
		}
	}
	switch o.MFAPolicy {
	case storage.MFANone, storage.MFAElus, storage.MFAAll:
	default:
		errs = append(errs, fieldErr("mfa_policy", "invalid", "must be %q, %q or empty, got %q", storage.MFAElus, storage.MFAAll, o.MFAPolicy))
	}
	return errors.Join(errs...)
}

// ValidatePerson checks a person's fields.
func ValidatePerson(p storage.Person) error {
	var errs []error
	if !usernameRE.MatchString(p.Username) {
		errs = append(errs, fieldErr("username", "invalid", "must be 1-128 lowercase letters, digits or . _ @ + -, got %q", p.Username))
	}
	if strings.TrimSpace(p.GivenName) == "" {
		errs = append(errs, fieldErr("given_name", "required", "is required"))
	}
	if strings.TrimSpace(p.FamilyName) == "" {
		errs = append(errs, fieldErr("family_name", "required", "is required"))
	}
	if p.Email != "" {
		if err := validEmail(p.Email); err != nil {
			errs = append(errs, fieldErr("email", "invalid", "%v", err))
		}
	}
	return errors.Join(errs...)
}

func validEmail(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return fmt.Errorf("not a plain e-mail address: %q", s)
	}
	return nil
}

// ValidateMembership checks a membership's fields.
func ValidateMembership(m storage.Membership) error {
	var errs []error
	if m.PersonID == "" {
		errs = append(errs, fieldErr("person", "required", "is required"))
	}
	if m.OrgID == "" {
		errs = append(errs, fieldErr("organization", "required", "is required"))
	}
	if m.Kind != storage.KindAgent && m.Kind != storage.KindElu {
		errs = append(errs, fieldErr("kind", "invalid", "must be %q or %q, got %q", storage.KindAgent, storage.KindElu, m.Kind))
	}
	if m.ValidUntil != nil && !m.ValidUntil.After(m.ValidFrom) {
		errs = append(errs, fieldErr("valid_until", "before_start", "must be after valid_from"))
	}
	if m.Email != "" {
		if err := validEmail(m.Email); err != nil {
			errs = append(errs, fieldErr("email", "invalid", "%v", err))
		}
	}
	return errors.Join(errs...)
}

// CreateOrganization validates and stores o.
func (s *Service) CreateOrganization(ctx context.Context, o *storage.Organization) error {
	if err := ValidateOrganization(*o); err != nil {
		return err
	}
	if err := s.store.CreateOrganization(ctx, o); err != nil {
		return fmt.Errorf("create organization %s: %w", o.Slug, err)
	}
	return nil
}

// UpdateOrganization validates and stores o.
func (s *Service) UpdateOrganization(ctx context.Context, o *storage.Organization) error {
	if err := ValidateOrganization(*o); err != nil {
		return err
	}
	if err := s.store.UpdateOrganization(ctx, o); err != nil {
		return fmt.Errorf("update organization %s: %w", o.Slug, err)
	}
	return nil
}

// CreatePerson normalizes, validates and stores p.
func (s *Service) CreatePerson(ctx context.Context, p *storage.Person) error {
	p.Username = NormalizeUsername(p.Username)
	if err := ValidatePerson(*p); err != nil {
		return err
	}
	if err := s.store.CreatePerson(ctx, p); err != nil {
		return fmt.Errorf("create person %s: %w", p.Username, err)
	}
	return nil
}

// UpdatePerson validates and stores p.
func (s *Service) UpdatePerson(ctx context.Context, p *storage.Person) error {
	p.Username = NormalizeUsername(p.Username)
	if err := ValidatePerson(*p); err != nil {
		return err
	}
	if err := s.store.UpdatePerson(ctx, p); err != nil {
		return fmt.Errorf("update person %s: %w", p.Username, err)
	}
	return nil
}

// CreateMembership validates and stores m. A zero ValidFrom means now.
func (s *Service) CreateMembership(ctx context.Context, m *storage.Membership) error {
	if m.ValidFrom.IsZero() {
		m.ValidFrom = s.now().UTC().Truncate(time.Second)
	}
	if err := ValidateMembership(*m); err != nil {
		return err
	}
	if _, err := s.store.GetOrganization(ctx, m.OrgID); err != nil {
		return fmt.Errorf("membership organization %s: %w", m.OrgID, err)
	}
	if _, err := s.store.GetPerson(ctx, m.PersonID); err != nil {
		return fmt.Errorf("membership person %s: %w", m.PersonID, err)
	}
	if err := s.store.CreateMembership(ctx, m); err != nil {
		return fmt.Errorf("create membership: %w", err)
	}
	return nil
}

// AddMandate validates and stores an élu's mandate.
func (s *Service) AddMandate(ctx context.Context, md *storage.Mandate) error {
	m, err := s.store.GetMembership(ctx, md.OrgID, md.MembershipID)
	if err != nil {
		return fmt.Errorf("mandate membership %s: %w", md.MembershipID, err)
	}
	var errs []error
	if m.Kind != storage.KindElu {
		errs = append(errs, fieldErr("membership", "not_elu", "mandates belong to élus' memberships"))
	}
	if strings.TrimSpace(md.Function) == "" {
		errs = append(errs, fieldErr("function", "required", "is required"))
	}
	if md.StartsAt.IsZero() {
		md.StartsAt = m.ValidFrom
	}
	if md.StartsAt.Before(m.ValidFrom) {
		if sameDay(md.StartsAt, m.ValidFrom) {
			// "--from today" for a membership created a moment ago: the
			// mandate starts with the membership.
			md.StartsAt = m.ValidFrom
		} else {
			errs = append(errs, fieldErr("starts_at", "before_membership", "must not be before the membership starts (%s)", m.ValidFrom.Local().Format(time.DateOnly)))
		}
	}
	if md.EndsAt != nil && !md.EndsAt.After(md.StartsAt) {
		errs = append(errs, fieldErr("ends_at", "before_start", "must be after starts_at"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return s.store.CreateMandate(ctx, md)
}

// ActiveMandates returns the mandates of a membership in force at t.
func (s *Service) ActiveMandates(ctx context.Context, orgID, membershipID string, t time.Time) ([]storage.Mandate, error) {
	all, err := s.store.ListMandates(ctx, orgID, membershipID)
	if err != nil {
		return nil, err
	}
	var out []storage.Mandate
	for _, md := range all {
		if md.ActiveAt(t) {
			out = append(out, md)
		}
	}
	return out, nil
}

// sameDay reports whether a and b fall on the same local calendar day.
func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Local().Date()
	by, bm, bd := b.Local().Date()
	return ay == by && am == bm && ad == bd
}
