package storagetest

import (
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func newReset(hash, personID string) storage.PasswordReset {
	return storage.PasswordReset{TokenHash: hash, PersonID: personID, CreatedAt: t0, ExpiresAt: t0.Add(30 * time.Minute)}
}

func passwordResetTests() []test {
	return []test{
		{"an invitation keeps its purpose", func(t *testing.T, f fixture) {
			p := f.person("p")
			r := storage.PasswordReset{TokenHash: "inv", PersonID: p.ID, ExpiresAt: t0.Add(7 * 24 * time.Hour), Purpose: storage.ResetInvitation}
			must(t, f.s.CreatePasswordReset(f.ctx, &r))
			diff(t, r, get(f.s.GetPasswordReset(f.ctx, "inv"))(t))
		}},
		{"password reset: create, get, consume once", func(t *testing.T, f fixture) {
			p := f.person("p")
			r := newReset("h", p.ID)
			must(t, f.s.CreatePasswordReset(f.ctx, &r))
			diff(t, r, get(f.s.GetPasswordReset(f.ctx, "h"))(t))
			if !r.Usable(t0) || r.Usable(r.ExpiresAt) {
				t.Errorf("Usable: want true before ExpiresAt, false at it")
			}
			used := t0.Add(time.Minute)
			got := get(f.s.ConsumePasswordReset(f.ctx, "h", used))(t)
			r.UsedAt = ptr(used)
			diff(t, r, got)
			diff(t, r, get(f.s.GetPasswordReset(f.ctx, "h"))(t))
			if got.Usable(used) {
				t.Error("a used link is still usable")
			}
			_, err := f.s.ConsumePasswordReset(f.ctx, "h", used.Add(time.Second))
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"password reset: created at the store's time when not given", func(t *testing.T, f fixture) {
			p := f.person("p")
			r := storage.PasswordReset{TokenHash: "h", PersonID: p.ID, ExpiresAt: t0}
			c := startClock()
			must(t, f.s.CreatePasswordReset(f.ctx, &r))
			c.check(t, "CreatedAt", r.CreatedAt)
			diff(t, r, get(f.s.GetPasswordReset(f.ctx, "h"))(t))
		}},
		{"password reset: unknown or expired is not found", func(t *testing.T, f fixture) {
			p := f.person("p")
			_, err := f.s.GetPasswordReset(f.ctx, "nope")
			wantErr(t, err, storage.ErrNotFound)
			_, err = f.s.ConsumePasswordReset(f.ctx, "nope", t0)
			wantErr(t, err, storage.ErrNotFound)
			r := newReset("h", p.ID)
			must(t, f.s.CreatePasswordReset(f.ctx, &r))
			_, err = f.s.ConsumePasswordReset(f.ctx, "h", r.ExpiresAt) // expires at that instant
			wantErr(t, err, storage.ErrNotFound)
			_, err = f.s.ConsumePasswordReset(f.ctx, "h", r.ExpiresAt.Add(time.Hour))
			wantErr(t, err, storage.ErrNotFound)
			// A refused consumption leaves the link as it was.
			diff(t, r, get(f.s.GetPasswordReset(f.ctx, "h"))(t))
			get(f.s.ConsumePasswordReset(f.ctx, "h", r.ExpiresAt.Add(-time.Microsecond)))(t)
		}},
		{"password reset: duplicate hash conflicts, unknown person not found", func(t *testing.T, f fixture) {
			p := f.person("p")
			r := newReset("h", p.ID)
			must(t, f.s.CreatePasswordReset(f.ctx, &r))
			dup := newReset("h", p.ID)
			wantErr(t, f.s.CreatePasswordReset(f.ctx, &dup), storage.ErrConflict)
			ghost := newReset("g", "nobody")
			wantErr(t, f.s.CreatePasswordReset(f.ctx, &ghost), storage.ErrNotFound)
		}},
		{"password reset: concurrent consumers, exactly one wins", func(t *testing.T, f fixture) {
			p := f.person("p")
			r := newReset("h", p.ID)
			must(t, f.s.CreatePasswordReset(f.ctx, &r))
			won := winners(t, 8, storage.ErrNotFound, func(i int) error {
				_, err := f.s.ConsumePasswordReset(f.ctx, "h", t0.Add(time.Duration(i+1)*time.Second))
				return err
			})
			if won != 1 {
				t.Errorf("%d callers consumed the link, want 1", won)
			}
			if got := get(f.s.GetPasswordReset(f.ctx, "h"))(t); got.UsedAt == nil {
				t.Error("UsedAt not set")
			}
		}},
		{"password reset: delete a person's links, and the expired ones", func(t *testing.T, f fixture) {
			alice, bob := f.person("alice"), f.person("bob")
			a1, a2, b := newReset("a1", alice.ID), newReset("a2", alice.ID), newReset("b", bob.ID)
			old := newReset("old", bob.ID)
			old.ExpiresAt = t0.Add(time.Minute)
			old.UsedAt = ptr(t0.Add(time.Second))
			for _, r := range []*storage.PasswordReset{&a1, &a2, &b, &old} {
				must(t, f.s.CreatePasswordReset(f.ctx, r))
			}
			if n := get(f.s.DeletePersonPasswordResets(f.ctx, alice.ID))(t); n != 2 {
				t.Errorf("DeletePersonPasswordResets = %d, want 2", n)
			}
			for _, h := range []string{"a1", "a2"} {
				_, err := f.s.GetPasswordReset(f.ctx, h)
				wantErr(t, err, storage.ErrNotFound)
			}
			if n := get(f.s.DeletePersonPasswordResets(f.ctx, alice.ID))(t); n != 0 {
				t.Errorf("DeletePersonPasswordResets again = %d, want 0", n)
			}
			if n := get(f.s.DeleteExpiredPasswordResets(f.ctx, t0.Add(time.Minute)))(t); n != 0 {
				t.Errorf("DeleteExpiredPasswordResets at ExpiresAt = %d, want 0 (strictly before)", n)
			}
			if n := get(f.s.DeleteExpiredPasswordResets(f.ctx, t0.Add(2*time.Minute)))(t); n != 1 {
				t.Errorf("DeleteExpiredPasswordResets = %d, want 1", n)
			}
			diff(t, b, get(f.s.GetPasswordReset(f.ctx, "b"))(t))
		}},
	}
}
