// Package qr draws a URL as a QR code, in SVG or PNG, with the four-module
// quiet zone the standard asks for and error-correction level M (15%),
// which keeps a ~120-character signed link at version 6–7: large enough
// modules to scan from a 2 cm print without a logo. The encoding itself is
// github.com/skip2/go-qrcode's.
package qr

import (
	"fmt"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// Size bounds in pixels (API.md).
const (
	MinSize     = 128
	MaxSize     = 1024
	DefaultSize = 256
)

// Code is one encoded text, ready to draw.
type Code struct {
	q *qrcode.QRCode
}

// New encodes text.
func New(text string) (*Code, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	return &Code{q: q}, nil
}

// PNG draws c as a size×size PNG (black on white): whole pixels per module,
// the remainder added to the quiet zone.
func (c *Code) PNG(size int) ([]byte, error) {
	b, err := c.q.PNG(size)
	if err != nil {
		return nil, fmt.Errorf("draw QR code: %w", err)
	}
	return b, nil
}

// SVG draws c as a size×size SVG, one path of dark modules on a white
// square, quiet zone included.
func (c *Code) SVG(size int) string {
	bits := c.q.Bitmap() // with the quiet zone
	n := len(bits)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" shape-rendering="crispEdges">`,
		size, size, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String()
}
