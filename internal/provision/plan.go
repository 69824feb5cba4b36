package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

// Store is what Plan reads.
type Store interface {
	storage.Organizations
	storage.People
	storage.Memberships
	storage.AdminRoles
}

// Action is what an import does with one row.
type Action string

// Actions.
const (
	Create    Action = "create"    // a new person, with their membership
	Update    Action = "update"    // the person's identity, their membership here, or both
	Unchanged Action = "unchanged" // the file says what is stored
	Invalid   Action = "error"     // the row is refused: see Item.Errors
)

// Item is the plan of one row.
type Item struct {
	Line     int
	Username string // normalized
	Action   Action
	// Person is the person as the row leaves them: ID and Version are
	// set for a person who exists.
	Person storage.Person
	// Membership is the person's membership of the organization as the
	// row leaves it: ID and Version are set for one that exists.
	Membership storage.Membership
	// Identity: the person's own fields change (UpdatePerson).
	Identity bool
	// NewMembership: the membership is created (a new person, or one who
	// has none of that kind here yet); MembershipChanged: it is updated.
	NewMembership, MembershipChanged bool
	// Changed lists the columns whose value changes, in column order.
	Changed []string
	// Errors say why the row is refused; Field names the column ("" for
	// the row as a whole).
	Errors []*field.Error
}

// Changeset is what an import would do, row by row, in the file's order.
type Changeset struct {
	OrgID string
	Items []Item
	// Counts of Items by Action.
	Create, Update, Unchanged, Errors int
}

// Writes is the number of rows Apply writes.
func (p *Changeset) Writes() int { return p.Create + p.Update }

// Failed returns the refused rows.
func (p *Changeset) Failed() []Item {
	var out []Item
	for _, it := range p.Items {
		if it.Action == Invalid {
			out = append(out, it)
		}
	}
	return out
}

// Plan says what importing rows into the organization orgID would do,
// as the actor, without writing anything. Reading needs
// authz.PeopleImport on the organization. Existing people are found by
// identifier, whichever organization they belong to; their identity is
// changed only if the actor may change it (authz.CheckPerson), and only
// their membership of orgID is created or updated.
func Plan(ctx context.Context, st Store, a authz.Actor, orgID string, rows []Row) (*Changeset, error) {
	return plan(ctx, st, a, orgID, rows, time.Now())
}

func plan(ctx context.Context, st Store, a authz.Actor, orgID string, rows []Row, now time.Time) (*Changeset, error) {
	if err := authz.Check(a, authz.PeopleImport, authz.Org(orgID)); err != nil {
		return nil, err
	}
	if _, err := st.GetOrganization(ctx, orgID); err != nil {
		return nil, fmt.Errorf("import organization: %w", err)
	}
	if len(rows) > MaxRows {
		return nil, fmt.Errorf("provision: %d rows, at most %d", len(rows), MaxRows)
	}
	p := &Changeset{OrgID: orgID, Items: make([]Item, len(rows))}
	firstLine := map[string]int{} // username → index of its first row
	for i, row := range rows {
		it, err := planRow(ctx, st, a, orgID, row, now)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", row.Line, err)
		}
		if it.Username != "" {
			if j, dup := firstLine[it.Username]; dup {
				first := &p.Items[j]
				first.Errors = append(first.Errors, duplicate(it.Username, row.Line))
				it.Errors = append(it.Errors, duplicate(it.Username, first.Line))
			} else {
				firstLine[it.Username] = i
			}
		}
		p.Items[i] = it
	}
	for i := range p.Items {
		it := &p.Items[i]
		if len(it.Errors) > 0 {
			it.Action = Invalid
			slices.SortStableFunc(it.Errors, func(x, y *field.Error) int { return columnIndex(x.Field) - columnIndex(y.Field) })
		}
		switch it.Action {
		case Create:
			p.Create++
		case Update:
			p.Update++
		case Unchanged:
			p.Unchanged++
		default:
			p.Errors++
		}
	}
	return p, nil
}

func duplicate(username string, otherLine int) *field.Error {
	return field.New(ColUsername, "duplicate", "%s is also on line %d: one line per person", username, otherLine).
		With("username", username).With("line", fmt.Sprint(otherLine))
}

// wanted is what a row says, column by column.
type wanted struct {
	row  Row
	errs []*field.Error
}

func (w *wanted) has(col string) bool   { _, ok := w.row.Cells[col]; return ok }
func (w *wanted) get(col string) string { return w.row.Cells[col] }

// date reads a date column: nil for an absent column or an empty cell.
func (w *wanted) date(col string) *time.Time {
	v := w.get(col)
	if v == "" {
		return nil
	}
	t, err := parseDate(col, v)
	if err != nil {
		w.errs = append(w.errs, field.List(err)...)
		return nil
	}
	return &t
}

func (w *wanted) kind() string {
	switch v := headerKey(w.get(ColKind)); v {
	case "":
		return storage.KindAgent
	case storage.KindAgent, storage.KindElu:
		return v
	default:
		w.errs = append(w.errs, field.New(ColKind, "invalid", "must be agent or elu, got %q", w.get(ColKind)).With("value", w.get(ColKind)))
		return storage.KindAgent
	}
}

// planRow plans one row (its duplicates are found by Plan).
func planRow(ctx context.Context, st Store, a authz.Actor, orgID string, row Row, now time.Time) (Item, error) {
	w := &wanted{row: row, errs: slices.Clone(row.Errs)}
	it := Item{Line: row.Line, Username: territory.NormalizeUsername(w.get(ColUsername))}
	from, until := w.date(ColFrom), w.date(ColUntil)
	kind := w.kind()
	if it.Username == "" {
		w.errs = append(w.errs, field.New(ColUsername, field.Required, "is required"))
		it.Errors = w.errs
		it.Action = Invalid
		return it, nil
	}
	cur, err := st.GetPersonByUsername(ctx, it.Username)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		planCreate(w, &it, orgID, kind, from, until, now)
	case err != nil:
		return it, err
	default:
		if err := planUpdate(ctx, st, a, w, &it, cur, orgID, kind, from, until, now); err != nil {
			return it, err
		}
	}
	it.Errors = w.errs
	return it, nil
}

func planCreate(w *wanted, it *Item, orgID, kind string, from, until *time.Time, now time.Time) {
	it.Action = Create
	it.NewMembership = true
	it.Person = storage.Person{Username: it.Username, GivenName: w.get(ColGivenName), FamilyName: w.get(ColFamilyName),
		UsualName: w.get(ColUsualName), Email: w.get(ColEmail), Phone: w.get(ColPhone)}
	it.Membership = storage.Membership{OrgID: orgID, Kind: kind, Service: w.get(ColService), Title: w.get(ColTitle),
		Email: w.get(ColWorkEmail), ValidUntil: until}
	if from != nil {
		it.Membership.ValidFrom = *from
	}
	w.validate(it.Person, it.Membership, now)
}

// validate checks the person and membership with the territory's rules,
// naming the columns.
func (w *wanted) validate(p storage.Person, m storage.Membership, now time.Time) {
	w.errs = append(w.errs, field.List(territory.ValidatePerson(p))...)
	if m.PersonID == "" {
		m.PersonID = "pending"
	}
	if m.ValidFrom.IsZero() {
		m.ValidFrom = now // as CreateMembership does
	}
	for _, fe := range field.List(territory.ValidateMembership(m)) {
		c := *fe
		c.Field = membershipColumn(fe.Field)
		w.errs = append(w.errs, &c)
	}
}

// membershipColumn names the column of a membership's field error.
func membershipColumn(f string) string {
	switch f {
	case "email":
		return ColWorkEmail
	case "valid_from":
		return ColFrom
	case "valid_until":
		return ColUntil
	}
	return f
}

func planUpdate(ctx context.Context, st Store, a authz.Actor, w *wanted, it *Item, cur storage.Person, orgID, kind string,
	from, until *time.Time, now time.Time) error {
	all, err := st.ListPersonMemberships(ctx, cur.ID)
	if err != nil {
		return err
	}
	// Identity: given and family names are always in the file; the
	// other fields when their column is.
	p := cur
	var changed []string
	set := func(col string, dst *string) {
		if w.has(col) && *dst != w.get(col) {
			*dst = w.get(col)
			changed = append(changed, col)
		}
	}
	set(ColGivenName, &p.GivenName)
	set(ColFamilyName, &p.FamilyName)
	set(ColUsualName, &p.UsualName)
	set(ColEmail, &p.Email)
	set(ColPhone, &p.Phone)
	if p.Email != cur.Email {
		p.EmailVerified = false
	}
	it.Person = p
	it.Identity = len(changed) > 0
	if it.Identity {
		roles, err := st.ListRoles(ctx, cur.ID)
		if err != nil {
			return err
		}
		orgs := authz.PersonOrgs(all, now)
		if err := authz.CheckPerson(a, authz.PeopleWrite, orgs, roles); err != nil {
			w.errs = append(w.errs, refused(a, orgs, changed))
		}
	}
	// The membership of this organization: the one of the row's kind, or,
	// without a kind column, the only one (the agent's among two).
	here := slices.DeleteFunc(slices.Clone(all), func(m storage.Membership) bool { return m.OrgID != orgID })
	i := slices.IndexFunc(here, func(m storage.Membership) bool { return m.Kind == kind })
	if i < 0 && !w.has(ColKind) && len(here) == 1 {
		i = 0
	}
	var m storage.Membership
	if i < 0 {
		it.NewMembership = true
		m = storage.Membership{PersonID: cur.ID, OrgID: orgID, Kind: kind}
		// A person of another organization joins this one only through
		// the platform (or an administrator of every organization they
		// belong to): the use case refuses it, the dry run says so.
		for _, o := range authz.PersonOrgs(all, now) {
			if o != orgID && !a.Can(authz.PeopleWrite, authz.Org(o)) {
				w.errs = append(w.errs, field.New(ColUsername, "other_org",
					"this identifier belongs to a person of another organization: the platform's administrator adds them here"))
				break
			}
		}
	} else {
		m = here[i]
	}
	mcur := m
	set(ColService, &m.Service)
	set(ColTitle, &m.Title)
	set(ColWorkEmail, &m.Email)
	if from != nil && (m.ValidFrom.IsZero() || !sameDay(*from, m.ValidFrom)) {
		m.ValidFrom = *from
		changed = append(changed, ColFrom)
	}
	badUntil := until == nil && w.get(ColUntil) != "" // already an error
	if w.has(ColUntil) && !badUntil && !sameDate(until, m.ValidUntil) {
		m.ValidUntil = until
		changed = append(changed, ColUntil)
	}
	it.Membership = m
	it.MembershipChanged = !it.NewMembership && !sameMembership(mcur, m)
	it.Changed = inColumnOrder(changed)
	switch {
	case it.Identity || it.NewMembership || it.MembershipChanged:
		it.Action = Update
	default:
		it.Action = Unchanged
	}
	w.validate(p, m, now)
	return nil
}

// refused explains why the actor may not change a person's identity.
func refused(a authz.Actor, orgs []string, changed []string) *field.Error {
	cols := strings.Join(inColumnOrder(slices.DeleteFunc(slices.Clone(changed), func(c string) bool {
		return c != ColGivenName && c != ColFamilyName && c != ColUsualName && c != ColEmail && c != ColPhone
	})), ", ")
	shared := len(orgs) == 0 || slices.ContainsFunc(orgs, func(o string) bool { return !a.Can(authz.PeopleWrite, authz.Org(o)) })
	if shared {
		return field.New(ColUsername, "shared", "the person belongs to another organization too: only the platform may change their %s; leave them as they are", cols).
			With("columns", cols)
	}
	return field.New(ColUsername, "protected", "the person holds an administration role you cannot grant: only the platform may change their %s", cols).
		With("columns", cols)
}

// columnIndex orders errors: the row's own first, then by column.
func columnIndex(name string) int {
	return slices.IndexFunc(columns, func(c Column) bool { return c.Name == name })
}

func inColumnOrder(cols []string) []string {
	var out []string
	for _, c := range columns {
		if slices.Contains(cols, c.Name) {
			out = append(out, c.Name)
		}
	}
	return out
}

func sameMembership(a, b storage.Membership) bool {
	return a.Kind == b.Kind && a.Service == b.Service && a.Title == b.Title && a.Email == b.Email &&
		a.ValidFrom.Equal(b.ValidFrom) && sameDate(a.ValidUntil, b.ValidUntil)
}

// sameDay reports whether a and b fall on the same local calendar day:
// the file's dates are days.
func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Local().Date()
	by, bm, bd := b.Local().Date()
	return ay == by && am == bm && ad == bd
}

func sameDate(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return sameDay(*a, *b)
}
