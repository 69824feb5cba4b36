package sqlstore

import (
	"context"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// The table is org_groups: GROUPS is a keyword in both SQL dialects.
const groupColumns = `id, org_id, slug, name, created_at`

func scanGroup(r rowScanner) (storage.Group, error) {
	var g storage.Group
	err := r.Scan(&g.ID, &g.OrgID, &g.Slug, &g.Name, ts(&g.CreatedAt))
	return g, err
}

// CreateGroup inserts g; ErrConflict on a duplicate slug in the
// organization, ErrNotFound if the organization does not exist.
func (s *Store) CreateGroup(ctx context.Context, g *storage.Group) error {
	v := *g
	if v.ID == "" {
		v.ID = storage.NewID()
	}
	v.CreatedAt = s.timestamp()
	_, err := s.exec(ctx, "create group",
		`INSERT INTO org_groups (`+groupColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		v.ID, v.OrgID, v.Slug, v.Name, micros(v.CreatedAt))
	if err != nil {
		return err
	}
	*g = v
	return nil
}

// GetGroup returns a group of orgID.
func (s *Store) GetGroup(ctx context.Context, orgID, id string) (storage.Group, error) {
	return queryOne(ctx, s, "get group", scanGroup,
		`SELECT `+groupColumns+` FROM org_groups WHERE org_id = $1 AND id = $2`, orgID, id)
}

// GetGroupBySlug returns a group of orgID by slug.
func (s *Store) GetGroupBySlug(ctx context.Context, orgID, slug string) (storage.Group, error) {
	return queryOne(ctx, s, "get group by slug", scanGroup,
		`SELECT `+groupColumns+` FROM org_groups WHERE org_id = $1 AND slug = $2`, orgID, slug)
}

// ListGroups returns orgID's groups, by slug.
func (s *Store) ListGroups(ctx context.Context, orgID string) ([]storage.Group, error) {
	return queryList(ctx, s, "list groups", scanGroup,
		`SELECT `+groupColumns+` FROM org_groups WHERE org_id = $1 ORDER BY slug`, orgID)
}

// DeleteGroup deletes a group of orgID and its member links.
func (s *Store) DeleteGroup(ctx context.Context, orgID, id string) error {
	return s.execOne(ctx, "delete group",
		`DELETE FROM org_groups WHERE org_id = $1 AND id = $2`, orgID, id)
}

// AddGroupMember adds a membership to a group, both of orgID (composite
// foreign keys); ErrNotFound otherwise. Adding a member twice is a no-op.
func (s *Store) AddGroupMember(ctx context.Context, orgID, groupID, membershipID string) error {
	_, err := s.exec(ctx, "add group member",
		`INSERT INTO group_members (group_id, membership_id, org_id) VALUES ($1, $2, $3)
		 ON CONFLICT (org_id, group_id, membership_id) DO NOTHING`,
		groupID, membershipID, orgID)
	return err
}

// RemoveGroupMember removes a membership from a group of orgID;
// ErrNotFound if it was not a member.
func (s *Store) RemoveGroupMember(ctx context.Context, orgID, groupID, membershipID string) error {
	return s.execOne(ctx, "remove group member",
		`DELETE FROM group_members WHERE org_id = $1 AND group_id = $2 AND membership_id = $3`,
		orgID, groupID, membershipID)
}

// ListGroupMembers returns the memberships in a group of orgID, oldest
// first. A group outside orgID has none.
func (s *Store) ListGroupMembers(ctx context.Context, orgID, groupID string) ([]storage.Membership, error) {
	return queryList(ctx, s, "list group members", scanMembership,
		`SELECT `+prefixed("m.", membershipColumns)+`
		 FROM group_members gm JOIN memberships m ON m.id = gm.membership_id AND m.org_id = gm.org_id
		 WHERE gm.org_id = $1 AND gm.group_id = $2
		 ORDER BY m.created_at, m.id`, orgID, groupID)
}

// ListMembershipGroups returns the IDs of the groups a membership of orgID
// belongs to, sorted.
func (s *Store) ListMembershipGroups(ctx context.Context, orgID, membershipID string) ([]string, error) {
	return queryList(ctx, s, "list membership groups", scanString,
		`SELECT group_id FROM group_members WHERE org_id = $1 AND membership_id = $2
		 ORDER BY group_id`, orgID, membershipID)
}

func scanString(r rowScanner) (string, error) {
	var v string
	err := r.Scan(&v)
	return v, err
}
