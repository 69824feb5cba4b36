package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

// applier writes a plan inside one transaction.
type applier struct {
	tx     storage.Store
	cfg    config.Config
	dryRun bool
	rep    *applyReport
	terr   *territory.Service
	apps   *apps.Service
	local  *local.Local // built on first use: it costs one hash
}

func (a *applier) apply(ctx context.Context, p *plan) error {
	var err error
	if a.terr, err = territory.New(territory.Options{Store: a.tx}); err != nil {
		return err
	}
	if a.apps, err = newApps(a.tx); err != nil {
		return err
	}
	for _, o := range p.orgs {
		if err := a.org(ctx, o); err != nil {
			return err
		}
	}
	for _, pp := range p.people {
		if err := a.person(ctx, pp); err != nil {
			return err
		}
	}
	for _, pa := range p.apps {
		if err := a.app(ctx, pa); err != nil {
			return err
		}
	}
	return nil
}

// diff names the fields that differ; add one with d.check.
type diff []string

func (d *diff) check(field string, differs bool) {
	if differs {
		*d = append(*d, field)
	}
}

func (a *applier) report(what string, created bool, d diff) {
	switch {
	case created:
		a.rep.add("created", what)
	case len(d) > 0:
		a.rep.add("updated", what, d...)
	default:
		a.rep.add("unchanged", what)
	}
}

func (a *applier) org(ctx context.Context, want storage.Organization) error {
	what := "organization " + want.Slug
	o, err := a.tx.GetOrganizationBySlug(ctx, want.Slug)
	if errors.Is(err, storage.ErrNotFound) {
		if err := a.terr.CreateOrganization(ctx, cliActor, &want); err != nil {
			return explain(what, err)
		}
		a.report(what, true, nil)
		return nil
	}
	if err != nil {
		return err
	}
	var d diff
	d.check("name", o.Name != want.Name)
	d.check("siren", o.SIREN != want.SIREN)
	d.check("siret", o.SIRET != want.SIRET)
	if len(d) > 0 {
		o.Name, o.SIREN, o.SIRET = want.Name, want.SIREN, want.SIRET
		if err := a.terr.UpdateOrganization(ctx, cliActor, &o); err != nil {
			return explain(what, err)
		}
	}
	a.report(what, false, d)
	return nil
}

func (a *applier) person(ctx context.Context, pp planPerson) error {
	want := pp.p
	what := "person " + want.Username
	p, err := a.tx.GetPersonByUsername(ctx, want.Username)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		p = want
		if err := a.terr.CreatePerson(ctx, cliActor, &p, territory.NewPerson{}); err != nil {
			return explain(what, err)
		}
		a.report(what, true, nil)
		if pp.password != "" {
			if err := a.setPassword(ctx, p.ID, pp.password); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			a.rep.note("set the password from password_file")
		}
	case err != nil:
		return err
	default:
		// Fields the file does not name are left as they are.
		n := pp.named
		var d diff
		d.check("given_name", p.GivenName != want.GivenName)
		d.check("family_name", p.FamilyName != want.FamilyName)
		d.check("usual_name", n["usual_name"] && p.UsualName != want.UsualName)
		d.check("email", n["email"] && p.Email != want.Email)
		d.check("email_verified", n["email_verified"] && p.EmailVerified != want.EmailVerified)
		d.check("phone", n["phone"] && p.Phone != want.Phone)
		if len(d) > 0 {
			p.GivenName, p.FamilyName = want.GivenName, want.FamilyName
			if n["usual_name"] {
				p.UsualName = want.UsualName
			}
			if n["email"] {
				p.Email = want.Email
			}
			if n["email_verified"] {
				p.EmailVerified = want.EmailVerified
			}
			if n["phone"] {
				p.Phone = want.Phone
			}
			if err := a.terr.UpdatePerson(ctx, cliActor, "", &p); err != nil {
				return explain(what, err)
			}
		}
		a.report(what, false, d)
	}
	if len(pp.memberships) == 0 {
		return nil
	}
	existing, err := a.tx.ListPersonMemberships(ctx, p.ID)
	if err != nil {
		return err
	}
	for _, pm := range pp.memberships {
		if err := a.membership(ctx, p, existing, pm); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) setPassword(ctx context.Context, personID, password string) error {
	if a.dryRun {
		return local.ValidatePassword(password)
	}
	if a.local == nil {
		l, err := newLocal(a.cfg, a.tx)
		if err != nil {
			return err
		}
		a.local = l
	}
	return a.local.SetPassword(ctx, personID, password)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func (a *applier) membership(ctx context.Context, p storage.Person, existing []storage.Membership, pm planMembership) error {
	o, err := a.tx.GetOrganizationBySlug(ctx, pm.org)
	if err != nil {
		return fmt.Errorf("organization %s: %w", pm.org, err)
	}
	what := fmt.Sprintf("%s membership of %s in %s", pm.m.Kind, p.Username, o.Slug)
	i := slices.IndexFunc(existing, func(m storage.Membership) bool { return m.OrgID == o.ID && m.Kind == pm.m.Kind })
	var m storage.Membership
	if i < 0 {
		m = pm.m
		m.PersonID, m.OrgID = p.ID, o.ID
		if err := a.terr.CreateMembership(ctx, cliActor, &m); err != nil {
			return explain(what, err)
		}
		a.report(what, true, nil)
	} else {
		m = existing[i]
		want := pm.m
		// Fields the file does not name are left as they are (a title set
		// with the CLI survives a file without titles).
		n := pm.named
		var d diff
		d.check("service", n["service"] && m.Service != want.Service)
		d.check("title", n["title"] && m.Title != want.Title)
		d.check("email", n["email"] && m.Email != want.Email)
		d.check("phone", n["phone"] && m.Phone != want.Phone)
		d.check("from", pm.fromSet && !m.ValidFrom.Equal(want.ValidFrom))
		d.check("until", n["until"] && !sameTime(m.ValidUntil, want.ValidUntil))
		if len(d) > 0 {
			for _, f := range []struct {
				name     string
				cur, new *string
			}{{"service", &m.Service, &want.Service}, {"title", &m.Title, &want.Title}, {"email", &m.Email, &want.Email}, {"phone", &m.Phone, &want.Phone}} {
				if n[f.name] {
					*f.cur = *f.new
				}
			}
			if n["until"] {
				m.ValidUntil = want.ValidUntil
			}
			if pm.fromSet {
				m.ValidFrom = want.ValidFrom
			}
			if err := a.terr.UpdateMembership(ctx, cliActor, &m); err != nil {
				return explain(what, err)
			}
		}
		a.report(what, false, d)
	}
	if len(pm.mandates) == 0 {
		return nil
	}
	mds, err := a.tx.ListMandates(ctx, o.ID, m.ID)
	if err != nil {
		return err
	}
	for _, pmd := range pm.mandates {
		if err := a.mandate(ctx, m, mds, pmd, what); err != nil {
			return err
		}
	}
	return nil
}

// mandate creates or updates one mandate. Mandates have no update in
// storage: a changed one is replaced, under the same ID.
func (a *applier) mandate(ctx context.Context, m storage.Membership, existing []storage.Mandate, pmd planMandate, of string) error {
	want := pmd.md
	if !pmd.fromSet {
		want.StartsAt = m.ValidFrom
	}
	want.MembershipID, want.OrgID = m.ID, m.OrgID
	what := fmt.Sprintf("mandate %q of the %s", want.Function, of)
	i := slices.IndexFunc(existing, func(md storage.Mandate) bool {
		return md.Function == want.Function && md.StartsAt.Equal(want.StartsAt)
	})
	if i < 0 {
		if err := a.terr.AddMandate(ctx, cliActor, &want); err != nil {
			return explain(what, err)
		}
		a.report(what, true, nil)
		return nil
	}
	old := existing[i]
	var d diff
	d.check("delegations", old.Delegations != want.Delegations)
	d.check("until", !sameTime(old.EndsAt, want.EndsAt))
	if len(d) > 0 {
		if err := a.terr.RemoveMandate(ctx, cliActor, old.OrgID, old.MembershipID, old.ID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		want.ID = old.ID
		if err := a.terr.AddMandate(ctx, cliActor, &want); err != nil {
			return explain(what, err)
		}
	}
	a.report(what, false, d)
	return nil
}

// settingsDiff adds the protocol settings that differ, by their YAML
// names.
func settingsDiff(d *diff, cur, want storage.ClientSettings) {
	d.check("grant_types", !sameList(cur.GrantTypes, want.GrantTypes))
	d.check("refresh_tokens", cur.RefreshTokens != want.RefreshTokens)
	d.check("client_credentials_scopes", !sameList(cur.ClientCredentialsScopes, want.ClientCredentialsScopes))
	d.check("token_endpoint_auth_method", cur.TokenEndpointAuthMethod != want.TokenEndpointAuthMethod)
	d.check("jwks", !sameJWKS(cur.JWKS, want.JWKS))
	d.check("jwks_uri", cur.JWKSURI != want.JWKSURI)
	d.check("require_par", cur.RequirePAR != want.RequirePAR)
	d.check("require_acr", cur.RequireACR != want.RequireACR)
	d.check("subject_type", cur.SubjectType != want.SubjectType)
	d.check("userinfo_signed_response_alg", cur.UserinfoSignedResponseAlg != want.UserinfoSignedResponseAlg)
	d.check("frontchannel_logout_uri", cur.FrontchannelLogoutURI != want.FrontchannelLogoutURI)
	d.check("frontchannel_logout_session_required", cur.FrontchannelLogoutSessionRequired != want.FrontchannelLogoutSessionRequired)
	d.check("backchannel_logout_uri", cur.BackchannelLogoutURI != want.BackchannelLogoutURI)
	d.check("backchannel_logout_session_required", cur.BackchannelLogoutSessionRequired != want.BackchannelLogoutSessionRequired)
}

// sameJWKS compares JWK Sets by their canonical form, so that a set
// stored by another path in another layout is not rewritten.
func sameJWKS(a, b string) bool {
	if a == b {
		return true
	}
	na, errA := apps.NormalizeJWKS(a)
	nb, errB := apps.NormalizeJWKS(b)
	return errA == nil && errB == nil && na == nb
}

// sameList compares lists, nil and empty alike.
func sameList(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b))
}

func (a *applier) app(ctx context.Context, pa planApp) error {
	want := pa.a
	what := "application " + want.ClientID
	owner, err := a.tx.GetOrganizationBySlug(ctx, pa.org)
	if err != nil {
		return fmt.Errorf("%s: organization %s: %w", what, pa.org, err)
	}
	want.OrgID = owner.ID
	for _, slug := range pa.grantOrgs {
		o, err := a.tx.GetOrganizationBySlug(ctx, slug)
		if err != nil {
			return fmt.Errorf("%s: organization %s: %w", what, slug, err)
		}
		want.GrantedOrgIDs = append(want.GrantedOrgIDs, o.ID)
	}
	cur, err := a.tx.GetApplicationByClientID(ctx, want.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		secret, err := a.apps.Create(ctx, cliActor, &want)
		if err != nil {
			return explain(what, err)
		}
		a.report(what, true, nil)
		if w := algMismatch(a.cfg, want.Settings); w != "" {
			a.rep.note("warning: " + w)
		}
		switch {
		case pa.secret != "":
			if err := a.apps.SetSecret(ctx, cliActor, want.OrgID, want.ID, pa.secret); err != nil {
				return explain(what, err)
			}
			a.rep.note("set the client secret from secret_file")
		case secret != "" && a.dryRun:
			a.rep.note("a client secret would be generated")
		case secret != "":
			a.rep.secrets = append(a.rep.secrets, want.ClientID+"\x00"+secret)
		}
		return nil
	}
	if err != nil {
		return err
	}
	var d diff
	d.check("name", cur.Name != want.Name)
	d.check("type", cur.ClientType != want.ClientType)
	d.check("redirect_uris", !sameList(cur.RedirectURIs, want.RedirectURIs))
	d.check("post_logout_redirect_uris", !sameList(cur.PostLogoutRedirectURIs, want.PostLogoutRedirectURIs))
	d.check("grant_orgs", !sameList(cur.GrantedOrgIDs, want.GrantedOrgIDs))
	d.check("kinds", !sameList(cur.AllowedKinds, want.AllowedKinds))
	d.check("scopes", !sameList(cur.Scopes, want.Scopes))
	d.check("first_party", cur.FirstParty != want.FirstParty)
	settingsDiff(&d, cur.Settings, want.Settings)
	setSecret := pa.secret != "" && apps.UsesSecret(want) && !apps.VerifySecret(cur, pa.secret)
	d.check("secret", setSecret)
	// The secret follows the authentication method (apps.Service.Update
	// generates one when the application starts using a secret); a
	// secret_file then replaces it.
	var generated string
	if len(d) > 0 {
		want.ID, want.Disabled, want.CreatedAt, want.Version = cur.ID, cur.Disabled, cur.CreatedAt, cur.Version
		var err error
		if generated, err = a.apps.Update(ctx, cliActor, &want); err != nil {
			return explain(what, err)
		}
	}
	if setSecret {
		generated = ""
		if err := a.apps.SetSecret(ctx, cliActor, want.OrgID, want.ID, pa.secret); err != nil {
			return explain(what, err)
		}
	}
	a.report(what, false, d)
	if w := algMismatch(a.cfg, want.Settings); w != "" && len(d) > 0 {
		a.rep.note("warning: " + w)
	}
	switch {
	case generated != "" && a.dryRun:
		a.rep.note("a client secret would be generated")
	case generated != "":
		a.rep.secrets = append(a.rep.secrets, want.ClientID+"\x00"+generated)
	}
	return nil
}
