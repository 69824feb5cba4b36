package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/keys"
	"github.com/territoires-ouverts/tno/internal/logout"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

// Core is what the server and the CLI both build from the configuration,
// in one place: signing keys, password hashing, the audit log, the logout
// service, and the administration use cases on them.
type Core struct {
	Keys      *keys.Manager
	Hasher    *local.Hasher
	Local     *local.Local
	Audit     *audit.Log
	Logout    *logout.Service // ends sessions, notifies applications
	Territory *territory.Service
	Apps      *apps.Service
}

// CoreOptions configures NewCore.
type CoreOptions struct {
	Config config.Config
	Store  storage.Store
	Logger *slog.Logger
	Now    func() time.Time
	// PasswordParams overrides the argon2id parameters from Config (tests).
	PasswordParams *local.Params
}

// passwords adapts the hasher and the password policy to territory.
type passwords struct{ h *local.Hasher }

func (p passwords) Hash(ctx context.Context, pw string) (string, error) { return p.h.Hash(ctx, pw) }
func (p passwords) Check(pw string, personal ...string) error {
	return local.ValidatePassword(pw, personal...)
}

// NewCore builds the services every front end shares.
func NewCore(opts CoreOptions) (*Core, error) {
	if opts.Store == nil {
		return nil, errors.New("server: nil store")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cfg := opts.Config
	c := &Core{}
	var err error
	if c.Keys, err = keys.New(keys.Options{Store: opts.Store, Now: opts.Now, Logger: opts.Logger, Algorithm: cfg.Signing.Algorithm}); err != nil {
		return nil, err
	}
	params := local.Params{
		Memory: cfg.Password.MemoryKiB, Iterations: cfg.Password.Iterations, Parallelism: cfg.Password.Parallelism,
		SaltLen: 16, KeyLen: 32,
	}
	if opts.PasswordParams != nil {
		params = *opts.PasswordParams
	}
	if err := params.Validate(); err != nil {
		return nil, err
	}
	c.Hasher = local.NewHasher(params, cfg.Password.MaxConcurrent)
	if c.Local, err = local.New(local.Options{People: opts.Store, Credentials: opts.Store, Hasher: c.Hasher, Logger: opts.Logger}); err != nil {
		return nil, err
	}
	if c.Audit, err = audit.New(audit.Options{Store: opts.Store, Now: opts.Now, Logger: opts.Logger}); err != nil {
		return nil, err
	}
	if c.Logout, err = logout.New(logout.Options{Issuer: cfg.Issuer, Store: opts.Store, Signer: c.Keys, Logger: opts.Logger, Now: opts.Now, Audit: c.Audit}); err != nil {
		return nil, err
	}
	if c.Territory, err = territory.New(territory.Options{Store: opts.Store, Now: opts.Now, Audit: c.Audit,
		Sessions: c.Logout, Passwords: passwords{c.Hasher}}); err != nil {
		return nil, err
	}
	if c.Apps, err = apps.New(apps.Options{Store: opts.Store, Now: opts.Now, Audit: c.Audit}); err != nil {
		return nil, err
	}
	return c, nil
}
