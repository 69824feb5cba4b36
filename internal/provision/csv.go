// Package provision brings people into the territory from outside
// documents, in two steps: Plan says, line by line, what would be
// created, updated, left unchanged or refused, writing nothing; Apply
// writes a plan without errors in one transaction, through the
// territory's use cases (so every change is checked, validated and
// audited as if made by hand). Today it reads the CSV import of people
// and memberships — the console's import page, `tno import`, later the
// REST API; `tno apply`, SCIM and LDAP synchronisation are meant to
// come here too.
//
// # The CSV file
//
// UTF-8 text (a byte-order mark is accepted: « CSV UTF-8 » in
// spreadsheet programs), at most MaxBytes and MaxRows data rows. The
// separator is « ; » or « , », whichever the header line uses. Fields
// holding the separator, quotes or line breaks are quoted ("…", a quote
// doubled inside). The first line names the columns, in any order, in
// French or English, ignoring case and accents:
//
//	identifiant   username     required: the sign-in identifier
//	prenom        given_name   required
//	nom           family_name  required: birth name
//	nom_usage     usual_name   if it differs from the birth name
//	courriel      email        personal e-mail address
//	telephone     phone
//	qualite       kind         agent or elu (default agent)
//	service       service      service or direction
//	fonction      title        job title
//	courriel_pro  work_email   e-mail address for this organization
//	debut         from         start of the membership: YYYY-MM-DD or DD/MM/YYYY (default today)
//	fin           until        end of the membership (exclusive), same formats
//
// An unknown column is an error naming it. Each following line is one
// person with one membership of the organization imported into; blank
// lines are skipped. A person is found by identifier: one who exists is
// updated, one who does not is created. A column the file does not have
// leaves that field as it is; an empty cell in a column it has clears an
// optional field (an empty debut keeps the start date). testdata/example.csv
// is an example.
//
// It imports internal/storage, internal/field, internal/authz and
// internal/territory (and golang.org/x/text to fold accents of column
// names).
package provision

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/territoires-ouverts/tno/internal/field"
)

// Limits of one file.
const (
	MaxBytes = 10 << 20 // 10 MiB
	MaxRows  = 20000
)

// Column names (Column.Name): the English header names.
const (
	ColUsername   = "username"
	ColGivenName  = "given_name"
	ColFamilyName = "family_name"
	ColUsualName  = "usual_name"
	ColEmail      = "email"
	ColPhone      = "phone"
	ColKind       = "kind"
	ColService    = "service"
	ColTitle      = "title"
	ColWorkEmail  = "work_email"
	ColFrom       = "from"
	ColUntil      = "until"
)

// Column is one column a file may have.
type Column struct {
	Name     string // English header name, the key of Row.Cells
	French   string // French header name
	Required bool
	Example  string // a value, for the documentation and the template
}

var columns = []Column{
	{ColUsername, "identifiant", true, "jeanne.dupont"},
	{ColGivenName, "prenom", true, "Jeanne"},
	{ColFamilyName, "nom", true, "Martin"},
	{ColUsualName, "nom_usage", false, "Dupont"},
	{ColEmail, "courriel", false, "jeanne.dupont@exemple.fr"},
	{ColPhone, "telephone", false, "+33 6 12 34 56 78"},
	{ColKind, "qualite", false, "agent"},
	{ColService, "service", false, "Direction du numérique"},
	{ColTitle, "fonction", false, "Cheffe de projet"},
	{ColWorkEmail, "courriel_pro", false, "j.dupont@metropole.exemple.fr"},
	{ColFrom, "debut", false, "2026-01-05"},
	{ColUntil, "fin", false, ""},
}

// Columns lists the columns a file may have, in the order of the
// template.
func Columns() []Column { return slices.Clone(columns) }

// Row is one data line of a file.
type Row struct {
	// Line is the file's line where the row starts (the header is line
	// 1; a quoted line break makes a row span several lines).
	Line int
	// Cells holds the row's values, trimmed, by column name, for the
	// columns the file has: a missing key is a column the file does not
	// have, an empty value an empty cell.
	Cells map[string]string
	// Errs are problems of the row itself (a wrong number of fields).
	Errs []*field.Error
}

// ParseError is a problem of the file as a whole: nothing can be
// planned.
type ParseError struct {
	Line int
	// Code says which problem: "encoding", "too_large", "too_many_rows",
	// "syntax", "empty", "no_rows", "unknown_columns",
	// "missing_columns", "duplicate_columns".
	Code    string
	Columns []string // the columns in question, as the file writes them
	Msg     string   // English, for the CLI and logs
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ParseErrors returns the file problems err holds, in order.
func ParseErrors(err error) []*ParseError {
	var out []*ParseError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *ParseError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// Parse reads a CSV file. A problem of the file as a whole is returned
// as one or more *ParseError (see ParseErrors); problems of a row are in
// its Errs, and Plan reports them with the others.
func Parse(data []byte) ([]Row, error) {
	if len(data) > MaxBytes {
		return nil, &ParseError{Line: 1, Code: "too_large", Msg: fmt.Sprintf("the file is larger than %d MiB", MaxBytes>>20)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if line, ok := badEncoding(data); !ok {
		return nil, &ParseError{Line: 1, Code: "encoding",
			Msg: fmt.Sprintf("the file is not UTF-8 text (first wrong byte on line %d): save it as « CSV UTF-8 »", line)}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = separator(data)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &ParseError{Line: 1, Code: "empty", Msg: "the file is empty"}
	}
	if err != nil {
		return nil, syntaxError(err)
	}
	names, err := readHeader(header)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxError(err)
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if len(rows) == MaxRows {
			return nil, &ParseError{Line: line, Code: "too_many_rows", Msg: fmt.Sprintf("the file has more than %d rows: split it", MaxRows)}
		}
		rows = append(rows, newRow(line, names, rec))
	}
	if len(rows) == 0 {
		return nil, &ParseError{Line: 2, Code: "no_rows", Msg: "the file has a header but no row"}
	}
	return rows, nil
}

// badEncoding finds the line of the first byte that is not UTF-8 text
// (NUL bytes included: a UTF-16 file).
func badEncoding(data []byte) (int, bool) {
	if utf8.Valid(data) && bytes.IndexByte(data, 0) < 0 {
		return 0, true
	}
	line := 1
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if (r == utf8.RuneError && n == 1) || r == 0 {
			return line, false
		}
		if r == '\n' {
			line++
		}
		i += n
	}
	return line, false
}

// separator returns the header line's separator: the more frequent of
// ';' and ',' outside quotes (';' when tied or neither).
func separator(data []byte) rune {
	semi, comma, quoted := 0, 0, false
	for _, c := range data {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\n':
			if comma > semi {
				return ','
			}
			return ';'
		case c == ';':
			semi++
		case c == ',':
			comma++
		}
	}
	if comma > semi {
		return ','
	}
	return ';'
}

func syntaxError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			msg = "a quote is misplaced or never closed: quote the whole field and double the quotes inside (\"\")"
		}
		return &ParseError{Line: pe.Line, Code: "syntax", Msg: msg}
	}
	return &ParseError{Line: 1, Code: "syntax", Msg: err.Error()}
}

// headerKey folds a header name: lowercase, no accents, '_' for spaces
// and hyphens.
func headerKey(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, strings.TrimSpace(s))
	if err != nil {
		out = s
	}
	out = strings.ToLower(out)
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, out)
}

// lookupColumn returns the column a header name stands for.
func lookupColumn(name string) (Column, bool) {
	k := headerKey(name)
	for _, c := range columns {
		if k == c.Name || k == c.French {
			return c, true
		}
	}
	return Column{}, false
}

// readHeader returns the column name of each header field ("" for a
// field without a name, ignored if its cells are empty).
func readHeader(header []string) ([]string, error) {
	names := make([]string, len(header))
	var unknown, dup []string
	seen := map[string]bool{}
	for i, h := range header {
		if strings.TrimSpace(h) == "" {
			continue
		}
		c, ok := lookupColumn(h)
		switch {
		case !ok:
			unknown = append(unknown, strings.TrimSpace(h))
		case seen[c.Name]:
			dup = append(dup, strings.TrimSpace(h))
		default:
			seen[c.Name] = true
			names[i] = c.Name
		}
	}
	var errs []error
	if len(unknown) > 0 {
		errs = append(errs, &ParseError{Line: 1, Code: "unknown_columns", Columns: unknown,
			Msg: fmt.Sprintf("unknown column(s) %s: the columns are %s", quoteList(unknown), knownColumns())})
	}
	if len(dup) > 0 {
		errs = append(errs, &ParseError{Line: 1, Code: "duplicate_columns", Columns: dup,
			Msg: fmt.Sprintf("column(s) %s given twice", quoteList(dup))})
	}
	var missing []string
	for _, c := range columns {
		if c.Required && !seen[c.Name] {
			missing = append(missing, c.French)
		}
	}
	if len(missing) > 0 {
		errs = append(errs, &ParseError{Line: 1, Code: "missing_columns", Columns: missing,
			Msg: fmt.Sprintf("required column(s) %s missing (French or English names: see the template)", quoteList(missing))})
	}
	return names, errors.Join(errs...)
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func knownColumns() string {
	var b strings.Builder
	for i, c := range columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.French + "/" + c.Name)
	}
	return b.String()
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func newRow(line int, names, rec []string) Row {
	r := Row{Line: line, Cells: make(map[string]string, len(names))}
	for i, name := range names {
		v := ""
		if i < len(rec) {
			v = strings.TrimSpace(rec[i])
		}
		if name != "" {
			r.Cells[name] = v
		} else if v != "" {
			r.Errs = append(r.Errs, field.New("", "unnamed_column", "column %d has a value but no name in the header", i+1).With("value", fmt.Sprint(i+1)))
		}
	}
	switch {
	case len(rec) < len(names):
		r.Errs = append(r.Errs, field.New("", "fields", "has %d fields, the header %d: a separator is missing", len(rec), len(names)).
			With("value", fmt.Sprint(len(rec))).With("header", fmt.Sprint(len(names))))
	case len(rec) > len(names) && !blank(rec[len(names):]):
		r.Errs = append(r.Errs, field.New("", "fields", "has %d fields, the header %d: quote a value holding the separator", len(rec), len(names)).
			With("value", fmt.Sprint(len(rec))).With("header", fmt.Sprint(len(names))))
	}
	return r
}

// parseDate reads YYYY-MM-DD or DD/MM/YYYY (midnight, local time).
func parseDate(col, s string) (time.Time, error) {
	for _, layout := range []string{"2006-1-2", "2/1/2006"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, field.New(col, "date", "not a date (YYYY-MM-DD or DD/MM/YYYY): %q", s).With("value", s)
}
