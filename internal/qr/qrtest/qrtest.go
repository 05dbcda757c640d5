// Package qrtest reads QR codes back in tests, with an independent decoder
// (github.com/makiuchi-d/gozxing), so a test checks what a phone would
// read rather than what the encoder meant. Only tests import it.
package qrtest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"regexp"
	"strconv"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Decode returns the text of the QR code in img, failing t when there is
// none (Read).
func Decode(t testing.TB, img image.Image) string {
	t.Helper()
	text, err := Read(img)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// Read returns the text of the QR code in img. It reads the code as a
// camera would (finding it in the image) and, should that fail, as the
// pure code it is (modules read straight from the pixels): in CI the
// finder once read no code in a 400-pixel PNG of ours (a
// FormatException, a misplaced grid), while a code encoded wrong fails
// both readings.
func Read(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("read image: %w", err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		found := err
		res, err = qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
		if err != nil {
			return "", fmt.Errorf("no QR code found: finding it: %v; as a pure code: %v", found, err)
		}
	}
	return res.GetText(), nil
}

// ReadPNG is Read of a PNG file's bytes.
func ReadPNG(b []byte) (string, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("decode PNG: %w", err)
	}
	return Read(img)
}

// WhiteBorder reports whether the outer px pixels of img are all white.
func WhiteBorder(img image.Image, px int) bool {
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			inside := x >= r.Min.X+px && x < r.Max.X-px && y >= r.Min.Y+px && y < r.Max.Y-px
			if inside {
				continue
			}
			if g := color.GrayModel.Convert(img.At(x, y)).(color.Gray); g.Y < 250 {
				return false
			}
		}
	}
	return true
}

var (
	viewBox = regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`)
	run     = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-\d+z`)
)

// RasterSVG paints an SVG written by package qr (a viewBox and one path of
// horizontal runs) at size×size pixels, a white margin around it, so that
// Decode can read it without a browser.
func RasterSVG(t testing.TB, svg string, size int) image.Image {
	t.Helper()
	m := viewBox.FindStringSubmatch(svg)
	if m == nil {
		t.Fatalf("svg has no viewBox: %.200s", svg)
	}
	n, _ := strconv.Atoi(m[1])
	scale := size / n
	if scale == 0 {
		t.Fatalf("%d modules do not fit %d px", n, size)
	}
	img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	runs := run.FindAllStringSubmatch(svg, -1)
	if len(runs) == 0 {
		t.Fatal("svg has no dark modules")
	}
	for _, r := range runs {
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		w, _ := strconv.Atoi(r[3])
		for py := y * scale; py < (y+1)*scale; py++ {
			for px := x * scale; px < (x+w)*scale; px++ {
				img.SetGray(px, py, color.Gray{})
			}
		}
	}
	return img
}
