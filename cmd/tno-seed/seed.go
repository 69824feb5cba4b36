package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

// Params say what Seed generates.
type Params struct {
	People int // generated people, besides the fixed accounts
	Orgs   int // organizations: the métropole, the city and Orgs-2 communes (at least 5)
	Apps   int // applications
	Seed   uint64
	// PortalApps is the number of applications bench.portal should reach:
	// Seed grants commune applications to one of its communes until it
	// does (or none is left). 0 leaves the number to chance.
	PortalApps int
	// Force seeds a database that already holds organizations.
	Force bool
	// Password, if set, becomes the password of bench.portal, admin and
	// every admin.<slug>. Hasher hashes it (nil: local.DefaultParams).
	Password string
	Hasher   *local.Hasher
	// Progress receives a line every 10,000 people (nil: discarded).
	Progress io.Writer
}

// Summary counts what Seed created.
type Summary struct {
	Organizations, People, Memberships, Mandates int
	Groups, GroupMembers, Applications, Grants   int
	// PortalMemberships and PortalApps: bench.portal's memberships and the
	// applications it may sign into through them (apps.Eligible).
	PortalMemberships, PortalApps int
	// Passwords is the number of accounts given Params.Password.
	Passwords int
}

// The fixed accounts.
const (
	PortalUsername = "bench.portal"
	AdminUsername  = "admin"
	orgAdminPrefix = "admin." // + organization slug
)

// ErrNotEmpty is Seed's refusal to add to a database that holds organizations.
var ErrNotEmpty = errors.New("the database already holds organizations (use -force to seed it anyway)")

// batchRows is about the number of rows written per transaction: enough
// that commits cost nothing, few enough that one transaction stays small.
const batchRows = 2000

// Fixed dates, so that the same seed gives the same data: élus took
// office after the March 2026 municipal elections; agents joined between
// 2000 and the end of 2025.
var (
	councilFrom    = time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC)
	metroCouncil   = time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	agentsFrom     = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	agentsFromDays = int(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC).Sub(agentsFrom).Hours() / 24)
)

type orgKind int

const (
	kindMetropole orgKind = iota
	kindVille
	kindCommune
)

// org is an organization with what the generator tracks about it.
type org struct {
	storage.Organization
	kind     orgKind
	domain   string  // of its members' e-mail addresses
	weight   float64 // share of the people whose first membership is here
	eluShare float64 // probability that a membership here is an élu's
	elus     int     // élus so far: the first is the maire
	// Membership IDs, for groups.
	agentIDs, eluIDs []string
}

// gen holds one run's state.
type gen struct {
	st    storage.Store
	p     Params
	start time.Time
	orgs  []*org
	sum   Summary
	// The fixed accounts' person IDs (adminID empty if admin was there
	// before), and bench.portal's memberships.
	adminID, portalID string
	orgAdminIDs       []string
	portal            []storage.Membership
}

// Seed fills st with a territory: organizations and their administrators,
// people with memberships and mandates, groups, applications, and the
// fixed accounts (admin, admin.<slug>, bench.portal). The same Params give
// the same records (but for IDs, timestamps, secrets and password salts).
// It refuses a database holding organizations unless p.Force.
func Seed(ctx context.Context, st storage.Store, p Params) (Summary, error) {
	switch {
	case p.Orgs < 5:
		return Summary{}, fmt.Errorf("-orgs %d: at least 5 are needed (bench.portal has 5 memberships)", p.Orgs)
	case p.People < 0, p.Apps < 0, p.PortalApps < 0:
		return Summary{}, errors.New("-people, -apps and -portal-apps must not be negative")
	}
	if p.Password != "" {
		for _, u := range []string{PortalUsername, AdminUsername} {
			if err := local.ValidatePassword(p.Password, u); err != nil {
				return Summary{}, fmt.Errorf("password for %s: %w", u, err)
			}
		}
		if p.Hasher == nil {
			p.Hasher = local.NewHasher(local.DefaultParams(), 0)
		}
	}
	if p.Progress == nil {
		p.Progress = io.Discard
	}
	existing, err := st.ListOrganizations(ctx)
	if err != nil {
		return Summary{}, err
	}
	if len(existing) > 0 && !p.Force {
		return Summary{}, fmt.Errorf("%w: %d found", ErrNotEmpty, len(existing))
	}
	g := &gen{st: st, p: p, start: time.Now()}
	if err := g.organizations(ctx, existing); err != nil {
		return g.sum, err
	}
	for _, step := range []func(context.Context) error{g.people, g.groups, g.applications, g.passwords} {
		if err := step(ctx); err != nil {
			return g.sum, err
		}
	}
	return g.sum, nil
}

// rng returns the random source of one step: each step has its own, so
// that changing -apps does not change the people.
func (g *gen) rng(step uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.p.Seed, step))
}

func (g *gen) logf(format string, args ...any) {
	fmt.Fprintf(g.p.Progress, "tno-seed: %s (%.1fs)\n", fmt.Sprintf(format, args...), time.Since(g.start).Seconds())
}

// organizations creates the organizations, the platform administrator
// and one administrator per organization.
func (g *gen) organizations(ctx context.Context, existing []storage.Organization) error {
	rng := g.rng(1)
	ids := newSIRENs(rng)
	for _, o := range existing {
		ids.reserve(o.SIREN)
	}
	city := cityNames[rng.IntN(len(cityNames))]
	communes := communeNames(rng, g.p.Orgs-2)
	// Weights of communes: 20 to 300 members each, for 100,000 people.
	raw := make([]float64, len(communes))
	var total float64
	for i := range raw {
		raw[i] = float64(20 + rng.IntN(281))
		total += raw[i]
	}
	for i := range g.p.Orgs {
		o := &org{kind: kindCommune, eluShare: 0.15}
		switch i {
		case 0:
			o.kind, o.Slug, o.Name, o.domain = kindMetropole, "metropole", "Métropole de "+city, "metropole-"+asciiFold(city)
			o.weight, o.eluShare = 0.09, 0.01
		case 1:
			o.kind, o.Slug, o.Name, o.domain = kindVille, "ville", "Ville de "+city, asciiFold(city)
			o.weight, o.eluShare = 0.075, 0.008
		default:
			name := communes[i-2]
			o.Slug, o.Name, o.domain = fmt.Sprintf("commune-%03d", i-1), "Commune de "+name, asciiFold(name)
			o.weight = 0.835 * raw[i-2] / total
		}
		o.domain += ".example.fr"
		var err error
		if o.SIREN, err = ids.next(o.kind == kindMetropole); err != nil {
			return err
		}
		if rng.Float64() < 0.9 {
			if o.SIRET, err = ids.siret(o.SIREN); err != nil {
				return err
			}
		}
		if o.kind != kindCommune && rng.IntN(2) == 0 {
			o.MFAPolicy = storage.MFAElus
		}
		if err := territory.ValidateOrganization(o.Organization); err != nil {
			return fmt.Errorf("generated organization %s: %w", o.Slug, err)
		}
		g.orgs = append(g.orgs, o)
	}

	err := g.st.WithTx(ctx, func(tx storage.Store) error {
		// tno serve creates admin at its first start: keep that one.
		admin, err := tx.GetPersonByUsername(ctx, AdminUsername)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			admin = storage.Person{Username: AdminUsername, GivenName: "Administrateur", FamilyName: "Plateforme",
				Email: "administrateur.tno@" + g.orgs[0].domain, EmailVerified: true}
			if err := createPerson(ctx, tx, &admin); err != nil {
				return err
			}
			g.adminID = admin.ID
			g.sum.People++
		case err != nil:
			return err
		}
		if err := tx.GrantRole(ctx, &storage.AdminRole{PersonID: admin.ID, Role: storage.RolePlatformAdmin}); err != nil {
			return fmt.Errorf("grant platform_admin: %w", err)
		}
		for _, o := range g.orgs {
			if err := tx.CreateOrganization(ctx, &o.Organization); err != nil {
				return fmt.Errorf("organization %s: %w", o.Slug, err)
			}
			g.sum.Organizations++
			p := storage.Person{Username: orgAdminPrefix + o.Slug, GivenName: "Administrateur", FamilyName: o.Name,
				Email: "admin@" + o.domain, EmailVerified: true}
			if err := createPerson(ctx, tx, &p); err != nil {
				return err
			}
			g.orgAdminIDs = append(g.orgAdminIDs, p.ID)
			m := storage.Membership{PersonID: p.ID, OrgID: o.ID, Kind: storage.KindAgent,
				Service: "Direction des systèmes d'information", Title: "Administrateur TNO",
				Email: p.Email, ValidFrom: agentsFrom}
			if err := g.createMembership(ctx, tx, o, &m, nil); err != nil {
				return err
			}
			if err := tx.GrantRole(ctx, &storage.AdminRole{PersonID: p.ID, OrgID: o.ID, Role: storage.RoleOrgAdmin}); err != nil {
				return fmt.Errorf("grant org_admin of %s: %w", o.Slug, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	g.sum.People += len(g.orgAdminIDs)
	g.logf("%d organizations and their administrators", g.sum.Organizations)
	return nil
}

// createPerson validates and stores p.
func createPerson(ctx context.Context, tx storage.Store, p *storage.Person) error {
	if err := territory.ValidatePerson(*p); err != nil {
		return fmt.Errorf("generated person %s: %w", p.Username, err)
	}
	if err := tx.CreatePerson(ctx, p); err != nil {
		return fmt.Errorf("person %s: %w", p.Username, err)
	}
	return nil
}

// createMembership validates and stores m, and its mandate if md is set,
// and records it for groups.
func (g *gen) createMembership(ctx context.Context, tx storage.Store, o *org, m *storage.Membership, md *storage.Mandate) error {
	if err := territory.ValidateMembership(*m); err != nil {
		return fmt.Errorf("generated membership in %s: %w", o.Slug, err)
	}
	if err := tx.CreateMembership(ctx, m); err != nil {
		return fmt.Errorf("membership in %s: %w", o.Slug, err)
	}
	g.sum.Memberships++
	if m.Kind == storage.KindElu {
		o.eluIDs = append(o.eluIDs, m.ID)
	} else {
		o.agentIDs = append(o.agentIDs, m.ID)
	}
	if md == nil {
		return nil
	}
	md.MembershipID, md.OrgID = m.ID, o.ID
	if md.StartsAt.Before(m.ValidFrom) {
		return fmt.Errorf("generated mandate in %s starts before its membership", o.Slug)
	}
	if err := tx.CreateMandate(ctx, md); err != nil {
		return fmt.Errorf("mandate in %s: %w", o.Slug, err)
	}
	g.sum.Mandates++
	return nil
}

// communeNames returns n distinct names ("Saint-Martin-sur-Ardre").
func communeNames(rng *rand.Rand, n int) []string {
	var all []string
	for _, s := range maleSaints {
		for _, suffix := range communeSuffixes {
			all = append(all, "Saint-"+s+suffix)
		}
	}
	for _, s := range femaleSaints {
		for _, suffix := range communeSuffixes {
			all = append(all, "Sainte-"+s+suffix)
		}
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	out := make([]string, n)
	for i := range out {
		out[i] = all[i%len(all)]
		if round := i / len(all); round > 0 {
			out[i] += fmt.Sprintf("-%d", round+1)
		}
	}
	return out
}

// apportion splits total into integers proportional to weights (largest
// remainders).
func apportion(total int, weights []float64) []int {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	counts := make([]int, len(weights))
	rem := make([]float64, len(weights))
	given := 0
	for i, w := range weights {
		exact := float64(total) * w / sum
		counts[i] = int(math.Floor(exact))
		rem[i] = exact - float64(counts[i])
		given += counts[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case rem[a] > rem[b]:
			return -1
		case rem[a] < rem[b]:
			return 1
		}
		return 0
	})
	for _, i := range order[:total-given] {
		counts[i]++
	}
	return counts
}
