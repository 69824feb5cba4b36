package territory

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// FieldError is one invalid input field (the one kind every use case
// returns).
type FieldError = field.Error

func fieldErr(name, code, format string, args ...any) error {
	return field.New(name, code, format, args...)
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

// sameDay reports whether a and b fall on the same local calendar day.
func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Local().Date()
	by, bm, bd := b.Local().Date()
	return ay == by && am == bm && ad == bd
}
