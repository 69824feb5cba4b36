package server_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func iconRouteCases(f *consoleFixture) map[string]routeCase {
	app := "/admin/orgs/" + f.h.metropole.Slug + "/apps/" + url.PathEscape(f.app.ID)
	return map[string]routeCase{
		"POST /admin/orgs/{org}/apps/{id}/icon":         {path: app + "/icon", form: url.Values{}},
		"POST /admin/orgs/{org}/apps/{id}/icon/remove":  {path: app + "/icon/remove", form: url.Values{}},
		"POST /admin/orgs/{org}/apps/{id}/icon#commune": {path: "/admin/orgs/" + f.h.commune.Slug + "/apps/" + url.PathEscape(f.app.ID) + "/icon", form: url.Values{}},
	}
}

// uploadIcon posts data as the multipart field "icon", as a browser does.
func (h *harness) uploadIcon(b *http.Client, path, name, contentType string, data []byte) (*http.Response, string) {
	h.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="icon"; filename=%q`, name))
	hdr.Set("Content-Type", contentType)
	w, _ := mw.CreatePart(hdr)
	w.Write(data) //nolint:errcheck // a bytes.Buffer
	mw.Close()    //nolint:errcheck
	req, _ := http.NewRequest(http.MethodPost, h.issuer+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", h.issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body) //nolint:errcheck
	return resp, out.String()
}

func pngImage(t *testing.T, side int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for x := range side {
		img.Set(x, x, color.RGBA{0, 0, 145, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestConsoleIcons: an administrator uploads an application's icon (a
// PNG, checked by its content), TNO serves it to anyone with a sandboxing
// policy; an SVG, a large or a false PNG is refused with a message next
// to the field, and nothing is stored.
func TestConsoleIcons(t *testing.T) {
	h := newHarness(t)
	b, _ := h.adminBrowser("admin.metropole", h.metropole, storage.AdminRole{OrgID: h.metropole.ID, Role: storage.RoleOrgAdmin})
	app := h.app("paie", storage.ClientConfidential, rpCallback)
	path := "/admin/orgs/" + h.metropole.Slug + "/apps/" + app.ID
	refused := []struct {
		name, file, typ string
		data            []byte
		want            string
	}{
		{"svg", "logo.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "SVG"},
		{"a text file named png", "logo.png", "image/png", []byte("not an image"), "pas une image PNG"},
		{"too large", "big.png", "image/png", append(pngImage(t, 64), make([]byte, 300<<10)...), "256 Kio"},
		{"too small", "tiny.png", "image/png", pngImage(t, 8), "16 à 1024"},
	}
	for _, tt := range refused {
		resp, body := h.uploadIcon(b, path+"/icon", tt.file, tt.typ, tt.data)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tt.want) || !strings.Contains(body, `id="e-icon"`) {
			t.Errorf("%s: %d, want 422 with %q\n%.2000s", tt.name, resp.StatusCode, tt.want, body)
		}
	}
	if _, err := h.store.GetApplicationIcon(t.Context(), app.ID); err == nil {
		t.Fatal("a refused icon was stored")
	}
	icon := pngImage(t, 64)
	resp, body := h.uploadIcon(b, path+"/icon", "logo.png", "image/png", icon)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
	}
	src := regexp.MustCompile(`<img src="([^"]+/icon\?v=[0-9a-f]+)"`).FindStringSubmatch(body)
	if src == nil {
		t.Fatalf("no icon on the page:\n%s", body)
	}
	anyone := h.browser()
	resp, served := get(t, anyone, h.issuer+strings.ReplaceAll(src[1], "&amp;", "&"))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" || served != string(icon) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("served icon: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ = postForm(t, b, h.issuer+path+"/icon/remove", url.Values{}, h.issuer); resp.StatusCode != http.StatusOK {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if resp, _ = get(t, anyone, h.issuer+"/apps/"+app.ID+"/icon"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("removed icon: %d", resp.StatusCode)
	}
}
