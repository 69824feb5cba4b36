package territory

import (
	"context"
	"errors"
	"strings"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// CreateGroup validates and stores g.
func (s *Service) CreateGroup(ctx context.Context, a authz.Actor, g *storage.Group) error {
	if err := authz.Check(a, authz.GroupsWrite, authz.Org(g.OrgID)); err != nil {
		return err
	}
	var errs []error
	if !ValidSlug(g.Slug) {
		errs = append(errs, fieldErr("slug", field.Invalid, "must be 1-63 lowercase letters, digits or hyphens, got %q", g.Slug))
	}
	if strings.TrimSpace(g.Name) == "" {
		errs = append(errs, fieldErr("name", field.Required, "is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		if err := tx.CreateGroup(ctx, g); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				return errors.Join(field.New("slug", field.Taken, "group %s already exists", g.Slug).With("slug", g.Slug), err)
			}
			return err
		}
		return Record(ctx, log, a, Change{Type: audit.GroupCreated, OrgID: g.OrgID, Target: "group:" + g.ID, After: GroupView{g.ID, g.Slug, g.Name}})
	})
}

// DeleteGroup removes a group (its members stay members of the
// organization).
func (s *Service) DeleteGroup(ctx context.Context, a authz.Actor, orgID, id string) error {
	if err := authz.Check(a, authz.GroupsWrite, authz.Org(orgID)); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		g, err := tx.GetGroup(ctx, orgID, id)
		if err != nil {
			return notFound("group", err)
		}
		if err := tx.DeleteGroup(ctx, orgID, id); err != nil {
			return err
		}
		return Record(ctx, log, a, Change{Type: audit.GroupDeleted, OrgID: orgID, Target: "group:" + id, Before: GroupView{g.ID, g.Slug, g.Name}})
	})
}

// SetGroupMember adds (or removes) a membership of the organization to a
// group.
func (s *Service) SetGroupMember(ctx context.Context, a authz.Actor, orgID, groupID, membershipID string, member bool) error {
	if err := authz.Check(a, authz.GroupsWrite, authz.Org(orgID)); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		typ := audit.GroupMemberAdded
		var err error
		if member {
			err = tx.AddGroupMember(ctx, orgID, groupID, membershipID)
		} else {
			typ = audit.GroupMemberRemoved
			err = tx.RemoveGroupMember(ctx, orgID, groupID, membershipID)
		}
		if err != nil {
			return notFound("group or membership", err)
		}
		return Record(ctx, log, a, Change{Type: typ, OrgID: orgID, Target: "group:" + groupID,
			Details: map[string]string{"membership": membershipID}})
	})
}

// Groups lists an organization's groups.
func (s *Service) Groups(ctx context.Context, a authz.Actor, orgID string) ([]storage.Group, error) {
	if err := authz.Check(a, authz.PeopleRead, authz.Org(orgID)); err != nil {
		return nil, err
	}
	return s.store.ListGroups(ctx, orgID)
}
