package dashboard_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/ledger"
)

// Merchant A's session never reaches merchant B's payment, link or refund
// form, by id or in a list or an export.
func TestMerchantsSeeOnlyTheirOwn(t *testing.T) {
	env := apitest.New(t)
	_, credsA := env.SignUp("a@shop.test")
	_, credsB := env.SignUp("b@shop.test")
	payA, payB := env.Paid(credsA, 1111), env.Paid(credsB, 2222)
	linkB := env.CreateLink(credsB, map[string]any{"amount": 3333, "description": "B's secret mug"})
	a := newBrowser(env)
	a.login("a@shop.test")

	for _, path := range []string{"/dashboard/payments/" + payB.ID, "/dashboard/links/" + linkB.ID,
		"/dashboard/links/" + linkB.ID + "/qr", "/dashboard/payments/" + payB.ID + "/refund?amount=1"} {
		if p := a.get(path); p.Status != http.StatusNotFound {
			t.Errorf("A GET %s: %d", path, p.Status)
		}
	}
	if p := a.post("/dashboard/payments/"+payB.ID+"/refund", url.Values{"amount": {"1.00"}}); p.Status != http.StatusNotFound {
		t.Errorf("A refunds B's payment: %d", p.Status)
	}
	if p := a.post("/dashboard/links/"+linkB.ID+"/deactivate", url.Values{}); p.Status != http.StatusNotFound {
		t.Errorf("A deactivates B's link: %d", p.Status)
	}
	// Searching for B's payment id finds nothing (the search box keeps
	// what was typed).
	if p := a.get("/dashboard/payments?q=" + payB.ID); p.Status != http.StatusOK ||
		strings.Contains(p.Body, `href="/dashboard/payments/`+payB.ID) || strings.Contains(p.Body, "$22.22") {
		t.Errorf("searching B's payment: %d %s", p.Status, p.Body)
	}
	for _, path := range []string{"/dashboard", "/dashboard/payments", "/dashboard/links", "/dashboard/payments.csv"} {
		p := a.get(path)
		if strings.Contains(p.Body, payB.ID) || strings.Contains(p.Body, linkB.ID) || strings.Contains(p.Body, "$22.22") ||
			strings.Contains(p.Body, "B's secret mug") {
			t.Errorf("A's %s shows B's objects", path)
		}
	}
	if p := a.get("/dashboard/payments"); !strings.Contains(p.Body, payA.ID) {
		t.Error("A's list lacks A's payment")
	}
	if n := env.Count(`SELECT count(*) FROM refunds`); n != 0 {
		t.Fatalf("%d refunds", n)
	}
	if n := env.Count(`SELECT count(*) FROM payment_links WHERE status = 'deactivated'`); n != 0 {
		t.Fatalf("%d links deactivated", n)
	}
}

// The CSV holds exactly the payments the page's filters select, amounts
// typed in the chosen currency's units.
func TestCSVOfTheFilteredPayments(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("csv@shop.test")
	var want []string
	for _, amount := range []int{500, 1500, 2500, 3500} {
		p := env.Paid(creds, amount)
		if amount >= 1500 && amount <= 2500 {
			want = append(want, p.ID)
		}
	}
	// 2,000 yen is 2000 minor units too, but not between $15 and $25.
	yen := env.CreateLink(creds, map[string]any{"amount": 2000, "currency": "JPY"})
	if res := env.Pay(apitest.CheckoutPath(t, yen), apitest.CardBody("4242424242424242"), ""); res.Status != http.StatusOK {
		t.Fatalf("pay yen: %d %s", res.Status, res.Body)
	}
	b := newBrowser(env)
	b.login("csv@shop.test")
	list := b.get("/dashboard/payments?amount_gte=15&amount_lte=25.00&currency=USD&status=succeeded")
	wantContains(t, list, `href="/dashboard/payments.csv?amount_gte=15&amp;amount_lte=25.00&amp;currency=USD&amp;status=succeeded"`)
	wantContains(t, list, `<option value="USD" selected>USD</option>`)
	p := b.get("/dashboard/payments.csv?amount_gte=15&amount_lte=25.00&currency=USD&status=succeeded")
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", p.Status, p.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(p.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[0])
	}
	if len(got) != len(want) || !containsAll(got, want) {
		t.Fatalf("csv ids %v; want %v", got, want)
	}
	// A currency alone filters by it.
	if p := b.get("/dashboard/payments?currency=JPY"); !strings.Contains(p.Body, "¥2,000") || strings.Contains(p.Body, "$15.00") {
		t.Errorf("JPY payments: %d %s", p.Status, p.Body)
	}
	// A bad filter is an error page, not a CSV.
	if p := b.get("/dashboard/payments.csv?amount_gte=lots&currency=USD"); p.Status != http.StatusBadRequest {
		t.Fatalf("bad filter: %d", p.Status)
	}
	for query, msg := range map[string]string{
		"amount_gte=lots&currency=USD": "Enter the amount as a number, like 12.50.",
		"amount_gte=1.5&currency=JPY":  "this currency has no minor unit",
		"amount_gte=15":                "Choose the currency the amounts are in.",
		"currency=XYZ":                 "Choose a currency from the list.",
	} {
		if p := b.get("/dashboard/payments?" + query); p.Status != http.StatusBadRequest {
			t.Errorf("%s: %d", query, p.Status)
		} else {
			wantContains(t, p, msg)
		}
	}
}

// A merchant who takes one currency types amounts without choosing it.
func TestAmountFilterOfOneCurrency(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("one@shop.test")
	small, big := env.Paid(creds, 900), env.Paid(creds, 4000)
	b := newBrowser(env)
	b.login("one@shop.test")
	if res := env.Do(apitest.Req{Method: "PATCH", Path: "/v1/merchant", Auth: &creds,
		Body: map[string]any{"currencies": []string{"USD"}}}); res.Status != http.StatusOK {
		t.Fatalf("settings: %d %s", res.Status, res.Body)
	}
	p := b.get("/dashboard/payments?amount_gte=10")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, big.ID) || strings.Contains(p.Body, small.ID) {
		t.Fatalf("amount_gte=10: %d %s", p.Status, p.Body)
	}
	wantContains(t, p, `<option value="USD" selected>USD</option>`)
}

func containsAll(got, want []string) bool {
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			return false
		}
	}
	return true
}

// Two dashboard refunds racing on one payment never return more than it:
// of two refunds of 6.00 on a 10.00 payment one is made and the other
// refused with the API's message; a double submit of one form acts once.
func TestConcurrentDashboardRefunds(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("race@shop.test")
	pay := env.Paid(creds, 1000)
	b := newBrowser(env)
	b.login("race@shop.test")

	confirm := b.get("/dashboard/payments/" + pay.ID + "/refund?amount=6.00&reason=duplicate")
	wantContains(t, confirm, "Refund $6.00?", `name="idempotency_key"`)
	if over := b.get("/dashboard/payments/" + pay.ID + "/refund?amount=10.01"); over.Status != http.StatusBadRequest {
		t.Fatalf("over-refund confirm: %d", over.Status)
	} else {
		wantContains(t, over, "The refund is more than the $10.00 left to refund on this payment.")
	}

	var wg sync.WaitGroup
	pages := make([]page, 2)
	for i := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pages[i] = b.post("/dashboard/payments/"+pay.ID+"/refund", url.Values{"amount": {"6.00"}, "reason": {"duplicate"}})
		}()
	}
	wg.Wait()
	made, refused := 0, 0
	for _, p := range pages {
		switch {
		case p.Status == http.StatusSeeOther && strings.Contains(p.Location, "refunded=re_"):
			made++
		case p.Status == http.StatusBadRequest && strings.Contains(p.Body, "The refund is more than the"):
			refused++
		default:
			t.Fatalf("refund answer %d %q %s", p.Status, p.Location, p.Body)
		}
	}
	if made != 1 || refused != 1 {
		t.Fatalf("made %d, refused %d", made, refused)
	}
	// The same form sent twice (one key) refunds once.
	form := url.Values{"amount": {"1.50"}, "idempotency_key": {"double-" + randomSuffix()}}
	first, second := b.post("/dashboard/payments/"+pay.ID+"/refund", form), b.post("/dashboard/payments/"+pay.ID+"/refund", form)
	if first.Status != http.StatusSeeOther || second.Location != first.Location {
		t.Fatalf("double submit: %d %q / %d %q", first.Status, first.Location, second.Status, second.Location)
	}
	if n := env.Count(`SELECT count(*) FROM refunds WHERE payment_id = $1`, pay.ID); n != 2 {
		t.Fatalf("%d refunds; want 2", n)
	}
	if n := env.Count(`SELECT amount_refunded FROM payments WHERE id = $1`, pay.ID); n != 750 {
		t.Fatalf("refunded %d; want 750", n)
	}
	page := b.get("/dashboard/payments/" + pay.ID)
	wantContains(t, page, "$7.50", "$6.00", "$1.50", "payment.succeeded")
	rep, err := ledger.Verify(context.Background(), env.DB.Pool)
	if err != nil || !rep.OK() {
		t.Fatalf("ledger: %v %+v", err, rep)
	}
}

// Home sums today's payments per currency and lists what needs attention:
// a payment waiting for the shopper's challenge.
func TestHomeNumbersAndAttention(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("home@shop.test")
	env.Paid(creds, 1000)
	env.Paid(creds, 2550)
	env.Challenge(env.CreateLink(creds, nil))
	b := newBrowser(env)
	b.login("home@shop.test")
	p := b.get("/dashboard")
	wantContains(t, p, `data-testid="balance-USD">$35.50<`, "Needs your attention", "waiting for the shopper's challenge",
		"3 payments · 66.7% succeeded", `<svg class="chart"`)
}

// One payment is counted in the singular: "1 payment", not "1 payments".
func TestHomeCountsOnePaymentInTheSingular(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("one@shop.test")
	env.Paid(creds, 1000)
	b := newBrowser(env)
	b.login("one@shop.test")
	p := b.get("/dashboard")
	wantContains(t, p, "1 payment · 100.0% succeeded")
	if strings.Contains(p.Body, "1 payments") {
		t.Errorf("home says %q", "1 payments")
	}
}

// A payment's page shows its link's metadata under Metadata, not as bare
// facts beside Payment, Customer and Realm (a key named Realm must not
// pass for the realm).
func TestPaymentPageLabelsMetadata(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("paymeta@shop.test")
	l := env.CreateLink(creds, map[string]any{"metadata": map[string]string{"order_id": "A-17", "Realm": "eu"}})
	res := env.Pay(apitest.CheckoutPath(t, l), apitest.CardBody("4242424242424242"), "")
	if res.Status != http.StatusOK {
		t.Fatalf("pay: %d %s", res.Status, res.Body)
	}
	pay := apitest.PayAnswerOf(t, res).Payment
	plain := env.Paid(creds, 500)
	b := newBrowser(env)
	b.login("paymeta@shop.test")
	p := b.get("/dashboard/payments/" + pay.ID)
	wantContains(t, p, `<dt>Metadata</dt><dd id="metadata">`, `<li><code>Realm</code> = eu</li>`, `<li><code>order_id</code> = A-17</li>`)
	if strings.Contains(p.Body, "<dt>order_id</dt>") || strings.Contains(p.Body, "<dt>Realm</dt><dd>eu</dd>") {
		t.Error("metadata shown as bare facts")
	}
	if strings.Contains(b.get("/dashboard/payments/"+plain.ID).Body, `id="metadata"`) {
		t.Error("a payment without metadata shows a Metadata fact")
	}
}

// A decimal comma is refused, never read as a thousands separator: a
// merchant typing "12,50" for a refund of 12.50 must not refund 1,250.00
// of a larger payment.
func TestDecimalCommaRefundIsRefused(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("comma@shop.test")
	pay := env.Paid(creds, 200000)
	b := newBrowser(env)
	b.login("comma@shop.test")

	p := b.post("/dashboard/payments/"+pay.ID+"/refund", url.Values{"amount": {"12,50"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("refund of 12,50: %d %q", p.Status, p.Location)
	}
	wantContains(t, p, "Enter the amount as a number, like 12.50.")
	if n := env.Count(`SELECT amount_refunded FROM payments WHERE id = $1`, pay.ID); n != 0 {
		t.Fatalf("refunded %d; want nothing", n)
	}
}
