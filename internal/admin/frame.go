package admin

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// frame is what every console page shows around its content: where one
// is, where one can go, and the notice of the last action.
type frame struct {
	Base     string // the console's root URL
	Platform bool   // the actor administers the platform
	Org      *storage.Organization
	Section  string // "people", "apps", "groups", "roles", "audit", "import", "orgs", "keys", "settings"
	Links    []navLink
	Notice   string // message key of a done action (?done=…), "" for none
	SignOut  string
	Security string
}

type navLink struct {
	Href, Key string
	Current   bool
}

// newFrame builds the frame for a page of org (nil: a platform page).
func (c *Console) newFrame(r *http.Request, a authz.Actor, org *storage.Organization, section string) frame {
	f := frame{Base: c.path("/admin"), Platform: a.IsPlatformAdmin(), Org: org, Section: section,
		SignOut: c.path("/logout"), Security: c.path("/account/security")}
	if done := r.URL.Query().Get("done"); done != "" && validNotice(done) {
		f.Notice = "admin.done." + done
	}
	if org != nil {
		o := c.orgPath(*org)
		add := func(p authz.Permission, href, key, sec string) {
			if a.Can(p, authz.Org(org.ID)) {
				f.Links = append(f.Links, navLink{Href: href, Key: key, Current: section == sec})
			}
		}
		add(authz.OrgRead, o, "admin.nav.overview", "overview")
		add(authz.PeopleRead, o+"/people", "admin.nav.people", "people")
		add(authz.OrgRead, o+"/apps", "admin.nav.apps", "apps")
		add(authz.PeopleRead, o+"/groups", "admin.nav.groups", "groups")
		add(authz.RolesGrant, o+"/roles", "admin.nav.roles", "roles")
		add(authz.AuditRead, o+"/audit", "admin.nav.audit", "audit")
		add(authz.PeopleImport, o+"/import", "admin.nav.import", "import")
		return f
	}
	if f.Platform {
		f.Links = []navLink{
			{Href: c.path("/admin/orgs"), Key: "admin.nav.orgs", Current: section == "orgs"},
			{Href: c.path("/admin/keys"), Key: "admin.nav.keys", Current: section == "keys"},
			{Href: c.path("/admin/settings"), Key: "admin.nav.settings", Current: section == "settings"},
			{Href: c.path("/admin/audit"), Key: "admin.nav.audit", Current: section == "audit"},
		}
	}
	return f
}

// notices are the ?done= values a redirect after a change may carry.
var notices = map[string]bool{
	"created": true, "updated": true, "disabled": true, "enabled": true, "factors_reset": true,
	"sessions_ended": true, "granted": true, "revoked": true, "rotated": true, "deleted": true,
	"invited": true, "imported": true, "ended": true, "added": true, "removed": true,
}

func validNotice(s string) bool { return notices[s] }

func (c *Console) orgPath(o storage.Organization) string {
	return c.path("/admin/orgs/" + url.PathEscape(o.Slug))
}

// done redirects after a change (POST, redirect, GET) with its notice.
func done(w http.ResponseWriter, r *http.Request, to, notice string) {
	u, err := url.Parse(to)
	if err == nil {
		q := u.Query()
		q.Set("done", notice)
		u.RawQuery = q.Encode()
		to = u.String()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// formField is one input of a form, described in Go so that one partial
// draws every form the same way (label, hint, error next to the field,
// the person's input kept).
type formField struct {
	Name         string
	LabelKey     string
	HintKey      string
	Type         string // "text", "email", "date", "select", "checkbox", "textarea", "password"
	Value        string
	Checked      bool
	Options      []option // for "select"
	Required     bool
	Autocomplete string
	Error        string // translated message, "" when valid
}

type option struct {
	Value, LabelKey string
	Label           string // used when LabelKey is empty
	Selected        bool
}

// form is a page's form: its fields and the errors' summary.
type form struct {
	Action  string
	Version string // the record's version, sent back to detect concurrent edits
	Fields  []formField
	Errors  []formError // the summary at the top, each linking to its field
	Submit  string      // message key of the button
	Secret  bool        // the page shows a secret: not cached, said once
}

type formError struct{ Field, Message string }

// setErrors puts err's field errors next to their fields (and in the
// summary); it reports whether err held any.
func (c *Console) setErrors(r *http.Request, f *form, err error) bool {
	fes := field.List(err)
	if len(fes) == 0 {
		return false
	}
	for _, fe := range fes {
		msg := c.fieldMessage(r, fe)
		placed := false
		for i := range f.Fields {
			if f.Fields[i].Name == fe.Field || fieldAlias[fe.Field] == f.Fields[i].Name {
				if f.Fields[i].Error == "" {
					f.Fields[i].Error = msg
				}
				placed = true
				f.Errors = append(f.Errors, formError{Field: f.Fields[i].Name, Message: msg})
				break
			}
		}
		if !placed {
			f.Errors = append(f.Errors, formError{Message: msg})
		}
	}
	return true
}

// fieldPrefix is what a page adds to a field's name when it has several
// forms (a membership's, a mandate's, "x-" for an existing person).
var fieldPrefix = regexp.MustCompile(`^(x|m-[a-z0-9]+|md-[a-z0-9]+)-`)

// fieldAlias maps a use case's field name onto the form's input name.
var fieldAlias = map[string]string{"valid_from": "from", "valid_until": "until", "starts_at": "from", "ends_at": "until"}

// fieldMessage translates a field error: admin.field.<field>.<code>,
// then admin.field.<code>, then the use case's English words.
func (c *Console) fieldMessage(r *http.Request, fe *field.Error) string {
	args := []any{}
	for _, k := range []string{"value", "slug", "siren", "org", "username", "client_id", "kind", "role"} {
		if v, ok := fe.Params[k]; ok {
			args = append(args, v)
		}
	}
	base := fieldPrefix.ReplaceAllString(fe.Field, "")
	for _, key := range []string{"admin.field." + fe.Field + "." + fe.Code, "admin.field." + base + "." + fe.Code, "admin.field." + fe.Code} {
		if s := c.T(r, key, args...); s != key {
			return s
		}
	}
	return fe.Msg
}

// page parses ?page=N (1-based).
func pageNumber(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// pager is a list's paging links.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string
}

const pageSize = 50

func newPager(r *http.Request, total int) pager {
	p := pager{Page: pageNumber(r), Total: total, Pages: (total + pageSize - 1) / pageSize}
	if p.Pages == 0 {
		p.Pages = 1
	}
	if p.Page > p.Pages {
		p.Page = p.Pages
	}
	link := func(n int) string {
		q := r.URL.Query()
		q.Del("done")
		q.Set("page", strconv.Itoa(n))
		return "?" + q.Encode()
	}
	if p.Page > 1 {
		p.Prev = link(p.Page - 1)
	}
	if p.Page < p.Pages {
		p.Next = link(p.Page + 1)
	}
	return p
}

// bounds returns the slice bounds of the pager's page.
func (p pager) bounds() (int, int) {
	lo := (p.Page - 1) * pageSize
	hi := min(lo+pageSize, p.Total)
	return lo, hi
}
