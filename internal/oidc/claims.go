package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"slices"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// mandateClaim is one élu's mandate in the "mandates" claim.
type mandateClaim struct {
	Function    string `json:"function"`
	Delegations string `json:"delegations,omitempty"`
	StartsAt    string `json:"starts_at"`
	EndsAt      string `json:"ends_at,omitempty"`
}

// claims returns the person's claims released to app by scopes, in the
// context of membership m (standard OpenID Connect claims and ProConnect's
// agent claims, each ProConnect scope releasing the claim of the same
// name). sub is the person's subject identifier for app (subject).
func (p *Provider) claims(ctx context.Context, app storage.Application, person storage.Person, m storage.Membership, scopes []string) (map[string]any, error) {
	has := func(s string) bool { return slices.Contains(scopes, s) }
	sub, err := p.subject(ctx, app, person.ID)
	if err != nil {
		return nil, err
	}
	c := map[string]any{"sub": sub}
	usual := person.UsualName
	if usual == "" {
		usual = person.FamilyName
	}
	email, emailVerified := person.Email, person.EmailVerified
	if m.Email != "" {
		email, emailVerified = m.Email, true // professional address set by the organization
	}
	phone := person.Phone
	if m.Phone != "" {
		phone = m.Phone
	}
	if has("profile") {
		c["name"] = strings.TrimSpace(person.GivenName + " " + usual)
		c["given_name"] = person.GivenName
		c["family_name"] = person.FamilyName
		c["preferred_username"] = person.Username
		c["updated_at"] = person.UpdatedAt.Unix()
	}
	if has("email") && email != "" {
		c["email"] = email
		c["email_verified"] = emailVerified
	}
	if has("phone") && phone != "" {
		c["phone_number"] = phone
		c["phone"] = phone // ProConnect's claim name
	}
	if has("given_name") {
		c["given_name"] = person.GivenName
	}
	if has("usual_name") {
		c["usual_name"] = usual
	}
	if has("uid") {
		c["uid"] = sub // the person ID, unless pairwise: uid must not undo it
	}
	if has("organizational_unit") && m.Service != "" {
		c["organizational_unit"] = m.Service
	}
	if has("belonging_population") {
		c["belonging_population"] = m.Kind
	}
	if has("siret") || has("siren") {
		org, err := p.store.GetOrganization(ctx, m.OrgID)
		if err != nil {
			return nil, err
		}
		if has("siren") {
			c["siren"] = org.SIREN
		}
		if has("siret") {
			siret := org.SIRET
			if siret == "" {
				siret = org.SIREN // an organization without SIRET: its SIREN
			}
			c["siret"] = siret
		}
	}
	if has("mandates") {
		c["membership_kind"] = m.Kind
		out := []mandateClaim{}
		if m.Kind == storage.KindElu {
			mds, err := p.store.ListMandates(ctx, m.OrgID, m.ID)
			if err != nil {
				return nil, err
			}
			now := p.now()
			for _, md := range mds {
				if !md.ActiveAt(now) {
					continue
				}
				mc := mandateClaim{Function: md.Function, Delegations: md.Delegations, StartsAt: md.StartsAt.UTC().Format(time.DateOnly)}
				if md.EndsAt != nil {
					mc.EndsAt = md.EndsAt.UTC().Format(time.DateOnly)
				}
				out = append(out, mc)
			}
		}
		c["mandates"] = out
	}
	return c, nil
}

// halfHash computes at_hash / c_hash (OpenID Connect Core section
// 3.1.3.6): the left half of the hash of the value, base64url, with the
// hash of the signing algorithm.
func halfHash(alg, value string) (string, bool) {
	var h hash.Hash
	switch alg {
	case "RS256", "ES256", "PS256":
		h = sha256.New()
	case "RS384", "ES384", "PS384":
		h = sha512.New384()
	case "RS512", "ES512", "PS512":
		h = sha512.New()
	default:
		return "", false
	}
	h.Write([]byte(value))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), true
}

func (p *Provider) signClaims(ctx context.Context, claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return p.signer.Sign(ctx, payload, "JWT")
}

// sessionSID returns the public session identifier ("sid" claim, OpenID
// Connect Front-Channel and Back-Channel Logout): derived from the stored
// session ID (itself a hash of the cookie secret), so it is stable for the
// session, reveals nothing usable, and needs no extra column.
func sessionSID(sessionID string) string {
	sum := sha256.Sum256([]byte("tno-sid:" + sessionID))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
