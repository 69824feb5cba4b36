package main

import (
	"context"
	"fmt"

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

type groupPlan struct {
	org     *org
	group   storage.Group
	members []string // membership IDs
}

// groups creates 2 to 5 groups per organization: the élus, or a share of
// its agents.
func (g *gen) groups(ctx context.Context) error {
	rng := g.rng(3)
	var plans []groupPlan
	for _, o := range g.orgs {
		n := 2 + rng.IntN(4)
		for _, k := range rng.Perm(len(groupCatalog))[:n] {
			c := groupCatalog[k]
			gp := groupPlan{org: o, group: storage.Group{OrgID: o.ID, Slug: c.slug, Name: c.name}}
			if !territory.ValidSlug(c.slug) {
				return fmt.Errorf("group slug %q is invalid", c.slug)
			}
			if c.share == 0 {
				gp.members = o.eluIDs
			} else {
				for _, id := range o.agentIDs {
					if rng.Float64() < c.share {
						gp.members = append(gp.members, id)
					}
				}
				if len(gp.members) == 0 && len(o.agentIDs) > 0 {
					gp.members = o.agentIDs[rng.IntN(len(o.agentIDs)):][:1]
				}
			}
			plans = append(plans, gp)
		}
	}
	for len(plans) > 0 {
		n, rows := 0, 0
		for n < len(plans) && rows < batchRows {
			rows += 1 + len(plans[n].members)
			n++
		}
		if err := g.insertGroups(ctx, plans[:n]); err != nil {
			return err
		}
		plans = plans[n:]
	}
	g.logf("%d groups, %d group members", g.sum.Groups, g.sum.GroupMembers)
	return nil
}

func (g *gen) insertGroups(ctx context.Context, plans []groupPlan) error {
	return g.st.WithTx(ctx, func(tx storage.Store) error {
		for i := range plans {
			gp := &plans[i]
			if err := tx.CreateGroup(ctx, &gp.group); err != nil {
				return fmt.Errorf("group %s of %s: %w", gp.group.Slug, gp.org.Slug, err)
			}
			for _, id := range gp.members {
				if err := tx.AddGroupMember(ctx, gp.org.ID, gp.group.ID, id); err != nil {
					return fmt.Errorf("member of group %s of %s: %w", gp.group.Slug, gp.org.Slug, err)
				}
			}
			g.sum.Groups++
			g.sum.GroupMembers += len(gp.members)
		}
		return nil
	})
}
