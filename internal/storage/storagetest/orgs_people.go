package storagetest

import (
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func organizationTests() []test {
	return []test{
		{"create sets ID and stamps, get by ID and slug", func(t *testing.T, f fixture) {
			c := startClock()
			o := storage.Organization{Slug: "ville-exemple", Name: "Ville d'Exemple", SIREN: "123456782", SIRET: "12345678200010"}
			must(t, f.s.CreateOrganization(f.ctx, &o))
			if len(o.ID) != 26 {
				t.Errorf("ID = %q, want a generated 26-character ID", o.ID)
			}
			c.check(t, "CreatedAt", o.CreatedAt)
			if !o.UpdatedAt.Equal(o.CreatedAt) {
				t.Errorf("UpdatedAt = %v, want CreatedAt %v", o.UpdatedAt, o.CreatedAt)
			}
			diff(t, o, get(f.s.GetOrganization(f.ctx, o.ID))(t))
			diff(t, o, get(f.s.GetOrganizationBySlug(f.ctx, o.Slug))(t))
		}},
		{"create keeps a given ID", func(t *testing.T, f fixture) {
			o := storage.Organization{ID: "org-given", Slug: "a"}
			must(t, f.s.CreateOrganization(f.ctx, &o))
			if o.ID != "org-given" {
				t.Errorf("ID = %q, want org-given", o.ID)
			}
			diff(t, o, get(f.s.GetOrganization(f.ctx, "org-given"))(t))
		}},
		{"duplicate slug is a conflict", func(t *testing.T, f fixture) {
			f.org("dup")
			wantErr(t, f.s.CreateOrganization(f.ctx, &storage.Organization{Slug: "dup"}), storage.ErrConflict)
		}},
		{"duplicate ID is a conflict", func(t *testing.T, f fixture) {
			must(t, f.s.CreateOrganization(f.ctx, &storage.Organization{ID: "same", Slug: "a"}))
			wantErr(t, f.s.CreateOrganization(f.ctx, &storage.Organization{ID: "same", Slug: "b"}), storage.ErrConflict)
		}},
		{"unknown is not found", func(t *testing.T, f fixture) {
			_, err := f.s.GetOrganization(f.ctx, "nope")
			wantErr(t, err, storage.ErrNotFound)
			_, err = f.s.GetOrganizationBySlug(f.ctx, "nope")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"list is empty, then by slug", func(t *testing.T, f fixture) {
			if got := get(f.s.ListOrganizations(f.ctx))(t); len(got) != 0 {
				t.Fatalf("ListOrganizations = %v, want none", got)
			}
			b, c, a := f.org("b"), f.org("c"), f.org("a")
			diff(t, []storage.Organization{a, b, c}, get(f.s.ListOrganizations(f.ctx))(t))
		}},
		{"update", func(t *testing.T, f fixture) {
			o := f.org("old")
			u := storage.Organization{ID: o.ID, Slug: "new", Name: "Nouveau nom", SIREN: "987654321", SIRET: "98765432100017"}
			c := startClock()
			must(t, f.s.UpdateOrganization(f.ctx, &u))
			c.check(t, "UpdatedAt", u.UpdatedAt)
			if !u.CreatedAt.Equal(o.CreatedAt) {
				t.Errorf("CreatedAt = %v, want it read back: %v", u.CreatedAt, o.CreatedAt)
			}
			diff(t, u, get(f.s.GetOrganization(f.ctx, o.ID))(t))
			_, err := f.s.GetOrganizationBySlug(f.ctx, "old")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"update unknown is not found", func(t *testing.T, f fixture) {
			wantErr(t, f.s.UpdateOrganization(f.ctx, &storage.Organization{ID: "nope", Slug: "x"}), storage.ErrNotFound)
		}},
		{"update to a taken slug is a conflict", func(t *testing.T, f fixture) {
			f.org("taken")
			o := f.org("mine")
			want := o
			o.Slug = "taken"
			wantErr(t, f.s.UpdateOrganization(f.ctx, &o), storage.ErrConflict)
			diff(t, want, get(f.s.GetOrganization(f.ctx, o.ID))(t))
		}},
		{"duplicate SIREN is a conflict", func(t *testing.T, f fixture) {
			a := storage.Organization{Slug: "ville-a", Name: "Ville A", SIREN: "213105554"}
			must(t, f.s.CreateOrganization(f.ctx, &a))
			b := storage.Organization{Slug: "ville-b", Name: "Ville B", SIREN: "213105554"}
			wantErr(t, f.s.CreateOrganization(f.ctx, &b), storage.ErrConflict)
			diff(t, []storage.Organization{a}, get(f.s.ListOrganizations(f.ctx))(t))
		}},
		{"update to a taken SIREN is a conflict", func(t *testing.T, f fixture) {
			a := f.org("ville-a")
			o := f.org("ville-b")
			want := o
			o.SIREN = a.SIREN
			wantErr(t, f.s.UpdateOrganization(f.ctx, &o), storage.ErrConflict)
			diff(t, []storage.Organization{a, want}, get(f.s.ListOrganizations(f.ctx))(t))
		}},
		{"empty SIRENs may repeat", func(t *testing.T, f fixture) {
			// Not a SIREN: the territory rules refuse it, the store keeps
			// it like any other field.
			must(t, f.s.CreateOrganization(f.ctx, &storage.Organization{Slug: "a"}))
			must(t, f.s.CreateOrganization(f.ctx, &storage.Organization{Slug: "b"}))
		}},
	}
}

func peopleTests() []test {
	full := func() storage.Person {
		return storage.Person{
			Username: "marie.curie", GivenName: "Marie", FamilyName: "Skłodowska", UsualName: "Curie",
			Email: "marie@ville.example", EmailVerified: true, Phone: "+33 1 23 45 67 89", Disabled: true,
		}
	}
	return []test{
		{"create sets ID and stamps, get by ID and username", func(t *testing.T, f fixture) {
			p := full()
			c := startClock()
			must(t, f.s.CreatePerson(f.ctx, &p))
			if len(p.ID) != 26 {
				t.Errorf("ID = %q, want a generated ID", p.ID)
			}
			c.check(t, "CreatedAt", p.CreatedAt)
			c.check(t, "UpdatedAt", p.UpdatedAt)
			diff(t, p, get(f.s.GetPerson(f.ctx, p.ID))(t))
			diff(t, p, get(f.s.GetPersonByUsername(f.ctx, "marie.curie"))(t))
		}},
		{"false booleans round-trip", func(t *testing.T, f fixture) {
			p := storage.Person{Username: "x"}
			must(t, f.s.CreatePerson(f.ctx, &p))
			diff(t, p, get(f.s.GetPerson(f.ctx, p.ID))(t))
		}},
		{"duplicate username is a conflict", func(t *testing.T, f fixture) {
			f.person("dup")
			wantErr(t, f.s.CreatePerson(f.ctx, &storage.Person{Username: "dup"}), storage.ErrConflict)
		}},
		{"unknown is not found", func(t *testing.T, f fixture) {
			_, err := f.s.GetPerson(f.ctx, "nope")
			wantErr(t, err, storage.ErrNotFound)
			_, err = f.s.GetPersonByUsername(f.ctx, "nope")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"update", func(t *testing.T, f fixture) {
			p := f.person("before")
			u := full()
			u.ID = p.ID
			c := startClock()
			must(t, f.s.UpdatePerson(f.ctx, &u))
			c.check(t, "UpdatedAt", u.UpdatedAt)
			if !u.CreatedAt.Equal(p.CreatedAt) {
				t.Errorf("CreatedAt = %v, want it read back: %v", u.CreatedAt, p.CreatedAt)
			}
			diff(t, u, get(f.s.GetPerson(f.ctx, p.ID))(t))
		}},
		{"update unknown is not found", func(t *testing.T, f fixture) {
			wantErr(t, f.s.UpdatePerson(f.ctx, &storage.Person{ID: "nope", Username: "x"}), storage.ErrNotFound)
		}},
		{"update to a taken username is a conflict", func(t *testing.T, f fixture) {
			f.person("taken")
			p := f.person("mine")
			want := p
			p.Username = "taken"
			wantErr(t, f.s.UpdatePerson(f.ctx, &p), storage.ErrConflict)
			diff(t, want, get(f.s.GetPerson(f.ctx, p.ID))(t))
		}},
		{"list is empty, then by username", func(t *testing.T, f fixture) {
			if got := get(f.s.ListPeople(f.ctx))(t); len(got) != 0 {
				t.Fatalf("ListPeople = %v, want none", got)
			}
			b, c, a := f.person("bob"), f.person("carol"), f.person("alice")
			diff(t, []storage.Person{a, b, c}, get(f.s.ListPeople(f.ctx))(t))
		}},
		{"list in organization: once each, any membership, by username", func(t *testing.T, f fixture) {
			org, other := f.org("org"), f.org("other")
			zoe, adam, eve, out := f.person("zoe"), f.person("adam"), f.person("eve"), f.person("out")
			f.membership(zoe.ID, org.ID, storage.KindAgent)
			f.membership(zoe.ID, org.ID, storage.KindElu) // twice in org: listed once
			ended := storage.Membership{PersonID: adam.ID, OrgID: org.ID, Kind: storage.KindAgent,
				ValidFrom: t0.AddDate(-2, 0, 0), ValidUntil: ptr(t0.AddDate(-1, 0, 0))}
			must(t, f.s.CreateMembership(f.ctx, &ended)) // inactive: still listed
			f.membership(eve.ID, other.ID, storage.KindAgent)
			f.membership(out.ID, other.ID, storage.KindAgent)
			diff(t, []storage.Person{adam, zoe}, get(f.s.ListPeopleInOrganization(f.ctx, org.ID))(t))
			diff(t, 2, get(f.s.CountPeopleInOrganization(f.ctx, org.ID))(t))
			diff(t, 0, get(f.s.CountPeopleInOrganization(f.ctx, "nope"))(t))
			if got := get(f.s.ListPeopleInOrganization(f.ctx, "nope"))(t); len(got) != 0 {
				t.Errorf("ListPeopleInOrganization(unknown) = %v, want none", got)
			}
		}},
	}
}

func credentialTests() []test {
	return []test{
		{"set, get, replace", func(t *testing.T, f fixture) {
			p := f.person("p")
			must(t, f.s.SetPasswordHash(f.ctx, p.ID, "$argon2id$one"))
			diff(t, "$argon2id$one", get(f.s.GetPasswordHash(f.ctx, p.ID))(t))
			must(t, f.s.SetPasswordHash(f.ctx, p.ID, "$argon2id$two"))
			diff(t, "$argon2id$two", get(f.s.GetPasswordHash(f.ctx, p.ID))(t))
		}},
		{"no password is not found", func(t *testing.T, f fixture) {
			p := f.person("p")
			_, err := f.s.GetPasswordHash(f.ctx, p.ID)
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"unknown person is not found", func(t *testing.T, f fixture) {
			wantErr(t, f.s.SetPasswordHash(f.ctx, "nope", "$argon2id$x"), storage.ErrNotFound)
			_, err := f.s.GetPasswordHash(f.ctx, "nope")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"hashes are per person", func(t *testing.T, f fixture) {
			a, b := f.person("a"), f.person("b")
			must(t, f.s.SetPasswordHash(f.ctx, a.ID, "ha"))
			must(t, f.s.SetPasswordHash(f.ctx, b.ID, "hb"))
			diff(t, "ha", get(f.s.GetPasswordHash(f.ctx, a.ID))(t))
			diff(t, "hb", get(f.s.GetPasswordHash(f.ctx, b.ID))(t))
		}},
		{"person by e-mail: ignoring case, unique only", func(t *testing.T, f fixture) {
			a := storage.Person{Username: "a", GivenName: "A", FamilyName: "A", Email: "Jeanne.Martin@Paris.fr"}
			b := storage.Person{Username: "b", GivenName: "B", FamilyName: "B", Email: "accueil@exemple.fr"}
			c := storage.Person{Username: "c", GivenName: "C", FamilyName: "C", Email: "ACCUEIL@exemple.fr"}
			for _, p := range []*storage.Person{&a, &b, &c} {
				must(t, f.s.CreatePerson(f.ctx, p))
			}
			f.person("noemail")
			diff(t, a.ID, get(f.s.GetPersonByEmail(f.ctx, "jeanne.martin@paris.fr"))(t).ID)
			diff(t, a.ID, get(f.s.GetPersonByEmail(f.ctx, "JEANNE.MARTIN@PARIS.FR"))(t).ID)
			for _, email := range []string{"accueil@exemple.fr", "", "inconnu@paris.fr"} {
				_, err := f.s.GetPersonByEmail(f.ctx, email)
				wantErr(t, err, storage.ErrNotFound) // shared, empty, unknown
			}
		}},
		{"password change required: set, kept by a rehash, cleared, per person", func(t *testing.T, f fixture) {
			a, b := f.person("a"), f.person("b")
			diff(t, false, get(f.s.PasswordChangeRequired(f.ctx, a.ID))(t)) // no password
			wantErr(t, f.s.SetPasswordChangeRequired(f.ctx, a.ID, true), storage.ErrNotFound)
			must(t, f.s.SetPasswordHash(f.ctx, a.ID, "ha"))
			must(t, f.s.SetPasswordHash(f.ctx, b.ID, "hb"))
			diff(t, false, get(f.s.PasswordChangeRequired(f.ctx, a.ID))(t))
			must(t, f.s.SetPasswordChangeRequired(f.ctx, a.ID, true))
			diff(t, true, get(f.s.PasswordChangeRequired(f.ctx, a.ID))(t))
			diff(t, false, get(f.s.PasswordChangeRequired(f.ctx, b.ID))(t))
			must(t, f.s.SetPasswordHash(f.ctx, a.ID, "ha-rehashed"))
			diff(t, true, get(f.s.PasswordChangeRequired(f.ctx, a.ID))(t))
			must(t, f.s.SetPasswordChangeRequired(f.ctx, a.ID, false))
			diff(t, false, get(f.s.PasswordChangeRequired(f.ctx, a.ID))(t))
			wantErr(t, f.s.SetPasswordChangeRequired(f.ctx, "nope", true), storage.ErrNotFound)
		}},
	}
}
