package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// auditRoutes lists the audit log's pages: an organization's, and the
// platform's over every organization, each with its JSON Lines export.
func (c *Console) auditRoutes() []route {
	return []route{
		{"GET /admin/orgs/{org}/audit", c.orgAudit},
		{"GET /admin/orgs/{org}/audit.jsonl", c.orgAuditExport},
		{"GET /admin/audit", c.platformAudit},
		{"GET /admin/audit.jsonl", c.platformAuditExport},
	}
}

// signingKeyRotated is the event the keys page records (internal/audit
// has no constant for it: the CLI's rotation records none).
const signingKeyRotated = "signing_key_rotated"

// auditTypes are the event types the filter offers (each has a label
// admin.audit.type.<type>): administration first, then sign-in.
func auditTypes() []string {
	return []string{
		audit.OrgCreated, audit.OrgUpdated, audit.PersonCreated, audit.PersonUpdated, audit.PersonDisabled,
		audit.PersonEnabled, audit.PasswordSet, audit.FactorsReset, audit.SessionsEnded, audit.InvitationCreated, audit.MembershipCreated,
		audit.MembershipUpdated, audit.MandateAdded, audit.MandateRemoved, audit.GroupCreated, audit.GroupDeleted,
		audit.GroupMemberAdded, audit.GroupMemberRemoved, audit.RoleGranted, audit.RoleRevoked, audit.AppCreated,
		audit.AppUpdated, audit.AppSecretRotated, audit.AppDeleted, signingKeyRotated,
		audit.LoginSucceeded, audit.LoginFailed, audit.SecondFactorFailed, audit.SignInThrottled, audit.StepUp,
		audit.RecoveryCodeUsed, audit.PasswordChanged, audit.PasswordResetRequested, audit.PasswordReset,
		audit.FactorEnrolled, audit.FactorRemoved, audit.RecoveryCodesRenewed, audit.SessionEnded,
		audit.CodeReuse, audit.RefreshTokenReuse, audit.ClientAuthFailed, audit.ClientAssertionReuse,
		audit.SignInOtherBrowser,
	}
}

// auditBatch is how many events the export reads at a time.
const auditBatch = 500

// auditFilter is the selection of the page and of its export.
type auditFilter struct {
	Type     string
	Username string // as typed
	PersonID string // resolved from Username
	Before   int64  // events older than this sequence number; 0 for the newest
}

// query reads the filter for the organization orgID ("" for all).
func (f auditFilter) query(orgID string, limit int) storage.AuditQuery {
	return storage.AuditQuery{OrgID: orgID, Type: f.Type, PersonID: f.PersonID, BeforeSeq: f.Before, Limit: limit}
}

// values writes the filter back into a query string (without the page).
func (f auditFilter) values() url.Values {
	v := url.Values{}
	if f.Type != "" {
		v.Set("type", f.Type)
	}
	if f.Username != "" {
		v.Set("person", f.Username)
	}
	return v
}

// readAuditFilter parses ?type=, ?person= (a username) and ?before=. An
// unknown username is not an error but a message for the person filter
// (unknown is true).
func (c *Console) readAuditFilter(r *http.Request, a authz.Actor) (f auditFilter, unknown bool, err error) {
	q := r.URL.Query()
	f = auditFilter{Type: strings.TrimSpace(q.Get("type")), Username: strings.TrimSpace(q.Get("person"))}
	if n, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && n > 0 {
		f.Before = n
	}
	if f.Username == "" {
		return f, false, nil
	}
	p, err := c.terr.PersonByUsername(r.Context(), a, f.Username)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return f, true, nil
	case err != nil:
		return f, false, err
	}
	f.PersonID = p.ID
	return f, false, nil
}

// auditRow is one event of the list.
type auditRow struct {
	Seq       int64
	At        string // <time datetime>
	When      string // in the page's language
	Type      string
	TypeLabel string
	Who       string
	WhoName   string // the actor's name, when a person
	Via       string // the application, when the event came through one
	Address   string
	Target    string
	Changes   []auditChange
	Details   []auditChange // Field and After only
}

// auditChange is one field of a record that changed.
type auditChange struct {
	Field       string // translated label
	Before      string
	After       string
	HasBefore   bool
	HasAfter    bool
	beforeValue any
	afterValue  any
}

type auditPage struct {
	Frame        frame
	Org          *storage.Organization
	Action       string // the filter's URL
	Export       string // the export of the selection
	Type         string
	Types        []option
	Person       string
	PersonError  string // the person filter's message
	Rows         []auditRow
	Older        string
	Newest       string
	Filtered     bool
	PlatformWide bool
}

func (c *Console) orgAudit(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.org(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.AuditRead, authz.Org(o.ID)); err != nil {
		return err
	}
	return c.showAudit(w, r, a, &o)
}

func (c *Console) platformAudit(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	if err := authz.Check(a, authz.PlatformRead, authz.Platform); err != nil {
		return err
	}
	return c.showAudit(w, r, a, nil)
}

// auditBase is the page's URL: the organization's log, or the platform's.
func (c *Console) auditBase(o *storage.Organization) string {
	if o == nil {
		return c.path("/admin/audit")
	}
	return c.orgPath(*o) + "/audit"
}

func (c *Console) showAudit(w http.ResponseWriter, r *http.Request, a authz.Actor, o *storage.Organization) error {
	ctx := r.Context()
	f, unknown, err := c.readAuditFilter(r, a)
	if err != nil {
		return err
	}
	base := c.auditBase(o)
	page := auditPage{Frame: c.newFrame(r, a, o, "audit"), Org: o, Action: base, Type: f.Type, Person: f.Username,
		Filtered: f.Type != "" || f.Username != "", PlatformWide: o == nil}
	page.Types = append(page.Types, option{Value: "", LabelKey: "admin.audit.all_types", Selected: f.Type == ""})
	types := auditTypes()
	if f.Type != "" && !slices.Contains(types, f.Type) {
		types = append(types, f.Type) // typed in the URL: kept as is
	}
	for _, t := range types {
		page.Types = append(page.Types, option{Value: t, Label: c.auditTypeLabel(r, t), Selected: t == f.Type})
	}
	export := base + ".jsonl"
	if v := f.values(); len(v) > 0 {
		export += "?" + v.Encode()
	}
	page.Export = export
	if unknown {
		page.PersonError = c.T(r, "admin.audit.unknown_person", f.Username)
	} else {
		orgID := ""
		if o != nil {
			orgID = o.ID
		}
		evs, err := c.store.QueryAuditEvents(ctx, f.query(orgID, pageSize+1))
		if err != nil {
			return err
		}
		more := len(evs) > pageSize
		if more {
			evs = evs[:pageSize]
		}
		names := newAuditNames(ctx, c.store)
		for _, e := range evs {
			page.Rows = append(page.Rows, c.auditRow(r, names, e))
		}
		if more {
			v := f.values()
			v.Set("before", strconv.FormatInt(evs[len(evs)-1].Seq, 10))
			page.Older = base + "?" + v.Encode()
		}
		if f.Before > 0 {
			page.Newest = base
			if v := f.values(); len(v) > 0 {
				page.Newest += "?" + v.Encode()
			}
		}
	}
	title, args := "admin.audit.platform_title", []any(nil)
	if o != nil {
		title, args = "admin.audit.title", []any{o.Name}
	}
	c.surface.Render(w, r, http.StatusOK, web.SurfacePage{Name: "audit", TitleKey: title, TitleArgs: args, Error: unknown, Data: page})
	return nil
}

// auditTypeLabel translates an event type, or shows it as is.
func (c *Console) auditTypeLabel(r *http.Request, typ string) string {
	key := "admin.audit.type." + typ
	if s := c.T(r, key); s != key {
		return s
	}
	return typ
}

// auditDateTime writes t in the page's language, in the server's zone.
func auditDateTime(r *http.Request, t time.Time) string {
	if web.Lang(r) == web.LangFR {
		return t.Local().Format("02/01/2006 15:04:05")
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func (c *Console) auditRow(r *http.Request, names *auditNames, e storage.AuditEvent) auditRow {
	row := auditRow{Seq: e.Seq, At: e.At.UTC().Format(time.RFC3339), When: auditDateTime(r, e.At), Type: e.Type,
		TypeLabel: c.auditTypeLabel(r, e.Type), Address: e.Address}
	switch e.ActorKind {
	case string(authz.KindPerson):
		row.Who, row.WhoName = names.person(e.ActorID)
	case string(authz.KindCLI):
		row.Who = c.T(r, "admin.audit.actor.cli")
	case string(authz.KindSystem):
		row.Who = c.T(r, "admin.audit.actor.system")
	case string(authz.KindClient):
		row.Who = c.T(r, "admin.audit.actor.client", e.ActorID)
	case string(authz.KindSource):
		row.Who = c.T(r, "admin.audit.actor.source", e.ActorID)
	case "":
		if e.PersonID != "" { // a sign-in event: the person did it
			row.Who, row.WhoName = names.person(e.PersonID)
		}
	default:
		row.Who = e.ActorKind + " " + e.ActorID
	}
	if e.ClientID != "" && e.ActorKind != string(authz.KindClient) {
		row.Via = e.ClientID
	}
	row.Target = c.auditTarget(r, names, e)
	yes, no := c.T(r, "admin.audit.yes"), c.T(r, "admin.audit.no")
	for _, ch := range diffJSON(e.Before, e.After) {
		key := ch.Field
		ch.Field = c.auditFieldLabel(r, key)
		ch.Before = c.auditResolve(r, names, e, key, auditValue(r, ch.beforeValue, yes, no))
		ch.After = c.auditResolve(r, names, e, key, auditValue(r, ch.afterValue, yes, no))
		row.Changes = append(row.Changes, ch)
	}
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		row.Details = append(row.Details, auditChange{Field: c.auditFieldLabel(r, k), After: c.auditResolve(r, names, e, k, e.Details[k]), HasAfter: true})
	}
	return row
}

// auditTarget names what the event is about: a person by username, an
// application or a group by name.
func (c *Console) auditTarget(r *http.Request, names *auditNames, e storage.AuditEvent) string {
	kind, id, ok := strings.Cut(e.Target, ":")
	if !ok {
		return e.Target
	}
	var name string
	switch kind {
	case "person":
		name, _ = names.person(id)
	case "application":
		name = names.app(e.OrgID, id)
	case "group":
		name = names.group(e.OrgID, id)
	case "organization":
		name = names.org(id)
	case "membership":
		if e.PersonID != "" {
			p, _ := names.person(e.PersonID)
			return c.T(r, "admin.audit.target.membership", p)
		}
	}
	if name == "" || name == id { // deleted since: its last known name
		for _, k := range []string{"username", "name"} {
			if s := jsonString(e.Before, k); s != "" {
				return s
			}
			if s := jsonString(e.After, k); s != "" {
				return s
			}
		}
		return e.Target
	}
	return name
}

// auditResolve writes a field's value for a person: the IDs of people,
// organizations, applications and memberships as their names, roles and
// kinds translated. Unknown IDs stay as they are.
func (c *Console) auditResolve(r *http.Request, names *auditNames, e storage.AuditEvent, key, v string) string {
	if v == "" {
		return v
	}
	var name string
	switch key {
	case "person_id":
		name, _ = names.person(v)
	case "org_id":
		name = names.org(v)
	case "app_id":
		name = names.app(e.OrgID, v)
	case "membership", "membership_id":
		if pid := names.membershipPerson(e.OrgID, v); pid != "" {
			name, _ = names.person(pid)
		}
	case "role":
		name = c.T(r, "admin.roles.role."+v)
	case "kind":
		name = c.T(r, "admin.kind."+v)
	}
	if name == "" || strings.HasPrefix(name, "admin.") {
		return v
	}
	return name
}

// auditFieldLabel translates a record's field name, or shows it as is.
func (c *Console) auditFieldLabel(r *http.Request, name string) string {
	key := "admin.audit.field." + name
	if s := c.T(r, key); s != key {
		return s
	}
	return name
}

// auditValue writes a JSON value for a person: text as is, dates in the
// page's language, booleans as yes or no, lists and objects as JSON.
func auditValue(r *http.Request, v any, yes, no string) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return auditDateTime(r, t)
		}
		return v
	case bool:
		if v {
			return yes
		}
		return no
	case json.Number:
		return v.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// diffJSON compares two JSON objects (a record before and after a
// change, "" when created or removed) and returns the fields that differ,
// in the order they appear. A value that is not an object has no fields.
func diffJSON(before, after string) []auditChange {
	bk, bv := jsonObject(before)
	ak, av := jsonObject(after)
	order := slices.Clone(bk)
	for _, k := range ak {
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
	}
	var out []auditChange
	for _, k := range order {
		b, hasB := bv[k]
		a, hasA := av[k]
		if hasB && hasA && jsonEqual(b, a) {
			continue
		}
		out = append(out, auditChange{Field: k, HasBefore: hasB, HasAfter: hasA, beforeValue: b, afterValue: a})
	}
	return out
}

// jsonObject decodes a JSON object, keeping the order of its keys.
func jsonObject(s string) ([]string, map[string]any) {
	vals := map[string]any{}
	if strings.TrimSpace(s) == "" {
		return nil, vals
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, vals
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys, vals
		}
		k, ok := t.(string)
		if !ok {
			return keys, vals
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return keys, vals
		}
		if _, dup := vals[k]; !dup {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	return keys, vals
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// jsonString returns the text field key of the JSON object s, or "".
func jsonString(s, key string) string {
	_, vals := jsonObject(s)
	v, _ := vals[key].(string)
	return v
}

// auditNames resolves the IDs of a page of events, each once.
type auditNames struct {
	ctx    context.Context
	store  storage.Store
	people map[string][2]string
	names  map[string]string
}

func newAuditNames(ctx context.Context, st storage.Store) *auditNames {
	return &auditNames{ctx: ctx, store: st, people: map[string][2]string{}, names: map[string]string{}}
}

// person returns a person's username and name (the ID if unknown).
func (n *auditNames) person(id string) (username, name string) {
	if v, ok := n.people[id]; ok {
		return v[0], v[1]
	}
	v := [2]string{id, ""}
	if p, err := n.store.GetPerson(n.ctx, id); err == nil {
		v = [2]string{p.Username, strings.TrimSpace(p.GivenName + " " + lastName(p))}
	}
	n.people[id] = v
	return v[0], v[1]
}

func (n *auditNames) cached(key string, load func() (string, error)) string {
	if v, ok := n.names[key]; ok {
		return v
	}
	v, err := load()
	if err != nil {
		v = ""
	}
	n.names[key] = v
	return v
}

func (n *auditNames) app(orgID, id string) string {
	return n.cached("application:"+orgID+":"+id, func() (string, error) {
		a, err := n.store.GetApplication(n.ctx, orgID, id)
		return a.Name, err
	})
}

func (n *auditNames) group(orgID, id string) string {
	return n.cached("group:"+orgID+":"+id, func() (string, error) {
		g, err := n.store.GetGroup(n.ctx, orgID, id)
		return g.Name, err
	})
}

// membershipPerson returns the person of a membership of orgID, "" if
// it is gone.
func (n *auditNames) membershipPerson(orgID, id string) string {
	return n.cached("membership:"+orgID+":"+id, func() (string, error) {
		m, err := n.store.GetMembership(n.ctx, orgID, id)
		return m.PersonID, err
	})
}

func (n *auditNames) org(id string) string {
	return n.cached("organization:"+id, func() (string, error) {
		o, err := n.store.GetOrganization(n.ctx, id)
		return o.Name, err
	})
}
