package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

var errBoom = errors.New("boom")

func txTests() []test {
	// orgSlugs lists the organizations' slugs, to see what a transaction left.
	orgSlugs := func(t *testing.T, f fixture) []string {
		t.Helper()
		slugs := []string{}
		for _, o := range get(f.s.ListOrganizations(f.ctx))(t) {
			slugs = append(slugs, o.Slug)
		}
		return slugs
	}
	return []test{
		{"commit", func(t *testing.T, f fixture) {
			var m storage.Membership
			must(t, f.s.WithTx(f.ctx, func(tx storage.Store) error {
				o := storage.Organization{Slug: "a"}
				p := storage.Person{Username: "p"}
				if err := errors.Join(tx.CreateOrganization(f.ctx, &o), tx.CreatePerson(f.ctx, &p)); err != nil {
					return err
				}
				m = storage.Membership{PersonID: p.ID, OrgID: o.ID, Kind: storage.KindAgent, ValidFrom: t0}
				if err := tx.CreateMembership(f.ctx, &m); err != nil {
					return err
				}
				got, err := tx.GetMembership(f.ctx, o.ID, m.ID) // reads its own writes
				if err != nil || got.ID != m.ID {
					return fmt.Errorf("read inside transaction: %v, %v", got, err)
				}
				return nil
			}))
			diff(t, m, get(f.s.GetMembership(f.ctx, m.OrgID, m.ID))(t))
		}},
		{"error rolls everything back and is returned", func(t *testing.T, f fixture) {
			f.org("before")
			err := f.s.WithTx(f.ctx, func(tx storage.Store) error {
				for _, slug := range []string{"x", "y"} {
					if err := tx.CreateOrganization(f.ctx, &storage.Organization{Slug: slug}); err != nil {
						return err
					}
				}
				if err := tx.CreatePerson(f.ctx, &storage.Person{Username: "p"}); err != nil {
					return err
				}
				return fmt.Errorf("late failure: %w", errBoom)
			})
			wantErr(t, err, errBoom)
			diff(t, []string{"before"}, orgSlugs(t, f))
			if got := get(f.s.ListPeople(f.ctx))(t); len(got) != 0 {
				t.Errorf("people after rollback: %v", got)
			}
		}},
		{"panic rolls back and propagates", func(t *testing.T, f fixture) {
			func() {
				defer func() {
					if r := recover(); r != errBoom {
						t.Errorf("recovered %v, want errBoom", r)
					}
				}()
				f.s.WithTx(f.ctx, func(tx storage.Store) error {
					must(t, tx.CreateOrganization(f.ctx, &storage.Organization{Slug: "x"}))
					panic(errBoom)
				})
			}()
			diff(t, []string{}, orgSlugs(t, f))
			f.org("after") // the store is still usable
		}},
		{"uncommitted writes are invisible outside", func(t *testing.T, f fixture) {
			must(t, f.s.WithTx(f.ctx, func(tx storage.Store) error {
				must(t, tx.CreateOrganization(f.ctx, &storage.Organization{Slug: "x"}))
				_, err := f.s.GetOrganizationBySlug(f.ctx, "x")
				wantErr(t, err, storage.ErrNotFound)
				return nil
			}))
			diff(t, []string{"x"}, orgSlugs(t, f))
		}},
		{"a failed statement leaves the transaction usable", func(t *testing.T, f fixture) {
			org := f.org("org")
			must(t, f.s.WithTx(f.ctx, func(tx storage.Store) error {
				wantErr(t, tx.CreateOrganization(f.ctx, &storage.Organization{Slug: "org"}), storage.ErrConflict)
				wantErr(t, tx.CreateGroup(f.ctx, &storage.Group{OrgID: "nope", Slug: "g"}), storage.ErrNotFound)
				a := storage.Application{OrgID: org.ID, ClientID: "c", GrantedOrgIDs: []string{"nope"}}
				wantErr(t, tx.CreateApplication(f.ctx, &a), storage.ErrNotFound)
				return tx.CreateOrganization(f.ctx, &storage.Organization{Slug: "next"})
			}))
			diff(t, []string{"next", "org"}, orgSlugs(t, f))
			_, err := f.s.GetApplicationByClientID(f.ctx, "c")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"nested: an inner error undoes only the inner writes", func(t *testing.T, f fixture) {
			must(t, f.s.WithTx(f.ctx, func(tx storage.Store) error {
				must(t, tx.CreateOrganization(f.ctx, &storage.Organization{Slug: "a"}))
				err := tx.WithTx(f.ctx, func(inner storage.Store) error {
					must(t, inner.CreateOrganization(f.ctx, &storage.Organization{Slug: "b"}))
					return errBoom
				})
				wantErr(t, err, errBoom)
				must(t, tx.WithTx(f.ctx, func(inner storage.Store) error {
					return inner.CreateOrganization(f.ctx, &storage.Organization{Slug: "c"})
				}))
				return nil
			}))
			diff(t, []string{"a", "c"}, orgSlugs(t, f))
		}},
		{"nested: an outer error undoes the inner writes", func(t *testing.T, f fixture) {
			err := f.s.WithTx(f.ctx, func(tx storage.Store) error {
				must(t, tx.WithTx(f.ctx, func(inner storage.Store) error {
					return inner.CreateOrganization(f.ctx, &storage.Organization{Slug: "b"})
				}))
				return errBoom
			})
			wantErr(t, err, errBoom)
			diff(t, []string{}, orgSlugs(t, f))
		}},
		{"rollback restores a consumed code", func(t *testing.T, f fixture) {
			c := newCode("h")
			must(t, f.s.CreateAuthCode(f.ctx, &c))
			err := f.s.WithTx(f.ctx, func(tx storage.Store) error {
				if _, err := tx.ConsumeAuthCode(f.ctx, "h", t0); err != nil {
					return err
				}
				return errBoom
			})
			wantErr(t, err, errBoom)
			got := get(f.s.ConsumeAuthCode(f.ctx, "h", t0.Add(time.Second)))(t)
			diff(t, ptr(t0.Add(time.Second)), got.UsedAt)
		}},
	}
}

func concurrencyTests() []test {
	return []test{
		{"50 goroutines create sessions", func(t *testing.T, f fixture) {
			const n = 50
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					s := newSession(fmt.Sprintf("s%02d", i), "p", t0.Add(time.Duration(i)*time.Second), []string{"pwd"})
					errs[i] = f.s.CreateSession(f.ctx, &s)
					if errs[i] == nil {
						errs[i] = f.s.TouchSession(f.ctx, s.ID, t0.Add(time.Hour))
					}
				})
			}
			wg.Wait()
			must(t, errors.Join(errs...))
			if got := get(f.s.ListPersonSessions(f.ctx, "p"))(t); len(got) != n {
				t.Errorf("%d sessions, want %d", len(got), n)
			}
		}},
		{"20 goroutines run write transactions", func(t *testing.T, f fixture) {
			org := f.org("org")
			const n = 20
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					errs[i] = f.s.WithTx(f.ctx, func(tx storage.Store) error {
						// Read, then write: the pattern that fails with
						// SQLITE_BUSY under deferred transactions.
						if _, err := tx.ListMemberships(f.ctx, org.ID); err != nil {
							return err
						}
						p := storage.Person{Username: fmt.Sprintf("p%02d", i)}
						if err := tx.CreatePerson(f.ctx, &p); err != nil {
							return err
						}
						m := storage.Membership{PersonID: p.ID, OrgID: org.ID, Kind: storage.KindAgent}
						return tx.CreateMembership(f.ctx, &m)
					})
				})
			}
			wg.Wait()
			must(t, errors.Join(errs...))
			if got := get(f.s.ListMemberships(f.ctx, org.ID))(t); len(got) != n {
				t.Errorf("%d memberships, want %d", len(got), n)
			}
		}},
	}
}

func timeTests() []test {
	paris := time.FixedZone("CET", 3600)
	return []test{
		{"non-UTC nanosecond times come back UTC, truncated to the microsecond", func(t *testing.T, f fixture) {
			in := time.Date(2026, 3, 14, 10, 26, 53, 589793238, paris)
			want := time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)
			m := storage.Membership{PersonID: f.person("p").ID, OrgID: f.org("o").ID, Kind: storage.KindAgent,
				ValidFrom: in, ValidUntil: ptr(in.Add(time.Hour))}
			must(t, f.s.CreateMembership(f.ctx, &m))
			got := get(f.s.GetMembership(f.ctx, m.OrgID, m.ID))(t)
			for name, v := range map[string]time.Time{
				"ValidFrom": got.ValidFrom, "ValidUntil": *got.ValidUntil, "CreatedAt": got.CreatedAt,
				"written back ValidFrom": m.ValidFrom,
			} {
				if v.Location() != time.UTC {
					t.Errorf("%s location = %v, want UTC", name, v.Location())
				}
			}
			diff(t, want, got.ValidFrom)
			diff(t, want.Add(time.Hour), *got.ValidUntil)
			diff(t, m, got) // Create wrote the normalised times back
		}},
		{"zero, pre-1970 and far times round-trip", func(t *testing.T, f fixture) {
			tok := storage.Token{Hash: "h", AuthTime: time.Time{}, CreatedAt: time.Date(1950, 1, 1, 0, 0, 0, 1000, time.UTC),
				ExpiresAt: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)}
			must(t, f.s.CreateToken(f.ctx, &tok))
			got := get(f.s.GetToken(f.ctx, "h"))(t)
			diff(t, tok, got)
			if !got.AuthTime.IsZero() {
				t.Errorf("AuthTime = %v, want the zero time", got.AuthTime)
			}
		}},
	}
}
