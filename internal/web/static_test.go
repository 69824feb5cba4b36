package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestStatic(t *testing.T) {
	assets, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	h := Static()
	for _, tc := range []struct {
		name, method, target string
		status               int
		contentType, cache   string
	}{
		{"css versioned", "GET", assetURL(assets, "tno.css"), 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable"},
		{"svg versioned", "GET", assetURL(assets, "logo.svg"), 200, "image/svg+xml", "public, max-age=31536000, immutable"},
		{"script versioned", "GET", assetURL(assets, "form_post.js"), 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"css unversioned", "GET", "/static/tno.css", 200, "text/css; charset=utf-8", "public, max-age=3600"},
		{"head", "HEAD", "/static/logo.svg", 200, "image/svg+xml", "public, max-age=3600"},
		{"unknown", "GET", "/static/nope.js", 404, "", ""},
		{"directory", "GET", "/static/", 404, "", ""},
		{"traversal", "GET", "/static/../render.go", 404, "", ""},
		{"outside prefix", "GET", "/tno.css", 404, "", ""},
		{"post", "POST", "/static/tno.css", 405, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d", rec.Code, tc.status)
			}
			if tc.status != 200 {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tc.contentType)
			}
			if got := rec.Header().Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tc.cache)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("missing nosniff")
			}
		})
	}

	// Revalidation with the ETag.
	req := httptest.NewRequest("GET", "/static/tno.css", nil)
	req.Header.Set("If-None-Match", `"`+assets["tno.css"].version+`"`)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", rec.Code)
	}

	// The stylesheet must not need anything the CSP forbids.
	css := string(assets["tno.css"].data)
	for _, bad := range []string{"@import", "url(http", "@font-face"} {
		if strings.Contains(css, bad) {
			t.Errorf("tno.css contains %q", bad)
		}
	}
}
