package apps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// Store is what the apps service needs from storage.
type Store = storage.Store

// Options configures a Service.
type Options struct {
	Store Store
	Now   func() time.Time
	Audit *audit.Log // nil builds a log on Store
}

// Service runs the applications' use cases.
type Service struct {
	store Store
	now   func() time.Time
	audit *audit.Log
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("apps: nil store")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Audit == nil {
		var err error
		if opts.Audit, err = audit.New(audit.Options{Store: opts.Store, Now: opts.Now}); err != nil {
			return nil, err
		}
	}
	return &Service{store: opts.Store, now: opts.Now, audit: opts.Audit}, nil
}

// In returns the service working inside the caller's transaction tx.
func (s *Service) In(tx Store) *Service {
	c := *s
	c.store, c.audit = tx, s.audit.In(tx)
	return &c
}

func (s *Service) tx(ctx context.Context, fn func(tx Store, log *audit.Log) error) error {
	return s.store.WithTx(ctx, func(tx Store) error { return fn(tx, s.audit.In(tx)) })
}

// record writes an administration change of application a.
func (s *Service) record(ctx context.Context, log *audit.Log, actor authz.Actor, typ string, before, after *storage.Application, details map[string]string) error {
	enc := func(a *storage.Application) string {
		if a == nil {
			return ""
		}
		b, err := json.Marshal(NewView(*a, nil))
		if err != nil { // strings, bools and lists only
			panic("apps: encode view: " + err.Error())
		}
		return string(b)
	}
	ref := before
	if ref == nil {
		ref = after
	}
	e := audit.Event{Type: typ, OrgID: ref.OrgID, Details: details, ActorKind: string(actor.Kind), ActorID: actor.ID,
		Address: actor.Address, Target: "application:" + ref.ID, Before: enc(before), After: enc(after)}
	if actor.Kind == authz.KindClient {
		e.ClientID = actor.ID
	}
	return log.Record(ctx, e)
}

// Create validates and stores a. For an application that authenticates
// with a secret (UsesSecret) it generates one and returns it: it is shown
// once and never stored.
func (s *Service) Create(ctx context.Context, actor authz.Actor, a *storage.Application) (secret string, err error) {
	if err := authz.Check(actor, authz.AppsCreate, authz.Org(a.OrgID)); err != nil {
		return "", err
	}
	if err := Validate(*a); err != nil {
		return "", err
	}
	a.SecretHash = ""
	a.Tile.IconSHA256 = ""
	if UsesSecret(*a) {
		secret, a.SecretHash = NewSecret()
	}
	err = s.tx(ctx, func(tx Store, log *audit.Log) error {
		if err := checkOrgs(ctx, tx, *a); err != nil {
			return err
		}
		if err := tx.CreateApplication(ctx, a); err != nil {
			return clientConflict(a.ClientID, err)
		}
		return s.record(ctx, log, actor, audit.AppCreated, nil, a, nil)
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Update validates and stores a. The secret follows the way the
// application authenticates: one is generated (and returned, shown once)
// when it starts using a secret, and dropped when it no longer does
// (public, private_key_jwt). a.Version, when set, must be the stored one.
// Granting the application to other organizations needs AppsCreate on
// the owner (an application manager changes the application, not its
// audience).
func (s *Service) Update(ctx context.Context, actor authz.Actor, a *storage.Application) (secret string, err error) {
	if err := authz.Check(actor, authz.AppsWrite, authz.App(a.OrgID, a.ID)); err != nil {
		return "", err
	}
	if err := Validate(*a); err != nil {
		return "", err
	}
	err = s.tx(ctx, func(tx Store, log *audit.Log) error {
		cur, err := tx.GetApplication(ctx, a.OrgID, a.ID)
		if err != nil {
			return fmt.Errorf("application: %w", err)
		}
		// Who may use it, and whether it asks for consent, are the
		// organization's choices, not its manager's.
		if !slices.Equal(cur.GrantedOrgIDs, a.GrantedOrgIDs) || !slices.Equal(cur.AllowedKinds, a.AllowedKinds) ||
			cur.FirstParty != a.FirstParty || cur.ClientType != a.ClientType {
			if err := authz.Check(actor, authz.AppsCreate, authz.Org(a.OrgID)); err != nil {
				return err
			}
		}
		a.SecretHash = cur.SecretHash
		a.Tile.IconSHA256 = cur.Tile.IconSHA256 // SetIcon's
		switch {
		case !UsesSecret(*a):
			a.SecretHash = ""
		case a.SecretHash == "":
			secret, a.SecretHash = NewSecret()
		}
		if err := checkOrgs(ctx, tx, *a); err != nil {
			return err
		}
		if err := tx.UpdateApplication(ctx, a); err != nil {
			if errors.Is(err, storage.ErrStale) {
				return errors.Join(field.New("version", field.Stale, "was changed by someone else meanwhile: reload it and make the change again"), err)
			}
			return clientConflict(a.ClientID, err)
		}
		var details map[string]string
		if secret != "" {
			details = map[string]string{"secret": "generated"}
		}
		return s.record(ctx, log, actor, audit.AppUpdated, &cur, a, details)
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

func clientConflict(clientID string, err error) error {
	if errors.Is(err, storage.ErrConflict) {
		return errors.Join(field.New("client_id", field.Taken, "client_id %s is already taken", clientID).With("client_id", clientID), err)
	}
	return err
}

// SetDisabled refuses (or accepts again) sign-ins to an application. It
// reports whether anything changed.
func (s *Service) SetDisabled(ctx context.Context, actor authz.Actor, orgID, id string, disabled bool) (bool, error) {
	if err := authz.Check(actor, authz.AppsWrite, authz.App(orgID, id)); err != nil {
		return false, err
	}
	changed := false
	err := s.tx(ctx, func(tx Store, log *audit.Log) error {
		cur, err := tx.GetApplication(ctx, orgID, id)
		if err != nil {
			return fmt.Errorf("application: %w", err)
		}
		if cur.Disabled == disabled {
			return nil
		}
		a := cur
		a.Disabled = disabled
		if err := tx.UpdateApplication(ctx, &a); err != nil {
			return err
		}
		changed = true
		return s.record(ctx, log, actor, audit.AppUpdated, &cur, &a, nil)
	})
	return changed, err
}

// RotateSecret gives a confidential application a new secret and returns it.
func (s *Service) RotateSecret(ctx context.Context, actor authz.Actor, orgID, id string) (string, error) {
	if err := authz.Check(actor, authz.AppsWrite, authz.App(orgID, id)); err != nil {
		return "", err
	}
	var secret string
	err := s.tx(ctx, func(tx Store, log *audit.Log) error {
		a, err := tx.GetApplication(ctx, orgID, id)
		if err != nil {
			return fmt.Errorf("application: %w", err)
		}
		if a.ClientType != storage.ClientConfidential {
			return field.New("type", field.Invalid, "a public application has no secret")
		}
		if !UsesSecret(a) {
			return field.New("token_endpoint_auth_method", field.Invalid, "the application authenticates with private_key_jwt, not a secret")
		}
		secret, a.SecretHash = NewSecret()
		if err := tx.UpdateApplication(ctx, &a); err != nil {
			return fmt.Errorf("rotate secret of %s: %w", a.ClientID, err)
		}
		return s.record(ctx, log, actor, audit.AppSecretRotated, nil, &a, nil)
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// SetSecret gives a confidential application the secret an operator
// chose (tno apply's secret_file): at least 32 characters.
func (s *Service) SetSecret(ctx context.Context, actor authz.Actor, orgID, id, secret string) error {
	if err := authz.Check(actor, authz.AppsWrite, authz.App(orgID, id)); err != nil {
		return err
	}
	if len(secret) < 32 {
		return field.New("secret", "too_short", "a client secret has at least 32 characters")
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		a, err := tx.GetApplication(ctx, orgID, id)
		if err != nil {
			return fmt.Errorf("application: %w", err)
		}
		if !UsesSecret(a) {
			return field.New("token_endpoint_auth_method", field.Invalid, "the application does not authenticate with a secret")
		}
		a.SecretHash = HashSecret(secret)
		if err := tx.UpdateApplication(ctx, &a); err != nil {
			return err
		}
		return s.record(ctx, log, actor, audit.AppSecretRotated, nil, &a, map[string]string{"secret": "given"})
	})
}

// Delete removes an application; its tokens and grants go with it.
func (s *Service) Delete(ctx context.Context, actor authz.Actor, orgID, id string) error {
	if err := authz.Check(actor, authz.AppsCreate, authz.Org(orgID)); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		a, err := tx.GetApplication(ctx, orgID, id)
		if err != nil {
			return fmt.Errorf("application: %w", err)
		}
		// Its tokens end with it: the client_id may be registered again,
		// by anyone, and must not inherit them.
		n, err := tx.RevokeClientTokens(ctx, a.ClientID, s.now().UTC())
		if err != nil {
			return err
		}
		if err := tx.DeleteApplication(ctx, orgID, id); err != nil {
			return err
		}
		return s.record(ctx, log, actor, audit.AppDeleted, &a, nil, map[string]string{"tokens_revoked": strconv.Itoa(n)})
	})
}

// Get returns an application the actor may read.
func (s *Service) Get(ctx context.Context, actor authz.Actor, orgID, id string) (storage.Application, error) {
	if err := authz.Check(actor, authz.AppsRead, authz.App(orgID, id)); err != nil {
		return storage.Application{}, err
	}
	a, err := s.store.GetApplication(ctx, orgID, id)
	if err != nil {
		return a, fmt.Errorf("application: %w", err)
	}
	return a, nil
}

// ByClientID returns an application the actor may read by its client_id.
func (s *Service) ByClientID(ctx context.Context, actor authz.Actor, clientID string) (storage.Application, error) {
	a, err := s.store.GetApplicationByClientID(ctx, clientID)
	if err != nil {
		return a, fmt.Errorf("application %s: %w", clientID, err)
	}
	if err := authz.Check(actor, authz.AppsRead, authz.App(a.OrgID, a.ID)); err != nil {
		return storage.Application{}, err
	}
	return a, nil
}

// List lists the applications of an organization the actor may read (an
// application manager, theirs only).
func (s *Service) List(ctx context.Context, actor authz.Actor, orgID string) ([]storage.Application, error) {
	if err := authz.Check(actor, authz.OrgRead, authz.Org(orgID)); err != nil {
		return nil, err
	}
	all, err := s.store.ListApplications(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, a := range all {
		if actor.Can(authz.AppsRead, authz.App(orgID, a.ID)) {
			out = append(out, a)
		}
	}
	return out, nil
}

func checkOrgs(ctx context.Context, st Store, a storage.Application) error {
	for _, id := range append([]string{a.OrgID}, a.GrantedOrgIDs...) {
		if _, err := st.GetOrganization(ctx, id); err != nil {
			return fmt.Errorf("organization %s: %w", id, err)
		}
	}
	return nil
}
