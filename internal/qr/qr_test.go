package qr_test

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/qr"
	"github.com/paylink/paylink/internal/qr/qrtest"
)

const url = "https://pay.example.test/pay/plink_01JH2Z3ABCDEFGHJKMNPQR?exp=1767225600&kid=k2026&sig=Vn1x2o3iYq0bY6cZcTQ5kOBr3Qk8o0mT9sQF1a2b3c4"

func TestPNGDecodesAtEverySize(t *testing.T) {
	t.Parallel()
	c, err := qr.New(url)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{qr.MinSize, qr.DefaultSize, 333, qr.MaxSize} {
		b, err := c.PNG(size)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if got := img.Bounds().Size(); got != (image.Point{size, size}) {
			t.Errorf("size %d: image is %v", size, got)
		}
		if got := qrtest.Decode(t, img); got != url {
			t.Errorf("size %d decodes to %q", size, got)
		}
		// The quiet zone: the outer four modules' worth of pixels are white.
		if !qrtest.WhiteBorder(img, size/60) {
			t.Errorf("size %d: no white quiet zone", size)
		}
	}
}

func TestSVGIsTheSameCode(t *testing.T) {
	t.Parallel()
	c, err := qr.New(url)
	if err != nil {
		t.Fatal(err)
	}
	svg := c.SVG(300)
	if !strings.HasPrefix(svg, `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300"`) {
		t.Fatalf("svg starts %.120s", svg)
	}
	if got := qrtest.Decode(t, qrtest.RasterSVG(t, svg, 300)); got != url {
		t.Errorf("svg decodes to %q", got)
	}
}
