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
	CreatedAt     time.Time
	UpdatedAt     time.Time
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
}
