package admin

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/provision"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// The CSV import of people and memberships (internal/provision): a dry
// run first, which shows what each line would do, then the apply step,
// which re-posts the same content (checked against its SHA-256), plans it
// again and writes it in one transaction.
func (c *Console) importRoutes() []route {
	return []route{
		{"GET /admin/orgs/{org}/import", c.importForm},
		{"GET /admin/orgs/{org}/import/template.csv", c.importTemplate},
		{"POST /admin/orgs/{org}/import", c.importDryRun},
		{"POST /admin/orgs/{org}/import/apply", c.importApply},
	}
}

const (
	// uploadLimit bounds a dry run's request: the file and the
	// multipart envelope.
	uploadLimit = provision.MaxBytes + 1<<20
	// applyLimit bounds an apply's request: the file in base64.
	applyLimit = (provision.MaxBytes+2)/3*4 + 1<<20
	// shownRows is how many rows without error the dry run lists (every
	// row in error is listed).
	shownRows = 500
)

type importPage struct {
	Frame    frame
	Org      storage.Organization
	Action   string // the upload form
	Template string // the template's URL
	Columns  []importColumn
	Example  string // the template's text
	MaxMiB   int
	MaxRows  string // formatted
	// FileError is the message next to the file input ("" when valid).
	FileError string
	Result    *importResult // after a dry run
}

type importColumn struct {
	Name, French, Example string
	Required              bool
}

// importResult is a dry run's outcome.
type importResult struct {
	FileName                          string
	Create, Update, Unchanged, Errors int
	Writes                            int
	Rows                              []importRow
	Hidden                            int    // rows without error not listed
	Apply                             string // the apply form's URL, "" when there is nothing to apply
	Content                           string // the file, base64
	Sum                               string // its SHA-256, hex
	ApplyError                        string // why the apply step failed
}

type importRow struct {
	Line     int
	Username string
	Name     string
	Action   string // provision.Action
	Changed  []string
	New      bool // a new membership of an existing person
	Errors   []string
}

// importOrg resolves {org} for an actor who may import into it.
func (c *Console) importOrg(r *http.Request, a authz.Actor) (storage.Organization, error) {
	o, err := c.org(r, a)
	if err != nil {
		return o, err
	}
	return o, authz.Check(a, authz.PeopleImport, authz.Org(o.ID))
}

func (c *Console) newImportPage(r *http.Request, a authz.Actor, o storage.Organization) importPage {
	french := web.Lang(r) == web.LangFR
	p := importPage{Frame: c.newFrame(r, a, &o, "import"), Org: o, Action: c.orgPath(o) + "/import",
		Template: c.orgPath(o) + "/import/template.csv", Example: string(importTemplate(french)),
		MaxMiB: provision.MaxBytes >> 20, MaxRows: thousands(provision.MaxRows, french)}
	for _, col := range provision.Columns() {
		p.Columns = append(p.Columns, importColumn{Name: col.Name, French: col.French, Example: col.Example, Required: col.Required})
	}
	return p
}

func (c *Console) importForm(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.importOrg(r, a)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "import", "admin.import.title", []any{o.Name}, c.newImportPage(r, a, o))
	return nil
}

// importTemplate is the template file: a header and one example row,
// French names and « ; » (what French spreadsheets write) or English
// names and « , »; a byte-order mark so that spreadsheets read UTF-8.
func importTemplate(french bool) []byte {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.UseCRLF = true
	if french {
		cw.Comma = ';'
	}
	var header, example []string
	for _, col := range provision.Columns() {
		if french {
			header = append(header, col.French)
		} else {
			header = append(header, col.Name)
		}
		example = append(example, col.Example)
	}
	cw.Write(header)  //nolint:errcheck // a bytes.Buffer
	cw.Write(example) //nolint:errcheck
	cw.Flush()
	return b.Bytes()
}

func (c *Console) importTemplate(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	if _, err := c.importOrg(r, a); err != nil {
		return err
	}
	french := web.Lang(r) == web.LangFR
	name := "template-import.csv"
	if french {
		name = "modele-import.csv"
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Cache-Control", "no-store")
	w.Write([]byte("\ufeff"))       //nolint:errcheck // the client went away
	w.Write(importTemplate(french)) //nolint:errcheck
	return nil
}

// importDryRun reads the uploaded file and shows what importing it would
// do; nothing is written.
func (c *Console) importDryRun(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.importOrg(r, a)
	if err != nil {
		return err
	}
	extendDeadlines(w)
	r.Body = http.MaxBytesReader(w, r.Body, uploadLimit)
	data, name, key := readUpload(r)
	if key != "" {
		page := c.newImportPage(r, a, o)
		page.FileError = c.T(r, key)
		if key == "admin.import.file.too_large" {
			page.FileError = c.T(r, key, provision.MaxBytes>>20)
		}
		c.renderForm(w, r, "import", "admin.import.title", []any{o.Name}, page)
		return nil
	}
	return c.showDryRun(w, r, a, o, name, data, nil)
}

// importDeadline is how long an import request may take to arrive and
// be answered: a large file is slow to upload, and its apply to write
// (about a second per thousand rows on SQLite), past the server's
// 30-second timeouts. Only an actor allowed to import gets it.
const importDeadline = 5 * time.Minute

func extendDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	t := time.Now().Add(importDeadline) // a network deadline: the wall clock
	_ = rc.SetReadDeadline(t)           // not every ResponseWriter supports it
	_ = rc.SetWriteDeadline(t)
}

// readUpload returns the file of the upload form, or the message key of
// what is wrong with it.
func readUpload(r *http.Request) (data []byte, name, key string) {
	if err := r.ParseMultipartForm(uploadLimit); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, "", "admin.import.file.too_large"
		}
		return nil, "", "admin.import.file.missing"
	}
	defer r.MultipartForm.RemoveAll() //nolint:errcheck // temporary files
	files := r.MultipartForm.File["file"]
	if len(files) == 0 || files[0].Filename == "" {
		return nil, "", "admin.import.file.missing"
	}
	fh := files[0]
	name = path.Base(strings.ReplaceAll(fh.Filename, `\`, "/"))
	mt, _, _ := mime.ParseMediaType(fh.Header.Get("Content-Type"))
	if mt != "text/csv" && !strings.HasSuffix(strings.ToLower(name), ".csv") {
		return nil, name, "admin.import.file.not_csv"
	}
	if fh.Size > provision.MaxBytes {
		return nil, name, "admin.import.file.too_large"
	}
	f, err := fh.Open()
	if err != nil {
		return nil, name, "admin.import.file.missing"
	}
	defer f.Close()
	if data, err = io.ReadAll(io.LimitReader(f, provision.MaxBytes+1)); err != nil {
		return nil, name, "admin.import.file.missing"
	}
	return data, name, ""
}

// showDryRun parses and plans data and shows the outcome: 200 with the
// apply form, or 422 with the lines in error. applyErr is the apply
// step's refusal of one line (a person changed meanwhile): the file is
// planned again, and may be applied again.
func (c *Console) showDryRun(w http.ResponseWriter, r *http.Request, a authz.Actor, o storage.Organization, name string, data []byte, applyErr error) error {
	page := c.newImportPage(r, a, o)
	rows, err := provision.Parse(data)
	if pes := provision.ParseErrors(err); len(pes) > 0 {
		msgs := make([]string, len(pes))
		for i, pe := range pes {
			msgs[i] = c.parseMessage(r, pe)
		}
		page.FileError = strings.Join(msgs, " ")
		c.renderForm(w, r, "import", "admin.import.title", []any{o.Name}, page)
		return nil
	} else if err != nil {
		return err
	}
	plan, err := provision.Plan(r.Context(), c.store, a, o.ID, rows)
	if err != nil {
		return err
	}
	res := &importResult{FileName: name, Create: plan.Create, Update: plan.Update, Unchanged: plan.Unchanged,
		Errors: plan.Errors, Writes: plan.Writes()}
	var le *provision.LineError
	if errors.As(applyErr, &le) {
		var msgs []string
		for _, fe := range field.List(le.Err) {
			msgs = append(msgs, c.importMessage(r, fe))
		}
		res.ApplyError = c.T(r, "admin.import.apply_failed", le.Line, strings.Join(msgs, " "))
	}
	for _, it := range plan.Items {
		res.Rows = append(res.Rows, c.importRow(r, it))
	}
	// Errors first, then the file's order; past shownRows, only errors.
	slices.SortStableFunc(res.Rows, func(x, y importRow) int {
		return boolRank(x.Action == string(provision.Invalid)) - boolRank(y.Action == string(provision.Invalid))
	})
	shown := 0
	res.Rows = slices.DeleteFunc(res.Rows, func(row importRow) bool {
		if row.Action == string(provision.Invalid) {
			return false
		}
		shown++
		return shown > shownRows
	})
	res.Hidden = max(0, shown-shownRows)
	if plan.Errors == 0 && plan.Writes() > 0 {
		sum := sha256.Sum256(data)
		res.Apply = c.orgPath(o) + "/import/apply"
		res.Content = base64.StdEncoding.EncodeToString(data)
		res.Sum = hex.EncodeToString(sum[:])
	}
	page.Result = res
	if plan.Errors > 0 || applyErr != nil {
		c.renderForm(w, r, "import", "admin.import.result_title", []any{o.Name}, page)
		return nil
	}
	c.render(w, r, http.StatusOK, "import", "admin.import.result_title", []any{o.Name}, page)
	return nil
}

// thousands writes n with its thousands separated: 20 000, 20,000.
func thousands(n int, french bool) string {
	s := strconv.Itoa(n)
	sep := ","
	if french {
		sep = "\u202f"
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + sep + s[i:]
	}
	return s
}

func boolRank(b bool) int {
	if b {
		return 0
	}
	return 1
}

func (c *Console) importRow(r *http.Request, it provision.Item) importRow {
	row := importRow{Line: it.Line, Username: it.Username, Action: string(it.Action),
		New: it.Action == provision.Update && it.NewMembership}
	if it.Person.GivenName != "" || it.Person.FamilyName != "" {
		row.Name = strings.TrimSpace(it.Person.GivenName + " " + lastName(it.Person))
	}
	for _, col := range it.Changed {
		row.Changed = append(row.Changed, c.columnLabel(r, col))
	}
	for _, fe := range it.Errors {
		row.Errors = append(row.Errors, c.importMessage(r, fe))
	}
	return row
}

// columnLabel is a column's header name in the page's language.
func (c *Console) columnLabel(r *http.Request, name string) string {
	french := web.Lang(r) == web.LangFR
	for _, col := range provision.Columns() {
		if col.Name == name {
			if french {
				return col.French
			}
			return col.Name
		}
	}
	return name
}

// importMessage translates a row's error, prefixed by its column:
// admin.import.error.<column>.<code>, admin.import.error.<code>, then the
// console's field messages.
func (c *Console) importMessage(r *http.Request, fe *field.Error) string {
	var args []any
	switch fe.Code {
	case "duplicate":
		args = []any{fe.Params["username"], fe.Params["line"]}
	case "fields":
		args = []any{fe.Params["value"], fe.Params["header"]}
	case "unnamed_column", "date":
		args = []any{fe.Params["value"]}
	case "shared", "protected":
		var cols []string
		for _, col := range strings.Split(fe.Params["columns"], ", ") {
			cols = append(cols, c.columnLabel(r, col))
		}
		args = []any{strings.Join(cols, ", ")}
	case field.Invalid:
		if fe.Field == provision.ColKind {
			args = []any{fe.Params["value"]}
		}
	}
	msg := ""
	for _, key := range []string{"admin.import.error." + fe.Field + "." + fe.Code, "admin.import.error." + fe.Code} {
		if s := c.T(r, key, args...); s != key {
			msg = s
			break
		}
	}
	if msg == "" {
		msg = c.fieldMessage(r, fe)
	}
	if fe.Field == "" {
		return msg
	}
	return c.T(r, "admin.import.in_column", c.columnLabel(r, fe.Field), msg)
}

// parseMessage translates a problem of the whole file.
func (c *Console) parseMessage(r *http.Request, pe *provision.ParseError) string {
	var cols []string
	for _, col := range pe.Columns {
		if web.Lang(r) == web.LangFR {
			cols = append(cols, "«\u00a0"+col+"\u00a0»")
		} else {
			cols = append(cols, "“"+col+"”")
		}
	}
	key := "admin.import.file." + pe.Code
	var s string
	switch pe.Code {
	case "unknown_columns", "missing_columns", "duplicate_columns":
		s = c.T(r, key, strings.Join(cols, ", "))
	case "too_large":
		s = c.T(r, key, provision.MaxBytes>>20)
	case "too_many_rows":
		s = c.T(r, key, thousands(provision.MaxRows, web.Lang(r) == web.LangFR))
	case "syntax":
		s = c.T(r, key, pe.Line)
	default:
		s = c.T(r, key)
	}
	if s == key {
		s = pe.Msg
	}
	return s
}

// importApply checks that the content is the file of the dry run, plans
// it again and writes it in one transaction.
func (c *Console) importApply(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, err := c.importOrg(r, a)
	if err != nil {
		return err
	}
	extendDeadlines(w)
	r.Body = http.MaxBytesReader(w, r.Body, applyLimit)
	if err := r.ParseMultipartForm(applyLimit); err != nil {
		if errors.Is(err, http.ErrNotMultipart) {
			if err := r.ParseForm(); err != nil {
				return fmt.Errorf("%w: %v", errBadRequest, err)
			}
		} else {
			return fmt.Errorf("%w: %v", errBadRequest, err)
		}
	}
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll() //nolint:errcheck // temporary files
	}
	data, err := base64.StdEncoding.DecodeString(r.PostFormValue("content"))
	sum := sha256.Sum256(data)
	want, herr := hex.DecodeString(r.PostFormValue("sha256"))
	if err != nil || herr != nil || len(data) == 0 || subtle.ConstantTimeCompare(sum[:], want) != 1 {
		page := c.newImportPage(r, a, o)
		page.FileError = c.T(r, "admin.import.file.tampered")
		c.renderForm(w, r, "import", "admin.import.title", []any{o.Name}, page)
		return nil
	}
	name := path.Base(r.PostFormValue("name"))
	rows, err := provision.Parse(data)
	if err != nil {
		return c.showDryRun(w, r, a, o, name, data, nil)
	}
	plan, err := provision.Plan(r.Context(), c.store, a, o.ID, rows)
	if err != nil {
		return err
	}
	if plan.Errors > 0 {
		return c.showDryRun(w, r, a, o, name, data, nil) // changed meanwhile
	}
	if _, err := provision.Apply(r.Context(), c.terr, a, o.ID, plan, nil); err != nil {
		var le *provision.LineError
		if errors.As(err, &le) && field.Is(err) {
			return c.showDryRun(w, r, a, o, name, data, err)
		}
		return err
	}
	done(w, r, c.orgPath(o)+"/people", "imported")
	return nil
}
