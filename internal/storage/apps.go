package storage

import (
	"context"
	"time"
)

// Application client types.
const (
	ClientConfidential = "confidential"
	ClientPublic       = "public"
)

// Application is an OpenID Connect relying party owned by one organization.
type Application struct {
	ID           string
	OrgID        string // owner
	ClientID     string // unique across the territory
	Name         string
	ClientType   string // ClientConfidential or ClientPublic
	SecretHash   string // PHC string; empty for public clients
	RedirectURIs []string
	// PostLogoutRedirectURIs is kept for RP-initiated logout.
	PostLogoutRedirectURIs []string
	// Scopes the application may request beyond "openid"; empty means
	// every scope TNO knows.
	Scopes []string
	// Access: which memberships may sign in. GrantedOrgIDs lists
	// organizations besides the owner; AllowedKinds empty means every kind.
	GrantedOrgIDs []string
	AllowedKinds  []string
	FirstParty    bool
	Disabled      bool
	// Settings are the protocol options, stored as one JSON document so
	// that new options need no schema change.
	Settings ClientSettings
	// Tile is what the portal shows of the application.
	Tile      AppTile
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64 // 1 when created, one more at each update
}

// AppTile is what the portal shows of an application, besides its name.
type AppTile struct {
	Description string `json:"description,omitempty"` // one sentence
	Category    string `json:"category,omitempty"`    // « Ressources humaines », « Finances »…
	// LaunchURL opens the application (when it has no
	// initiate_login_uri): https, or http on a loopback host.
	LaunchURL string `json:"launch_url,omitempty"`
	// IconSHA256 is the hex SHA-256 of the stored icon, "" for none: it
	// versions the icon's URL. Set by SetApplicationIcon only.
	IconSHA256 string `json:"icon_sha256,omitempty"`
}

// AppIcon is an application's icon image.
type AppIcon struct {
	ContentType string // "image/png"
	Data        []byte
	SHA256      string // hex
	UpdatedAt   time.Time
}

// ClientSettings are an application's OpenID Connect / OAuth options.
// Zero values are the defaults.
type ClientSettings struct {
	// GrantTypes besides authorization_code ("refresh_token",
	// "client_credentials"); empty means authorization_code only.
	GrantTypes []string `json:"grant_types,omitempty"`
	// RefreshTokens issues refresh tokens without the offline_access scope.
	RefreshTokens bool `json:"refresh_tokens,omitempty"`
	// ClientCredentialsScopes are the scopes granted to the application
	// itself (client_credentials grant).
	ClientCredentialsScopes []string `json:"client_credentials_scopes,omitempty"`
	// TokenEndpointAuthMethod pins the client authentication method
	// ("client_secret_basic", "client_secret_post", "private_key_jwt",
	// "none"); empty accepts the secret methods (confidential) or none
	// (public).
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	// JWKS (inline JSON) or JWKSURI: the application's public keys, for
	// private_key_jwt and request objects.
	JWKS    string `json:"jwks,omitempty"`
	JWKSURI string `json:"jwks_uri,omitempty"`
	// RequirePAR refuses authorization requests not pushed first (RFC 9126).
	RequirePAR bool `json:"require_par,omitempty"`
	// RequireACR is the lowest authentication level (acr) with which a
	// person may sign in to the application ("eidas2": a second factor),
	// "" for none: a person under it without a second factor is led
	// through enrolment at sign-in.
	RequireACR string `json:"require_acr,omitempty"`
	// SubjectType is "public" (default) or "pairwise".
	SubjectType string `json:"subject_type,omitempty"`
	// UserinfoSignedResponseAlg, when set (e.g. "RS256"), makes userinfo
	// answer a signed JWT.
	UserinfoSignedResponseAlg string `json:"userinfo_signed_response_alg,omitempty"`
	// Logout notifications (OpenID Connect Front-Channel and Back-Channel
	// Logout 1.0).
	FrontchannelLogoutURI             string `json:"frontchannel_logout_uri,omitempty"`
	FrontchannelLogoutSessionRequired bool   `json:"frontchannel_logout_session_required,omitempty"`
	BackchannelLogoutURI              string `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired  bool   `json:"backchannel_logout_session_required,omitempty"`
}

// Applications stores applications.
type Applications interface {
	CreateApplication(ctx context.Context, a *Application) error // ErrConflict on duplicate ClientID
	GetApplication(ctx context.Context, orgID, id string) (Application, error)
	// GetApplicationByClientID is the protocol lookup: territory-wide.
	GetApplicationByClientID(ctx context.Context, clientID string) (Application, error)
	UpdateApplication(ctx context.Context, a *Application) error // by OrgID+ID
	ListApplications(ctx context.Context, orgID string) ([]Application, error)
	DeleteApplication(ctx context.Context, orgID, id string) error
	// SetApplicationIcon stores (or replaces) the icon of an application
	// of orgID and records its SHA-256 in the application's Tile;
	// ErrNotFound if the application is not orgID's.
	SetApplicationIcon(ctx context.Context, orgID, appID string, icon AppIcon) error
	// DeleteApplicationIcon removes it (nothing if there is none).
	DeleteApplicationIcon(ctx context.Context, orgID, appID string) error
	// GetApplicationIcon returns an application's icon, whoever asks: the
	// portal shows it to every person the application is offered to.
	GetApplicationIcon(ctx context.Context, appID string) (AppIcon, error)
}
