package storagetest

import (
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// world holds two organizations, each with its own person, membership,
// mandate, group (with that membership) and application. A's application
// is also granted to B.
type world struct {
	a, b             storage.Organization
	personA          storage.Person
	memberA, memberB storage.Membership
	mandateA         storage.Mandate
	groupA, groupB   storage.Group
	appA             storage.Application
}

func newWorld(f fixture) world {
	f.t.Helper()
	var w world
	w.a, w.b = f.org("a"), f.org("b")
	w.personA = f.person("only-in-a")
	w.memberA = f.membership(w.personA.ID, w.a.ID, storage.KindElu)
	w.memberB = f.membership(f.person("only-in-b").ID, w.b.ID, storage.KindElu)
	w.mandateA = f.mandate(w.a.ID, w.memberA.ID, "Maire", t0)
	f.mandate(w.b.ID, w.memberB.ID, "Maire", t0)
	w.groupA, w.groupB = f.group(w.a.ID, "group-of-a"), f.group(w.b.ID, "group-of-b")
	must(f.t, f.s.AddGroupMember(f.ctx, w.a.ID, w.groupA.ID, w.memberA.ID))
	must(f.t, f.s.AddGroupMember(f.ctx, w.b.ID, w.groupB.ID, w.memberB.ID))
	w.appA = f.app(w.a.ID, "app-of-a", w.b.ID)
	f.app(w.b.ID, "app-of-b")
	return w
}

// snapshot is everything both organizations hold, read through their own
// IDs.
type snapshot struct {
	Memberships      [2][]storage.Membership
	People           [2][]storage.Person
	Mandates         [2][]storage.Mandate
	Groups           [2][]storage.Group
	GroupMembers     [2][]storage.Membership
	MembershipGroups [2][]string
	Applications     [2][]storage.Application
}

func (w world) snapshot(t *testing.T, f fixture) snapshot {
	t.Helper()
	var s snapshot
	for i, x := range []struct {
		org    string
		member string
		group  string
	}{{w.a.ID, w.memberA.ID, w.groupA.ID}, {w.b.ID, w.memberB.ID, w.groupB.ID}} {
		s.Memberships[i] = get(f.s.ListMemberships(f.ctx, x.org))(t)
		s.People[i] = get(f.s.ListPeopleInOrganization(f.ctx, x.org))(t)
		s.Mandates[i] = get(f.s.ListMandates(f.ctx, x.org, x.member))(t)
		s.Groups[i] = get(f.s.ListGroups(f.ctx, x.org))(t)
		s.GroupMembers[i] = get(f.s.ListGroupMembers(f.ctx, x.org, x.group))(t)
		s.MembershipGroups[i] = get(f.s.ListMembershipGroups(f.ctx, x.org, x.member))(t)
		s.Applications[i] = get(f.s.ListApplications(f.ctx, x.org))(t)
	}
	return s
}

// isolationTests call org-scoped methods with the wrong organization: each
// must fail with ErrNotFound (writes and single reads) or return nothing of
// the other organization (lists), and change nothing.
func isolationTests() []test {
	notFound := func(err error) ([]string, error) { return nil, err }
	cases := []struct {
		name string
		// call returns the IDs a list returned, or the error of a method
		// that must fail with ErrNotFound.
		call func(f fixture, w world) ([]string, error)
		list bool
	}{
		{name: "GetMembership", call: func(f fixture, w world) ([]string, error) {
			_, err := f.s.GetMembership(f.ctx, w.b.ID, w.memberA.ID)
			return notFound(err)
		}},
		{name: "UpdateMembership", call: func(f fixture, w world) ([]string, error) {
			m := w.memberA
			m.OrgID, m.Title = w.b.ID, "hijacked"
			return notFound(f.s.UpdateMembership(f.ctx, &m))
		}},
		{name: "DeleteMembership", call: func(f fixture, w world) ([]string, error) {
			return notFound(f.s.DeleteMembership(f.ctx, w.b.ID, w.memberA.ID))
		}},
		{name: "ListMemberships", list: true, call: func(f fixture, w world) ([]string, error) {
			ms, err := f.s.ListMemberships(f.ctx, w.b.ID)
			return membershipIDs(ms), err
		}},
		{name: "ListPeopleInOrganization", list: true, call: func(f fixture, w world) ([]string, error) {
			ps, err := f.s.ListPeopleInOrganization(f.ctx, w.b.ID)
			ids := []string{}
			for _, p := range ps {
				ids = append(ids, p.ID)
			}
			return ids, err
		}},
		{name: "CreateMandate with another organization's membership", call: func(f fixture, w world) ([]string, error) {
			return notFound(f.s.CreateMandate(f.ctx, &storage.Mandate{OrgID: w.b.ID, MembershipID: w.memberA.ID, Function: "x", StartsAt: t0}))
		}},
		{name: "CreateMandate into another organization", call: func(f fixture, w world) ([]string, error) {
			return notFound(f.s.CreateMandate(f.ctx, &storage.Mandate{OrgID: w.a.ID, MembershipID: w.memberB.ID, Function: "x", StartsAt: t0}))
		}},
		{name: "ListMandates", list: true, call: func(f fixture, w world) ([]string, error) {
			ms, err := f.s.ListMandates(f.ctx, w.b.ID, w.memberA.ID)
			ids := []string{}
			for _, m := range ms {
				ids = append(ids, m.ID)
			}
			return ids, err
		}},
		{name: "DeleteMandate", call: func(f fixture, w world) ([]string, error) {
			return notFound(f.s.DeleteMandate(f.ctx, w.b.ID, w.mandateA.ID))
		}},
		{name: "GetGroup", call: func(f fixture, w world) ([]string, error) {
			_, err := f.s.GetGroup(f.ctx, w.b.ID, w.groupA.ID)
			return notFound(err)
		}},
		{name: "GetGroupBySlug", call: func(f fixture, w world) ([]string, error) {
			_, err := f.s.GetGroupBySlug(f.ctx, w.b.ID, w.groupA.Slug)
			return notFound(err)
		}},
		{name: "ListGroups", list: true, call: func(f fixture, w world) ([]string, error) {
			gs, err := f.s.ListGroups(f.ctx, w.b.ID)
			ids := []string{}
			for _, g := range gs {
				ids = append(ids, g.ID)
			}
			return ids, err
		}},
		{name: "DeleteGroup", call: func(f fixture, w world) ([]string, error) {
			return notFound(f.s.DeleteGroup(f.ctx, w.b.ID, w.groupA.ID))
		}},
		{name: "AddGroupMember: other organization's membership", call: func(f fixture, w world) ([]string, error) {
			return notFound(f.s.AddGroupMember(f.ctx, w.a.ID, w.groupA.ID, w.memberB.ID))
		}},
		{name: "AddGroupMember: other organization's group", call: func(f fixture, w world) ([]string, error) {
			return notFound(f.s.AddGroupMember(f.ctx, w.b.ID, w.groupA.ID, w.memberB.ID))
		}},
		{name: "AddGroupMember: group and membership of the other organization", call: func(f fixture, w world) ([]string, error) {
			return notFound(f.s.AddGroupMember(f.ctx, w.b.ID, w.groupA.ID, w.memberA.ID))
		}},
		{name: "AddGroupMember: membership of a third organization", call: func(f fixture, w world) ([]string, error) {
			return notFound(f.s.AddGroupMember(f.ctx, w.b.ID, w.groupB.ID, w.memberA.ID))
		}},
		{name: "RemoveGroupMember", call: func(f fixture, w world) ([]string, error) {
			return notFound(f.s.RemoveGroupMember(f.ctx, w.b.ID, w.groupA.ID, w.memberA.ID))
		}},
		{name: "ListGroupMembers", list: true, call: func(f fixture, w world) ([]string, error) {
			ms, err := f.s.ListGroupMembers(f.ctx, w.b.ID, w.groupA.ID)
			return membershipIDs(ms), err
		}},
		{name: "ListMembershipGroups", list: true, call: func(f fixture, w world) ([]string, error) {
			return f.s.ListMembershipGroups(f.ctx, w.b.ID, w.memberA.ID)
		}},
		{name: "GetApplication", call: func(f fixture, w world) ([]string, error) {
			_, err := f.s.GetApplication(f.ctx, w.b.ID, w.appA.ID)
			return notFound(err)
		}},
		{name: "UpdateApplication", call: func(f fixture, w world) ([]string, error) {
			a := w.appA
			a.OrgID, a.Name = w.b.ID, "hijacked"
			return notFound(f.s.UpdateApplication(f.ctx, &a))
		}},
		{name: "DeleteApplication", call: func(f fixture, w world) ([]string, error) {
			return notFound(f.s.DeleteApplication(f.ctx, w.b.ID, w.appA.ID))
		}},
		{name: "ListApplications: granted is not owned", list: true, call: func(f fixture, w world) ([]string, error) {
			as, err := f.s.ListApplications(f.ctx, w.b.ID)
			ids := []string{}
			for _, a := range as {
				ids = append(ids, a.ID)
			}
			return ids, err
		}},
	}
	var tests []test
	for _, tc := range cases {
		tests = append(tests, test{tc.name, func(t *testing.T, f fixture) {
			w := newWorld(f)
			before := w.snapshot(t, f)
			aIDs := map[string]bool{w.a.ID: true, w.personA.ID: true, w.memberA.ID: true,
				w.mandateA.ID: true, w.groupA.ID: true, w.appA.ID: true}
			ids, err := tc.call(f, w)
			if tc.list {
				must(t, err)
				for _, id := range ids {
					if aIDs[id] {
						t.Errorf("organization B's list holds %s of organization A", id)
					}
				}
			} else {
				wantErr(t, err, storage.ErrNotFound)
			}
			diff(t, before, w.snapshot(t, f))
		}})
	}
	return tests
}

func membershipIDs(ms []storage.Membership) []string {
	ids := []string{}
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}
