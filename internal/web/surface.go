package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// Surface is a set of pages another package owns (the admin console, the
// portal): its templates are drawn in the kit's layout, its messages sit
// beside the kit's (namespaced by the surface, "admin.…"), and its pages
// get the same headers, language and branding as the sign-in pages.
type Surface struct {
	r     *Renderer
	pages map[string]*template.Template
	cat   catalog
}

// SurfacePage is one page of a surface to render.
type SurfacePage struct {
	Name      string // template file name without .html
	TitleKey  string // message key of the <title> and heading
	TitleArgs []any
	// Error marks a page that answers a form with errors: its title says
	// so (RGAA 8.5).
	Error bool
	Data  any // the template's .Page
}

// NewSurface parses a surface: templates holds <name>.html pages, each
// defining "content", and _<name>.html partials shared by them; messages
// holds fr.json and en.json. Keys of a surface's messages must start with
// prefix + "." (so that surfaces never shadow each other or the kit).
func (r *Renderer) NewSurface(prefix string, templates, messages fs.FS) (*Surface, error) {
	s := &Surface{r: r, pages: map[string]*template.Template{}, cat: catalog{}}
	for _, lang := range languages() {
		// <lang>.json and <part>.<lang>.json: each part of a surface
		// keeps its own messages; a key defined twice is an error.
		names, err := fs.Glob(messages, "*"+lang+".json")
		if err != nil {
			return nil, err
		}
		s.cat[lang] = map[string]string{}
		for _, name := range names {
			if name != lang+".json" && !strings.HasSuffix(name, "."+lang+".json") {
				continue
			}
			b, err := fs.ReadFile(messages, name)
			if err != nil {
				return nil, fmt.Errorf("web: surface %s: %w", prefix, err)
			}
			m := map[string]string{}
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("web: surface %s: %s: %w", prefix, name, err)
			}
			for k, v := range m {
				if !strings.HasPrefix(k, prefix+".") {
					return nil, fmt.Errorf("web: surface %s: %s: key %q outside its namespace", prefix, name, k)
				}
				if _, dup := s.cat[lang][k]; dup {
					return nil, fmt.Errorf("web: surface %s: %s: key %q defined twice", prefix, name, k)
				}
				s.cat[lang][k] = v
			}
		}
		if len(s.cat[lang]) == 0 {
			return nil, fmt.Errorf("web: surface %s: no %s messages", prefix, lang)
		}
	}
	files, err := fs.Glob(templates, "*.html")
	if err != nil {
		return nil, err
	}
	var partials []string
	for _, f := range files {
		if strings.HasPrefix(f, "_") {
			partials = append(partials, f)
		}
	}
	layout, err := fs.ReadFile(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if strings.HasPrefix(f, "_") {
			continue
		}
		name := strings.TrimSuffix(path.Base(f), ".html")
		t, err := template.New(name).Option("missingkey=error").Parse(string(layout))
		if err != nil {
			return nil, fmt.Errorf("web: surface %s: layout: %w", prefix, err)
		}
		if t, err = t.ParseFS(templates, append([]string{f}, partials...)...); err != nil {
			return nil, fmt.Errorf("web: surface %s: parse %s: %w", prefix, f, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("web: surface %s: %s defines no content", prefix, f)
		}
		s.pages[name] = t
	}
	return s, nil
}

// Keys returns the message keys of the surface in lang (for tests).
func (s *Surface) Keys(lang string) map[string]string { return s.cat[lang] }

// Render writes p as a full HTML document with status (0: 200).
func (s *Surface) Render(w http.ResponseWriter, req *http.Request, status int, p SurfacePage) {
	t, ok := s.pages[p.Name]
	if !ok {
		s.r.fail(w, req, fmt.Errorf("surface: no page %q", p.Name))
		return
	}
	lang := Lang(req)
	sw := switchLink(req, lang)
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		sw = langLink{} // the answer to a form: its URL shows nothing again
	}
	title := s.translate(lang, p.TitleKey, p.TitleArgs...)
	if p.Error {
		title = T(lang, "common.title_error", title)
	}
	v := view{
		Lang: lang, Home: s.r.base + "/", Product: s.r.product,
		Title:  T(lang, "common.page_title", title, s.r.product),
		CSSURL: s.r.cssURL, LogoURL: s.r.logoURL, Switch: sw, Brand: s.r.brand,
		Page: p.Data, extra: s.cat,
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.r.fail(w, req, fmt.Errorf("execute surface page %s: %w", p.Name, err))
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
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}

// translate looks key up in the surface's messages, then the kit's.
func (s *Surface) translate(lang, key string, args ...any) string {
	if _, ok := s.cat[lang][key]; ok {
		return s.cat.translate(lang, key, args...)
	}
	if _, ok := s.cat[LangFR][key]; ok {
		return s.cat.translate(lang, key, args...)
	}
	return T(lang, key, args...)
}

// T translates key for lang with the surface's messages first.
func (s *Surface) T(lang, key string, args ...any) string { return s.translate(lang, key, args...) }
