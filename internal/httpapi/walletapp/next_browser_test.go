package walletapp_test

import (
	"net/url"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// TestWalletLoginNeverRedirectsOffSite (security review, finding 3): after
// a real log-in the page follows ?next= only within its own origin,
// keeping path and query; backslashes, tabs, protocol-relative and
// absolute URLs, javascript: and their encoded forms all land on /wallet.
func TestWalletLoginNeverRedirectsOffSite(t *testing.T) {
	e := newWalletBrowserEnv(t)
	e.WalletUser("next@example.test").Do(apitest.Req{Method: "POST", Path: "/v1/wallet/logout"})
	base, err := url.Parse(e.Base)
	if err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t)
	for _, tc := range []struct{ next, want string }{
		{"/%5Cevil.test/x", "/wallet"},
		{"/%09/evil.test", "/wallet"},
		{"/%0A/evil.test", "/wallet"},
		{"/%5C%5Cevil.test", "/wallet"},
		{"//evil.test", "/wallet"},
		{"%2F%2Fevil.test", "/wallet"},
		{"%20//evil.test", "/wallet"},
		{"https://evil.test/", "/wallet"},
		{"javascript:alert(document.domain)", "/wallet"},
		{"JaVaScRiPt%3Aalert(1)", "/wallet"},
		{"/wallet?from=checkout", "/wallet?from=checkout"},
		{"/wallet%3Ffrom%3Dencoded", "/wallet?from=encoded"},
	} {
		// Leave the page the last log-in landed on before logging out: a
		// wallet page still loading when its cookie goes answers its 401
		// by going to /wallet/login?next=/wallet, which could replace the
		// log-in page navigated to next (this test once read /wallet for
		// next=/wallet?from=checkout that way).
		do(t, ctx, chromedp.Navigate("about:blank"))
		if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		do(t, ctx, chromedp.Navigate(e.Base+"/wallet/login?next="+tc.next), chromedp.WaitVisible(chromedp.ID("login-submit")),
			chromedp.SendKeys(chromedp.ID("email"), "next@example.test"),
			chromedp.SendKeys(chromedp.ID("password"), apitest.WalletPassword))
		var landed string
		_, err := chromedp.Run(ctx, chromedp.WaitEvent(page.FrameNavigated, func(ev page.EventFrameNavigated) bool {
			if ev.Frame.ParentID != "" {
				return false
			}
			landed = ev.Frame.URL
			if ev.Frame.UnreachableURL != "" {
				landed = ev.Frame.UnreachableURL
			}
			return true
		}, chromedp.Click(chromedp.ID("login-submit"))))
		if err != nil {
			t.Fatalf("next=%s: no navigation after log-in: %v", tc.next, err)
		}
		u, err := url.Parse(landed)
		if err != nil || u.Scheme != base.Scheme || u.Host != base.Host || u.RequestURI() != tc.want {
			t.Errorf("next=%s: the log-in went to %s; want %s%s", tc.next, landed, e.Base, tc.want)
		}
	}
	browsertest.Wait(t, ctx, `location.pathname === "/wallet" && document.getElementById("who").textContent.includes("next@example.test")`)
	browsertest.Screenshot(t, ctx, "after-last-log-in")
}
