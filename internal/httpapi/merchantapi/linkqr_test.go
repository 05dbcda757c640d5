package merchantapi_test

import (
	"bytes"
	"image/png"
	"net/http"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/qr/qrtest"
)

func TestPaymentLinkQR(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("qr@shop.test")
	l := e.CreateLink(c, nil)

	res := e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links/" + l.ID + "/qr?format=png&size=400", Auth: &c})
	if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("png: %d %s %.200s", res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	img, err := png.Decode(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 400 || b.Dy() != 400 {
		t.Errorf("png is %v, want 400×400", b)
	}
	if got := qrtest.Decode(t, img); got != l.URL {
		t.Errorf("png decodes to %q, want the link's url %q", got, l.URL)
	}

	res = e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links/" + l.ID + "/qr", Auth: &c})
	if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("svg: %d %s", res.Status, res.Header.Get("Content-Type"))
	}
	if !bytes.Contains(res.Body, []byte(`width="256" height="256"`)) {
		t.Errorf("default svg is not 256 px: %.120s", res.Body)
	}
	if got := qrtest.Decode(t, qrtest.RasterSVG(t, string(res.Body), 512)); got != l.URL {
		t.Errorf("svg decodes to %q", got)
	}

	for _, q := range []string{"format=gif", "size=127", "size=1025", "size=big"} {
		res := e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links/" + l.ID + "/qr?" + q, Auth: &c})
		apitest.WantError(t, res, http.StatusBadRequest, "parameter_invalid")
	}
	// Another merchant's link is not found.
	_, other := e.SignUp("qr-other@shop.test")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links/" + l.ID + "/qr", Auth: &other}),
		http.StatusNotFound, "payment_link_not_found")
}
