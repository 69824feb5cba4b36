package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// Applications owned by the métropole and the city, per 2,000: the rest
// belong to communes (about 4 each with 500 organizations). With
// bench.portal's three communes that is about 50 applications, which the
// top-up in applications brings to Params.PortalApps.
const (
	metropoleAppShare = 25.0 / 2000
	villeAppShare     = 15.0 / 2000
)

// applications creates p.Apps confidential applications, app-0001…,
// some granted to other organizations.
func (g *gen) applications(ctx context.Context) error {
	rng := g.rng(4)
	metro, ville, communes := g.orgs[0], g.orgs[1], g.orgs[2:]
	nm := min(g.p.Apps, max(1, int(math.Round(float64(g.p.Apps)*metropoleAppShare))))
	nv := min(g.p.Apps-nm, max(1, int(math.Round(float64(g.p.Apps)*villeAppShare))))
	owners := make([]*org, 0, g.p.Apps)
	for range nm {
		owners = append(owners, metro)
	}
	for range nv {
		owners = append(owners, ville)
	}
	for len(owners) < g.p.Apps {
		owners = append(owners, communes[rng.IntN(len(communes))])
	}
	rng.Shuffle(len(owners), func(i, j int) { owners[i], owners[j] = owners[j], owners[i] })

	plans := make([]storage.Application, len(owners))
	for i, o := range owners {
		plans[i] = g.planApp(rng, i, o)
	}
	g.topUpPortal(rng, plans)

	for chunk := range slices.Chunk(plans, batchRows/4) {
		err := g.st.WithTx(ctx, func(tx storage.Store) error {
			for i := range chunk {
				a := &chunk[i]
				if err := apps.Validate(*a); err != nil {
					return fmt.Errorf("generated application %s: %w", a.ClientID, err)
				}
				if err := tx.CreateApplication(ctx, a); err != nil {
					return fmt.Errorf("application %s: %w", a.ClientID, err)
				}
				g.sum.Applications++
				g.sum.Grants += len(a.GrantedOrgIDs)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	g.logf("%d applications, %d grants; %s reaches %d", g.sum.Applications, g.sum.Grants, PortalUsername, g.sum.PortalApps)
	return nil
}

// planApp draws application i, owned by o. The métropole shares some of
// its applications with communes, the city with the métropole, and
// communes with their neighbours.
func (g *gen) planApp(rng *rand.Rand, i int, o *org) storage.Application {
	clientID := fmt.Sprintf("app-%04d", i+1)
	base := "https://" + clientID + ".example.fr"
	_, hash := apps.NewSecret() // the secret itself is thrown away
	a := storage.Application{
		OrgID: o.ID, ClientID: clientID, ClientType: storage.ClientConfidential, SecretHash: hash,
		RedirectURIs: []string{base + "/callback"},
	}
	name := appNames[rng.IntN(len(appNames))]
	switch r := rng.Float64(); {
	case r < 0.08:
		name = eluAppNames[rng.IntN(len(eluAppNames))]
		a.AllowedKinds = []string{storage.KindElu}
	case r < 0.13:
		a.AllowedKinds = []string{storage.KindAgent}
	}
	a.Name = name + " — " + o.Name
	if rng.IntN(2) == 0 {
		a.PostLogoutRedirectURIs = []string{base + "/"}
	}
	if rng.Float64() < 0.3 {
		a.Scopes = []string{"profile", "email", "siret", "organizational_unit"}
	}
	if rng.Float64() < 0.25 {
		a.Settings.GrantTypes = []string{apps.GrantRefreshToken}
	}
	a.FirstParty = o.kind != kindCommune && rng.Float64() < 0.3

	communes := g.orgs[2:]
	grant := func(x *org) {
		if x != o && !slices.Contains(a.GrantedOrgIDs, x.ID) {
			a.GrantedOrgIDs = append(a.GrantedOrgIDs, x.ID)
		}
	}
	switch o.kind {
	case kindMetropole:
		if rng.Float64() < 0.4 {
			if rng.IntN(2) == 0 {
				grant(g.orgs[1])
			}
			for _, c := range communes {
				if rng.Float64() < 0.3 {
					grant(c)
				}
			}
		}
	case kindVille:
		if rng.Float64() < 0.25 {
			grant(g.orgs[0])
		}
	default:
		if rng.Float64() < 0.1 {
			for range 1 + rng.IntN(3) {
				grant(communes[rng.IntN(len(communes))])
			}
		}
	}
	return a
}

// topUpPortal grants commune applications bench.portal cannot reach to
// one of the communes it is an agent of, until it reaches p.PortalApps,
// and counts what it reaches.
func (g *gen) topUpPortal(rng *rand.Rand, plans []storage.Application) {
	now := time.Now()
	reaches := func(a storage.Application) bool { return len(apps.Eligible(a, g.portal, now)) > 0 }
	n := 0
	for _, a := range plans {
		if reaches(a) {
			n++
		}
	}
	target := g.portal[3] // an agent's membership in the second commune
	for _, i := range rng.Perm(len(plans)) {
		if n >= g.p.PortalApps {
			break
		}
		a := &plans[i]
		if reaches(*a) {
			continue
		}
		if len(a.AllowedKinds) > 0 && !slices.Contains(a.AllowedKinds, storage.KindAgent) {
			continue
		}
		a.GrantedOrgIDs = append(a.GrantedOrgIDs, target.OrgID)
		n++
	}
	g.sum.PortalApps = n
}
