package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ContentSecurityPolicy is the policy SecurityHeaders sets: no script at
// all, styles and images from our own origin only, no framing, no <base>.
//
// form-action: browsers (Chrome at least) also check form-action against
// every redirect that follows a form submission. The
// login and chooser forms post to 'self', which answers with a redirect to
// the relying party's registered redirect URI (code response). Those URIs
// are database rows that change at run time and may be plain http on
// internal networks or on loopback (RFC 8252 native apps), so a list of
// origins cannot be fixed here, and 'self' alone would break every sign-in.
// We therefore allow 'self' https: http:. This still forbids posting to
// javascript:, data: and other schemes; the real defence against markup
// injection is html/template's escaping. Native apps that register a
// private-use scheme (com.example.app:/cb) are added per response, by the
// handler that knows the redirect URI, with AllowFormAction.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'"

// hstsValue is sent over TLS only. No preload: that is a deployment
// decision for the territory's domain, not ours.
const hstsValue = "max-age=63072000; includeSubDomains"

// SecurityHeaders sets the browser defences on every response of the
// browser mux before calling next: CSP (ContentSecurityPolicy), nosniff,
// no referrer, no framing, no powerful features, an isolated browsing
// context group, and HSTS when the request came over TLS. (Behind a
// TLS-terminating proxy r.TLS is nil: the proxy should then send HSTS.)
// Handlers may still override a header before writing.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", hstsValue)
		}
		next.ServeHTTP(w, r)
	})
}

// AllowFormAction widens the form-action directive of the CSP already in
// h so that a page's form may end in a redirect to target, a registered
// redirect URI. http and https targets are already allowed; for any other
// scheme (a native app's private-use scheme) the scheme source "scheme:"
// is added. Call it before Render. It does nothing if h has no CSP with a
// form-action directive or if target has no valid scheme.
func AllowFormAction(h http.Header, target string) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" {
		return
	}
	scheme := strings.ToLower(u.Scheme) // url.Parse allows only [a-z0-9+.-]
	if scheme == "http" || scheme == "https" {
		return
	}
	csp := h.Get("Content-Security-Policy")
	directives := strings.Split(csp, ";")
	for i, d := range directives {
		fields := strings.Fields(d)
		if len(fields) == 0 || !strings.EqualFold(fields[0], "form-action") {
			continue
		}
		src := scheme + ":"
		for _, f := range fields[1:] {
			if strings.EqualFold(f, src) {
				return
			}
		}
		directives[i] = strings.TrimRight(d, " ") + " " + src
		h.Set("Content-Security-Policy", strings.Join(directives, ";"))
		return
	}
}

// AllowScripts lets the page rendered next run scripts served by TNO
// itself: it adds script-src 'self' to the CSP already in h. Only the
// form_post page needs it (FormPostPage and static/form_post.js); every
// other page keeps the policy without script. Inline script stays
// forbidden. Call it before Render. It does nothing if h has no CSP.
func AllowScripts(h http.Header) {
	csp := h.Get("Content-Security-Policy")
	if csp == "" {
		return
	}
	for _, d := range strings.Split(csp, ";") {
		if fields := strings.Fields(d); len(fields) > 0 && strings.EqualFold(fields[0], "script-src") {
			return
		}
	}
	h.Set("Content-Security-Policy", strings.TrimRight(csp, "; ")+"; script-src 'self'")
}

// AllowFrames lets the page rendered next embed the given http(s) URLs in
// iframes (front-channel logout): it adds their origins to a frame-src
// directive of the CSP already in h, creating the directive if needed.
// Nothing else may be framed, and every other page keeps the strict
// policy (default-src 'none' forbids frames). URLs that are not absolute
// http(s) URLs, or whose host is not a plain host[:port], are ignored.
// Call it before Render.
func AllowFrames(h http.Header, targets ...string) {
	csp := h.Get("Content-Security-Policy")
	if csp == "" {
		return
	}
	var origins []string
	for _, t := range targets {
		if o, ok := frameOrigin(t); ok && !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	if len(origins) == 0 {
		return
	}
	directives := strings.Split(csp, ";")
	for i, d := range directives {
		fields := strings.Fields(d)
		if len(fields) == 0 || !strings.EqualFold(fields[0], "frame-src") {
			continue
		}
		for _, o := range origins {
			if !slices.Contains(fields[1:], o) {
				fields = append(fields, o)
			}
		}
		directives[i] = " " + strings.Join(fields, " ")
		if i == 0 {
			directives[i] = directives[i][1:]
		}
		h.Set("Content-Security-Policy", strings.Join(directives, ";"))
		return
	}
	h.Set("Content-Security-Policy", strings.TrimRight(csp, "; ")+"; frame-src "+strings.Join(origins, " "))
}

// frameOrigin returns the CSP source expression (scheme://host[:port]) of
// an absolute http(s) URL.
func frameOrigin(target string) (string, bool) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Host)
	for _, c := range host {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)
		if !ok {
			return "", false // nothing that could end the directive or add a source
		}
	}
	return scheme + "://" + host, true
}
