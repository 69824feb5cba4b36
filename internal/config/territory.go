package config

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Territory is how the sign-in pages present the platform: the
// territory's own name and logo, where to find help, and the footer
// links every French public service carries.
type Territory struct {
	// Name is shown in the header, the page titles and the footer
	// ("TNO" if empty), for instance "Syndicat numérique du Val".
	Name string `yaml:"name"`
	// LogoFile is an SVG or PNG file of at most 512 KiB, read at start
	// and served by TNO itself; TNO's own logo if empty.
	LogoFile string `yaml:"logo_file"`
	// Support tells in one sentence how to reach help (a phone number,
	// an address), shown on the sign-in and error pages; SupportURL, if
	// set, is linked from it.
	Support    string `yaml:"support"`
	SupportURL string `yaml:"support_url"`
	// The footer links (absolute http or https URLs, each optional).
	LegalNoticeURL   string `yaml:"legal_notice_url"`
	PersonalDataURL  string `yaml:"personal_data_url"`
	AccessibilityURL string `yaml:"accessibility_url"`
	// AccessibilityStatus is the RGAA compliance the accessibility
	// statement declares: AccessibilityNon, AccessibilityPartial or
	// AccessibilityFull ("non conforme" by default, as the RGAA requires
	// until an audit says otherwise).
	AccessibilityStatus string `yaml:"accessibility_status"`
}

// RGAA compliance statuses.
const (
	AccessibilityNon     = "non"
	AccessibilityPartial = "partial"
	AccessibilityFull    = "full"
)

// MaxLogoBytes bounds territory.logo_file.
const MaxLogoBytes = 512 << 10

func (t Territory) validate(add func(key, format string, args ...any)) {
	if len(t.Name) > 120 {
		add("territory.name", "is longer than 120 bytes")
	}
	if len(t.Support) > 300 {
		add("territory.support", "is longer than 300 bytes")
	}
	if t.LogoFile != "" {
		switch strings.ToLower(filepath.Ext(t.LogoFile)) {
		case ".svg", ".png":
			if fi, err := os.Stat(t.LogoFile); err != nil {
				add("territory.logo_file", "%v", err)
			} else if fi.Size() > MaxLogoBytes {
				add("territory.logo_file", "%s has %d bytes, more than %d", t.LogoFile, fi.Size(), MaxLogoBytes)
			}
		default:
			add("territory.logo_file", "%q must be an .svg or .png file", t.LogoFile)
		}
	}
	for _, u := range []struct{ key, v string }{
		{"territory.support_url", t.SupportURL}, {"territory.legal_notice_url", t.LegalNoticeURL},
		{"territory.personal_data_url", t.PersonalDataURL}, {"territory.accessibility_url", t.AccessibilityURL},
	} {
		if u.v == "" {
			continue
		}
		p, err := url.Parse(u.v)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			add(u.key, "%q must be an absolute http or https URL", u.v)
		}
	}
	statuses := []string{AccessibilityNon, AccessibilityPartial, AccessibilityFull}
	if !slices.Contains(statuses, t.AccessibilityStatus) {
		add("territory.accessibility_status", "%s", oneOf(t.AccessibilityStatus, statuses...))
	}
}

// ReadLogo returns the logo file's content and media type, nil if none.
func (t Territory) ReadLogo() ([]byte, string, error) {
	if t.LogoFile == "" {
		return nil, "", nil
	}
	data, err := os.ReadFile(t.LogoFile)
	if err != nil {
		return nil, "", fmt.Errorf("territory.logo_file: %w", err)
	}
	if len(data) > MaxLogoBytes {
		return nil, "", fmt.Errorf("territory.logo_file: more than %d bytes", MaxLogoBytes)
	}
	if strings.EqualFold(filepath.Ext(t.LogoFile), ".png") {
		return data, "image/png", nil
	}
	return data, "image/svg+xml", nil
}
