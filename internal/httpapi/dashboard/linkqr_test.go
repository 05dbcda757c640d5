package dashboard_test

import (
	"bytes"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// A link's QR code downloads at the size asked, as the API draws it
// (128 .. 1024 px; the page offers a 1024 px PNG for print), and a format
// or size the API refuses is a 400 error page, not quietly the default.
func TestDashboardLinkQRSizeAndFormat(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("qr@shop.test")
	l := env.CreateLink(creds, nil)
	b := newBrowser(env)
	b.login("qr@shop.test")
	path := "/dashboard/links/" + l.ID + "/qr"
	wantContains(t, b.get("/dashboard/links/"+l.ID), `href="`+path+`?format=png&amp;size=1024&amp;download=1" id="qr-print"`)

	for size, want := range map[string]int{"": 256, "1024": 1024, "128": 128} {
		q := "?format=png"
		if size != "" {
			q += "&size=" + size
		}
		p := b.get(path + q)
		if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("png %q: %d %s", size, p.Status, p.Header.Get("Content-Type"))
		}
		cfg, err := png.DecodeConfig(bytes.NewReader([]byte(p.Body)))
		if err != nil || cfg.Width != want || cfg.Height != want {
			t.Errorf("png size %q: %dx%d %v, want %d", size, cfg.Width, cfg.Height, err, want)
		}
	}
	if p := b.get(path + "?size=512"); p.Status != http.StatusOK || !strings.Contains(p.Body, `width="512"`) {
		t.Errorf("svg 512: %d %.200s", p.Status, p.Body)
	}
	for _, q := range []string{"?format=gif", "?size=5000", "?size=12", "?format=png&size=big"} {
		p := b.get(path + q)
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Back to the dashboard") {
			t.Errorf("%s: %d, want a 400 error page", q, p.Status)
		}
	}
}
