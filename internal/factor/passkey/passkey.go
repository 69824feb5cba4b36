package passkey

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// DefaultTimeout is how long a ceremony may take when Config.Timeout is
// zero: the time the browser is told to wait, and the age after which
// Finish refuses the state with ErrExpired.
const DefaultTimeout = 5 * time.Minute

// Config is what New needs. The caller derives it from the issuer URL: the
// RP ID is the issuer's host name, the origin is its scheme://host[:port].
type Config struct {
	// RPID is the relying party ID credentials are scoped to: a domain
	// name (not an IP address), the host of every origin or a parent of it.
	RPID string
	// RPName is the name authenticators may show next to the passkey.
	RPName string
	// Origins are the exact origins the browser may report, such as
	// "https://login.territoire.fr" or "https://login.territoire.fr:8443".
	// Plain http is accepted for localhost only.
	Origins []string
	// Timeout bounds each ceremony, from Begin to Finish; DefaultTimeout
	// when zero.
	Timeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service runs registration and login ceremonies for one relying party. It
// holds no mutable state and is safe for concurrent use.
type Service struct {
	wa      *webauthn.WebAuthn
	timeout time.Duration
	now     func() time.Time
}

// New checks c and returns a Service. All problems are reported at once.
func New(c Config) (*Service, error) {
	var errs []error
	if err := protocol.ValidateRPID(c.RPID); err != nil {
		errs = append(errs, fmt.Errorf("passkey: RP ID %q: %w", c.RPID, err))
	}
	if strings.TrimSpace(c.RPName) == "" {
		errs = append(errs, errors.New("passkey: RP name is empty"))
	}
	if len(c.Origins) == 0 {
		errs = append(errs, errors.New("passkey: no origin"))
	}
	for _, o := range c.Origins {
		if err := checkOrigin(o, c.RPID); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("passkey: negative timeout %v", c.Timeout))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	// The library's own expiry (Timeouts.*.Enforce) reads time.Now; it
	// stays off and Finish checks the expiry with the injected clock
	// instead. The timeouts still set the "timeout" member of the options.
	t := webauthn.TimeoutConfig{Timeout: timeout, TimeoutUVD: timeout}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  c.RPID,
		RPDisplayName:         c.RPName,
		RPOrigins:             append([]string(nil), c.Origins...),
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(),
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: t, Registration: t},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &Service{wa: wa, timeout: timeout, now: now}, nil
}

// checkOrigin reports whether o is a serialized origin (scheme, host,
// optional port; nothing else) on rpID or one of its subdomains, over
// https, or http on localhost.
func checkOrigin(o, rpID string) error {
	u, err := url.Parse(o)
	if err != nil || u.Scheme+"://"+u.Host != o || u.Host == "" {
		return fmt.Errorf("passkey: origin %q is not scheme://host[:port]", o)
	}
	host := u.Hostname()
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && (host == "localhost" || strings.HasSuffix(host, ".localhost")):
	default:
		return fmt.Errorf("passkey: origin %q must use https (http only on localhost)", o)
	}
	if rpID != "" && host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return fmt.Errorf("passkey: origin %q is not on RP ID %q", o, rpID)
	}
	return nil
}
