package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func consentTests() []test {
	return []test{
		{"save, get and list", func(t *testing.T, f fixture) {
			o := f.org("o")
			marie, jean := f.person("marie"), f.person("jean")
			f.app(o.ID, "b-app")
			f.app(o.ID, "a-app")
			c1 := storage.Consent{PersonID: marie.ID, ClientID: "b-app", Scopes: []string{"openid", "profile"}, CreatedAt: t0}
			clk := startClock()
			must(t, f.s.SaveConsent(f.ctx, &c1))
			clk.check(t, "UpdatedAt", c1.UpdatedAt)
			diff(t, t0, c1.CreatedAt)
			diff(t, c1, get(f.s.GetConsent(f.ctx, marie.ID, "b-app"))(t))
			c2 := storage.Consent{PersonID: marie.ID, ClientID: "a-app", Scopes: []string{"openid"}}
			must(t, f.s.SaveConsent(f.ctx, &c2))
			diff(t, c2.UpdatedAt, c2.CreatedAt) // CreatedAt defaults to now
			c3 := storage.Consent{PersonID: jean.ID, ClientID: "a-app", Scopes: []string{}}
			must(t, f.s.SaveConsent(f.ctx, &c3))
			diff(t, []storage.Consent{c2, c1}, get(f.s.ListPersonConsents(f.ctx, marie.ID))(t))
			diff(t, []storage.Consent{c3}, get(f.s.ListPersonConsents(f.ctx, jean.ID))(t))
			diff(t, []storage.Consent{}, get(f.s.ListPersonConsents(f.ctx, "nobody"))(t))
			_, err := f.s.GetConsent(f.ctx, jean.ID, "b-app")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"save again replaces the scopes, keeps CreatedAt", func(t *testing.T, f fixture) {
			o := f.org("o")
			p := f.person("marie")
			f.app(o.ID, "app")
			c := storage.Consent{PersonID: p.ID, ClientID: "app", Scopes: []string{"openid"}, CreatedAt: t0}
			must(t, f.s.SaveConsent(f.ctx, &c))
			first := c.UpdatedAt
			again := storage.Consent{PersonID: p.ID, ClientID: "app", Scopes: []string{"openid", "email"}, CreatedAt: t0.Add(time.Hour)}
			must(t, f.s.SaveConsent(f.ctx, &again))
			diff(t, t0, again.CreatedAt)
			if again.UpdatedAt.Before(first) {
				t.Errorf("UpdatedAt went back: %v, then %v", first, again.UpdatedAt)
			}
			diff(t, again, get(f.s.GetConsent(f.ctx, p.ID, "app"))(t))
		}},
		{"unknown person or application", func(t *testing.T, f fixture) {
			o := f.org("o")
			p := f.person("marie")
			f.app(o.ID, "app")
			wantErr(t, f.s.SaveConsent(f.ctx, &storage.Consent{PersonID: "nobody", ClientID: "app"}), storage.ErrNotFound)
			wantErr(t, f.s.SaveConsent(f.ctx, &storage.Consent{PersonID: p.ID, ClientID: "nope"}), storage.ErrNotFound)
			if err := f.s.SaveConsent(f.ctx, &storage.Consent{ClientID: "app"}); err == nil {
				t.Error("consent without a person saved")
			}
			diff(t, []storage.Consent{}, get(f.s.ListPersonConsents(f.ctx, p.ID))(t))
		}},
		{"delete", func(t *testing.T, f fixture) {
			o := f.org("o")
			marie, jean := f.person("marie"), f.person("jean")
			f.app(o.ID, "app")
			for _, p := range []storage.Person{marie, jean} {
				must(t, f.s.SaveConsent(f.ctx, &storage.Consent{PersonID: p.ID, ClientID: "app", Scopes: []string{"openid"}}))
			}
			must(t, f.s.DeleteConsent(f.ctx, marie.ID, "app"))
			wantErr(t, f.s.DeleteConsent(f.ctx, marie.ID, "app"), storage.ErrNotFound)
			_, err := f.s.GetConsent(f.ctx, marie.ID, "app")
			wantErr(t, err, storage.ErrNotFound)
			get(f.s.GetConsent(f.ctx, jean.ID, "app"))(t) // another person's stays
		}},
		{"follow the application", func(t *testing.T, f fixture) {
			o := f.org("o")
			p := f.person("marie")
			a := f.app(o.ID, "app")
			must(t, f.s.SaveConsent(f.ctx, &storage.Consent{PersonID: p.ID, ClientID: "app", Scopes: []string{"openid"}}))
			a.ClientID = "renamed"
			must(t, f.s.UpdateApplication(f.ctx, &a))
			get(f.s.GetConsent(f.ctx, p.ID, "renamed"))(t)
			must(t, f.s.DeleteApplication(f.ctx, o.ID, a.ID))
			diff(t, []storage.Consent{}, get(f.s.ListPersonConsents(f.ctx, p.ID))(t))
		}},
		{"rolled back with its transaction", func(t *testing.T, f fixture) {
			o := f.org("o")
			p := f.person("marie")
			f.app(o.ID, "app")
			errRollback := errors.New("rollback")
			err := f.s.WithTx(f.ctx, func(tx storage.Store) error {
				must(t, tx.SaveConsent(f.ctx, &storage.Consent{PersonID: p.ID, ClientID: "app", Scopes: []string{"openid"}}))
				return errRollback
			})
			wantErr(t, err, errRollback)
			_, err = f.s.GetConsent(f.ctx, p.ID, "app")
			wantErr(t, err, storage.ErrNotFound)
		}},
	}
}
