package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed static
var staticFS embed.FS

// StaticPrefix is the path under which Static serves the assets.
const StaticPrefix = "/static/"

type asset struct {
	data        []byte
	contentType string
	version     string // first 16 hex digits of the SHA-256 of data
}

// loadAssets reads the embedded assets once; the map is never modified.
var loadAssets = sync.OnceValues(func() (map[string]asset, error) {
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		return nil, err
	}
	assets := make(map[string]asset, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		assets[e.Name()] = asset{
			data:        data,
			contentType: contentType(e.Name()),
			version:     hex.EncodeToString(sum[:8]),
		}
	}
	return assets, nil
})

func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".js":
		return "text/javascript; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// assetURL returns the versioned URL of an asset, /static/name?v=hash, so
// that it can be cached for a year and still change with each release.
func assetURL(assets map[string]asset, name string) string {
	return StaticPrefix + name + "?v=" + assets[name].version
}

// Static serves the embedded assets (stylesheet, logo, form_post.js) at /static/<name>;
// mount it with mux.Handle("GET /static/", web.Static()), or under a base
// path with http.StripPrefix and Options.BasePath. A request whose
// ?v= matches the asset's content hash (the URLs the templates use) is
// cacheable for a year as immutable; other requests for an hour.
func Static() http.Handler {
	assets, err := loadAssets()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, StaticPrefix)
		a, found := assets[name]
		if err != nil || !ok || !found {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", `"`+a.version+`"`)
		if r.URL.Query().Get("v") == a.version {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=3600")
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
	})
}
