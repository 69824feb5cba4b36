package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// rowScanner is satisfied by *sql.Row and *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// micros encodes a time as Unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

// nullMicros encodes an optional time; nil is NULL.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros decodes Unix microseconds as a UTC time.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// fromNullMicros decodes an optional time.
func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// list encodes a string list as JSON text. nil and empty are kept apart
// ("null" and "[]") so that both round-trip exactly.
func list(v []string) string {
	if v == nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Marshalling a []string cannot fail.
		panic(fmt.Sprintf("sqlstore: marshal list: %v", err))
	}
	return string(b)
}

// listScanner decodes a JSON string list column.
type listScanner struct{ dest *[]string }

func (l listScanner) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		*l.dest = nil
		return nil
	default:
		return fmt.Errorf("sqlstore: cannot decode list from %T", src)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("sqlstore: decode list: %w", err)
	}
	*l.dest = out
	return nil
}

// timeScanner decodes a BIGINT microseconds column into a time.Time.
type timeScanner struct{ dest *time.Time }

func (t timeScanner) Scan(src any) error {
	var v sql.NullInt64
	if err := v.Scan(src); err != nil {
		return err
	}
	if !v.Valid {
		return fmt.Errorf("sqlstore: NULL in a NOT NULL time column")
	}
	*t.dest = fromMicros(v.Int64)
	return nil
}

// nullTimeScanner decodes a nullable BIGINT microseconds column.
type nullTimeScanner struct{ dest **time.Time }

func (t nullTimeScanner) Scan(src any) error {
	var v sql.NullInt64
	if err := v.Scan(src); err != nil {
		return err
	}
	*t.dest = fromNullMicros(v)
	return nil
}

// ts, nts and lst wrap destinations for Scan.
func ts(p *time.Time) sql.Scanner   { return timeScanner{p} }
func nts(p **time.Time) sql.Scanner { return nullTimeScanner{p} }
func lst(p *[]string) sql.Scanner   { return listScanner{p} }

// prefixed qualifies each column of a comma-separated list: prefixed("m.",
// "id, org_id") is "m.id, m.org_id".
func prefixed(prefix, columns string) string {
	fields := strings.Split(columns, ",")
	for i, f := range fields {
		fields[i] = prefix + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

// norm returns t as the database gives it back: UTC, truncated to the
// microsecond. Create and Update methods write normalised times back into
// the record, so that it equals what a Get returns.
func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// normp is norm for optional times; it never modifies *t.
func normp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := norm(*t)
	return &n
}

// doc encodes a settings document as JSON text.
func doc(v any) string {
	b, err := json.Marshal(v)
	if err != nil { // only plain structs are stored: cannot happen
		panic("sqlstore: encode document: " + err.Error())
	}
	return string(b)
}

// docScanner decodes a JSON text column into dest.
type docScanner struct{ dest any }

func (d docScanner) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		return nil
	default:
		return fmt.Errorf("document column: unexpected %T", src)
	}
	return json.Unmarshal(b, d.dest)
}

func jsonDoc(p any) sql.Scanner { return docScanner{p} }
