package notify

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/money"
)

// shopperMails is one of each shopper e-mail, for a payment whose
// customer name hides a card number.
func shopperMails(t *testing.T) map[string]Email {
	t.Helper()
	p := Payment{ID: "pay_01kaqv7n2tq1w4e0m8a6r3c5yb", Amount: money.Amount{Minor: 123456, Currency: money.EUR},
		MethodType: "card", Brand: "visa", Last4: "4242", CustomerEmail: "ada@example.test",
		CustomerName: "Ada 4242 4242 4242 4242", FailureMessage: "Your card was declined.", Description: "Sencha, 50 g",
		ReceiptURL: "https://pay.test/pay/plink_1/payments/pay_01kaqv7n2tq1w4e0m8a6r3c5yb?exp=1&kid=k&sig=s"}
	out := map[string]Email{}
	var ok bool
	if out["receipt"], ok = Receipt(p, "Tokyo Tea"); !ok {
		t.Fatal("no receipt")
	}
	if out["failed"], ok = Failed(p, "Tokyo Tea", "https://pay.test/pay/plink_1?exp=1&kid=k&sig=s"); !ok {
		t.Fatal("no failure e-mail")
	}
	p.AmountRefunded = 23456
	if out["refunded"], ok = Refunded(p, money.Amount{Minor: 3456, Currency: money.EUR}, "Tokyo Tea"); !ok {
		t.Fatal("no refund e-mail")
	}
	out["link"] = LinkEmail("ada@example.test", "Tokyo Tea", p.Amount, "Gyokuro, 100 g",
		"https://pay.test/pay/plink_1?exp=1&kid=k&sig=s", time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC), true)
	out["wallet"] = WalletEmail("ada@example.test", "You paid €1,234.56 to Tokyo Tea.")
	for _, ev := range []string{"payment.succeeded", "payment.failed", "payment.refunded"} {
		out["merchant-"+strings.TrimPrefix(ev, "payment.")] = MerchantNotice(ev, p, "Tokyo Tea", "ops@tea.test")
	}
	p.Risk = &Risk{Score: 70, Level: "elevated", Reasons: []string{"amount_anomaly", "new_customer"}}
	links := ReviewLinks{Queue: "https://pay.test/dashboard/reviews", Payment: "https://pay.test/dashboard/payments/" + p.ID}
	rev := Review{ID: "rev_01kaqv7n2tq1w4e0m8a6r3c5yc", Payment: p.ID, Reason: "elevated_risk"}
	out["merchant-review-opened"] = ReviewNotice("review.opened", rev, p, "Tokyo Tea", "ops@tea.test", links)
	rev.ClosedReason = "approved"
	out["merchant-review-closed"] = ReviewNotice("review.closed", rev, p, "Tokyo Tea", "ops@tea.test", links)
	out["merchant-endpoint-disabled"] = EndpointDisabled("ops@tea.test", "Tokyo Tea", "we_01kaqv7n2tq1w4e0m8a6r3c5yd",
		"https://hooks.tea.test/paylink?team=ops&v=<2>", "it answered 410 Gone, which means the receiver no longer exists")
	for name, e := range out {
		if e.HTML != "" || e.html == nil {
			t.Fatalf("%s: composed with its HTML part rendered", name)
		}
		r, err := e.Rendered() // as the worker does when it sends it
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = r
	}
	return out
}

// Every e-mail has both parts from the templates, the merchant's
// name, the amount in its currency's format, and no card number.
func TestShopperEmails(t *testing.T) {
	t.Parallel()
	want := map[string][]string{
		"receipt": {"€1,234.56", "Visa ending in 4242", "pay_01kaqv7n2tq1w4e0m8a6r3c5yb", "Tokyo Tea", "Sencha, 50 g",
			"https://pay.test/pay/plink_1/payments/pay_01kaqv7n2tq1w4e0m8a6r3c5yb?exp=1&kid=k&sig=s"},
		"failed":   {"€1,234.56", "Your card was declined.", "https://pay.test/pay/plink_1?exp=1", "Tokyo Tea", "Sencha, 50 g"},
		"refunded": {"€34.56", "€234.56", "€1,000.00", "Tokyo Tea"},
		"wallet":   {"You paid €1,234.56 to Tokyo Tea."},
		"link":     {"€1,234.56", "Gyokuro, 100 g", "https://pay.test/pay/plink_1?exp=1", "24 December 2026, 18:00 UTC", "eminder"},
		// The merchant's, per notify_on event: what happened, the event, the customer.
		"merchant-succeeded": {"eceived a payment of", "€1,234.56", "Visa ending in 4242", "pay_01kaqv7n2tq1w4e0m8a6r3c5yb", "ada@example.test", "notify_on includes payment.succeeded"},
		"merchant-failed":    {"€1,234.56", "failed: Your card was declined. Nothing was charged.", "notify_on includes payment.failed"},
		"merchant-refunded":  {"€234.56", "€1,000.00", "still paid", "notify_on includes payment.refunded"},
		// A review's: which payment, why it was held, the way to the dashboard.
		"merchant-review-opened": {"€1,234.56", "pay_01kaqv7n2tq1w4e0m8a6r3c5yb", "rev_01kaqv7n2tq1w4e0m8a6r3c5yc",
			"its risk score, 70 of 99, is elevated", "The amount is far above your usual payments in this currency.", "First payment from this customer.", "https://pay.test/dashboard/reviews",
			"https://pay.test/dashboard/payments/pay_01kaqv7n2tq1w4e0m8a6r3c5yb", "notify_on includes review.opened"},
		"merchant-review-closed": {"€1,234.56", "pproved the payment of €1,234.56 held for review", "It was held because its risk score, 70 of 99, is elevated",
			"https://pay.test/dashboard/payments/pay_01kaqv7n2tq1w4e0m8a6r3c5yb", "notify_on includes review.closed"},
		// A disabled webhook endpoint's: which, why, how to enable it and resend.
		"merchant-endpoint-disabled": {"we_01kaqv7n2tq1w4e0m8a6r3c5yd", "because it answered 410 Gone", "POST /v1/webhook_endpoints/we_01kaqv7n2tq1w4e0m8a6r3c5yd",
			"POST /v1/events/{id}/redeliver", "GET /v1/webhook_endpoints/we_01kaqv7n2tq1w4e0m8a6r3c5yd/deliveries", "whatever your notify_on"},
	}
	for name, e := range shopperMails(t) {
		to := "ada@example.test"
		if strings.HasPrefix(name, "merchant-") {
			to = "ops@tea.test"
		}
		if e.To != to || e.Subject == "" || !strings.Contains(e.Subject, "Tokyo Tea") && name != "wallet" && to != "ops@tea.test" {
			t.Errorf("%s: to %q, subject %q", name, e.To, e.Subject)
		}
		for _, part := range []string{e.Text, e.HTML} {
			for _, w := range want[name] {
				// html/template writes & in URLs as &amp;.
				if !strings.Contains(part, w) && !strings.Contains(part, strings.ReplaceAll(w, "&", "&amp;")) {
					t.Errorf("%s lacks %q:\n%s", name, w, part)
				}
			}
			if strings.Contains(part, "4242 4242 4242 4242") || strings.Contains(part, "4242424242424242") {
				t.Errorf("%s contains a card number", name)
			}
		}
		if !strings.HasPrefix(e.HTML, "<!doctype html>") || strings.Contains(e.HTML, "<script") {
			t.Errorf("%s: html part starts %.60q", name, e.HTML)
		}
	}
	if _, ok := Failed(Payment{ID: "pay_1", Amount: money.Amount{Minor: 1, Currency: money.USD}}, "X", ""); ok {
		t.Error("a failure e-mail without a customer e-mail")
	}
}

// TestRefundEmailSaysWhenTheMoneyIsBack: a wallet payment's refund is in
// the wallet when the e-mail goes (it is credited in the refund's own
// transaction), so its e-mail says so; a card's is on its way.
func TestRefundEmailSaysWhenTheMoneyIsBack(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		method, want, not string
	}{
		{"wallet", "It is already back in your Paylink wallet.", "within a few days"},
		{"card", "It reaches your Visa ending in 4242 within a few days.", "already back"},
	} {
		p := Payment{ID: "pay_01kaqv7n2tq1w4e0m8a6r3c5yb", Amount: money.Amount{Minor: 1000, Currency: money.USD},
			MethodType: tt.method, Brand: "visa", Last4: "4242", CustomerEmail: "bob@example.test", AmountRefunded: 300}
		e, ok := Refunded(p, money.Amount{Minor: 300, Currency: money.USD}, "Demo Shop")
		if !ok {
			t.Fatalf("%s: no refund e-mail", tt.method)
		}
		r, err := e.Rendered()
		if err != nil {
			t.Fatalf("%s: %v", tt.method, err)
		}
		for _, part := range []string{r.Text, r.HTML} {
			if !strings.Contains(part, tt.want) || strings.Contains(part, tt.not) {
				t.Errorf("%s refund e-mail: want %q and no %q in:\n%s", tt.method, tt.want, tt.not, part)
			}
		}
	}
}

// TestEndpointDisabledEmail: the endpoint's URL is in the text as it is
// and in the HTML escaped (it is the merchant's text, in a page), and the
// e-mail says it comes whatever notify_on, not because of it.
func TestEndpointDisabledEmail(t *testing.T) {
	t.Parallel()
	e := shopperMails(t)["merchant-endpoint-disabled"]
	const url = "https://hooks.tea.test/paylink?team=ops&v=<2>"
	if !strings.Contains(e.Text, url) || !strings.Contains(e.HTML, "https://hooks.tea.test/paylink?team=ops&amp;v=&lt;2&gt;") ||
		strings.Contains(e.HTML, "<2>") {
		t.Errorf("URL not as it should be:\ntext: %s\nhtml: %s", e.Text, e.HTML)
	}
	for _, part := range []string{e.Text, e.HTML} {
		if strings.Contains(part, "notify_on includes") || !strings.Contains(part, "Tokyo Tea") {
			t.Errorf("part:\n%s", part)
		}
	}
	if e.Subject != "Paylink: webhook endpoint disabled" {
		t.Errorf("subject %q", e.Subject)
	}
}

// TestNoCardNumberIsStored: a card number typed into any free text an
// e-mail carries is masked in what is stored of it (subject, text and
// the HTML part's data), not only in what is sent.
func TestNoCardNumberIsStored(t *testing.T) {
	var d mailData
	v := reflect.ValueOf(&d).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			f.SetString("x 4242-4242-4242-4242 y")
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"4242 4242 4242 4242"}))
		}
	}
	e := compose("review", "ops@tea.test", d)
	for part, stored := range map[string]string{"subject": e.Subject, "text": e.Text, "html data": string(e.html)} {
		if hasDigitRun(strings.NewReplacer(" ", "", "-", "").Replace(stored), 12) || !strings.Contains(stored, "4242") {
			t.Errorf("%s stores a card number (or lost its last four): %s", part, stored)
		}
	}
}

// TestRenderedRefusesDataItCannotRender: an e-mail stored with a
// template this version lacks, or with data that is not JSON, is an error
// (the sender gives it up) rather than a panic or an empty HTML part.
func TestRenderedRefusesDataItCannotRender(t *testing.T) {
	for _, data := range []string{`{"template":"gone","data":{}}`, `{"template":`, `{"template":"receipt","data":{"Signals":7}}`} {
		if e, err := (Email{To: "ada@example.test", Text: "hi", html: []byte(data)}).Rendered(); err == nil {
			t.Errorf("%s rendered: %.80q", data, e.HTML)
		}
	}
}

// Each e-mail's HTML part as a mail reader shows it, on a phone and on a
// desktop: screenshots under artifacts/screenshots/.
func TestBrowserRendersShopperEmails(t *testing.T) {
	mails := shopperMails(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, ok := mails[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, e.HTML)
	}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	for _, name := range []string{"receipt", "failed", "refunded", "link", "wallet", "merchant-succeeded", "merchant-failed", "merchant-refunded",
		"merchant-review-opened", "merchant-review-closed", "merchant-endpoint-disabled"} {
		for _, width := range []int64{375, 1280} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(srv.URL+"/"+name)); err != nil {
				t.Fatal(err)
			}
			browsertest.Wait(t, ctx, fmt.Sprintf(`document.title === %q && document.body.innerText.includes("Tokyo Tea")`, mails[name].Subject))
			// Nothing sticks out sideways on a phone.
			browsertest.Wait(t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`)
			// A row's value wraps between words: only an id too long for
			// the line may break inside ("7 December 2026, 21:31 U / TC"
			// did, at 375 pixels).
			browsertest.Wait(t, ctx, wordsWhole)
			browsertest.Screenshot(t, ctx, fmt.Sprintf("%s-%d", name, width))
		}
	}
}

// wordsWhole is true when no word under 20 characters of a row's value
// (the right-hand cells) is broken across lines.
const wordsWhole = `Array.from(document.querySelectorAll("td[style*='text-align:right']")).every(function (td) {
	return Array.from(td.childNodes).every(function (node) {
		if (node.nodeType !== 3) return true;
		for (var re = /\S+/g, m; (m = re.exec(node.textContent));) {
			var r = document.createRange();
			r.setStart(node, m.index);
			r.setEnd(node, m.index + m[0].length);
			if (m[0].length < 20 && r.getClientRects().length > 1) return false;
		}
		return true;
	});
})`
