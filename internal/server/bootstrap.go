package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// BootstrapResult tells what Bootstrap created.
type BootstrapResult struct {
	KeyCreated bool
	// AdminUsername and AdminPassword are set when the first platform
	// administrator was created: the password is shown once, never stored
	// in clear.
	AdminUsername string
	AdminPassword string
}

// Bootstrap prepares a fresh installation: a signing key, and a first
// platform administrator if there is none. Safe at every start.
func (s *Server) Bootstrap(ctx context.Context) (BootstrapResult, error) {
	var res BootstrapResult
	created, err := s.Keys.Ensure(ctx)
	if err != nil {
		return res, fmt.Errorf("signing keys: %w", err)
	}
	res.KeyCreated = created
	n, err := s.store.CountRole(ctx, storage.RolePlatformAdmin)
	if err != nil {
		return res, fmt.Errorf("count administrators: %w", err)
	}
	if n > 0 {
		return res, nil
	}
	password := GeneratePassword()
	created = false
	err = s.store.WithTx(ctx, func(tx storage.Store) error {
		// Count again inside the transaction: another instance starting
		// at the same time may have created the administrator already.
		if n, err := tx.CountRole(ctx, storage.RolePlatformAdmin); err != nil || n > 0 {
			return err
		}
		p := storage.Person{Username: "admin", GivenName: "Administrateur", FamilyName: "Plateforme"}
		err := tx.CreatePerson(ctx, &p)
		if errors.Is(err, storage.ErrConflict) {
			if n, err := tx.CountRole(ctx, storage.RolePlatformAdmin); err != nil || n > 0 {
				return err // lost the race: the other instance's admin stands
			}
			// A person named admin exists without the role: make it the
			// administrator.
			p, err = tx.GetPersonByUsername(ctx, p.Username)
		}
		if err != nil {
			return err
		}
		hash, err := s.Hasher.Hash(ctx, password)
		if err != nil {
			return err
		}
		if err := tx.SetPasswordHash(ctx, p.ID, hash); err != nil {
			return err
		}
		// The generated password was printed in a terminal: the
		// administrator chooses their own at the first sign-in.
		if err := tx.SetPasswordChangeRequired(ctx, p.ID, true); err != nil {
			return err
		}
		created = true
		return tx.GrantRole(ctx, &storage.AdminRole{PersonID: p.ID, Role: storage.RolePlatformAdmin})
	})
	if err != nil {
		// A concurrent start may have won the race and made our
		// transaction fail (SQLite's stale snapshot): then all is well.
		if n, cerr := s.store.CountRole(ctx, storage.RolePlatformAdmin); cerr == nil && n > 0 {
			return res, nil
		}
		return res, fmt.Errorf("create first administrator: %w", err)
	}
	if !created {
		return res, nil
	}
	res.AdminUsername, res.AdminPassword = "admin", password
	return res, nil
}

// GeneratePassword returns a random 20-character password from an
// alphabet without look-alike characters (about 114 bits).
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	return randomFrom(alphabet, 20)
}

func randomFrom(alphabet string, n int) string {
	b := make([]byte, n)
	limit := byte(256 - 256%len(alphabet))
	var buf [1]byte
	for i := 0; i < n; {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("server: crypto/rand failed: " + err.Error())
		}
		if buf[0] >= limit {
			continue
		}
		b[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(b)
}
