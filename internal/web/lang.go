package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Languages served. French is the default: TNO serves French local
// governments.
const (
	LangFR = "fr"
	LangEN = "en"

	// LangCookie remembers a language chosen with the ?lang= link.
	LangCookie = "tno_lang"
)

// languages lists the served languages, default first.
func languages() []string { return []string{LangFR, LangEN} }

// messageFS holds one flat JSON object per language, key → message, so
// that a translator can edit messages/<lang>.json without touching Go.
// Messages that take arguments use fmt verbs (%s, %d).
//
//go:embed messages/*.json
var messageFS embed.FS

type catalog map[string]map[string]string // lang → key → message

// loadCatalog parses the embedded message files once. The result is never
// modified afterwards; New reports a parse error, T falls back to the key.
var loadCatalog = sync.OnceValues(func() (catalog, error) {
	c := catalog{}
	for _, lang := range languages() {
		name := "messages/" + lang + ".json"
		b, err := messageFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		c[lang] = m
	}
	return c, nil
})

// T translates a message key into lang, formatting args with fmt verbs.
// A key missing in English falls back to French; a key missing everywhere
// (or an unknown language with a key missing in French) returns the key
// itself, so a gap is visible but harmless.
func T(lang, key string, args ...any) string {
	c, err := loadCatalog()
	if err != nil {
		return key
	}
	return c.translate(lang, key, args...)
}

func (c catalog) translate(lang, key string, args ...any) string {
	msg, ok := c[lang][key]
	if !ok {
		msg, ok = c[LangFR][key]
	}
	if !ok {
		return key
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// Lang returns the language to serve, "fr" or "en": the ?lang= query
// parameter, then the tno_lang cookie, then the Accept-Language header
// (the supported language with the highest q > 0, the first one on a
// tie), else French. Invalid values at one step fall through to the next.
func Lang(r *http.Request) string {
	if l, ok := matchLang(r.URL.Query().Get("lang")); ok {
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		if l, ok := matchLang(c.Value); ok {
			return l
		}
	}
	return acceptLanguage(strings.Join(r.Header.Values("Accept-Language"), ","))
}

// matchLang maps a language tag (fr, fr-FR, EN-gb…) to a served language.
func matchLang(tag string) (string, bool) {
	base, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
	switch strings.ToLower(base) {
	case LangFR:
		return LangFR, true
	case LangEN:
		return LangEN, true
	}
	return "", false
}

// maxAcceptItems bounds the work spent on a hostile Accept-Language.
const maxAcceptItems = 32

// acceptLanguage picks a served language from an Accept-Language value
// (RFC 9110 §12.5.4). The wildcard and unsupported languages are ignored;
// an item with a malformed q is skipped.
func acceptLanguage(h string) string {
	best, bestQ := "", 0.0
	for i := 0; h != "" && i < maxAcceptItems; i++ {
		var item string
		item, h, _ = strings.Cut(h, ",")
		tag, params, _ := strings.Cut(item, ";")
		lang, ok := matchLang(tag)
		if !ok {
			continue
		}
		q, ok := qValue(params)
		if ok && q > bestQ {
			best, bestQ = lang, q
		}
	}
	if best == "" {
		return LangFR
	}
	return best
}

// qValue returns the weight in the parameters of an Accept-Language item,
// 1 when absent.
func qValue(params string) (float64, bool) {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(q) || q < 0 || q > 1 {
			return 0, false
		}
		return q, true
	}
	return 1, true
}

// setLangCookie remembers a language explicitly chosen with ?lang=, so
// that it survives form posts and redirects during a sign-in flow. It is
// a preference, not a secret, but is still HttpOnly and SameSite=Lax.
func setLangCookie(w http.ResponseWriter, r *http.Request, lang string) {
	if _, ok := matchLang(r.URL.Query().Get("lang")); !ok {
		return
	}
	if c, err := r.Cookie(LangCookie); err == nil && c.Value == lang {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     LangCookie,
		Value:    lang,
		Path:     "/",
		MaxAge:   365 * 24 * 3600,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
}
