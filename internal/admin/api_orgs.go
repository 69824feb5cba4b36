package admin

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

func (c *Console) apiOrgRoutes() []apiRoute {
	return []apiRoute{
		{pattern: "GET " + apiPrefix + "/orgs", h: c.apiOrgList},
		{pattern: "GET " + apiPrefix + "/orgs/{org}", h: c.apiOrgGet},
		{pattern: "GET " + apiPrefix + "/orgs/{org}/apps", h: c.apiAppList},
		{pattern: "GET " + apiPrefix + "/orgs/{org}/audit", h: c.apiAuditList},
	}
}

// apiOrgList lists the organizations the client may read.
func (c *Console) apiOrgList(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	orgs, err := c.terr.Organizations(r.Context(), a)
	if err != nil {
		return err
	}
	out := apiList[territory.OrgView]{Items: make([]territory.OrgView, 0, len(orgs))}
	for _, o := range orgs {
		out.Items = append(out.Items, territory.ViewOrg(o))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (c *Console) apiOrgGet(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	writeRecord(w, http.StatusOK, o.Version, territory.ViewOrg(o))
	return nil
}

// apiAppList lists the organization's applications (apps.View, the one
// description the CLI and apply share).
func (c *Console) apiAppList(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	ctx := r.Context()
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	list, err := c.apps.List(ctx, a, o.ID)
	if err != nil {
		return err
	}
	orgs, err := c.store.ListOrganizations(ctx) // the slugs of the granted organizations
	if err != nil {
		return err
	}
	slugs := make(map[string]string, len(orgs))
	for _, x := range orgs {
		slugs[x.ID] = x.Slug
	}
	out := apiList[apps.View]{Items: make([]apps.View, 0, len(list))}
	for _, app := range list {
		out.Items = append(out.Items, apps.NewView(app, func(id string) string {
			if s, ok := slugs[id]; ok {
				return s
			}
			return id
		}))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// apiAuditEvent is an audit event as the API shows it.
type apiAuditEvent struct {
	Seq       int64             `json:"seq"`
	At        time.Time         `json:"at"`
	Type      string            `json:"type"`
	OrgID     string            `json:"org_id,omitempty"`
	PersonID  string            `json:"person_id,omitempty"`
	ClientID  string            `json:"client_id,omitempty"`
	ActorKind string            `json:"actor_kind,omitempty"`
	ActorID   string            `json:"actor_id,omitempty"`
	Address   string            `json:"address,omitempty"`
	Target    string            `json:"target,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
	Before    json.RawMessage   `json:"before,omitempty"`
	After     json.RawMessage   `json:"after,omitempty"`
}

func newAPIAuditEvent(e storage.AuditEvent) apiAuditEvent {
	doc := func(s string) json.RawMessage {
		if s == "" || !json.Valid([]byte(s)) {
			return nil
		}
		return json.RawMessage(s)
	}
	return apiAuditEvent{Seq: e.Seq, At: e.At.UTC(), Type: e.Type, OrgID: e.OrgID, PersonID: e.PersonID, ClientID: e.ClientID,
		ActorKind: e.ActorKind, ActorID: e.ActorID, Address: e.Address, Target: e.Target, Details: e.Details,
		Before: doc(e.Before), After: doc(e.After)}
}

// apiAuditPage is one page of the audit log, newest first.
type apiAuditPage struct {
	Items      []apiAuditEvent `json:"items"`
	NextBefore int64           `json:"next_before,omitempty"` // ?before= of the next page; 0 on the last
}

// apiAuditList reads the organization's audit log, newest first:
// ?type= filters, ?before= pages (events with a lower seq).
func (c *Console) apiAuditList(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.AuditRead, authz.Org(o.ID)); err != nil {
		return err
	}
	limit, err := apiLimit(r)
	if err != nil {
		return err
	}
	q := storage.AuditQuery{OrgID: o.ID, Type: strings.TrimSpace(r.URL.Query().Get("type")), Limit: limit + 1}
	if s := r.URL.Query().Get("before"); s != "" {
		if q.BeforeSeq, err = strconv.ParseInt(s, 10, 64); err != nil || q.BeforeSeq < 1 {
			return &apiError{status: http.StatusBadRequest, detail: "invalid query parameter",
				errs: []*field.Error{field.New("before", field.Invalid, "must be the seq of an event (a positive number)")}}
		}
	}
	evs, err := c.store.QueryAuditEvents(r.Context(), q)
	if err != nil {
		return err
	}
	page := apiAuditPage{Items: make([]apiAuditEvent, 0, min(len(evs), limit))}
	for i, e := range evs {
		if i == limit {
			page.NextBefore = evs[i-1].Seq
			break
		}
		page.Items = append(page.Items, newAPIAuditEvent(e))
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}
