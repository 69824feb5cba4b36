package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

// minClientSecretLen bounds secrets given in secret_file: they are
// stored with a fast hash, which is sound only for long random secrets.
const minClientSecretLen = 32

// plan is a validated applyFile: storage records without IDs, with
// references still by slug.
type plan struct {
	orgs   []storage.Organization
	people []planPerson
	apps   []planApp
}

// optional returns *p, or "" when the file does not name the field.
func optional[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// named lists the optional fields a file names: only those are changed
// on an existing record; what it does not name is left alone.
type named map[string]bool

func nameFields(fields map[string]bool) named { return named(fields) }

type planPerson struct {
	p           storage.Person
	named       named
	password    string // from password_file; set only if the person is new
	memberships []planMembership
}

type planMembership struct {
	org      string // slug
	m        storage.Membership
	named    named
	fromSet  bool
	mandates []planMandate
}

type planMandate struct {
	md      storage.Mandate
	fromSet bool
}

type planApp struct {
	a         storage.Application // OrgID and GrantedOrgIDs unset
	org       string
	grantOrgs []string
	secret    string // from secret_file
}

// planner accumulates the problems of a file, each with its location.
type planner struct {
	ctx  context.Context
	st   storage.Store
	dir  string
	errs []error
	// orgs are the slugs declared in the file or found in the database.
	orgs map[string]bool
}

func (pl *planner) fail(where string, err error) {
	for _, e := range flatten(err) {
		pl.errs = append(pl.errs, fmt.Errorf("%s: %w", where, e))
	}
}

func (pl *planner) failf(where, format string, args ...any) {
	pl.errs = append(pl.errs, fmt.Errorf("%s: "+format, append([]any{where}, args...)...))
}

// orgExists reports whether slug is declared or stored.
func (pl *planner) orgExists(slug string) (bool, error) {
	if ok, seen := pl.orgs[slug]; seen {
		return ok, nil
	}
	_, err := pl.st.GetOrganizationBySlug(pl.ctx, slug)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		pl.orgs[slug] = false
		return false, nil
	case err != nil:
		return false, err
	}
	pl.orgs[slug] = true
	return true, nil
}

func (pl *planner) checkOrgRef(where, field, slug string) error {
	if slug == "" {
		pl.failf(where, "%s: is required", field)
		return nil
	}
	ok, err := pl.orgExists(slug)
	if err != nil {
		return err
	}
	if !ok {
		pl.failf(where, "%s: organization %q is neither in the file nor in the database", field, slug)
	}
	return nil
}

// date parses an optional date; the zero time when empty.
func (pl *planner) date(where, field, s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := parseDate(s)
	if err != nil {
		pl.failf(where, "%s: %v", field, err)
		return nil
	}
	return &t
}

// readSecret reads a secret file, relative to the YAML file, without
// its final line ending.
func (pl *planner) readSecret(where, field, path string) (string, bool) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(pl.dir, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		pl.failf(where, "%s: %v", field, err)
		return "", false
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" {
		pl.failf(where, "%s: %s is empty", field, path)
		return "", false
	}
	return s, true
}

// jwksText returns the jwks of an application as JSON text: a YAML
// mapping is converted, a string taken as it is; "" when absent.
func jwksText(n *yaml.Node) (string, error) {
	switch {
	case n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"):
		return "", nil
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		return n.Value, nil
	case n.Kind == yaml.MappingNode:
		var v map[string]any
		if err := n.Decode(&v); err != nil {
			return "", fmt.Errorf("line %d: %v", n.Line, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("line %d: not representable in JSON: %v", n.Line, err)
		}
		return string(b), nil
	}
	return "", fmt.Errorf("line %d: want a JWK Set, as a mapping with a \"keys\" list or a string of JSON", n.Line)
}

// buildPlan validates f against the rules of the territory and apps
// services and against st, and reports every problem. Storage errors
// stop it.
func buildPlan(ctx context.Context, st storage.Store, f *applyFile, dir string) (*plan, []error) {
	pl := &planner{ctx: ctx, st: st, dir: dir, orgs: make(map[string]bool)}
	p := &plan{}
	seen := make(map[string]bool)
	for i, o := range f.Organizations {
		where := fmt.Sprintf("organizations[%d] %s", i, o.Slug)
		rec := storage.Organization{Slug: o.Slug, Name: o.Name, SIREN: o.SIREN, SIRET: o.SIRET}
		if err := territory.ValidateOrganization(rec); err != nil {
			pl.fail(where, err)
		}
		if seen[o.Slug] {
			pl.failf(where, "slug: %q is declared twice", o.Slug)
		}
		seen[o.Slug] = true
		pl.orgs[o.Slug] = true
		p.orgs = append(p.orgs, rec)
	}
	seen = make(map[string]bool)
	for i, in := range f.People {
		pp, err := pl.person(fmt.Sprintf("people[%d] %s", i, in.Username), in, seen)
		if err != nil {
			return nil, []error{err}
		}
		p.people = append(p.people, pp)
	}
	seen = make(map[string]bool)
	for i, in := range f.Applications {
		pa, err := pl.app(fmt.Sprintf("applications[%d] %s", i, in.ClientID), in, seen)
		if err != nil {
			return nil, []error{err}
		}
		p.apps = append(p.apps, pa)
	}
	return p, pl.errs
}

func (pl *planner) person(where string, in applyPerson, seen map[string]bool) (planPerson, error) {
	rec := storage.Person{
		Username: territory.NormalizeUsername(in.Username), GivenName: in.GivenName, FamilyName: in.FamilyName,
		UsualName: optional(in.UsualName), Email: optional(in.Email), EmailVerified: optional(in.EmailVerified), Phone: optional(in.Phone),
	}
	if err := territory.ValidatePerson(rec); err != nil {
		pl.fail(where, err)
	}
	if seen[rec.Username] {
		pl.failf(where, "username: %q is declared twice", rec.Username)
	}
	seen[rec.Username] = true
	pp := planPerson{p: rec, named: nameFields(map[string]bool{
		"usual_name": in.UsualName != nil, "email": in.Email != nil,
		"email_verified": in.EmailVerified != nil, "phone": in.Phone != nil,
	})}
	if in.PasswordFile != "" {
		// The password is set only on creation: an existing person's file
		// is not even read (it may be gone once used).
		_, err := pl.st.GetPersonByUsername(pl.ctx, rec.Username)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			if pw, ok := pl.readSecret(where, "password_file", in.PasswordFile); ok {
				if err := local.ValidatePassword(pw); err != nil {
					pl.failf(where, "password_file: password refused: %v", err)
				}
				pp.password = pw
			}
		case err != nil:
			return pp, err
		}
	}
	keys := make(map[string]bool)
	for j, in := range in.Memberships {
		mwhere := fmt.Sprintf("%s: memberships[%d] (org %s, kind %s)", where, j, in.Org, in.Kind)
		pm, err := pl.membership(mwhere, in)
		if err != nil {
			return pp, err
		}
		key := in.Org + "\x00" + in.Kind
		if keys[key] {
			pl.failf(mwhere, "the person holds this membership twice in the file")
		}
		keys[key] = true
		pp.memberships = append(pp.memberships, pm)
	}
	return pp, nil
}

func (pl *planner) membership(where string, in applyMembership) (planMembership, error) {
	if err := pl.checkOrgRef(where, "org", in.Org); err != nil {
		return planMembership{}, err
	}
	pm := planMembership{org: in.Org, fromSet: in.From != "", named: nameFields(map[string]bool{
		"service": in.Service != nil, "title": in.Title != nil, "email": in.Email != nil, "phone": in.Phone != nil,
		"until": in.Until != "",
	})}
	pm.m = storage.Membership{
		// Placeholders: ValidateMembership checks they are set.
		PersonID: "new", OrgID: "new",
		Kind: in.Kind, Service: optional(in.Service), Title: optional(in.Title), Email: optional(in.Email), Phone: optional(in.Phone),
	}
	if t := pl.date(where, "from", in.From); t != nil {
		pm.m.ValidFrom = *t
	}
	pm.m.ValidUntil = pl.date(where, "until", in.Until)
	if err := territory.ValidateMembership(pm.m); err != nil {
		pl.fail(where, err)
	}
	pm.m.PersonID, pm.m.OrgID = "", ""
	if len(in.Mandates) > 0 && in.Kind != storage.KindElu {
		pl.failf(where, "mandates: only élus' memberships (kind: elu) have mandates")
	}
	keys := make(map[string]bool)
	for k, in := range in.Mandates {
		mdwhere := fmt.Sprintf("%s: mandates[%d] %s", where, k, in.Function)
		md := planMandate{fromSet: in.From != ""}
		md.md = storage.Mandate{Function: in.Function, Delegations: in.Delegations}
		if strings.TrimSpace(in.Function) == "" {
			pl.failf(mdwhere, "function: is required")
		}
		if t := pl.date(mdwhere, "from", in.From); t != nil {
			md.md.StartsAt = *t
		}
		md.md.EndsAt = pl.date(mdwhere, "until", in.Until)
		start := md.md.StartsAt
		if !md.fromSet {
			start = pm.m.ValidFrom
		}
		if md.md.EndsAt != nil && !start.IsZero() && !md.md.EndsAt.After(start) {
			pl.failf(mdwhere, "until: must be after from")
		}
		key := in.Function + "\x00" + in.From
		if keys[key] {
			pl.failf(mdwhere, "this mandate (function and from) is declared twice")
		}
		keys[key] = true
		pm.mandates = append(pm.mandates, md)
	}
	return pm, nil
}

func (pl *planner) app(where string, in applyApp, seen map[string]bool) (planApp, error) {
	pa := planApp{org: in.Org}
	pa.a = storage.Application{
		ClientID: in.ClientID, Name: in.Name, ClientType: in.Type,
		RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		AllowedKinds: in.Kinds, Scopes: in.Scopes, FirstParty: in.FirstParty,
		OrgID: "new", // placeholder: Validate checks it is set
		Settings: storage.ClientSettings{
			GrantTypes:                        in.GrantTypes,
			RefreshTokens:                     in.RefreshTokens,
			ClientCredentialsScopes:           in.ClientCredentialsScopes,
			TokenEndpointAuthMethod:           in.TokenEndpointAuthMethod,
			JWKSURI:                           in.JWKSURI,
			RequirePAR:                        in.RequirePAR,
			RequireACR:                        in.RequireACR,
			SubjectType:                       in.SubjectType,
			UserinfoSignedResponseAlg:         in.UserinfoSignedResponseAlg,
			FrontchannelLogoutURI:             in.FrontchannelLogoutURI,
			FrontchannelLogoutSessionRequired: in.FrontchannelLogoutSessionRequired,
			BackchannelLogoutURI:              in.BackchannelLogoutURI,
			BackchannelLogoutSessionRequired:  in.BackchannelLogoutSessionRequired,
		},
	}
	if jwks, err := jwksText(&in.JWKS); err != nil {
		pl.failf(where, "jwks: %v", err)
	} else {
		// Validate reports a set that does not parse.
		pa.a.Settings.JWKS = jwks
		if n, err := apps.NormalizeJWKS(jwks); err == nil {
			pa.a.Settings.JWKS = n
		}
	}
	if err := apps.Validate(pa.a); err != nil {
		pl.fail(where, err)
	}
	pa.a.OrgID = ""
	if seen[in.ClientID] {
		pl.failf(where, "client_id: %q is declared twice", in.ClientID)
	}
	seen[in.ClientID] = true
	if err := pl.checkOrgRef(where, "org", in.Org); err != nil {
		return pa, err
	}
	for _, g := range in.GrantOrgs {
		if err := pl.checkOrgRef(where, "grant_orgs", g); err != nil {
			return pa, err
		}
		if !slices.Contains(pa.grantOrgs, g) {
			pa.grantOrgs = append(pa.grantOrgs, g)
		}
	}
	if in.SecretFile != "" {
		switch {
		case in.Type != storage.ClientConfidential:
			pl.failf(where, "secret_file: only confidential applications have a secret")
		case !apps.UsesSecret(pa.a):
			pl.failf(where, "secret_file: the application authenticates with private_key_jwt, not a secret")
		default:
			if s, ok := pl.readSecret(where, "secret_file", in.SecretFile); ok {
				if len(s) < minClientSecretLen {
					pl.failf(where, "secret_file: the secret must be at least %d characters of random data", minClientSecretLen)
				}
				pa.secret = s
			}
		}
	}
	// An application never changes owner.
	if in.ClientID != "" && in.Org != "" {
		existing, err := pl.st.GetApplicationByClientID(pl.ctx, in.ClientID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return pa, err
		default:
			owner, err := pl.st.GetOrganization(pl.ctx, existing.OrgID)
			if err != nil {
				return pa, err
			}
			if owner.Slug != in.Org {
				pl.failf(where, "org: the application belongs to %s; apply cannot give it to %s", owner.Slug, in.Org)
			}
		}
	}
	return pa, nil
}
