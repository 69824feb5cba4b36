package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// personPlan is a person to create with their memberships.
type personPlan struct {
	person      storage.Person
	memberships []membershipPlan
}

type membershipPlan struct {
	org     *org
	m       storage.Membership
	mandate *storage.Mandate // nil for agents
}

// people creates bench.portal, then p.People people in batches.
func (g *gen) people(ctx context.Context) error {
	if err := g.portalPerson(ctx); err != nil {
		return err
	}
	rng := g.rng(2)
	// slots[i] is the organization of person i's first membership: each
	// organization gets its weight's share, in random order.
	weights := make([]float64, len(g.orgs))
	for i, o := range g.orgs {
		weights[i] = o.weight
	}
	var slots []int
	for i, n := range apportion(g.p.People, weights) {
		for range n {
			slots = append(slots, i)
		}
	}
	rng.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })

	batch := make([]personPlan, 0, batchRows/2)
	rows := 0
	for i := range g.p.People {
		pp := g.planPerson(rng, i, slots)
		batch = append(batch, pp)
		rows += 1 + 2*len(pp.memberships) // a mandate at most per membership
		report := (i+1)%10000 == 0
		if rows < batchRows && !report && i < g.p.People-1 {
			continue
		}
		if err := g.insertPeople(ctx, batch); err != nil {
			return err
		}
		batch, rows = batch[:0], 0
		if report {
			g.logf("%d/%d people", i+1, g.p.People)
		}
	}
	g.logf("%d people, %d memberships, %d mandates", g.sum.People, g.sum.Memberships, g.sum.Mandates)
	return nil
}

func (g *gen) insertPeople(ctx context.Context, batch []personPlan) error {
	return g.st.WithTx(ctx, func(tx storage.Store) error {
		for i := range batch {
			pp := &batch[i]
			if err := createPerson(ctx, tx, &pp.person); err != nil {
				return err
			}
			for j := range pp.memberships {
				mp := &pp.memberships[j]
				mp.m.PersonID, mp.m.OrgID = pp.person.ID, mp.org.ID
				if err := g.createMembership(ctx, tx, mp.org, &mp.m, mp.mandate); err != nil {
					return err
				}
			}
			g.sum.People++
		}
		return nil
	})
}

// planPerson draws person i: their first membership is in slots[i]; 3%
// have one or two more, in other organizations.
func (g *gen) planPerson(rng *rand.Rand, i int, slots []int) personPlan {
	female := rng.IntN(2) == 0
	given := maleGivenNames[rng.IntN(len(maleGivenNames))]
	if female {
		given = femaleGivenNames[rng.IntN(len(femaleGivenNames))]
	}
	family := familyNames[rng.IntN(len(familyNames))]
	username := fmt.Sprintf("%s.%s.%d", asciiFold(given), asciiFold(family), i+1)

	first := g.orgs[slots[i]]
	pp := personPlan{person: storage.Person{Username: username, GivenName: given, FamilyName: family, EmailVerified: true}}
	if female && rng.Float64() < 0.1 {
		// A usual name (nom d'usage) besides the birth name.
		pp.person.UsualName = familyNames[rng.IntN(len(familyNames))]
	}
	if rng.Float64() < 0.3 {
		pp.person.Phone = fmt.Sprintf("+336%08d", rng.IntN(100_000_000))
	}
	held := []*org{first}
	firstElu := rng.Float64() < first.eluShare
	pp.memberships = append(pp.memberships, g.planMembership(rng, first, username, female, firstElu, false))
	if rng.Float64() < 0.03 {
		for k := range 1 + rng.IntN(2) {
			var o *org
			elu := false
			if k == 0 && firstElu && first.kind == kindCommune && rng.Float64() < 0.3 {
				// A commune's élu who sits on the métropole's council.
				o, elu = g.orgs[0], true
			} else {
				for range 10 {
					if c := g.orgs[slots[rng.IntN(len(slots))]]; !contains(held, c) {
						o = c
						break
					}
				}
				if o == nil {
					break
				}
				elu = rng.Float64() < o.eluShare
			}
			held = append(held, o)
			pp.memberships = append(pp.memberships, g.planMembership(rng, o, username, female, elu, !elu))
		}
	}
	pp.person.Email = pp.memberships[0].m.Email
	return pp
}

func contains(orgs []*org, o *org) bool {
	for _, x := range orgs {
		if x == o {
			return true
		}
	}
	return false
}

// planMembership draws a membership in o: an élu's, with the next
// mandate of o's council, or an agent's. A second job may have ended.
func (g *gen) planMembership(rng *rand.Rand, o *org, username string, female, elu, mayEnd bool) membershipPlan {
	mp := membershipPlan{org: o, m: storage.Membership{Email: username + "@" + o.domain}}
	if elu {
		function, delegation := o.nextMandate(rng, female)
		from := councilFrom
		if o.kind == kindMetropole {
			from = metroCouncil
		}
		mp.m.Kind, mp.m.Title, mp.m.ValidFrom = storage.KindElu, function, from
		mp.m.Service = "Conseil municipal"
		if o.kind == kindMetropole {
			mp.m.Service = "Conseil métropolitain"
		}
		mp.mandate = &storage.Mandate{Function: function, Delegations: delegation, StartsAt: from}
		return mp
	}
	mp.m.Kind = storage.KindAgent
	mp.m.Service = services[rng.IntN(len(services))]
	mp.m.Title = titles[rng.IntN(len(titles))]
	mp.m.ValidFrom = agentsFrom.AddDate(0, 0, rng.IntN(agentsFromDays))
	if mayEnd && rng.Float64() < 0.1 {
		until := mp.m.ValidFrom.AddDate(1+rng.IntN(4), 0, 0)
		mp.m.ValidUntil = &until
	}
	if rng.Float64() < 0.2 {
		mp.m.Phone = fmt.Sprintf("+33%d%08d", 1+rng.IntN(5), rng.IntN(100_000_000))
	}
	return mp
}

// nextMandate returns the function of o's next élu: the maire (président
// of the métropole) first, then adjoints (vice-présidents) with a
// delegation, then conseillers.
func (o *org) nextMandate(rng *rand.Rand, female bool) (function, delegation string) {
	n := o.elus
	o.elus++
	adjoints := 8
	switch o.kind {
	case kindMetropole:
		adjoints = 20
	case kindVille:
		adjoints = 15
	}
	e := func(m, f string) string {
		if female {
			return f
		}
		return m
	}
	deleg := func() string { return "Délégation : " + delegations[rng.IntN(len(delegations))] }
	switch {
	case n == 0 && o.kind == kindMetropole:
		return e("Président", "Présidente"), ""
	case n == 0:
		return "Maire", ""
	case n <= adjoints && o.kind == kindMetropole:
		return e("Vice-président", "Vice-présidente"), deleg()
	case n <= adjoints:
		return e("Adjoint au maire", "Adjointe au maire"), deleg()
	case o.kind == kindMetropole:
		return e("Conseiller métropolitain", "Conseillère métropolitaine"), ""
	default:
		return e("Conseiller municipal", "Conseillère municipale"), ""
	}
}

// portalPerson creates bench.portal, with 5 memberships: agent of the
// métropole, the city and two communes, élu of a third commune.
func (g *gen) portalPerson(ctx context.Context) error {
	p := storage.Person{Username: PortalUsername, GivenName: "Camille", FamilyName: "Essai",
		Email: PortalUsername + "@" + g.orgs[0].domain, EmailVerified: true}
	return g.st.WithTx(ctx, func(tx storage.Store) error {
		if err := createPerson(ctx, tx, &p); err != nil {
			return err
		}
		g.portalID = p.ID
		g.sum.People++
		since := time.Date(2019, 9, 1, 0, 0, 0, 0, time.UTC)
		for i, o := range g.orgs[:5] {
			m := storage.Membership{PersonID: p.ID, OrgID: o.ID, Kind: storage.KindAgent,
				Service: "Direction des systèmes d'information", Title: "Chef de projet numérique",
				Email: PortalUsername + "@" + o.domain, ValidFrom: since}
			var md *storage.Mandate
			if i == 2 {
				m.Kind, m.Service, m.Title, m.ValidFrom = storage.KindElu, "Conseil municipal", "Conseillère municipale", councilFrom
				md = &storage.Mandate{Function: m.Title, StartsAt: councilFrom}
			}
			if err := g.createMembership(ctx, tx, o, &m, md); err != nil {
				return err
			}
			g.portal = append(g.portal, m)
		}
		g.sum.PortalMemberships = len(g.portal)
		return nil
	})
}
