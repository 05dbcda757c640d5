package dashboard_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// The dashboard lists every refund as GET /v1/refunds does, newest first,
// in each currency's own format and linked to its payment; it filters by
// payment, keeps a malformed filter with its error, and shows a merchant
// only its own refunds.
func TestDashboardRefundsList(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("refunds@shop.test")
	_, other := env.SignUp("other-refunds@shop.test")
	usd := env.Paid(creds, 123456)
	jpyLink := env.CreateLink(creds, map[string]any{"amount": 5000, "currency": "JPY"})
	res := env.Pay(apitest.CheckoutPath(t, jpyLink), apitest.CardBody("4242424242424242"), "")
	if res.Status != http.StatusOK {
		t.Fatalf("pay JPY: %d %s", res.Status, res.Body)
	}
	jpy := apitest.PayAnswerOf(t, res).Payment
	for _, r := range []struct {
		pay  string
		body map[string]any
	}{{usd.ID, map[string]any{"amount": 1050, "reason": "duplicate"}}, {jpy.ID, map[string]any{"amount": 1200}}} {
		if res := env.Refund(creds, r.pay, r.body); res.Status != http.StatusCreated {
			t.Fatalf("refund %s: %d %s", r.pay, res.Status, res.Body)
		}
	}
	theirs := env.Paid(other, 777)
	if res := env.Refund(other, theirs.ID, nil); res.Status != http.StatusCreated {
		t.Fatalf("other refund: %d", res.Status)
	}

	b := newBrowser(env)
	b.login("refunds@shop.test")
	wantContains(t, b.get("/dashboard/payments"), `href="/dashboard/refunds"`)
	all := b.get("/dashboard/refunds")
	wantContains(t, all, "$10.50", "duplicate", "¥1,200", `href="/dashboard/payments/`+usd.ID+`"`,
		`href="/dashboard/payments/`+jpy.ID+`"`)
	if strings.Index(all.Body, "¥1,200") > strings.Index(all.Body, "$10.50") {
		t.Error("refunds are not newest first")
	}
	if strings.Contains(all.Body, theirs.ID) || strings.Contains(all.Body, "$7.77") {
		t.Error("another merchant's refund is listed")
	}

	one := b.get("/dashboard/refunds?payment=" + usd.ID)
	wantContains(t, one, "$10.50", `value="`+usd.ID+`"`)
	if strings.Contains(one.Body, "¥1,200") {
		t.Error("the payment filter lets another payment's refund through")
	}
	if p := b.get("/dashboard/refunds?payment=" + theirs.ID); strings.Contains(p.Body, "$7.77") {
		t.Error("filtering by another merchant's payment shows its refund")
	}
	bad := b.get("/dashboard/refunds?payment=nope")
	if bad.Status != http.StatusBadRequest {
		t.Fatalf("bad filter: %d", bad.Status)
	}
	wantContains(t, bad, `value="nope"`, `aria-invalid="true"`, `class="field-error"`)

	// Without a session: to the log-in page.
	wantLoginRedirect(t, newBrowser(env).get("/dashboard/refunds"))
}
