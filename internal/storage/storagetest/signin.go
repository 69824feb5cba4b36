package storagetest

import (
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func signInTests() []test {
	return []test{
		{"sign-in: create, get, update, delete", func(t *testing.T, f fixture) {
			s := storage.SignIn{
				BrowserHash: "b", Source: "192.0.2.1", Protocol: "oidc", ProtocolRef: "req",
				ClientID: "c", Data: []byte(`{"login_hint":"élu@ville.fr"}`), CreatedAt: t0, ExpiresAt: t0.Add(time.Minute),
			}
			must(t, f.s.CreateSignIn(f.ctx, &s))
			if s.ID == "" {
				t.Fatal("CreateSignIn left ID empty")
			}
			diff(t, s, get(f.s.GetSignIn(f.ctx, s.ID))(t))
			must(t, f.s.UpdateSignIn(f.ctx, s.ID, []byte(`{"step":2}`)))
			s.Data = []byte(`{"step":2}`)
			diff(t, s, get(f.s.GetSignIn(f.ctx, s.ID))(t))
			must(t, f.s.DeleteSignIn(f.ctx, s.ID))
			_, err := f.s.GetSignIn(f.ctx, s.ID)
			wantErr(t, err, storage.ErrNotFound)
			wantErr(t, f.s.UpdateSignIn(f.ctx, s.ID, nil), storage.ErrNotFound)
			wantErr(t, f.s.DeleteSignIn(f.ctx, s.ID), storage.ErrNotFound)
		}},
		{"sign-in: delete expired keeps the live ones", func(t *testing.T, f fixture) {
			old := storage.SignIn{ID: "old", Protocol: "oidc", Data: []byte("{}"), CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
			live := storage.SignIn{ID: "live", Protocol: "portal", Data: []byte("{}"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			must(t, f.s.CreateSignIn(f.ctx, &old))
			must(t, f.s.CreateSignIn(f.ctx, &live))
			if n := get(f.s.DeleteExpiredSignIns(f.ctx, t0.Add(2*time.Minute)))(t); n != 1 {
				t.Errorf("DeleteExpiredSignIns = %d, want 1", n)
			}
			diff(t, live, get(f.s.GetSignIn(f.ctx, "live"))(t))
		}},
	}
}

func factorTests() []test {
	return []test{
		{"organization: the second-factor policy is kept and changed", func(t *testing.T, f fixture) {
			o := storage.Organization{Slug: "commune", Name: "Commune", SIREN: "123456782", MFAPolicy: storage.MFAElus}
			must(t, f.s.CreateOrganization(f.ctx, &o))
			diff(t, o, get(f.s.GetOrganization(f.ctx, o.ID))(t))
			o.MFAPolicy = storage.MFAAll
			must(t, f.s.UpdateOrganization(f.ctx, &o))
			if got := get(f.s.GetOrganization(f.ctx, o.ID))(t); got.MFAPolicy != storage.MFAAll {
				t.Errorf("MFAPolicy = %q after update, want all", got.MFAPolicy)
			}
		}},
		{"factor: create, list, rename, delete; another person's factors untouched", func(t *testing.T, f fixture) {
			alice, bob := f.person("alice"), f.person("bob")
			totp := storage.Factor{PersonID: alice.ID, Kind: storage.FactorTOTP, Name: "Téléphone pro", Secret: "JBSWY3DPEHPK3PXP", CreatedAt: t0}
			key := storage.Factor{PersonID: alice.ID, Kind: storage.FactorPasskey, Name: "Clé", CredentialID: "Y3JlZA", Data: []byte(`{"v":1}`), CreatedAt: t0.Add(time.Second)}
			other := storage.Factor{PersonID: bob.ID, Kind: storage.FactorTOTP, Name: "Bob", Secret: "X", CreatedAt: t0}
			for _, x := range []*storage.Factor{&totp, &key, &other} {
				must(t, f.s.CreateFactor(f.ctx, x))
			}
			diff(t, []storage.Factor{totp, key}, get(f.s.ListFactors(f.ctx, alice.ID))(t))
			diff(t, key, get(f.s.GetFactorByCredentialID(f.ctx, "Y3JlZA"))(t))
			_, err := f.s.GetFactorByCredentialID(f.ctx, "")
			wantErr(t, err, storage.ErrNotFound)
			dup := storage.Factor{PersonID: bob.ID, Kind: storage.FactorPasskey, CredentialID: "Y3JlZA", Data: []byte("{}")}
			wantErr(t, f.s.CreateFactor(f.ctx, &dup), storage.ErrConflict)

			wantErr(t, f.s.RenameFactor(f.ctx, bob.ID, totp.ID, "volé"), storage.ErrNotFound)
			wantErr(t, f.s.DeleteFactor(f.ctx, bob.ID, totp.ID), storage.ErrNotFound)
			must(t, f.s.RenameFactor(f.ctx, alice.ID, totp.ID, "Ordiphone"))
			totp.Name = "Ordiphone"
			diff(t, []storage.Factor{totp, key}, get(f.s.ListFactors(f.ctx, alice.ID))(t))
			must(t, f.s.DeleteFactor(f.ctx, alice.ID, key.ID))
			diff(t, []storage.Factor{totp}, get(f.s.ListFactors(f.ctx, alice.ID))(t))
			diff(t, []storage.Factor{other}, get(f.s.ListFactors(f.ctx, bob.ID))(t))
		}},
		{"factor: delete by kind, or all", func(t *testing.T, f fixture) {
			p := f.person("p")
			for _, k := range []string{storage.FactorTOTP, storage.FactorRecovery, storage.FactorRecovery, storage.FactorPasskey} {
				x := storage.Factor{PersonID: p.ID, Kind: k, Secret: "s", CredentialID: map[bool]string{true: storage.NewID()}[k == storage.FactorPasskey]}
				must(t, f.s.CreateFactor(f.ctx, &x))
			}
			if n := get(f.s.DeleteFactors(f.ctx, p.ID, storage.FactorRecovery, storage.FactorTOTP))(t); n != 3 {
				t.Errorf("DeleteFactors(recovery, totp) = %d, want 3", n)
			}
			left := get(f.s.ListFactors(f.ctx, p.ID))(t)
			if len(left) != 1 || left[0].Kind != storage.FactorPasskey {
				t.Errorf("left = %+v, want the passkey", left)
			}
			if n := get(f.s.DeleteFactors(f.ctx, p.ID))(t); n != 1 {
				t.Errorf("DeleteFactors() = %d, want 1", n)
			}
		}},
		{"factor: a TOTP step is accepted once, concurrently too; earlier steps refused", func(t *testing.T, f fixture) {
			p := f.person("p")
			x := storage.Factor{PersonID: p.ID, Kind: storage.FactorTOTP, Secret: "s"}
			must(t, f.s.CreateFactor(f.ctx, &x))
			won := winners(t, 8, storage.ErrAlreadyUsed, func(int) error {
				return f.s.UseFactorStep(f.ctx, p.ID, x.ID, 1000, t0)
			})
			if won != 1 {
				t.Errorf("%d callers used step 1000, want 1", won)
			}
			wantErr(t, f.s.UseFactorStep(f.ctx, p.ID, x.ID, 999, t0), storage.ErrAlreadyUsed)
			must(t, f.s.UseFactorStep(f.ctx, p.ID, x.ID, 1001, t0.Add(time.Minute)))
			wantErr(t, f.s.UseFactorStep(f.ctx, "other", x.ID, 2000, t0), storage.ErrNotFound)
			got := get(f.s.ListFactors(f.ctx, p.ID))(t)[0]
			if got.LastStep != 1001 || got.LastUsedAt == nil || !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
				t.Errorf("LastStep = %d, LastUsedAt = %v; want 1001 and t0+1m", got.LastStep, got.LastUsedAt)
			}
		}},
		{"factor: passkey use updates its data; a recovery code is consumed once", func(t *testing.T, f fixture) {
			p := f.person("p")
			key := storage.Factor{PersonID: p.ID, Kind: storage.FactorPasskey, CredentialID: "k", Data: []byte(`{"count":1}`)}
			code := storage.Factor{PersonID: p.ID, Kind: storage.FactorRecovery, Secret: "sha256$x$y"}
			must(t, f.s.CreateFactor(f.ctx, &key))
			must(t, f.s.CreateFactor(f.ctx, &code))
			must(t, f.s.UseFactorData(f.ctx, p.ID, key.ID, []byte(`{"count":2}`), t0))
			got := get(f.s.GetFactorByCredentialID(f.ctx, "k"))(t)
			if string(got.Data) != `{"count":2}` || got.LastUsedAt == nil {
				t.Errorf("after use: Data = %s, LastUsedAt = %v", got.Data, got.LastUsedAt)
			}
			won := winners(t, 8, storage.ErrNotFound, func(int) error { return f.s.ConsumeFactor(f.ctx, p.ID, code.ID) })
			if won != 1 {
				t.Errorf("%d callers consumed the recovery code, want 1", won)
			}
		}},
	}
}

func sessionUpgradeTests() []test {
	return []test{
		{"session: get by cookie; upgrade swaps the cookie hash once", func(t *testing.T, f fixture) {
			s := newSession("first", "p", t0, []string{"pwd"})
			must(t, f.s.CreateSession(f.ctx, &s))
			if s.CookieHash != "first" {
				t.Errorf("CookieHash = %q, want the ID when not given", s.CookieHash)
			}
			diff(t, s, get(f.s.GetSessionByCookie(f.ctx, "first"))(t))
			later := t0.Add(time.Minute)
			won := winners(t, 6, storage.ErrNotFound, func(i int) error {
				return f.s.UpgradeSession(f.ctx, s.ID, "first", "second-"+string(rune('a'+i)), []string{"pwd", "otp", "mfa"}, "eidas2", later)
			})
			if won != 1 {
				t.Fatalf("%d upgrades won, want 1", won)
			}
			_, err := f.s.GetSessionByCookie(f.ctx, "first")
			wantErr(t, err, storage.ErrNotFound)
			got := get(f.s.GetSession(f.ctx, s.ID))(t)
			if got.ACR != "eidas2" || !got.AuthTime.Equal(later) || len(got.AMR) != 3 || got.CookieHash == "first" {
				t.Errorf("upgraded session = %+v", got)
			}
			diff(t, got, get(f.s.GetSessionByCookie(f.ctx, got.CookieHash))(t))
		}},
	}
}
