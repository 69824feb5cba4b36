package admin

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// appForm is the application form: the fields everyone fills in, then
// the OpenID Connect settings folded in a <details> (which opens by
// itself when one of them has an error). Its inputs are named after the
// use case's fields (registration metadata names), so that an error
// lands next to its input.
type appForm struct {
	Action       string
	Version      string
	Submit       string
	Main         []appSection
	Advanced     []appSection
	AdvancedOpen bool
	Errors       []formError
}

// appSection is a fieldset of the form.
type appSection struct {
	LegendKey string
	Inputs    []appInput
}

// appInput is one input: a formField drawn like the console's others, a
// group of checkboxes (Type "checks"), or a value the actor may see but
// not change (Type "static").
type appInput struct {
	formField
	Rows   int // of a textarea
	Checks []appCheck
}

// appCheck is one checkbox of a group.
type appCheck struct {
	Value    string
	Label    string
	LabelKey string
	Code     bool   // the label is a protocol name, drawn as code
	Detail   string // what it means, after the label
	Checked  bool
}

// appFormOptions is what the form offers besides the application.
type appFormOptions struct {
	canGrant bool                   // choose the organizations and kinds
	orgs     []storage.Organization // every organization, for the grants
}

// appForm describes the form for app, owned by o.
func (c *Console) appForm(r *http.Request, o storage.Organization, app storage.Application, opt appFormOptions, action, submit string) appForm {
	text := func(name, label, hint, value string, required bool) appInput {
		return appInput{formField: formField{Name: name, LabelKey: label, HintKey: hint, Type: "text", Value: value, Required: required, Autocomplete: "off"}}
	}
	link := func(name, label, hint, value string) appInput {
		return appInput{formField: formField{Name: name, LabelKey: label, HintKey: hint, Type: "url", Value: value, Autocomplete: "off"}}
	}
	area := func(name, label, hint string, lines []string, required bool) appInput {
		return appInput{formField: formField{Name: name, LabelKey: label, HintKey: hint, Type: "textarea", Value: strings.Join(lines, "\n"), Required: required}, Rows: 3}
	}
	check := func(name, label, hint string, on bool) appInput {
		return appInput{formField: formField{Name: name, LabelKey: label, HintKey: hint, Type: "checkbox", Checked: on}}
	}
	sel := func(name, label, hint string, opts []option) appInput {
		return appInput{formField: formField{Name: name, LabelKey: label, HintKey: hint, Type: "select", Options: opts}}
	}
	checks := func(name, label, hint string, cs []appCheck) appInput {
		return appInput{formField: formField{Name: name, LabelKey: label, HintKey: hint, Type: "checks"}, Checks: cs}
	}
	s := app.Settings
	typ := app.ClientType
	if typ == "" {
		typ = storage.ClientConfidential
	}

	f := appForm{Action: action, Submit: submit}
	if app.Version > 0 {
		f.Version = version(app.Version)
	}
	f.Main = []appSection{
		{LegendKey: "admin.apps.section.general", Inputs: []appInput{
			text("name", "admin.apps.name", "admin.apps.name_hint", app.Name, true),
			text("client_id", "admin.apps.client_id", "admin.apps.client_id_hint", app.ClientID, true),
			sel("type", "admin.apps.type", "admin.apps.type_hint", []option{
				{Value: storage.ClientConfidential, LabelKey: "admin.apps.type.confidential", Selected: typ == storage.ClientConfidential},
				{Value: storage.ClientPublic, LabelKey: "admin.apps.type.public", Selected: typ == storage.ClientPublic},
			}),
		}},
		{LegendKey: "admin.apps.section.addresses", Inputs: []appInput{
			area("redirect_uris", "admin.apps.redirect_uris", "admin.apps.redirect_uris_hint", app.RedirectURIs, true),
			area("post_logout_redirect_uris", "admin.apps.post_logout_redirect_uris", "admin.apps.post_logout_redirect_uris_hint", app.PostLogoutRedirectURIs, false),
		}},
	}
	access := appSection{LegendKey: "admin.apps.section.access"}
	if opt.canGrant {
		var cs []appCheck
		for _, org := range opt.orgs {
			if org.ID != o.ID {
				cs = append(cs, appCheck{Value: org.ID, Label: org.Name, Checked: slices.Contains(app.GrantedOrgIDs, org.ID)})
			}
		}
		grants := checks("grant_orgs", "admin.apps.grant_orgs", "admin.apps.grant_orgs_hint", cs)
		if len(cs) == 0 {
			grants = appInput{formField: formField{Name: "grant_orgs", LabelKey: "admin.apps.grant_orgs", Type: "static", Value: c.T(r, "admin.apps.no_other_org")}}
		}
		access.Inputs = append(access.Inputs, grants,
			checks("kinds", "admin.apps.kinds", "admin.apps.kinds_hint", []appCheck{
				{Value: storage.KindAgent, LabelKey: "admin.kind.agent", Checked: slices.Contains(app.AllowedKinds, storage.KindAgent)},
				{Value: storage.KindElu, LabelKey: "admin.kind.elu", Checked: slices.Contains(app.AllowedKinds, storage.KindElu)},
			}))
	} else {
		access.Inputs = append(access.Inputs,
			appInput{formField: formField{Name: "grant_orgs", LabelKey: "admin.apps.granted_to", HintKey: "admin.apps.granted_to_hint", Type: "static",
				Value: c.grantedNames(r, o, app, opt.orgs)}},
			appInput{formField: formField{Name: "kinds", LabelKey: "admin.apps.kinds", Type: "static", Value: c.kindNames(r, app.AllowedKinds)}})
	}
	access.Inputs = append(access.Inputs, check("first_party", "admin.apps.first_party", "admin.apps.first_party_hint", app.FirstParty))
	f.Main = append(f.Main, access, appSection{LegendKey: "admin.apps.section.portal", Inputs: []appInput{
		text("description", "admin.apps.description", "admin.apps.description_hint", app.Tile.Description, false),
		text("category", "admin.apps.category", "admin.apps.category_hint", app.Tile.Category, false),
		link("launch_url", "admin.apps.launch_url", "admin.apps.launch_url_hint", app.Tile.LaunchURL),
	}})

	var scopes, ccScopes []appCheck
	for _, sc := range apps.Scopes() {
		scopes = append(scopes, appCheck{Value: sc, Label: sc, Code: true, Detail: c.scopeDetail(r, sc), Checked: slices.Contains(app.Scopes, sc)})
		if sc != "openid" && sc != "offline_access" {
			ccScopes = append(ccScopes, appCheck{Value: sc, Label: sc, Code: true, Checked: slices.Contains(s.ClientCredentialsScopes, sc)})
		}
	}
	var grants []appCheck
	for _, g := range apps.GrantTypes() {
		grants = append(grants, appCheck{Value: g, Label: g, Code: true, Detail: c.label(r, "admin.apps.grant."+g, ""), Checked: slices.Contains(s.GrantTypes, g)})
	}
	auth := []option{{Value: "", LabelKey: "admin.apps.auth.default", Selected: s.TokenEndpointAuthMethod == ""}}
	for _, m := range apps.AuthMethods() {
		auth = append(auth, option{Value: m, Label: c.label(r, "admin.apps.auth."+m, m), Selected: s.TokenEndpointAuthMethod == m})
	}
	acr := []option{{Value: "", LabelKey: "admin.apps.acr.none", Selected: s.RequireACR == ""}}
	for _, l := range apps.RequirableACRs() {
		acr = append(acr, option{Value: l, Label: c.label(r, "admin.apps.acr."+l, l), Selected: s.RequireACR == l})
	}
	subject := []option{{Value: "", LabelKey: "admin.apps.subject.default", Selected: s.SubjectType == "" || s.SubjectType == apps.SubjectPublic}}
	for _, t := range apps.SubjectTypes() {
		if t != apps.SubjectPublic {
			subject = append(subject, option{Value: t, Label: c.label(r, "admin.apps.subject."+t, t), Selected: s.SubjectType == t})
		}
	}
	userinfo := []option{{Value: "", LabelKey: "admin.apps.userinfo.json", Selected: s.UserinfoSignedResponseAlg == ""}}
	for _, alg := range apps.SigningAlgs() {
		userinfo = append(userinfo, option{Value: alg, Label: c.T(r, "admin.apps.userinfo.signed", alg), Selected: s.UserinfoSignedResponseAlg == alg})
	}
	jwks := area("jwks", "admin.apps.jwks", "admin.apps.jwks_hint", nil, false)
	jwks.Value, jwks.Rows = s.JWKS, 6
	f.Advanced = []appSection{
		{LegendKey: "admin.apps.section.tokens", Inputs: []appInput{
			checks("scopes", "admin.apps.scopes", "admin.apps.scopes_hint", scopes),
			checks("grant_types", "admin.apps.grant_types", "admin.apps.grant_types_hint", grants),
			check("refresh_tokens", "admin.apps.refresh_tokens", "admin.apps.refresh_tokens_hint", s.RefreshTokens),
			checks("client_credentials_scopes", "admin.apps.client_credentials_scopes", "admin.apps.client_credentials_scopes_hint", ccScopes),
		}},
		{LegendKey: "admin.apps.section.client_auth", Inputs: []appInput{
			sel("token_endpoint_auth_method", "admin.apps.token_endpoint_auth_method", "admin.apps.token_endpoint_auth_method_hint", auth),
			jwks,
			link("jwks_uri", "admin.apps.jwks_uri", "admin.apps.jwks_uri_hint", s.JWKSURI),
		}},
		{LegendKey: "admin.apps.section.signin", Inputs: []appInput{
			sel("require_acr", "admin.apps.require_acr", "admin.apps.require_acr_hint", acr),
			check("require_par", "admin.apps.require_par", "admin.apps.require_par_hint", s.RequirePAR),
			sel("subject_type", "admin.apps.subject_type", "admin.apps.subject_type_hint", subject),
			sel("userinfo_signed_response_alg", "admin.apps.userinfo_signed_response_alg", "", userinfo),
		}},
		{LegendKey: "admin.apps.section.logout", Inputs: []appInput{
			link("frontchannel_logout_uri", "admin.apps.frontchannel_logout_uri", "admin.apps.frontchannel_logout_uri_hint", s.FrontchannelLogoutURI),
			check("frontchannel_logout_session_required", "admin.apps.frontchannel_logout_session_required", "", s.FrontchannelLogoutSessionRequired),
			link("backchannel_logout_uri", "admin.apps.backchannel_logout_uri", "admin.apps.backchannel_logout_uri_hint", s.BackchannelLogoutURI),
			check("backchannel_logout_session_required", "admin.apps.backchannel_logout_session_required", "", s.BackchannelLogoutSessionRequired),
		}},
	}
	return f
}

// label translates key, or returns fallback when it has no message.
func (c *Console) label(r *http.Request, key, fallback string) string {
	if s := c.T(r, key); s != key {
		return s
	}
	return fallback
}

// scopeDetail tells what a scope releases (the consent screen's words).
func (c *Console) scopeDetail(r *http.Request, scope string) string {
	return c.label(r, "scope."+scope, "")
}

// grantedNames lists the organizations app is offered to besides its
// owner, by name.
func (c *Console) grantedNames(r *http.Request, o storage.Organization, app storage.Application, orgs []storage.Organization) string {
	names := orgNames(app, orgs)
	if len(names) == 0 {
		return c.T(r, "admin.apps.owner_only", o.Name)
	}
	return strings.Join(names, ", ")
}

func orgNames(app storage.Application, orgs []storage.Organization) []string {
	var names []string
	for _, org := range orgs {
		if slices.Contains(app.GrantedOrgIDs, org.ID) {
			names = append(names, org.Name)
		}
	}
	return names
}

func (c *Console) kindNames(r *http.Request, kinds []string) string {
	if len(kinds) == 0 {
		return c.T(r, "admin.apps.kinds_all")
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = c.label(r, "admin.kind."+k, k)
	}
	return strings.Join(names, ", ")
}

// input returns the form's input named name, and whether it is one of
// the advanced settings.
func (f *appForm) input(name string) (*appInput, bool) {
	for _, part := range []struct {
		secs     []appSection
		advanced bool
	}{{f.Main, false}, {f.Advanced, true}} {
		for i := range part.secs {
			for j := range part.secs[i].Inputs {
				if in := &part.secs[i].Inputs[j]; in.Name == name {
					return in, part.advanced
				}
			}
		}
	}
	return nil, false
}

// appFromForm reads the posted form onto cur (the stored application, or
// the new one with its owner). Without canGrant the organizations and
// kinds stay cur's: only who may create applications chooses who may
// use them. A granted organization must be one of orgs (not the owner).
func appFromForm(v url.Values, cur storage.Application, orgs []storage.Organization, canGrant bool) (storage.Application, error) {
	a := cur
	a.Name = strings.TrimSpace(v.Get("name"))
	a.ClientID = strings.TrimSpace(v.Get("client_id"))
	a.ClientType = v.Get("type")
	a.RedirectURIs = lines(v.Get("redirect_uris"))
	a.PostLogoutRedirectURIs = lines(v.Get("post_logout_redirect_uris"))
	a.Scopes = v["scopes"]
	a.FirstParty = v.Get("first_party") == "on"
	a.Tile.Description = strings.TrimSpace(v.Get("description"))
	a.Tile.Category = strings.TrimSpace(v.Get("category"))
	a.Tile.LaunchURL = strings.TrimSpace(v.Get("launch_url"))
	if canGrant {
		a.GrantedOrgIDs = nil
		for _, id := range v["grant_orgs"] {
			if id == cur.OrgID || !slices.ContainsFunc(orgs, func(o storage.Organization) bool { return o.ID == id }) {
				return a, errBadRequest
			}
			if !slices.Contains(a.GrantedOrgIDs, id) {
				a.GrantedOrgIDs = append(a.GrantedOrgIDs, id)
			}
		}
		a.AllowedKinds = v["kinds"]
	}
	s := cur.Settings
	s.GrantTypes = v["grant_types"]
	s.RefreshTokens = v.Get("refresh_tokens") == "on"
	s.ClientCredentialsScopes = v["client_credentials_scopes"]
	s.TokenEndpointAuthMethod = v.Get("token_endpoint_auth_method")
	s.JWKS = strings.TrimSpace(v.Get("jwks"))
	if s.JWKS != "" {
		if norm, err := apps.NormalizeJWKS(s.JWKS); err == nil {
			s.JWKS = norm
		} // else kept as typed: the use case says what is wrong
	}
	s.JWKSURI = strings.TrimSpace(v.Get("jwks_uri"))
	s.RequirePAR = v.Get("require_par") == "on"
	s.RequireACR = v.Get("require_acr")
	if st := v.Get("subject_type"); st != "" || cur.Settings.SubjectType != apps.SubjectPublic {
		s.SubjectType = st // "" is public, the default: keep a "public" set elsewhere
	}
	s.UserinfoSignedResponseAlg = v.Get("userinfo_signed_response_alg")
	s.FrontchannelLogoutURI = strings.TrimSpace(v.Get("frontchannel_logout_uri"))
	s.FrontchannelLogoutSessionRequired = v.Get("frontchannel_logout_session_required") == "on"
	s.BackchannelLogoutURI = strings.TrimSpace(v.Get("backchannel_logout_uri"))
	s.BackchannelLogoutSessionRequired = v.Get("backchannel_logout_session_required") == "on"
	a.Settings = s
	return a, nil
}

// lines splits a textarea into its non-empty lines, trimmed, each once.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// setAppErrors puts err's field errors next to their inputs (and in the
// summary), opening the advanced settings when one of them is wrong; it
// reports whether err held any. a is what was submitted: an invalid
// redirect URI is named in its message.
func (c *Console) setAppErrors(r *http.Request, f *appForm, a storage.Application, err error) bool {
	fes := field.List(err)
	if len(fes) == 0 {
		return false
	}
	bad := map[string][]string{
		"redirect_uris":             invalidURIs(a.RedirectURIs),
		"post_logout_redirect_uris": invalidURIs(a.PostLogoutRedirectURIs),
	}
	for _, fe := range fes {
		value := ""
		if list, ok := bad[fe.Field]; ok && len(list) > 0 {
			value, bad[fe.Field] = list[0], list[1:] // Validate reports them in order
		}
		msg := c.appFieldMessage(r, fe, value)
		in, advanced := f.input(fe.Field)
		if in == nil || in.Type == "static" {
			f.Errors = append(f.Errors, formError{Message: msg})
			continue
		}
		if in.Error == "" {
			in.Error = msg
		} else {
			in.Error += " " + msg
		}
		f.AdvancedOpen = f.AdvancedOpen || advanced
		f.Errors = append(f.Errors, formError{Field: fe.Field, Message: msg})
	}
	return true
}

// invalidURIs returns the URIs the use case refuses, in order.
func invalidURIs(uris []string) []string {
	var out []string
	for _, u := range uris {
		if apps.ValidateRedirectURI(u) != nil {
			out = append(out, u)
		}
	}
	return out
}

// appFieldMessage translates an application's field error:
// admin.apps.error.<field>.<code> (with the refused value, or the
// client_id taken), admin.apps.error.<field>.missing for an empty
// redirect URI list, then the console's field messages.
func (c *Console) appFieldMessage(r *http.Request, fe *field.Error, value string) string {
	key := "admin.apps.error." + fe.Field + "." + fe.Code
	var args []any
	switch {
	case value != "":
		args = append(args, value)
	case fe.Field == "redirect_uris" && fe.Code == field.Invalid:
		key = "admin.apps.error.redirect_uris.missing"
	case fe.Params["client_id"] != "":
		args = append(args, fe.Params["client_id"])
	}
	if s := c.T(r, key, args...); s != key {
		return s
	}
	return c.fieldMessage(r, fe)
}
