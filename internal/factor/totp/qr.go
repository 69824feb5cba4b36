package totp

import (
	"encoding/xml"
	"errors"
	"fmt"
	"image/color"
	"strconv"
	"strings"

	"github.com/boombuler/barcode/qr"
)

// QR code rendering parameters.
const (
	quietZone  = 4 // modules of white border, as ISO/IEC 18004 requires
	modulePx   = 5 // default rendered size of a module in CSS pixels
	qrMaxInput = 1024
)

// QRCode returns the enrolment QR code of uri (see KeyURI) as an inline SVG
// element: no script, no external resource, black modules drawn as one path
// of crisp rectangles on a white square with a quiet zone of four modules.
// label becomes the aria-label of the image (role="img"); it is escaped
// here, so the result is well-formed XML that the caller may mark as safe
// HTML (template.HTML) and embed as is. The page should also show the key
// (FormatKey) for people who cannot scan.
func QRCode(uri, label string) (string, error) {
	if uri == "" || len(uri) > qrMaxInput {
		return "", errors.New("totp: QR code: URI empty or too long")
	}
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("totp: QR code: %w", err)
	}
	r := code.Bounds()
	dim := r.Dx()
	side := strconv.Itoa(dim + 2*quietZone)
	px := strconv.Itoa((dim + 2*quietZone) * modulePx)

	var b strings.Builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ` + side + " " + side +
		`" width="` + px + `" height="` + px + `" role="img" aria-label="`)
	if err := xml.EscapeText(&b, []byte(label)); err != nil {
		return "", fmt.Errorf("totp: QR code: %w", err)
	}
	b.WriteString(`" shape-rendering="crispEdges"><rect width="` + side + `" height="` + side +
		`" fill="#fff"/><path fill="#000" d="`)
	// One subpath per horizontal run of dark modules.
	for y := 0; y < dim; y++ {
		for x := 0; x < dim; {
			if !dark(code.At(r.Min.X+x, r.Min.Y+y)) {
				x++
				continue
			}
			run := 1
			for x+run < dim && dark(code.At(r.Min.X+x+run, r.Min.Y+y)) {
				run++
			}
			n := strconv.Itoa(run)
			fmt.Fprintf(&b, "M%d %dh%sv1h-%sz", x+quietZone, y+quietZone, n, n)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}

func dark(c color.Color) bool {
	return color.GrayModel.Convert(c).(color.Gray).Y < 128
}
