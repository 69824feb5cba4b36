package storagetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// test is one conformance check, run on a fresh store.
type test struct {
	name string
	run  func(t *testing.T, f fixture)
}

// Run runs the conformance suite. open must return a fresh, empty, migrated
// store on the real clock (the default), closed when t ends; each subtest
// calls it once. Subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"organizations", organizationTests()},
		{"people", peopleTests()},
		{"credentials", credentialTests()},
		{"memberships", membershipTests()},
		{"mandates", mandateTests()},
		{"groups", groupTests()},
		{"applications", applicationTests()},
		{"app_icons", iconTests()},
		{"roles", roleTests()},
		{"client_roles", clientRoleTests()},
		{"signing_keys", signingKeyTests()},
		{"sessions", sessionTests()},
		{"auth_requests", authRequestTests()},
		{"sign_ins", signInTests()},
		{"factors", factorTests()},
		{"session_upgrade", sessionUpgradeTests()},
		{"auth_codes", authCodeTests()},
		{"tokens", tokenTests()},
		{"client_requests", clientRequestTests()},
		{"session_clients", sessionClientTests()},
		{"logout_deliveries", logoutDeliveryTests()},
		{"deployment_secrets", secretTests()},
		{"consents", consentTests()},
		{"audit_events", auditTests()},
		{"versions", versionTests()},
		{"throttles", throttleTests()},
		{"password_resets", passwordResetTests()},
		{"times", timeTests()},
		{"tx", txTests()},
		{"isolation", isolationTests()},
		{"concurrency", concurrencyTests()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, fixture{t: t, s: open(t), ctx: t.Context()})
				})
			}
		})
	}
}

// fixture is a store under test with helpers that create records and
// fail the test on error.
type fixture struct {
	t   *testing.T
	s   storage.Store
	ctx context.Context
}

func (f fixture) org(slug string) storage.Organization {
	f.t.Helper()
	o := storage.Organization{Slug: slug, Name: "Organisation " + slug, SIREN: testSIREN(slug)}
	must(f.t, f.s.CreateOrganization(f.ctx, &o))
	return o
}

// testSIREN returns a SIREN for slug, the same on every call: 8 digits
// hashed from slug and the Luhn key. A SIREN is unique: organizations of
// one test need their own.
func testSIREN(slug string) string {
	h := fnv.New32a()
	h.Write([]byte(slug))
	base := fmt.Sprintf("%08d", h.Sum32()%100_000_000)
	sum := 0
	for i, c := range base { // from the left: the key is the 9th digit
		d := int(c - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return base + strconv.Itoa((10-sum%10)%10)
}

func (f fixture) person(username string) storage.Person {
	f.t.Helper()
	p := storage.Person{Username: username, GivenName: "Prénom", FamilyName: "Nom " + username}
	must(f.t, f.s.CreatePerson(f.ctx, &p))
	return p
}

func (f fixture) membership(personID, orgID, kind string) storage.Membership {
	f.t.Helper()
	m := storage.Membership{PersonID: personID, OrgID: orgID, Kind: kind, ValidFrom: t0}
	must(f.t, f.s.CreateMembership(f.ctx, &m))
	return m
}

func (f fixture) mandate(orgID, membershipID, function string, starts time.Time) storage.Mandate {
	f.t.Helper()
	m := storage.Mandate{OrgID: orgID, MembershipID: membershipID, Function: function, StartsAt: starts}
	must(f.t, f.s.CreateMandate(f.ctx, &m))
	return m
}

func (f fixture) group(orgID, slug string) storage.Group {
	f.t.Helper()
	g := storage.Group{OrgID: orgID, Slug: slug, Name: "Groupe " + slug}
	must(f.t, f.s.CreateGroup(f.ctx, &g))
	return g
}

func (f fixture) app(orgID, clientID string, grants ...string) storage.Application {
	f.t.Helper()
	a := storage.Application{
		OrgID: orgID, ClientID: clientID, Name: "App " + clientID,
		ClientType: storage.ClientConfidential, SecretHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
		RedirectURIs: []string{"https://" + clientID + ".example/callback"}, GrantedOrgIDs: grants,
	}
	must(f.t, f.s.CreateApplication(f.ctx, &a))
	return a
}

// t0 is a reference time, already at the microsecond precision and in the
// UTC location that stores return.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func diff[T any](t testing.TB, want, got T, opts ...gocmp.Option) {
	t.Helper()
	if d := gocmp.Diff(want, got, opts...); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
	}
}

// get takes a call's results and returns a function that fails the test
// on error or returns the value: get(s.GetPerson(ctx, id))(t).
func get[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		must(t, err)
		return v
	}
}

// clock brackets a store call: stamps it sets must fall between start and
// check.
type clock struct{ start time.Time }

func startClock() clock { return clock{time.Now().UTC().Truncate(time.Microsecond)} }

// check verifies that a stamp set by the store is UTC, at microsecond
// precision, and between the clock's start and now.
func (c clock) check(t testing.TB, name string, got time.Time) {
	t.Helper()
	end := time.Now().UTC()
	switch {
	case got.Location() != time.UTC:
		t.Errorf("%s location = %v, want UTC", name, got.Location())
	case !got.Equal(got.Truncate(time.Microsecond)):
		t.Errorf("%s = %v, not truncated to the microsecond", name, got)
	case got.Before(c.start) || got.After(end):
		t.Errorf("%s = %v, want between %v and %v", name, got, c.start, end)
	}
}

func ptr[T any](v T) *T { return &v }

// inCreationOrder sorts memberships as lists return them: by CreatedAt,
// then ID (two records may share a microsecond).
func inCreationOrder(ms ...storage.Membership) []storage.Membership {
	slices.SortFunc(ms, func(a, b storage.Membership) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return ms
}

// errorIs is errors.Is that also accepts a nil target for a nil error.
func errorIs(err, target error) bool {
	if target == nil {
		return err == nil
	}
	return errors.Is(err, target)
}
