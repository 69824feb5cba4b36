package apps

import (
	"encoding/json"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// View is an application as the CLI's --json, the audit log and the
// REST API show it: protocol settings under their registration metadata
// names (RFC 7591, OpenID Connect Registration), organizations by slug.
// The secret hash is never shown.
type View struct {
	ID                     string    `json:"id"`
	ClientID               string    `json:"client_id"`
	Org                    string    `json:"org"`
	Name                   string    `json:"name"`
	Type                   string    `json:"type"`
	HasSecret              bool      `json:"has_secret"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	GrantOrgs              []string  `json:"grant_orgs"`
	Kinds                  []string  `json:"kinds"`
	Scopes                 []string  `json:"scopes"`
	FirstParty             bool      `json:"first_party"`
	Disabled               bool      `json:"disabled"`
	Version                int64     `json:"version"`
	Description            string    `json:"description,omitempty"`
	Category               string    `json:"category,omitempty"`
	LaunchURL              string    `json:"launch_url,omitempty"`
	HasIcon                bool      `json:"has_icon"`
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
	SettingsView
}

// SettingsView is an application's protocol settings. Empty values are
// the defaults.
type SettingsView struct {
	GrantTypes                        []string        `json:"grant_types"`
	RefreshTokens                     bool            `json:"refresh_tokens"`
	ClientCredentialsScopes           []string        `json:"client_credentials_scopes"`
	TokenEndpointAuthMethod           string          `json:"token_endpoint_auth_method"`
	JWKS                              json.RawMessage `json:"jwks"`
	JWKSURI                           string          `json:"jwks_uri"`
	RequirePAR                        bool            `json:"require_par"`
	RequireACR                        string          `json:"require_acr"`
	SubjectType                       string          `json:"subject_type"`
	UserinfoSignedResponseAlg         string          `json:"userinfo_signed_response_alg"`
	FrontchannelLogoutURI             string          `json:"frontchannel_logout_uri"`
	FrontchannelLogoutSessionRequired bool            `json:"frontchannel_logout_session_required"`
	BackchannelLogoutURI              string          `json:"backchannel_logout_uri"`
	BackchannelLogoutSessionRequired  bool            `json:"backchannel_logout_session_required"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// NewView returns a's view; slug names an organization by its ID (nil
// shows IDs).
func NewView(a storage.Application, slug func(orgID string) string) View {
	if slug == nil {
		slug = func(id string) string { return id }
	}
	grants := make([]string, 0, len(a.GrantedOrgIDs))
	for _, id := range a.GrantedOrgIDs {
		grants = append(grants, slug(id))
	}
	return View{
		ID: a.ID, ClientID: a.ClientID, Org: slug(a.OrgID), Name: a.Name, Type: a.ClientType,
		HasSecret:              a.SecretHash != "",
		RedirectURIs:           nonNil(a.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(a.PostLogoutRedirectURIs),
		GrantOrgs:              grants,
		Kinds:                  nonNil(a.AllowedKinds),
		Scopes:                 nonNil(a.Scopes),
		FirstParty:             a.FirstParty, Disabled: a.Disabled, Version: a.Version,
		Description: a.Tile.Description, Category: a.Tile.Category, LaunchURL: a.Tile.LaunchURL, HasIcon: a.Tile.IconSHA256 != "",
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
		SettingsView: NewSettingsView(a.Settings),
	}
}

// NewSettingsView returns s's view.
func NewSettingsView(s storage.ClientSettings) SettingsView {
	v := SettingsView{
		GrantTypes:                        nonNil(s.GrantTypes),
		RefreshTokens:                     s.RefreshTokens,
		ClientCredentialsScopes:           nonNil(s.ClientCredentialsScopes),
		TokenEndpointAuthMethod:           s.TokenEndpointAuthMethod,
		JWKSURI:                           s.JWKSURI,
		RequirePAR:                        s.RequirePAR,
		RequireACR:                        s.RequireACR,
		SubjectType:                       s.SubjectType,
		UserinfoSignedResponseAlg:         s.UserinfoSignedResponseAlg,
		FrontchannelLogoutURI:             s.FrontchannelLogoutURI,
		FrontchannelLogoutSessionRequired: s.FrontchannelLogoutSessionRequired,
		BackchannelLogoutURI:              s.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired:  s.BackchannelLogoutSessionRequired,
	}
	switch {
	case s.JWKS == "":
	case json.Valid([]byte(s.JWKS)):
		v.JWKS = json.RawMessage(s.JWKS)
	default:
		// Never stored by TNO; shown as text rather than breaking JSON.
		v.JWKS, _ = json.Marshal(s.JWKS)
	}
	return v
}
