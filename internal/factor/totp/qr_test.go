package totp

import (
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
)

type svgDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2000/svg svg"`
	ViewBox string   `xml:"viewBox,attr"`
	Role    string   `xml:"role,attr"`
	Label   string   `xml:"aria-label,attr"`
	Shape   string   `xml:"shape-rendering,attr"`
	Rect    struct {
		Width string `xml:"width,attr"`
		Fill  string `xml:"fill,attr"`
	} `xml:"rect"`
	Path struct {
		D string `xml:"d,attr"`
	} `xml:"path"`
}

func TestQRCode(t *testing.T) {
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	uri, err := KeyURI("Territoires Ouverts", "alice@example.fr", s)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, label string }{
		{"plain label", "QR code à scanner avec votre application d'authentification"},
		{"label with markup", `Scan "this" <b>&</b> 'that'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := QRCode(uri, tt.label)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"<script", "href", "url(", "style"} {
				if strings.Contains(out, bad) {
					t.Errorf("SVG contains %q", bad)
				}
			}
			var doc svgDoc
			if err := xml.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("not well-formed SVG: %v\n%s", err, out)
			}
			if doc.Role != "img" || doc.Label != tt.label || doc.Shape != "crispEdges" {
				t.Errorf("role %q, aria-label %q, shape-rendering %q", doc.Role, doc.Label, doc.Shape)
			}
			f := strings.Fields(doc.ViewBox)
			side, _ := strconv.Atoi(f[len(f)-1])
			if len(f) != 4 || (side-2*quietZone-21)%4 != 0 || side < 21+2*quietZone {
				t.Errorf("viewBox %q is not a QR size plus a quiet zone of %d", doc.ViewBox, quietZone)
			}
			if doc.Rect.Width != strconv.Itoa(side) || doc.Rect.Fill != "#fff" {
				t.Errorf("background rect %+v", doc.Rect)
			}
			// The top-left finder pattern starts with a run of 7 dark
			// modules, just inside the quiet zone.
			if !strings.HasPrefix(doc.Path.D, "M4 4h7v1h-7z") {
				t.Errorf("path does not start with the finder pattern: %.40s", doc.Path.D)
			}
			if len(out) > 16<<10 {
				t.Errorf("SVG is %d bytes, want it small", len(out))
			}
		})
	}
	for _, bad := range []string{"", strings.Repeat("x", 5000)} {
		if _, err := QRCode(bad, "x"); err == nil {
			t.Errorf("QRCode(%d bytes) succeeded, want an error", len(bad))
		}
	}
}
