package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/territory"
)

// table writes aligned columns; call flush when done.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// fields writes "key: value" lines, aligned.
func fields(w io.Writer, kv ...string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s:\t%s\n", kv[i], v)
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// fmtDate shows a date alone when it is midnight in the local zone,
// RFC 3339 otherwise.
func fmtDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	l := t.In(time.Local)
	if l.Hour() == 0 && l.Minute() == 0 && l.Second() == 0 && l.Nanosecond() == 0 {
		return l.Format(time.DateOnly)
	}
	return l.Format(time.RFC3339)
}

func fmtOptDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmtDate(*t)
}

func fmtTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(time.Local).Format("2006-01-02 15:04:05")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func enabled(disabled bool) string {
	if disabled {
		return "disabled"
	}
	return "enabled"
}

// period tells whether [from, until) holds now, is over or is to come.
func period(now, from time.Time, until *time.Time) string {
	switch {
	case now.Before(from):
		return "upcoming"
	case until != nil && !now.Before(*until):
		return "ended"
	}
	return "active"
}

// validationError lists the field problems of a record, one per line.
type validationError struct {
	what string
	err  error
}

func (e *validationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid " + e.what + ":")
	for _, line := range strings.Split(e.err.Error(), "\n") {
		b.WriteString("\n  " + line)
	}
	return b.String()
}

func (e *validationError) Unwrap() error { return e.err }

// explain turns service errors into messages for the command line:
// field problems one per line, storage sentinels in words.
func explain(what string, err error) error {
	var tf *territory.FieldError
	var af *apps.FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tf), errors.As(err, &af):
		if fes := field.List(err); len(fes) == 1 && fes[0].Code == field.Taken {
			// « organization ville-b: SIREN … already belongs to … »
			return &conflictError{what: what, msg: fes[0].Msg}
		}
		return &validationError{what: what, err: err}
	case errors.Is(err, storage.ErrConflict):
		// The database's own words (« UNIQUE constraint failed: … ») mean
		// nothing to the person typing: what already exists is enough.
		return &conflictError{what: what}
	}
	return err
}

// conflictError is an object that already exists; it matches
// storage.ErrConflict.
type conflictError struct{ what, msg string }

func (e *conflictError) Error() string {
	if e.msg != "" && e.msg != "already exists" {
		return e.what + ": " + e.msg
	}
	return e.what + " already exists"
}
func (e *conflictError) Unwrap() error { return storage.ErrConflict }

// Lookups by the names the command line uses.

func orgBySlug(ctx context.Context, st storage.Organizations, slug string) (storage.Organization, error) {
	o, err := st.GetOrganizationBySlug(ctx, slug)
	if errors.Is(err, storage.ErrNotFound) {
		return o, fmt.Errorf("organization %q not found (see tno org list)", slug)
	}
	return o, err
}

func personByUsername(ctx context.Context, st storage.People, username string) (storage.Person, error) {
	p, err := st.GetPersonByUsername(ctx, territory.NormalizeUsername(username))
	if errors.Is(err, storage.ErrNotFound) {
		return p, fmt.Errorf("person %q not found (see tno person list)", username)
	}
	return p, err
}

func appByClientID(ctx context.Context, st storage.Applications, clientID string) (storage.Application, error) {
	a, err := st.GetApplicationByClientID(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return a, fmt.Errorf("application %q not found (see tno app list)", clientID)
	}
	return a, err
}

// orgIndex maps organization IDs to slugs and back.
type orgIndex struct {
	byID   map[string]storage.Organization
	bySlug map[string]storage.Organization
	all    []storage.Organization
}

func loadOrgs(ctx context.Context, st storage.Organizations) (*orgIndex, error) {
	all, err := st.ListOrganizations(ctx)
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	ix := &orgIndex{byID: make(map[string]storage.Organization), bySlug: make(map[string]storage.Organization), all: all}
	for _, o := range all {
		ix.byID[o.ID] = o
		ix.bySlug[o.Slug] = o
	}
	return ix, nil
}

// slug returns the slug of organization id, or the ID if it is unknown.
func (ix *orgIndex) slug(id string) string {
	if o, ok := ix.byID[id]; ok {
		return o.Slug
	}
	return id
}

// ids resolves slugs, reporting every unknown one.
func (ix *orgIndex) ids(flag string, slugs []string) ([]string, error) {
	var out []string
	var errs []error
	for _, s := range slugs {
		o, ok := ix.bySlug[s]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: organization %q not found", flag, s))
			continue
		}
		out = append(out, o.ID)
	}
	return out, errors.Join(errs...)
}

// orNone is v, or "none" when empty.
func orNone(v string) string {
	if v == "" {
		return "none"
	}
	return v
}
