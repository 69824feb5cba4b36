package main

import (
	"context"
	"fmt"

	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// passwords sets p.Password on bench.portal and admin (unless admin was
// there before Seed) through the local accounts service (policy check,
// argon2id), and stores bench.portal's hash for every admin.<slug> after
// checking the policy for each: one argon2id run per organization would
// cost more than the rest of the seeding. The shared salt is acceptable
// for benchmark accounts that share a password anyway; `tno person
// set-password` gives any of them its own.
func (g *gen) passwords(ctx context.Context) error {
	if g.p.Password == "" {
		return nil
	}
	l, err := local.New(local.Options{People: g.st, Credentials: g.st, Hasher: g.p.Hasher})
	if err != nil {
		return err
	}
	ids := []string{g.portalID}
	if g.adminID != "" { // an admin that was there keeps its password
		ids = append(ids, g.adminID)
	}
	for _, id := range ids {
		if err := l.SetPassword(ctx, id, g.p.Password); err != nil {
			return err
		}
		g.sum.Passwords++
	}
	phc, err := g.st.GetPasswordHash(ctx, g.portalID)
	if err != nil {
		return err
	}
	err = g.st.WithTx(ctx, func(tx storage.Store) error {
		for i, id := range g.orgAdminIDs {
			o := g.orgs[i]
			if err := local.ValidatePassword(g.p.Password, orgAdminPrefix+o.Slug, "admin@"+o.domain); err != nil {
				return fmt.Errorf("password for %s%s: %w", orgAdminPrefix, o.Slug, err)
			}
			if err := tx.SetPasswordHash(ctx, id, phc); err != nil {
				return err
			}
			g.sum.Passwords++
		}
		return nil
	})
	if err != nil {
		return err
	}
	g.logf("password set for %d accounts", g.sum.Passwords)
	return nil
}
