package hostedcheckout_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/qr/qrtest"
)

// On a desktop the checkout page offers to carry on on a phone: its QR
// code, read by a decoder as a phone's camera would, is the page's own
// signed URL. On a phone the code is not shown.
func TestBrowserCheckoutShowsItsQROnWideScreens(t *testing.T) {
	e, _ := newBrowserEnv(t)
	_, c := e.SignUp("browser-qr@shop.test")
	l := e.CreateLink(c, map[string]any{"amount": 4200, "description": "Framed print"})
	ctx := browsertest.New(t)

	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(l.URL)))
	browsertest.Wait(t, ctx, `(() => { const q = document.querySelector("#phone-qr svg");
		return !!q && getComputedStyle(document.getElementById("phone-qr")).display !== "none" && q.getBoundingClientRect().width >= 150; })()`)
	browsertest.Screenshot(t, ctx, "qr-1280")
	waitQR(t, ctx, l.URL)

	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(375, 812), chromedp.Navigate(l.URL)))
	browsertest.Wait(t, ctx, `!!document.getElementById("pay-form") && getComputedStyle(document.getElementById("phone-qr")).display === "none"`)
	browsertest.Screenshot(t, ctx, "qr-375")

	// A signed link's page is a checkout page too: its QR is its URL as
	// the merchant signed it.
	signed := e.Base + e.SignedPath(c, map[string]string{"success_url": "", "cancel_url": ""})
	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(signed)))
	browsertest.Wait(t, ctx, `!!document.querySelector("#phone-qr svg") && getComputedStyle(document.getElementById("phone-qr")).display !== "none"`)
	browsertest.Screenshot(t, ctx, "signed-qr-1280")
	waitQR(t, ctx, signed)
	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(375, 812), chromedp.Navigate(signed)))
	browsertest.Wait(t, ctx, `!!document.getElementById("pay-form") && getComputedStyle(document.getElementById("phone-qr")).display === "none"`)
	browsertest.Screenshot(t, ctx, "signed-qr-375")
}

// waitQR waits until the page's QR code, captured as a phone's camera
// sees a sharp screen (four times the page's pixels), reads as want. It
// polls: under a loaded CI, a capture once caught the code while the
// page's layout still moved, and read no code. At twice the pixels the
// decoder misread some codes every time (a signed link's long URL puts
// about 6 pixels in a module, unevenly): 6 of 121 such URLs in Chromium,
// none at four times.
func waitQR(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	var got string
	var err error
	for deadline := time.Now().Add(browsertest.WaitTimeout); time.Now().Before(deadline); {
		var shot []byte
		if shot, err = chromedp.Run(ctx, chromedp.ScreenshotScale(chromedp.CSS("#phone-qr .qr"), 4)); err == nil {
			if got, err = qrtest.ReadPNG(shot); err == nil && got == want {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the page's QR code: %v", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("the page's QR code reads %q (%v), want the page's URL %q", got, err, want)
}
