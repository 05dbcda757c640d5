package hostedcheckout_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/audits"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	merchantsite "github.com/paylink/paylink/examples/merchant-site"
	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/wire"
	sdkjs "github.com/paylink/paylink/sdk/js"
)

// newEmbedEnv is apitest.New served on a real listener at
// http://localhost:<port> (a host name: the wallet's passkeys refuse IP
// relying-party ids), so that merchant pages on 127.0.0.1 origins are
// other sites that frame it.
func newEmbedEnv(t *testing.T) *apitest.Env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port))
	e := apitest.New(t, func(d *httpapi.Deps) {
		signer, err := links.NewSigner([]links.SigningKey{apitest.TestLinkKey})
		if err != nil {
			t.Fatal(err)
		}
		d.BaseURL = base
		d.Links = links.NewService(signer, base, d.Now)
		d.Checkout = checkout.NewService(processor.NewSimulator(apitest.TestSimulatorKey, processor.NewRedisKeys(d.Redis), d.Now), d.Links, d.Now)
		d.Forms = forms.NewService(base, d.Now)
	})
	ts := httptest.NewUnstartedServer(e.Server)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	e.Base = base.String()
	return e
}

// site serves h on a fresh loopback origin (http://127.0.0.1:<port>),
// made by mk once the origin is known.
func site(t *testing.T, mk func(origin string) http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://" + ln.Addr().String()
	ts := httptest.NewUnstartedServer(mk(origin))
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	return origin
}

// forger is a page on a third origin that, framed by the merchant's page,
// posts a fake success to its parent with target "*".
func forger(t *testing.T) string {
	return site(t, func(string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/forge.html":
				fmt.Fprint(w, `<!doctype html><title>forger</title><script src="/forge.js"></script>`)
			case "/forge.js":
				w.Header().Set("Content-Type", "text/javascript")
				fmt.Fprint(w, `parent.postMessage({source: "paylink", type: "success",
					payment: {id: "pay_forged", status: "succeeded", amount: 1, currency: "USD"}}, "*");`)
			default:
				http.NotFound(w, r)
			}
		})
	})
}

// frameTarget attaches to the cross-site iframe whose URL starts with
// prefix (Chrome runs it as a target of its own), waiting for it to appear.
func frameTarget(t *testing.T, ctx context.Context, prefix string) context.Context {
	t.Helper()
	deadline := time.Now().Add(browsertest.WaitTimeout)
	for {
		infos, err := chromedp.Targets(ctx)
		must(t, err)
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, prefix) {
				frameCtx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID))
				t.Cleanup(cancel)
				return frameCtx
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no iframe target at %s among %d targets after %s", prefix, len(infos), browsertest.WaitTimeout)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for the iframe target at %s: %v", prefix, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// fillCardInFrame fills the shopper and card fields of the payment form
// inside the frame (see browsertest.Fill for why not key by key).
func fillCardInFrame(t *testing.T, frame context.Context, number string) {
	t.Helper()
	browsertest.Fill(t, frame, "#email", "ada@example.test")
	browsertest.Fill(t, frame, "#name", "Ada Shopper")
	browsertest.Fill(t, frame, "#number", number)
	browsertest.Fill(t, frame, "#expiry", "1234")
	browsertest.Fill(t, frame, "#cvc", "123")
}

// paidOnPage waits until the example merchant page shows its result (its
// onSuccess ran) and returns the payment id it was given.
func paidOnPage(t *testing.T, ctx context.Context) string {
	t.Helper()
	return browsertest.WaitEval(t, ctx, "the merchant page to show a paid result",
		`document.getElementById("result").hidden ? "" : document.getElementById("result").dataset.payment || ""`,
		func(id string) bool { return id != "" })
}

// TestBrowserEmbeddedForm: the example merchant site on one origin embeds
// a payment form from the API on another; the shopper pays inside the
// frame; onSuccess gets the payment. The same page on an origin the form
// does not allow is refused by the browser, and a forged message from a
// third origin does not reach onSuccess.
func TestBrowserEmbeddedForm(t *testing.T) {
	e := newEmbedEnv(t)
	_, c := e.SignUp("embed-browser@shop.test")
	var form wire.PaymentForm
	shop := site(t, func(origin string) http.Handler {
		form = e.CreateForm(c, map[string]any{"title": "A bag of beans", "amount_min": 500, "amount_max": 50000,
			"collect": []string{"phone"}, "allowed_origins": []string{origin}})
		h, err := merchantsite.Handler(e.Base, form.ID)
		must(t, err)
		return h
	})
	ctx := browsertest.New(t)
	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(1100, 1000), chromedp.Navigate(shop+"/")))
	browsertest.Wait(t, ctx, `document.body.dataset.paylink === "ready" &&
		document.querySelector("#pay iframe").style.height !== "420px"`)
	browsertest.Screenshot(t, ctx, "1-mounted")

	frame := frameTarget(t, ctx, e.Base+"/embed/forms/"+form.ID)
	must(t, chromedp.Do(frame, chromedp.WaitVisible(chromedp.ID("pay-form"))))
	browsertest.Fill(t, frame, "#amount-input", "12.50")
	browsertest.Fill(t, frame, "#phone", "+1 555 010 9999")
	fillCardInFrame(t, frame, "4242424242424242")
	// The button's label follows the typed amount (the page updates it on input).
	browsertest.WaitText(t, frame, "#pay-button", "Pay 12.50 USD")
	browsertest.Screenshot(t, ctx, "2-filled")
	must(t, chromedp.Do(frame, chromedp.Click(chromedp.ID("pay-button"))))
	payID := paidOnPage(t, ctx)
	browsertest.Screenshot(t, ctx, "3-paid")
	var p wire.Payment
	res := e.Do(apitest.Req{Method: "GET", Path: "/v1/payments/" + payID, Auth: &c})
	res.Decode(t, &p)
	if res.Status != http.StatusOK || p.Status != "succeeded" || p.Amount != 1250 || p.PaymentForm == nil ||
		*p.PaymentForm != form.ID || p.Customer.Phone == nil {
		t.Fatalf("the payment onSuccess reported: %d %s", res.Status, res.Body)
	}
	successes := `document.querySelectorAll('#events li[data-event="success"]').length`
	browsertest.WaitEval(t, ctx, "onSuccess to have run once", successes, func(n int) bool { return n == 1 })

	// A forged success from a third origin reaches the page but not onSuccess.
	forge := forger(t)
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`
		window.rawMessages = [];
		window.addEventListener("message", function (e) { window.rawMessages.push({origin: e.origin, data: e.data}); });
		var f = document.createElement("iframe");
		f.src = %q;
		document.body.appendChild(f);
		true`, forge+"/forge.html")))
	must(t, err)
	// The SDK's listener was added first, so it has handled the message by
	// the time the page's own listener records it.
	browsertest.Wait(t, ctx, fmt.Sprintf(`window.rawMessages.some(function (m) {
		return m.origin === %q && m.data && m.data.payment && m.data.payment.id === "pay_forged"; })`, forge))
	// Nothing is left for the page to do with it: what it shows now is final.
	browsertest.WaitEval(t, ctx, "the page to still show the real payment, once",
		`document.getElementById("result").dataset.payment + " " + `+successes, func(s string) bool { return s == payID+" 1" })
	browsertest.Screenshot(t, ctx, "4-forgery-ignored")

	// The same page on an origin the form does not allow: the browser
	// refuses the frame (CSP frame-ancestors), so no ready arrives.
	elsewhere := site(t, func(string) http.Handler {
		h, err := merchantsite.Handler(e.Base, form.ID)
		must(t, err)
		return h
	})
	_, err = chromedp.Call(ctx, audits.Enable, cdp.Empty{})
	must(t, err)
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	issues := chromedp.Events(waitCtx, audits.IssueAdded)
	must(t, chromedp.Do(ctx, chromedp.Navigate(elsewhere+"/")))
	var violation *audits.ContentSecurityPolicyIssueDetails
	for ev, err := range issues {
		if err != nil {
			t.Fatalf("waiting for the browser to refuse the frame: %v", err)
		}
		if d := ev.Issue.Details.ContentSecurityPolicyIssueDetails; d != nil && d.ViolatedDirective == "frame-ancestors" {
			violation = d
			break
		}
	}
	// Chrome names the refused frame by its origin.
	if violation.BlockedURL != e.Base+"/" || violation.IsReportOnly {
		t.Fatalf("the violation blocked %s (report only: %v), want %s/", violation.BlockedURL, violation.IsReportOnly, e.Base)
	}
	browsertest.WaitEval(t, ctx, "no ready and no events on a disallowed origin", `(document.body.dataset.paylink || "not ready") + " " +
		document.querySelectorAll("#events li").length`, func(s string) bool { return s == "not ready 0" })
	browsertest.Screenshot(t, ctx, "5-refused-elsewhere")
}

// TestBrowserEmbeddedChallenge: a decline reaches onError; the challenge
// card opens the issuer's page inside the frame, keeps the merchant's
// appearance, and once approved the frame posts the success to the page.
func TestBrowserEmbeddedChallenge(t *testing.T) {
	e := newEmbedEnv(t)
	_, c := e.SignUp("embed-challenge@shop.test")
	var form wire.PaymentForm
	shop := site(t, func(origin string) http.Handler {
		form = e.CreateForm(c, map[string]any{"title": "Beans", "amount": 1800, "allowed_origins": []string{origin}})
		h, err := merchantsite.Handler(e.Base, form.ID)
		must(t, err)
		return h
	})
	ctx := browsertest.New(t)
	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(1100, 1000), chromedp.Navigate(shop+"/")))
	browsertest.Wait(t, ctx, `document.body.dataset.paylink === "ready"`)
	frame := frameTarget(t, ctx, e.Base+"/embed/forms/"+form.ID)
	must(t, chromedp.Do(frame, chromedp.WaitVisible(chromedp.ID("pay-form"))))
	fillCardInFrame(t, frame, "4000000000000002")
	must(t, chromedp.Do(frame, chromedp.Click(chromedp.ID("pay-button"))))
	browsertest.Wait(t, ctx, `Array.prototype.some.call(document.querySelectorAll('#events li[data-event="error"]'),
		function (li) { return li.textContent.indexOf("card_declined") >= 0; })`)
	browsertest.Screenshot(t, ctx, "1-declined")

	browsertest.Fill(t, frame, "#number", "4000000000003220")
	must(t, chromedp.Do(frame, chromedp.Click(chromedp.ID("pay-button"))))
	browsertest.Wait(t, frame, `location.pathname.endsWith("/challenge") && !!document.getElementById("approve")`)
	// The stylesheet may still be loading when the button is there.
	browsertest.WaitEval(t, frame, "the challenge page to keep the merchant's accent colour",
		`getComputedStyle(document.documentElement).getPropertyValue("--accent").trim()`, func(s string) bool { return s == "#0f766e" })
	browsertest.Screenshot(t, ctx, "2-challenge-in-frame")
	must(t, chromedp.Do(frame, chromedp.Click(chromedp.ID("approve"))))
	payID := paidOnPage(t, ctx)
	browsertest.Screenshot(t, ctx, "3-approved")
	var p wire.Payment
	e.Do(apitest.Req{Method: "GET", Path: "/v1/payments/" + payID, Auth: &c}).Decode(t, &p)
	if p.Status != "succeeded" || p.Amount != 1800 || p.PaymentForm == nil || *p.PaymentForm != form.ID {
		t.Fatalf("the challenged payment = %+v", p)
	}
	e.WantBalance(c, "USD", 1800)
}

// TestBrowserESModule: a merchant page on another origin imports the SDK
// as an ES module from the versioned URL (CORS, JavaScript MIME type, the
// module's own relative import) and mounts a form with it.
func TestBrowserESModule(t *testing.T) {
	e := newEmbedEnv(t)
	_, c := e.SignUp("esm@shop.test")
	version, err := sdkjs.Version()
	must(t, err)
	module := e.Base + "/sdk/" + version + "/paylink.mjs"
	shop := site(t, func(origin string) http.Handler {
		form := e.CreateForm(c, map[string]any{"allowed_origins": []string{origin}})
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/":
				fmt.Fprint(w, `<!doctype html><title>ESM shop</title><div id="pay"></div><script type="module" src="/app.mjs"></script>`)
			case "/app.mjs":
				w.Header().Set("Content-Type", "text/javascript")
				fmt.Fprintf(w, `import { mount, version } from %q;
mount("#pay", { form: %q, onReady: () => { document.body.dataset.paylink = "ready " + version; } });`, module, form.ID)
			default:
				http.NotFound(w, r)
			}
		})
	})
	ctx := browsertest.New(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(shop+"/")))
	browsertest.Wait(t, ctx, fmt.Sprintf(`document.body.dataset.paylink === "ready %s"`, version))
	browsertest.WaitEval(t, ctx, "the module-mounted frame to show the form for this shop", `document.querySelector("#pay iframe").src`,
		func(src string) bool {
			return strings.HasPrefix(src, e.Base+"/embed/forms/") && strings.HasSuffix(src, "?parent_origin="+url.QueryEscape(shop))
		})
	browsertest.Screenshot(t, ctx, "1-mounted-by-module")
}
