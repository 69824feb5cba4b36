package storagetest

import (
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// versionTests: each update adds one to Version; an update carrying an
// outdated Version is ErrStale and changes nothing; Version 0 skips the
// check; a missing row stays ErrNotFound.
func versionTests() []test {
	return []test{
		{"organizations", func(t *testing.T, f fixture) {
			o := f.org("a")
			diff(t, int64(1), o.Version)
			read := get(f.s.GetOrganization(f.ctx, o.ID))(t)
			first, second := read, read
			first.Name = "First"
			must(t, f.s.UpdateOrganization(f.ctx, &first))
			diff(t, int64(2), first.Version)
			second.Name = "Second"
			wantErr(t, f.s.UpdateOrganization(f.ctx, &second), storage.ErrStale)
			diff(t, "First", get(f.s.GetOrganization(f.ctx, o.ID))(t).Name)
			blind := first
			blind.Version, blind.Name = 0, "Blind"
			must(t, f.s.UpdateOrganization(f.ctx, &blind))
			diff(t, int64(3), blind.Version)
			missing := storage.Organization{ID: "nope", Slug: "nope", Version: 4}
			wantErr(t, f.s.UpdateOrganization(f.ctx, &missing), storage.ErrNotFound)
		}},
		{"people", func(t *testing.T, f fixture) {
			p := f.person("p")
			stale := p
			p.GivenName = "Ana"
			must(t, f.s.UpdatePerson(f.ctx, &p))
			diff(t, int64(2), get(f.s.GetPerson(f.ctx, p.ID))(t).Version)
			stale.GivenName = "Other"
			wantErr(t, f.s.UpdatePerson(f.ctx, &stale), storage.ErrStale)
			diff(t, "Ana", get(f.s.GetPerson(f.ctx, p.ID))(t).GivenName)
		}},
		{"memberships", func(t *testing.T, f fixture) {
			o, other := f.org("a"), f.org("b")
			m := f.membership(f.person("p").ID, o.ID, storage.KindAgent)
			stale := m
			m.Title = "Cheffe"
			must(t, f.s.UpdateMembership(f.ctx, &m))
			diff(t, int64(2), m.Version)
			stale.Title = "Other"
			wantErr(t, f.s.UpdateMembership(f.ctx, &stale), storage.ErrStale)
			// Through another organization the row does not exist.
			elsewhere := m
			elsewhere.OrgID = other.ID
			wantErr(t, f.s.UpdateMembership(f.ctx, &elsewhere), storage.ErrNotFound)
			diff(t, "Cheffe", get(f.s.GetMembership(f.ctx, o.ID, m.ID))(t).Title)
		}},
		{"applications", func(t *testing.T, f fixture) {
			o := f.org("a")
			a := f.app(o.ID, "c")
			stale := a
			a.Name = "Paie"
			must(t, f.s.UpdateApplication(f.ctx, &a))
			diff(t, int64(2), a.Version)
			stale.Name = "Other"
			wantErr(t, f.s.UpdateApplication(f.ctx, &stale), storage.ErrStale)
			diff(t, "Paie", get(f.s.GetApplication(f.ctx, o.ID, a.ID))(t).Name)
		}},
	}
}
