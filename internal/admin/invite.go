package admin

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
	"github.com/territoires-ouverts/tno/internal/web"
)

// Invitations turns an invitation token into a link and e-mails it
// (internal/authflow).
type Invitations interface {
	InvitationURL(token string) string
	// SendInvitation reports false, without error, when no e-mail can be
	// sent (no mail server, no address).
	SendInvitation(ctx context.Context, lang string, p storage.Person, link string, days int) (bool, error)
}

func (c *Console) inviteRoutes() []route {
	return []route{
		{"POST /admin/orgs/{org}/people/{id}/invite", c.personInvite},
	}
}

type invitePage struct {
	Frame   frame
	Org     storage.Organization
	Person  storage.Person
	Link    string
	Sent    bool
	SendErr bool
	Expires time.Time
	Back    string
}

// personInvite creates a one-time link through which the person chooses
// their password, e-mails it when it can, and shows it once to the
// administrator (to hand over when there is no e-mail).
func (c *Console) personInvite(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	p, _, err := c.person(r, a, o)
	if err != nil {
		return err
	}
	if c.invites == nil {
		return errBadRequest
	}
	token, expires, err := c.terr.Invite(r.Context(), a, o.ID, p.ID)
	if err != nil {
		return err
	}
	link := c.invites.InvitationURL(token)
	page := invitePage{Frame: c.newFrame(r, a, &o, "people"), Org: o, Person: p, Link: link, Expires: expires,
		Back: c.orgPath(o) + "/people/" + url.PathEscape(p.ID)}
	sent, err := c.invites.SendInvitation(r.Context(), web.Lang(r), p, link, int(territory.InvitationLifetime/(24*time.Hour)))
	if err != nil {
		c.log.WarnContext(r.Context(), "invitation: send", "person_id", p.ID, "err", err)
		page.SendErr = true
	}
	page.Sent = sent
	c.render(w, r, http.StatusOK, "invite", "admin.invite.title", []any{p.GivenName + " " + lastName(p)}, page)
	return nil
}
