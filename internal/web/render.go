package web

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

// Options configures a Renderer.
type Options struct {
	Logger      *slog.Logger // nil discards
	ProductName string       // shown in titles, header and footer; "TNO" if empty
	// BasePath is the path prefix under which Static is mounted (the
	// issuer's path, such as "/tno"), without trailing slash; "" for root.
	BasePath string
	// Brand is the territory's presentation (logo, help, footer links).
	Brand Brand
}

// Brand is how the platform presents itself on every page.
type Brand struct {
	// Logo is an SVG or PNG image and LogoType its media type; TNO's own
	// logo when Logo is empty. Served by LogoHandler.
	Logo     []byte
	LogoType string
	// Support is a sentence on how to reach help, SupportURL a link.
	Support, SupportURL string
	// Footer links, each optional.
	LegalNoticeURL, PersonalDataURL, AccessibilityURL string
	// AccessibilityStatus is "non", "partial" or "full" (RGAA).
	AccessibilityStatus string
}

// LogoPath is where LogoHandler is mounted, under the base path.
const LogoPath = "/brand/logo"

// Renderer renders the HTML pages. It is safe for concurrent use.
type Renderer struct {
	log     *slog.Logger
	product string
	pages   map[string]*template.Template // page name → layout + page
	cssURL  string
	logoURL string
	// formPostJS is the URL of form_post.js, the one script, loaded by
	// FormPostPage only.
	base       string // the issuer's path, "" at the root
	formPostJS string
	// passkeyJS is the URL of passkey.js, loaded by the pages that offer
	// a passkey (PasskeyForm).
	passkeyJS string
	brand     Brand
}

// Page template names; each is templates/<name>.html with the layout.
const (
	pageLogin     = "login"
	pageChooser   = "chooser"
	pageMessage   = "message"
	pageLoggedOut = "logged_out"
	pageLogout    = "logout_confirm"
	pageFormPost  = "form_post"
	pageConsent   = "consent"
	pageAccount   = "account_consents"
	pagePassword  = "password_change"
	pageFactor    = "factor"
	pageSecurity  = "security"
	pageEnrol     = "totp_enrol"
	pageRecovery  = "recovery_codes"
	pagePasskey   = "passkey_enrol"
)

// New parses the embedded messages, assets and templates once. It fails
// on any parse error, so a broken template stops the server at start.
func New(opts Options) (*Renderer, error) {
	if _, err := loadCatalog(); err != nil {
		return nil, fmt.Errorf("web: load messages: %w", err)
	}
	assets, err := loadAssets()
	if err != nil {
		return nil, fmt.Errorf("web: load static assets: %w", err)
	}
	for _, name := range []string{"tno.css", "logo.svg", "form_post.js"} {
		if _, ok := assets[name]; !ok {
			return nil, fmt.Errorf("web: missing static asset %s", name)
		}
	}
	r := &Renderer{
		log:     opts.Logger,
		product: opts.ProductName,
		pages:   map[string]*template.Template{},
		cssURL:  strings.TrimSuffix(opts.BasePath, "/") + assetURL(assets, "tno.css"),
		logoURL: strings.TrimSuffix(opts.BasePath, "/") + assetURL(assets, "logo.svg"),
	}
	r.base = strings.TrimSuffix(opts.BasePath, "/")
	r.formPostJS = strings.TrimSuffix(opts.BasePath, "/") + assetURL(assets, "form_post.js")
	r.passkeyJS = strings.TrimSuffix(opts.BasePath, "/") + assetURL(assets, "passkey.js")
	r.brand = opts.Brand
	if len(r.brand.Logo) > 0 {
		sum := sha256.Sum256(r.brand.Logo)
		r.logoURL = strings.TrimSuffix(opts.BasePath, "/") + LogoPath + "?v=" + hex.EncodeToString(sum[:8])
	}
	if r.brand.AccessibilityStatus == "" {
		r.brand.AccessibilityStatus = "non"
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.product == "" {
		r.product = "TNO"
	}
	for _, name := range []string{pageLogin, pageChooser, pageMessage, pageLoggedOut, pageLogout, pageFormPost, pageConsent, pageAccount, pagePassword, pageFactor, pageSecurity, pageEnrol, pageRecovery, pagePasskey, pageForgot, pageReset, pageResetDone} {
		t, err := template.New(name).Option("missingkey=error").
			ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse template %s: %w", name, err)
		}
		if t.Lookup("layout") == nil || t.Lookup("content") == nil {
			return nil, fmt.Errorf("web: template %s: missing layout or content", name)
		}
		r.pages[name] = t
	}
	return r, nil
}

// view is the data every template receives: the page struct under Page,
// plus what the layout needs.
type view struct {
	Lang    string
	Product string
	Title   string // full <title>, translated
	CSSURL  string
	LogoURL string
	Script  string   // URL of the page's script, "" for none (the CSP forbids it elsewhere)
	Switch  langLink // Href "" for no language link
	Brand   Brand
	Home    string // TNO's home page (the issuer's root), for the ways back
	Page    any
	extra   catalog // a surface's own messages, looked up first
}

// langLink is the link to the same page in the other language.
type langLink struct {
	Href  string // relative: ?<current query with lang replaced>
	Lang  string // target language, for hreflang and lang
	Label string // the target language's name, in that language
}

// With returns the view with data as its Page: a partial drawing one
// part of a page (a form among several) keeps the view's T and language:
// {{template "form" ($.With .Form)}}.
func (v view) With(data any) view {
	v.Page = data
	return v
}

// T translates key into the page's language.
func (v view) T(key string, args ...any) string {
	if v.extra != nil {
		if _, ok := v.extra[v.Lang][key]; ok {
			return v.extra.translate(v.Lang, key, args...)
		}
		if _, ok := v.extra[LangFR][key]; ok {
			return v.extra.translate(v.Lang, key, args...)
		}
	}
	return T(v.Lang, key, args...)
}

// Kind labels a membership kind ("agent", "elu"), or shows it as is if
// it has no message.
func (v view) Kind(kind string) string {
	key := "kind." + kind
	if s := T(v.Lang, key); s != key {
		return s
	}
	return kind
}

// Scope tells in plain words what a scope releases, or shows the scope
// as is if it has no message.
func (v view) Scope(scope string) string {
	key := "scope." + scope
	if s := T(v.Lang, key); s != key {
		return s
	}
	return scope
}

// Date writes a day in words ("14 mars 2026", "1er août 2026"), in UTC.
func (v view) Date(t time.Time) string {
	t = t.UTC()
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = T(v.Lang, "common.first_day")
	}
	return T(v.Lang, "common.date", day, T(v.Lang, "month."+strconv.Itoa(int(t.Month()))), t.Year())
}

// ISODate writes a day as a <time datetime> value (2026-03-14), in UTC.
func (v view) ISODate(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Render writes page as a full HTML document with status. page is one of
// LoginPage, ChooserPage, MessagePage, LoggedOutPage, LogoutConfirmPage,
// FormPostPage, ConsentPage, AccountConsentsPage, PasswordChangePage,
// FactorPage, SecurityPage, TOTPEnrolPage, RecoveryCodesPage, ForgotPage,
// ResetPage, ResetDonePage, or a non-nil pointer to one. The language is Lang(req); a valid ?lang=
// is also remembered in the tno_lang cookie. The page is rendered into a
// buffer first: on any failure nothing of it is sent, the cause is logged
// and the person gets a plain 500.
func (r *Renderer) Render(w http.ResponseWriter, req *http.Request, status int, page any) {
	lang := Lang(req)
	name, v, err := r.prepare(req, lang, status, page)
	if err != nil {
		r.fail(w, req, err)
		return
	}
	if v.Script != "" {
		// The page's own script, served by TNO (never inline).
		AllowScripts(w.Header())
	}
	var buf bytes.Buffer
	if err := r.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		r.fail(w, req, fmt.Errorf("execute template %s: %w", name, err))
		return
	}
	if status == 0 {
		status = http.StatusOK
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	setLangCookie(w, req, lang)
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away; nothing to do
}

// LogoHandler serves the territory's logo (404 when TNO's own is used,
// which Static serves). The URL carries a version: it is cached for long.
func (r *Renderer) LogoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if len(r.brand.Logo) == 0 {
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		h.Set("Content-Type", r.brand.LogoType)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		// An SVG opened directly runs no script and loads nothing.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
		h.Set("Content-Length", strconv.Itoa(len(r.brand.Logo)))
		w.Write(r.brand.Logo) //nolint:errcheck // the client went away
	})
}

// errNilPage reports a nil pointer page.
var errNilPage = errors.New("nil page")

// prepare picks the template for page and builds its view.
func (r *Renderer) prepare(req *http.Request, lang string, status int, page any) (string, view, error) {
	if status != 0 && (status < 100 || status > 999) {
		return "", view{}, fmt.Errorf("invalid HTTP status %d", status)
	}
	page, err := deref(page)
	if err != nil {
		return "", view{}, err
	}
	var name, titleKey, errorKey, script string
	sw := switchLink(req, lang)
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		// A page answering a form: its URL shows nothing again. The link
		// goes to the page's step of the sign-in in the other language,
		// when there is one, and is left out otherwise.
		sw = r.stepLink(page, lang, sw)
	}
	switch p := page.(type) {
	case LoginPage:
		if p.AppName == "" {
			p.AppName = r.product
		}
		name, titleKey, errorKey, page = pageLogin, "login.title", p.ErrorKey, p
		if p.Passkey != nil {
			script = r.passkeyJS
		}
	case ChooserPage:
		if p.AppName == "" {
			p.AppName = r.product
		}
		name, titleKey, errorKey, page = pageChooser, "chooser.title", p.ErrorKey, p
	case MessagePage:
		if p.Status == 0 {
			p.Status = status
		}
		if p.TitleKey == "" {
			p.TitleKey = "error.title"
		}
		if p.MessageKey == "" {
			p.MessageKey = "error.generic"
		}
		name, titleKey, page = pageMessage, p.TitleKey, p
	case LoggedOutPage:
		name, titleKey = pageLoggedOut, "logout.title"
	case LogoutConfirmPage:
		name, titleKey = pageLogout, "logout.confirm_title"
	case FormPostPage:
		// No language link: the page is on its way out, and its URL (an
		// authorization request) is not one to load again.
		name, titleKey, script, sw = pageFormPost, "form_post.title", r.formPostJS, langLink{}
	case ConsentPage:
		if p.AppName == "" {
			p.AppName = r.product
		}
		name, titleKey, page = pageConsent, "consent.title", p
	case AccountConsentsPage:
		name, titleKey = pageAccount, "account.title"
	case PasswordChangePage:
		name, titleKey, errorKey = pagePassword, "password_change.title", p.ErrorKey
	case FactorPage:
		name, titleKey, errorKey = pageFactor, "factor.title", p.ErrorKey
		if p.Passkey != nil {
			script = r.passkeyJS
		}
	case SecurityPage:
		name, titleKey = pageSecurity, "security.title"
	case TOTPEnrolPage:
		name, titleKey, errorKey = pageEnrol, "enrol.title", p.ErrorKey
		if p.Passkey != nil {
			script = r.passkeyJS
		}
	case RecoveryCodesPage:
		name, titleKey = pageRecovery, "recovery.title"
	case PasskeyEnrolPage:
		name, titleKey, script = pagePasskey, "passkey.enrol_title", r.passkeyJS
	case ForgotPage:
		name, titleKey, errorKey = pageForgot, "forgot.title", p.ErrorKey
	case ResetPage:
		name, titleKey, errorKey = pageReset, p.titleKey(), p.ErrorKey
	case ResetDonePage:
		name, titleKey = pageResetDone, "reset_done.title"
	default:
		return "", view{}, fmt.Errorf("unsupported page type %T", page)
	}
	title := T(lang, titleKey)
	if errorKey != "" {
		title = T(lang, "common.title_error", title)
	}
	return name, view{
		Lang:    lang,
		Home:    r.base + "/",
		Product: r.product,
		Title:   T(lang, "common.page_title", title, r.product),
		CSSURL:  r.cssURL,
		LogoURL: r.logoURL,
		Script:  script,
		Switch:  sw,
		Brand:   r.brand,
		Page:    page,
	}, nil
}

// deref turns a pointer to a page struct into the struct.
func deref(page any) (any, error) {
	v := reflect.ValueOf(page)
	if v.Kind() != reflect.Pointer {
		return page, nil
	}
	if v.IsNil() {
		return nil, fmt.Errorf("%w %T", errNilPage, page)
	}
	return v.Elem().Interface(), nil
}

// switchLink links to the current URL in the other language. It keeps the
// URL's query string (never the posted form, which may hold a password)
// and sets lang.
// stepLink is the language link of a page answering a form: the GET
// URL of the same step of the sign-in (a pending sign-in's pages show its
// current step), or none.
func (r *Renderer) stepLink(page any, lang string, sw langLink) langLink {
	var path, id string
	switch p := page.(type) {
	case LoginPage:
		path, id = "/login", p.RequestID
	case FactorPage:
		path, id = "/login", p.RequestID
	case PasswordChangePage:
		path, id = "/login", p.RequestID
	case ChooserPage:
		path, id = "/select", p.RequestID
	}
	if id == "" {
		return langLink{}
	}
	q := url.Values{"request": {id}, "lang": {sw.Lang}}
	sw.Href = r.base + path + "?" + q.Encode()
	return sw
}

func switchLink(req *http.Request, lang string) langLink {
	other := LangEN
	if lang == LangEN {
		other = LangFR
	}
	q := req.URL.Query()
	q.Set("lang", other)
	return langLink{Href: "?" + q.Encode(), Lang: other, Label: T(lang, "common.lang_switch")}
}

// fail logs a rendering failure and writes a plain, bilingual 500.
func (r *Renderer) fail(w http.ResponseWriter, req *http.Request, err error) {
	r.log.ErrorContext(req.Context(), "render page", "err", err, "method", req.Method, "path", req.URL.Path)
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "500 Erreur interne du serveur / Internal Server Error", http.StatusInternalServerError)
}

// Error renders a MessagePage with titleKey, messageKey and a fresh error
// ID. If cause is non-nil it is logged with that ID ("err", "error_id"),
// at error level for a 5xx status and warning level otherwise; the cause
// never reaches the page.
func (r *Renderer) Error(w http.ResponseWriter, req *http.Request, status int, titleKey, messageKey string, cause error) {
	id := NewErrorID()
	if cause != nil {
		level := slog.LevelWarn
		if status >= 500 || status == 0 {
			level = slog.LevelError
		}
		r.log.Log(req.Context(), level, "request failed",
			"err", cause, "error_id", id, "status", status, "method", req.Method, "path", req.URL.Path)
	}
	r.Render(w, req, status, MessagePage{Status: status, TitleKey: titleKey, MessageKey: messageKey, ErrorID: id})
}

// errorIDEncoding is Crockford's base32: no I, L, O or U, easy to read
// out over the phone.
var errorIDEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// NewErrorID returns a random reference such as "7KQ2M-X9D4T" (50 bits)
// that a person quotes to support and that the log records as error_id.
func NewErrorID() string {
	var b [7]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go ≥ 1.24)
	s := errorIDEncoding.EncodeToString(b[:])[:10]
	return s[:5] + "-" + s[5:]
}
