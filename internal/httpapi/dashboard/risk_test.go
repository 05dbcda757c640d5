package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/wire"
)

// reviewedPayment pays a new link of c with the elevated-risk test card
// (reviewed by default) and returns the payment and its review's id.
func reviewedPayment(t *testing.T, env *apitest.Env, c apitest.Creds, amount int) (wire.Payment, string) {
	t.Helper()
	l := env.CreateLink(c, map[string]any{"amount": amount})
	res := env.Pay(apitest.CheckoutPath(t, l), apitest.CardBody("4000000000009235"), "")
	if res.Status != http.StatusOK {
		t.Fatalf("pay with 9235: %d %s", res.Status, res.Body)
	}
	p := apitest.PayAnswerOf(t, res).Payment
	var rev string
	if err := env.DB.Pool.QueryRow(context.Background(), `SELECT id FROM reviews WHERE payment_id = $1`, p.ID).Scan(&rev); err != nil {
		t.Fatalf("review of %s: %v", p.ID, err)
	}
	return p, rev
}

// reviewStatus is a review's status and closed reason: "open", "closed approved".
func reviewStatus(t *testing.T, env *apitest.Env, rev string) string {
	t.Helper()
	var st, why string
	if err := env.DB.Pool.QueryRow(context.Background(), `SELECT status, coalesce(closed_reason, '') FROM reviews WHERE id = $1`,
		rev).Scan(&st, &why); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(st+" "+why, " ")
}

// The review queue lists an open review with its payment, approving it
// closes it, and refunding the whole of another reviewed payment through
// the payment page's refund confirmation closes that one as refunded. The
// payment page explains the risk in words.
func TestDashboardReviewQueue(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("rev@shop.test")
	payA, revA := reviewedPayment(t, env, creds, 4321)
	payB, revB := reviewedPayment(t, env, creds, 1234)
	b := newBrowser(env)
	b.login("rev@shop.test")

	p := b.get("/dashboard/reviews")
	wantContains(t, p, revA, revB, payA.ID, "$43.21", "Elevated risk", "/dashboard/reviews/"+revA+"/approve")
	if got := b.post("/dashboard/reviews/"+revA+"/approve", url.Values{}); got.Status != http.StatusSeeOther ||
		got.Location != "/dashboard/reviews?approved="+revA {
		t.Fatalf("approve: %d %s %s", got.Status, got.Location, got.Body)
	}
	if st := reviewStatus(t, env, revA); st != "closed approved" {
		t.Fatalf("review A: %s", st)
	}
	p = b.get("/dashboard/reviews")
	if strings.Contains(p.Body, revA) || !strings.Contains(p.Body, revB) {
		t.Fatalf("open queue after approving A:\n%s", p.Body)
	}
	wantContains(t, b.get("/dashboard/reviews?status=closed"), revA, "approved")
	// Approving it again is refused and changes nothing.
	if got := b.post("/dashboard/reviews/"+revA+"/approve", url.Values{}); got.Status != http.StatusBadRequest ||
		!strings.Contains(got.Body, "already closed") {
		t.Fatalf("approve twice: %d %s", got.Status, got.Body)
	}

	// The payment page: score, outcome, the reason in words, the review.
	wantContains(t, b.get("/dashboard/payments/"+payB.ID), `id="risk"`, "70 · elevated", "review",
		"A risk test card.", revB, "open")

	// Refunding B in full, through the confirmation, closes its review.
	wantContains(t, b.get("/dashboard/payments/"+payB.ID+"/refund"), "refund-confirm")
	if got := b.post("/dashboard/payments/"+payB.ID+"/refund", url.Values{"amount": {""}}); got.Status != http.StatusSeeOther {
		t.Fatalf("refund: %d %s", got.Status, got.Body)
	}
	if st := reviewStatus(t, env, revB); st != "closed refunded" {
		t.Fatalf("review B after the full refund: %s", st)
	}
	wantContains(t, b.get("/dashboard/payments/"+payB.ID), "closed", "(refunded)")
}

// A refused expression comes back with the checker's message next to the
// expression field (on save, on the Test button, and as the live
// backtest's JSON), and saves nothing; a good one is backtested over the
// merchant's own payments.
func TestDashboardRuleInvalidAtTheField(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("rules@shop.test")
	paid := env.Paid(creds, 7000)
	env.Paid(creds, 100)
	b := newBrowser(env)
	b.login("rules@shop.test")

	p := b.post("/dashboard/risk/rules", url.Values{"action": {"block"}, "expression": {"amout > 1"}, "description": {"typo"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("bad rule: %d %s", p.Status, p.Body)
	}
	i := strings.Index(p.Body, `id="expression-error"`)
	if i < 0 || !strings.Contains(p.Body[i:i+300], "undeclared reference") {
		t.Fatalf("the checker's message is not at the expression field:\n%s", p.Body)
	}
	wantContains(t, p, `aria-invalid="true"`, "amout &gt; 1")
	if n := env.Count(`SELECT count(*) FROM risk_rules`); n != 0 {
		t.Fatalf("%d rules saved", n)
	}
	p = b.get("/dashboard/risk/rules?test=1&action=block&expression=" + url.QueryEscape("amount +"))
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Syntax error") {
		t.Fatalf("Test of a bad rule: %d %s", p.Status, p.Body)
	}
	p = b.get("/dashboard/risk/rules/test?action=block&expression=" + url.QueryEscape("amount + 1"))
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `"rule_invalid"`) {
		t.Fatalf("live test of a bad rule: %d %s", p.Status, p.Body)
	}

	p = b.get("/dashboard/risk/rules?test=1&action=block&expression=" + url.QueryEscape("amount > 5000"))
	wantContains(t, p, `id="backtest-matched">1</strong> of 2 payments`, paid.ID)
	p = b.get("/dashboard/risk/rules/test?action=block&expression=" + url.QueryEscape("amount > 5000"))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `"matched":1,"of":2`) || !strings.Contains(p.Body, paid.ID) {
		t.Fatalf("live test: %d %s", p.Status, p.Body)
	}

	p = b.post("/dashboard/risk/rules", url.Values{"action": {"review"}, "expression": {"amount > 5000"}, "description": {"big"}})
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/dashboard/risk/rules?created=rr_") {
		t.Fatalf("save rule: %d %s %s", p.Status, p.Location, p.Body)
	}
	wantContains(t, b.get(p.Location), "amount &gt; 5000", "big", "enabled", "Disable")

	// A bad list value is shown at its field.
	p = b.post("/dashboard/risk/lists/block/items", url.Values{"type": {"ip"}, "value": {"not an ip"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("bad list item: %d %s", p.Status, p.Body)
	}
	i = strings.Index(p.Body, `id="block-value-error"`)
	if i < 0 || !strings.Contains(p.Body[i:i+300], "field-error") {
		t.Fatalf("the value's error is not at its field:\n%s", p.Body)
	}
	if n := env.Count(`SELECT count(*) FROM risk_list_items`); n != 0 {
		t.Fatalf("%d items saved", n)
	}
}

// Merchant A's session never sees or changes B's rules, list items or
// reviews, by id or in a list, and A's backtest reads only A's payments.
func TestDashboardRiskIsolation(t *testing.T) {
	env := apitest.New(t)
	_, credsA := env.SignUp("a@shop.test")
	_, credsB := env.SignUp("b@shop.test")
	env.Paid(credsA, 500)
	payB, revB := reviewedPayment(t, env, credsB, 2222)
	bb := newBrowser(env)
	bb.login("b@shop.test")
	p := bb.post("/dashboard/risk/rules", url.Values{"action": {"block"}, "expression": {"email_domain == 'bsecret.test'"}})
	ruleB := strings.TrimPrefix(p.Location, "/dashboard/risk/rules?created=")
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(ruleB, "rr_") {
		t.Fatalf("B's rule: %d %s", p.Status, p.Body)
	}
	if p := bb.post("/dashboard/risk/lists/block/items", url.Values{"type": {"email"}, "value": {"crook@bsecret.test"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("B's item: %d %s", p.Status, p.Body)
	}
	var itemB string
	if err := env.DB.Pool.QueryRow(context.Background(), `SELECT id FROM risk_list_items`).Scan(&itemB); err != nil {
		t.Fatal(err)
	}

	a := newBrowser(env)
	a.login("a@shop.test")
	for _, path := range []string{"/dashboard/risk", "/dashboard/reviews", "/dashboard/reviews?status=closed",
		"/dashboard/risk/rules", "/dashboard/risk/lists"} {
		p := a.get(path)
		if p.Status != http.StatusOK {
			t.Fatalf("A GET %s: %d", path, p.Status)
		}
		for _, secret := range []string{payB.ID, revB, ruleB, itemB, "bsecret.test", "$22.22"} {
			if strings.Contains(p.Body, secret) {
				t.Errorf("A's %s shows B's %s", path, secret)
			}
		}
	}
	for path, want := range map[string]int{
		"/dashboard/reviews/" + revB + "/approve":                http.StatusNotFound,
		"/dashboard/risk/rules/" + ruleB + "/enabled":            http.StatusNotFound,
		"/dashboard/risk/rules/" + ruleB + "/delete":             http.StatusNotFound,
		"/dashboard/risk/lists/block/items/" + itemB + "/delete": http.StatusNotFound,
	} {
		if p := a.post(path, url.Values{"enabled": {"0"}}); p.Status != want {
			t.Errorf("A POST %s: %d", path, p.Status)
		}
	}
	if p := a.get("/dashboard/risk/rules/test?action=block&expression=true"); !strings.Contains(p.Body, `"matched":1,"of":1`) {
		t.Errorf("A's backtest: %s", p.Body)
	}
	if st := reviewStatus(t, env, revB); st != "open" {
		t.Errorf("B's review: %s", st)
	}
	if n := env.Count(`SELECT count(*) FROM risk_rules WHERE id = $1 AND enabled`, ruleB); n != 1 {
		t.Error("B's rule changed")
	}
	if n := env.Count(`SELECT count(*) FROM risk_list_items`); n != 1 {
		t.Error("B's item removed")
	}
}

// A form POST from another site is refused (403) and changes nothing;
// so is the live backtest asked for by another site's page, and without
// a session it answers 401 JSON rather than a log-in page.
func TestDashboardRiskCrossSite(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("csrf@shop.test")
	_, rev := reviewedPayment(t, env, creds, 999)
	b := newBrowser(env)
	b.login("csrf@shop.test")
	b.origin = "https://evil.test"
	for _, post := range []struct {
		path string
		form url.Values
	}{
		{"/dashboard/risk/rules", url.Values{"action": {"block"}, "expression": {"true"}}},
		{"/dashboard/risk/lists/block/items", url.Values{"type": {"email"}, "value": {"x@y.test"}}},
		{"/dashboard/reviews/" + rev + "/approve", url.Values{}},
	} {
		if p := b.post(post.path, post.form); p.Status != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d", post.path, p.Status)
		}
	}
	if n := env.Count(`SELECT count(*) FROM risk_rules`) + env.Count(`SELECT count(*) FROM risk_list_items`); n != 0 {
		t.Fatalf("cross-site forms saved %d rows", n)
	}
	if st := reviewStatus(t, env, rev); st != "open" {
		t.Fatalf("review after a cross-site approve: %s", st)
	}
	req, _ := http.NewRequest("GET", env.Base+"/dashboard/risk/rules/test?action=block&expression=true", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.Status != http.StatusForbidden {
		t.Errorf("cross-site backtest: %d %s", p.Status, p.Body)
	}
	if p := newBrowser(env).get("/dashboard/risk/rules/test?action=block&expression=true"); p.Status != http.StatusUnauthorized ||
		!strings.Contains(p.Body, "login_required") {
		t.Errorf("backtest without a session: %d %s", p.Status, p.Body)
	}
}
