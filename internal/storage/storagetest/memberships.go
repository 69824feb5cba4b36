package storagetest

import (
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func membershipTests() []test {
	return []test{
		{"create sets ID and stamps, get", func(t *testing.T, f fixture) {
			org, p := f.org("org"), f.person("p")
			m := storage.Membership{
				PersonID: p.ID, OrgID: org.ID, Kind: storage.KindAgent, Service: "Direction du numérique",
				Title: "Cheffe de projet", Email: "p@ville.example", Phone: "+33 1 00 00 00 00",
				ValidFrom: t0, ValidUntil: ptr(t0.AddDate(1, 0, 0)),
			}
			c := startClock()
			must(t, f.s.CreateMembership(f.ctx, &m))
			if len(m.ID) != 26 {
				t.Errorf("ID = %q, want a generated ID", m.ID)
			}
			c.check(t, "CreatedAt", m.CreatedAt)
			c.check(t, "UpdatedAt", m.UpdatedAt)
			got := get(f.s.GetMembership(f.ctx, org.ID, m.ID))(t)
			diff(t, m, got)
			if !got.ActiveAt(t0) || got.ActiveAt(t0.AddDate(1, 0, 0)) || got.ActiveAt(t0.Add(-1)) {
				t.Errorf("ActiveAt is wrong after a round trip: %+v", got)
			}
		}},
		{"no end date round-trips as nil", func(t *testing.T, f fixture) {
			m := f.membership(f.person("p").ID, f.org("org").ID, storage.KindElu)
			got := get(f.s.GetMembership(f.ctx, m.OrgID, m.ID))(t)
			if got.ValidUntil != nil {
				t.Errorf("ValidUntil = %v, want nil", got.ValidUntil)
			}
			diff(t, m, got)
		}},
		{"same person, organization and kind is a conflict", func(t *testing.T, f fixture) {
			org, p := f.org("org"), f.person("p")
			f.membership(p.ID, org.ID, storage.KindAgent)
			err := f.s.CreateMembership(f.ctx, &storage.Membership{PersonID: p.ID, OrgID: org.ID, Kind: storage.KindAgent})
			wantErr(t, err, storage.ErrConflict)
			// Another kind, or another organization, is fine.
			f.membership(p.ID, org.ID, storage.KindElu)
			f.membership(p.ID, f.org("other").ID, storage.KindAgent)
		}},
		{"unknown person or organization is not found", func(t *testing.T, f fixture) {
			org, p := f.org("org"), f.person("p")
			err := f.s.CreateMembership(f.ctx, &storage.Membership{PersonID: "nope", OrgID: org.ID, Kind: storage.KindAgent})
			wantErr(t, err, storage.ErrNotFound)
			err = f.s.CreateMembership(f.ctx, &storage.Membership{PersonID: p.ID, OrgID: "nope", Kind: storage.KindAgent})
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"get unknown is not found", func(t *testing.T, f fixture) {
			_, err := f.s.GetMembership(f.ctx, f.org("org").ID, "nope")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"update changes the membership, never its person", func(t *testing.T, f fixture) {
			org, p := f.org("org"), f.person("p")
			m := f.membership(p.ID, org.ID, storage.KindAgent)
			u := storage.Membership{
				ID: m.ID, OrgID: org.ID, PersonID: f.person("intruder").ID, Kind: storage.KindElu,
				Service: "Cabinet", Title: "Adjointe", Email: "e", Phone: "ph",
				ValidFrom: t0.AddDate(0, 1, 0), ValidUntil: ptr(t0.AddDate(2, 0, 0)),
			}
			c := startClock()
			must(t, f.s.UpdateMembership(f.ctx, &u))
			c.check(t, "UpdatedAt", u.UpdatedAt)
			if u.PersonID != p.ID || !u.CreatedAt.Equal(m.CreatedAt) {
				t.Errorf("PersonID, CreatedAt = %q, %v; want them read back: %q, %v", u.PersonID, u.CreatedAt, p.ID, m.CreatedAt)
			}
			diff(t, u, get(f.s.GetMembership(f.ctx, org.ID, m.ID))(t))
			u.ValidUntil = nil // and back to no end date
			must(t, f.s.UpdateMembership(f.ctx, &u))
			diff(t, u, get(f.s.GetMembership(f.ctx, org.ID, m.ID))(t))
		}},
		{"update unknown is not found", func(t *testing.T, f fixture) {
			err := f.s.UpdateMembership(f.ctx, &storage.Membership{ID: "nope", OrgID: f.org("org").ID, Kind: storage.KindAgent})
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"update to a kind already held is a conflict", func(t *testing.T, f fixture) {
			org, p := f.org("org"), f.person("p")
			f.membership(p.ID, org.ID, storage.KindAgent)
			m := f.membership(p.ID, org.ID, storage.KindElu)
			want := m
			m.Kind = storage.KindAgent
			wantErr(t, f.s.UpdateMembership(f.ctx, &m), storage.ErrConflict)
			diff(t, want, get(f.s.GetMembership(f.ctx, org.ID, m.ID))(t))
		}},
		{"delete removes mandates and group links", func(t *testing.T, f fixture) {
			org, p := f.org("org"), f.person("p")
			m := f.membership(p.ID, org.ID, storage.KindElu)
			keep := f.membership(f.person("q").ID, org.ID, storage.KindElu)
			f.mandate(org.ID, m.ID, "Maire", t0)
			kept := f.mandate(org.ID, keep.ID, "Adjoint", t0)
			g := f.group(org.ID, "g")
			must(t, f.s.AddGroupMember(f.ctx, org.ID, g.ID, m.ID))
			must(t, f.s.AddGroupMember(f.ctx, org.ID, g.ID, keep.ID))

			must(t, f.s.DeleteMembership(f.ctx, org.ID, m.ID))
			_, err := f.s.GetMembership(f.ctx, org.ID, m.ID)
			wantErr(t, err, storage.ErrNotFound)
			if got := get(f.s.ListMandates(f.ctx, org.ID, m.ID))(t); len(got) != 0 {
				t.Errorf("mandates of a deleted membership: %v", got)
			}
			diff(t, []storage.Mandate{kept}, get(f.s.ListMandates(f.ctx, org.ID, keep.ID))(t))
			diff(t, []storage.Membership{keep}, get(f.s.ListGroupMembers(f.ctx, org.ID, g.ID))(t))
			if got := get(f.s.ListMembershipGroups(f.ctx, org.ID, m.ID))(t); len(got) != 0 {
				t.Errorf("groups of a deleted membership: %v", got)
			}
			// The same person may join again.
			f.membership(p.ID, org.ID, storage.KindElu)
		}},
		{"delete unknown is not found", func(t *testing.T, f fixture) {
			wantErr(t, f.s.DeleteMembership(f.ctx, f.org("org").ID, "nope"), storage.ErrNotFound)
		}},
		{"list by organization and by person", func(t *testing.T, f fixture) {
			org, other := f.org("org"), f.org("other")
			p, q := f.person("p"), f.person("q")
			if got := get(f.s.ListMemberships(f.ctx, org.ID))(t); len(got) != 0 {
				t.Fatalf("ListMemberships = %v, want none", got)
			}
			m1 := f.membership(p.ID, org.ID, storage.KindAgent)
			m2 := f.membership(q.ID, org.ID, storage.KindAgent)
			m3 := f.membership(p.ID, other.ID, storage.KindElu)
			m4 := f.membership(p.ID, org.ID, storage.KindElu)
			diff(t, inCreationOrder(m1, m2, m4), get(f.s.ListMemberships(f.ctx, org.ID))(t))
			diff(t, []storage.Membership{m3}, get(f.s.ListMemberships(f.ctx, other.ID))(t))
			diff(t, inCreationOrder(m1, m3, m4), get(f.s.ListPersonMemberships(f.ctx, p.ID))(t))
			if got := get(f.s.ListPersonMemberships(f.ctx, "nope"))(t); len(got) != 0 {
				t.Errorf("ListPersonMemberships(unknown) = %v, want none", got)
			}
		}},
	}
}

func mandateTests() []test {
	return []test{
		{"create, list by start date, round trip", func(t *testing.T, f fixture) {
			org := f.org("org")
			m := f.membership(f.person("p").ID, org.ID, storage.KindElu)
			later := storage.Mandate{OrgID: org.ID, MembershipID: m.ID, Function: "Maire",
				Delegations: "Finances, état civil", StartsAt: t0.AddDate(1, 0, 0)}
			c := startClock()
			must(t, f.s.CreateMandate(f.ctx, &later))
			if len(later.ID) != 26 {
				t.Errorf("ID = %q, want a generated ID", later.ID)
			}
			c.check(t, "CreatedAt", later.CreatedAt)
			earlier := storage.Mandate{OrgID: org.ID, MembershipID: m.ID, Function: "Conseillère municipale",
				StartsAt: t0, EndsAt: ptr(t0.AddDate(1, 0, 0))}
			must(t, f.s.CreateMandate(f.ctx, &earlier))
			got := get(f.s.ListMandates(f.ctx, org.ID, m.ID))(t)
			diff(t, []storage.Mandate{earlier, later}, got)
			if len(got) == 2 && (got[0].ActiveAt(t0.AddDate(1, 0, 0)) || !got[1].ActiveAt(t0.AddDate(5, 0, 0))) {
				t.Errorf("ActiveAt is wrong after a round trip: %+v", got)
			}
		}},
		{"list of a membership without mandates is empty", func(t *testing.T, f fixture) {
			org := f.org("org")
			m := f.membership(f.person("p").ID, org.ID, storage.KindElu)
			if got := get(f.s.ListMandates(f.ctx, org.ID, m.ID))(t); len(got) != 0 {
				t.Errorf("ListMandates = %v, want none", got)
			}
		}},
		{"unknown membership is not found", func(t *testing.T, f fixture) {
			org := f.org("org")
			err := f.s.CreateMandate(f.ctx, &storage.Mandate{OrgID: org.ID, MembershipID: "nope", Function: "Maire", StartsAt: t0})
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"delete", func(t *testing.T, f fixture) {
			org := f.org("org")
			m := f.membership(f.person("p").ID, org.ID, storage.KindElu)
			a, b := f.mandate(org.ID, m.ID, "A", t0), f.mandate(org.ID, m.ID, "B", t0.Add(time.Microsecond))
			must(t, f.s.DeleteMandate(f.ctx, org.ID, a.ID))
			diff(t, []storage.Mandate{b}, get(f.s.ListMandates(f.ctx, org.ID, m.ID))(t))
			wantErr(t, f.s.DeleteMandate(f.ctx, org.ID, a.ID), storage.ErrNotFound)
		}},
	}
}

func groupTests() []test {
	return []test{
		{"create sets ID and stamp, get by ID and slug", func(t *testing.T, f fixture) {
			org := f.org("org")
			g := storage.Group{OrgID: org.ID, Slug: "elus", Name: "Élus"}
			c := startClock()
			must(t, f.s.CreateGroup(f.ctx, &g))
			if len(g.ID) != 26 {
				t.Errorf("ID = %q, want a generated ID", g.ID)
			}
			c.check(t, "CreatedAt", g.CreatedAt)
			diff(t, g, get(f.s.GetGroup(f.ctx, org.ID, g.ID))(t))
			diff(t, g, get(f.s.GetGroupBySlug(f.ctx, org.ID, "elus"))(t))
		}},
		{"slug is unique within an organization only", func(t *testing.T, f fixture) {
			org, other := f.org("org"), f.org("other")
			f.group(org.ID, "dup")
			wantErr(t, f.s.CreateGroup(f.ctx, &storage.Group{OrgID: org.ID, Slug: "dup"}), storage.ErrConflict)
			f.group(other.ID, "dup")
		}},
		{"unknown organization is not found", func(t *testing.T, f fixture) {
			wantErr(t, f.s.CreateGroup(f.ctx, &storage.Group{OrgID: "nope", Slug: "g"}), storage.ErrNotFound)
		}},
		{"get unknown is not found", func(t *testing.T, f fixture) {
			org := f.org("org")
			_, err := f.s.GetGroup(f.ctx, org.ID, "nope")
			wantErr(t, err, storage.ErrNotFound)
			_, err = f.s.GetGroupBySlug(f.ctx, org.ID, "nope")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"list by slug", func(t *testing.T, f fixture) {
			org := f.org("org")
			if got := get(f.s.ListGroups(f.ctx, org.ID))(t); len(got) != 0 {
				t.Fatalf("ListGroups = %v, want none", got)
			}
			b, a := f.group(org.ID, "b"), f.group(org.ID, "a")
			f.group(f.org("other").ID, "c")
			diff(t, []storage.Group{a, b}, get(f.s.ListGroups(f.ctx, org.ID))(t))
		}},
		{"members: add (idempotent), list, remove", func(t *testing.T, f fixture) {
			org := f.org("org")
			g, h := f.group(org.ID, "g"), f.group(org.ID, "h")
			m1 := f.membership(f.person("p").ID, org.ID, storage.KindAgent)
			m2 := f.membership(f.person("q").ID, org.ID, storage.KindAgent)
			if got := get(f.s.ListGroupMembers(f.ctx, org.ID, g.ID))(t); len(got) != 0 {
				t.Fatalf("ListGroupMembers = %v, want none", got)
			}
			must(t, f.s.AddGroupMember(f.ctx, org.ID, g.ID, m2.ID))
			must(t, f.s.AddGroupMember(f.ctx, org.ID, g.ID, m1.ID))
			must(t, f.s.AddGroupMember(f.ctx, org.ID, g.ID, m1.ID)) // again: no-op
			must(t, f.s.AddGroupMember(f.ctx, org.ID, h.ID, m1.ID))
			diff(t, inCreationOrder(m1, m2), get(f.s.ListGroupMembers(f.ctx, org.ID, g.ID))(t))
			want := []string{g.ID, h.ID}
			if h.ID < g.ID {
				want = []string{h.ID, g.ID}
			}
			diff(t, want, get(f.s.ListMembershipGroups(f.ctx, org.ID, m1.ID))(t))

			must(t, f.s.RemoveGroupMember(f.ctx, org.ID, g.ID, m1.ID))
			diff(t, []storage.Membership{m2}, get(f.s.ListGroupMembers(f.ctx, org.ID, g.ID))(t))
			diff(t, []string{h.ID}, get(f.s.ListMembershipGroups(f.ctx, org.ID, m1.ID))(t))
			wantErr(t, f.s.RemoveGroupMember(f.ctx, org.ID, g.ID, m1.ID), storage.ErrNotFound)
		}},
		{"add with unknown group or membership is not found", func(t *testing.T, f fixture) {
			org := f.org("org")
			g := f.group(org.ID, "g")
			m := f.membership(f.person("p").ID, org.ID, storage.KindAgent)
			wantErr(t, f.s.AddGroupMember(f.ctx, org.ID, "nope", m.ID), storage.ErrNotFound)
			wantErr(t, f.s.AddGroupMember(f.ctx, org.ID, g.ID, "nope"), storage.ErrNotFound)
		}},
		{"delete removes member links, not memberships", func(t *testing.T, f fixture) {
			org := f.org("org")
			g := f.group(org.ID, "g")
			m := f.membership(f.person("p").ID, org.ID, storage.KindAgent)
			must(t, f.s.AddGroupMember(f.ctx, org.ID, g.ID, m.ID))
			must(t, f.s.DeleteGroup(f.ctx, org.ID, g.ID))
			_, err := f.s.GetGroup(f.ctx, org.ID, g.ID)
			wantErr(t, err, storage.ErrNotFound)
			if got := get(f.s.ListMembershipGroups(f.ctx, org.ID, m.ID))(t); len(got) != 0 {
				t.Errorf("groups after delete = %v, want none", got)
			}
			diff(t, m, get(f.s.GetMembership(f.ctx, org.ID, m.ID))(t))
			wantErr(t, f.s.DeleteGroup(f.ctx, org.ID, g.ID), storage.ErrNotFound)
			f.group(org.ID, "g") // the slug is free again
		}},
	}
}
