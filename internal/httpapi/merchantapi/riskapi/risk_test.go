package riskapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/wire"
)

func riskReq(e *apitest.Env, c apitest.Creds, method, path string, body any) apitest.Response {
	return e.Do(apitest.Req{Method: method, Path: path, Auth: &c, Body: body})
}

// wantPage fails t unless the list at path holds exactly the ids want,
// in order, with has_more more.
func wantPage(t *testing.T, e *apitest.Env, c apitest.Creds, path string, more bool, want ...string) {
	t.Helper()
	if got, gotMore := apitest.ListIDs(t, e, c, path); !slices.Equal(got, want) || gotMore != more {
		t.Fatalf("GET %s = %v, has_more %v; want %v, %v", path, got, gotMore, want, more)
	}
}

func payment(t *testing.T, e *apitest.Env, c apitest.Creds, id string) wire.Payment {
	t.Helper()
	var p wire.Payment
	riskReq(e, c, "GET", "/v1/payments/"+id, nil).Decode(t, &p)
	return p
}

// TestRiskRules: rules are type-checked on create and edit (400
// rule_invalid with the checker's message), listed, edited, disabled and
// deleted; a saved block rule blocks the next checkout payment and counts
// the match; a challenge rule sends a card that needs none to the
// challenge.
func TestRiskRules(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("rules@shop.test")
	for body, want := range map[string]map[string]any{
		"undeclared reference": {"action": "block", "expression": "amout > 1"},
		"Syntax error":         {"action": "block", "expression": "amount >"},
		"not bool":             {"action": "block", "expression": "amount + 1"},
	} {
		res := riskReq(e, c, "POST", "/v1/risk/rules", want)
		apitest.WantError(t, res, http.StatusBadRequest, "rule_invalid")
		if !strings.Contains(string(res.Body), body) {
			t.Errorf("rule_invalid for %v does not say %q: %s", want["expression"], body, res.Body)
		}
	}
	apitest.WantError(t, riskReq(e, c, "POST", "/v1/risk/rules", map[string]any{"action": "hold", "expression": "true"}),
		http.StatusBadRequest, "parameter_invalid")
	if n := e.Count(`SELECT count(*) FROM risk_rules`); n != 0 {
		t.Fatalf("refused rules left %d rows", n)
	}

	res := riskReq(e, c, "POST", "/v1/risk/rules", map[string]any{"action": "block",
		"expression": "amount > 2000 && email_domain == 'fraud.test'", "description": "big fraud.test orders"})
	if res.Status != http.StatusCreated {
		t.Fatalf("create rule: %d %s", res.Status, res.Body)
	}
	var r wire.RiskRule
	res.Decode(t, &r)
	if !strings.HasPrefix(r.ID, "rr_") || !r.Enabled || r.Matches != 0 || r.Action != "block" {
		t.Fatalf("rule = %+v", r)
	}
	apitest.WantError(t, riskReq(e, c, "PATCH", "/v1/risk/rules/"+r.ID, map[string]any{"expression": "email > 3"}),
		http.StatusBadRequest, "rule_invalid")

	l := e.CreateLink(c, map[string]any{"single_use": false})
	path := apitest.CheckoutPath(t, l)
	body := apitest.CardBody("4242424242424242")
	body["email"] = "Mallory@FRAUD.test"
	blocked := e.Pay(path, body, "r1")
	apitest.WantError(t, blocked, http.StatusPaymentRequired, "payment_blocked")
	p := payment(t, e, c, apitest.PayAnswerOf(t, blocked).Payment.ID)
	if p.Risk.V == nil || wire.Deref(p.Risk.V.Rule) != r.ID || !slices.Contains(p.Risk.V.Reasons, r.ID) {
		t.Fatalf("blocked by rule: %+v", p.Risk.V)
	}
	riskReq(e, c, "GET", "/v1/risk/rules/"+r.ID, nil).Decode(t, &r)
	if r.Matches != 1 {
		t.Fatalf("matches = %d, want 1", r.Matches)
	}
	if ok := e.Pay(path, apitest.CardBody("4242424242424242"), "r2"); ok.Status != http.StatusOK {
		t.Fatalf("another shopper: %d %s", ok.Status, ok.Body)
	}

	res = riskReq(e, c, "PATCH", "/v1/risk/rules/"+r.ID, map[string]any{"enabled": false})
	res.Decode(t, &r)
	if res.Status != http.StatusOK || r.Enabled {
		t.Fatalf("disable: %d %s", res.Status, res.Body)
	}
	if ok := e.Pay(path, body, "r3"); ok.Status != http.StatusOK {
		t.Fatalf("after disabling the rule: %d %s", ok.Status, ok.Body)
	}

	var ch wire.RiskRule
	riskReq(e, c, "POST", "/v1/risk/rules", map[string]any{"action": "challenge", "expression": "amount >= 2500"}).Decode(t, &ch)
	challenged := apitest.PayAnswerOf(t, e.Pay(path, apitest.CardBody("4242424242424242"), "r4"))
	if challenged.Payment.Status != "requires_action" || challenged.NextAction == nil || challenged.NextAction.Type != "challenge" {
		t.Fatalf("challenge rule: %+v", challenged)
	}
	done := apitest.PayAnswerOf(t, e.Answer(challenged.NextAction.URL, "approve", "r4-answer"))
	if done.Payment.Status != "succeeded" {
		t.Fatalf("approved challenge: %+v", done.Payment)
	}
	// Whatever the card: one that declines is challenged first, and
	// declines with its own code once the challenge is passed.
	declining := apitest.PayAnswerOf(t, e.Pay(path, apitest.CardBody("4000000000000002"), "r5"))
	if declining.Payment.Status != "requires_action" || declining.NextAction == nil {
		t.Fatalf("challenge rule, declining card: %+v", declining)
	}
	res = e.Answer(declining.NextAction.URL, "approve", "r5-answer")
	if p := payment(t, e, c, declining.Payment.ID); res.Status != http.StatusOK || p.Status != "failed" ||
		wire.Deref(p.FailureCode) != "card_declined" || p.Risk.V == nil || p.Risk.V.Outcome != "challenge" {
		t.Fatalf("declining card after its challenge: %d %s; payment %+v", res.Status, res.Body, p)
	}

	// The list is a page like every other, newest first.
	wantPage(t, e, c, "/v1/risk/rules", false, ch.ID, r.ID)
	wantPage(t, e, c, "/v1/risk/rules?limit=1", true, ch.ID)
	wantPage(t, e, c, "/v1/risk/rules?limit=1&starting_after="+ch.ID, false, r.ID)
	apitest.WantError(t, riskReq(e, c, "GET", "/v1/risk/rules?limit=101", nil), http.StatusBadRequest, "limit_invalid")
	apitest.WantError(t, riskReq(e, c, "GET", "/v1/risk/rules?starting_after=rli_x", nil), http.StatusBadRequest,
		"starting_after_invalid")
	if res := riskReq(e, c, "DELETE", "/v1/risk/rules/"+ch.ID, nil); res.Status != http.StatusOK {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	apitest.WantError(t, riskReq(e, c, "GET", "/v1/risk/rules/"+ch.ID, nil), http.StatusNotFound, "resource_missing")
	_, other := e.SignUp("other-rules@shop.test")
	apitest.WantError(t, riskReq(e, other, "GET", "/v1/risk/rules/"+r.ID, nil), http.StatusNotFound, "resource_missing")

	var bt wire.RiskBacktest
	res = riskReq(e, c, "POST", "/v1/risk/rules/test", map[string]any{"action": "block", "expression": "email_domain == 'fraud.test'"})
	res.Decode(t, &bt)
	if res.Status != http.StatusOK || bt.Matched != 2 || bt.Of != 5 || len(bt.Payments) != 2 {
		t.Fatalf("backtest: %d %s; want 2 of 5 payments", res.Status, res.Body)
	}
	// Like every POST, the backtest takes an Idempotency-Key.
	keyed := func(expression string) apitest.Response {
		return e.Do(apitest.Req{Method: "POST", Path: "/v1/risk/rules/test", Auth: &c,
			Header: map[string]string{"Idempotency-Key": "bt-1"}, Body: map[string]any{"action": "block", "expression": expression}})
	}
	first, replay := keyed("amount > 0"), keyed("amount > 0")
	if first.Status != http.StatusOK || replay.Status != http.StatusOK || replay.Header.Get("Idempotent-Replayed") != "true" ||
		string(replay.Body) != string(first.Body) {
		t.Fatalf("backtest replay: %d %s, then %d %v %s", first.Status, first.Body, replay.Status, replay.Header, replay.Body)
	}
	apitest.WantError(t, keyed("false"), http.StatusUnprocessableEntity, "idempotency_key_reused")
}

// TestRiskLists: items are checked (400 with param), stored lower-cased
// or as CIDR ranges, listed and deleted; a block-listed domain is
// blocked at checkout whatever its case, until its item is deleted.
func TestRiskLists(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("lists@shop.test")
	for _, tc := range []struct {
		path  string
		body  map[string]any
		param string
	}{
		{"/v1/risk/lists/block/items", map[string]any{"type": "phone", "value": "1"}, "type"},
		{"/v1/risk/lists/block/items", map[string]any{"type": "ip", "value": "10.0.0.256"}, "value"},
		{"/v1/risk/lists/allow/items", map[string]any{"type": "email", "value": "nobody"}, "value"},
		// A card number is not a fingerprint, and must not be stored.
		{"/v1/risk/lists/block/items", map[string]any{"type": "card_fingerprint", "value": "4242424242424242"}, "value"},
	} {
		res := riskReq(e, c, "POST", tc.path, tc.body)
		if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), `"param":"`+tc.param+`"`) {
			t.Errorf("%v: %d %s; want 400 with param %s", tc.body, res.Status, res.Body, tc.param)
		}
	}
	apitest.WantError(t, riskReq(e, c, "POST", "/v1/risk/lists/grey/items", map[string]any{"type": "ip", "value": "10.0.0.1"}),
		http.StatusNotFound, "resource_missing")

	var it wire.RiskListItem
	res := riskReq(e, c, "POST", "/v1/risk/lists/block/items", map[string]any{"type": "email_domain", "value": "Fraud.TEST"})
	res.Decode(t, &it)
	if res.Status != http.StatusCreated || it.Value != "fraud.test" || it.List != "block" || !strings.HasPrefix(it.ID, "rli_") {
		t.Fatalf("add: %d %s", res.Status, res.Body)
	}
	var ipItem wire.RiskListItem
	riskReq(e, c, "POST", "/v1/risk/lists/allow/items", map[string]any{"type": "ip", "value": "192.168.7.9/16"}).Decode(t, &ipItem)
	if ipItem.Value != "192.168.0.0/16" {
		t.Fatalf("CIDR stored as %q", ipItem.Value)
	}

	l := e.CreateLink(c, map[string]any{"single_use": false})
	body := apitest.CardBody("4242424242424242")
	body["email"] = "someone@FRAUD.Test"
	blocked := e.Pay(apitest.CheckoutPath(t, l), body, "l1")
	apitest.WantError(t, blocked, http.StatusPaymentRequired, "payment_blocked")
	if p := payment(t, e, c, apitest.PayAnswerOf(t, blocked).Payment.ID); p.Risk.V == nil ||
		!slices.Contains(p.Risk.V.Reasons, "block_list") {
		t.Fatalf("block-listed: %+v", p.Risk.V)
	}
	if n := e.Count(`SELECT count(*) FROM risk_list_items WHERE value LIKE '%4242%'`); n != 0 {
		t.Fatalf("%d list items hold a card number", n)
	}
	wantPage(t, e, c, "/v1/risk/lists/block/items", false, it.ID)
	var second wire.RiskListItem
	riskReq(e, c, "POST", "/v1/risk/lists/block/items", map[string]any{"type": "ip", "value": "198.51.100.7"}).Decode(t, &second)
	wantPage(t, e, c, "/v1/risk/lists/block/items?limit=1", true, second.ID)
	wantPage(t, e, c, "/v1/risk/lists/block/items?starting_after="+second.ID, false, it.ID)
	apitest.WantError(t, riskReq(e, c, "GET", "/v1/risk/lists/block/items?limit=0", nil), http.StatusBadRequest, "limit_invalid")
	if res := riskReq(e, c, "DELETE", "/v1/risk/lists/block/items/"+second.ID, nil); res.Status != http.StatusOK {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	if res := riskReq(e, c, "DELETE", "/v1/risk/lists/block/items/"+it.ID, nil); res.Status != http.StatusOK {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	if ok := e.Pay(apitest.CheckoutPath(t, l), body, "l2"); ok.Status != http.StatusOK {
		t.Fatalf("after deleting the item: %d %s", ok.Status, ok.Body)
	}
}

// TestReviewLifeCycle: a review rule charges the payment and opens a
// review (review.opened); approving closes it (review.closed), approving
// again is 400 review_closed; another review closes as refunded once
// refunds add up to the whole amount, not before.
func TestReviewLifeCycle(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("reviews@shop.test")
	riskReq(e, c, "POST", "/v1/risk/rules", map[string]any{"action": "review", "expression": "customer_payments == 0"})
	l := e.CreateLink(c, map[string]any{"single_use": false})
	pay := func(email, key string) wire.Payment {
		t.Helper()
		body := apitest.CardBody("4242424242424242")
		body["email"] = email
		res := e.Pay(apitest.CheckoutPath(t, l), body, key)
		if res.Status != http.StatusOK {
			t.Fatalf("pay: %d %s", res.Status, res.Body)
		}
		return payment(t, e, c, apitest.PayAnswerOf(t, res).Payment.ID)
	}
	first := pay("new@shop.test", "v1")
	if first.Status != "succeeded" || first.Review.V == nil || first.Risk.V.Outcome != "review" {
		t.Fatalf("reviewed payment: %+v risk %+v", first, first.Risk.V)
	}
	if again := pay("new@shop.test", "v2"); again.Review.V != nil {
		t.Fatalf("a returning customer was reviewed: %+v", again.Risk.V)
	}
	var rev wire.Review
	riskReq(e, c, "GET", "/v1/reviews/"+*first.Review.V, nil).Decode(t, &rev)
	if rev.Status != "open" || rev.Reason != "rule" || rev.Payment != first.ID || rev.ClosedReason != nil {
		t.Fatalf("review = %+v", rev)
	}
	var open wire.List[wire.Review]
	riskReq(e, c, "GET", "/v1/reviews?status=open", nil).Decode(t, &open)
	if len(open.Data) != 1 || open.Data[0].ID != rev.ID {
		t.Fatalf("open reviews = %+v", open.Data)
	}
	apitest.WantError(t, riskReq(e, c, "GET", "/v1/reviews?status=pending", nil), http.StatusBadRequest, "parameter_invalid")

	// A body with a field, or not JSON, is refused and closes nothing.
	apitest.WantError(t, riskReq(e, c, "POST", "/v1/reviews/"+rev.ID+"/approve", map[string]any{"x": 1}),
		http.StatusBadRequest, "unknown_parameter")
	apitest.WantError(t, riskReq(e, c, "POST", "/v1/reviews/"+rev.ID+"/approve", "garbage"),
		http.StatusBadRequest, "invalid_json")
	riskReq(e, c, "GET", "/v1/reviews/"+rev.ID, nil).Decode(t, &rev)
	if rev.Status != "open" {
		t.Fatalf("a refused approve closed the review: %+v", rev)
	}

	res := riskReq(e, c, "POST", "/v1/reviews/"+rev.ID+"/approve", nil)
	res.Decode(t, &rev)
	if res.Status != http.StatusOK || rev.Status != "closed" || wire.Deref(rev.ClosedReason) != "approved" || rev.ClosedAt == nil {
		t.Fatalf("approve: %d %s", res.Status, res.Body)
	}
	apitest.WantError(t, riskReq(e, c, "POST", "/v1/reviews/"+rev.ID+"/approve", nil), http.StatusBadRequest, "review_closed")

	second := pay("other@shop.test", "v3")
	if r := e.Refund(c, second.ID, map[string]any{"amount": 1000}); r.Status != http.StatusCreated {
		t.Fatalf("partial refund: %d %s", r.Status, r.Body)
	}
	riskReq(e, c, "GET", "/v1/reviews/"+*second.Review.V, nil).Decode(t, &rev)
	if rev.Status != "open" {
		t.Fatalf("after a partial refund: %+v", rev)
	}
	if r := e.Refund(c, second.ID, map[string]any{"reason": "fraudulent"}); r.Status != http.StatusCreated {
		t.Fatalf("refund the rest: %d %s", r.Status, r.Body)
	}
	riskReq(e, c, "GET", "/v1/reviews/"+*second.Review.V, nil).Decode(t, &rev)
	if rev.Status != "closed" || wire.Deref(rev.ClosedReason) != "refunded" {
		t.Fatalf("after refunding all: %+v", rev)
	}
	if n := e.Count(`SELECT count(*) FROM events WHERE type = 'review.opened'`); n != 2 {
		t.Fatalf("review.opened events: %d, want 2", n)
	}
	if n := e.Count(`SELECT count(*) FROM events WHERE type = 'review.closed'`); n != 2 {
		t.Fatalf("review.closed events: %d, want 2", n)
	}
	riskReq(e, c, "GET", "/v1/reviews?status=closed", nil).Decode(t, &open)
	if len(open.Data) != 2 {
		t.Fatalf("closed reviews = %+v", open.Data)
	}

	body := apitest.CardBody("4100000000000019")
	body["email"] = "new@shop.test" // a returning customer: the review rule does not match
	apitest.WantError(t, e.Pay(apitest.CheckoutPath(t, l), body, "v4"), http.StatusPaymentRequired, "payment_blocked")
	var in wire.RiskInsights
	res = riskReq(e, c, "GET", "/v1/risk/insights", nil)
	res.Decode(t, &in)
	want := wire.RiskInsights{Days: 30, Attempts: 4, Outcomes: wire.RiskOutcomes{Allow: 1, Review: 2, Block: 1},
		BlockedAmount: []wire.Money{{Currency: "USD", Amount: 2500}},
		TopReasons:    []wire.RiskReason{{Reason: "test_card", Count: 1}},
		OpenReviews:   0, FraudulentRefunds: 1}
	if len(in.TopReasons) > 0 {
		in.TopReasons = in.TopReasons[len(in.TopReasons)-1:] // the rule's id leads; test_card is last
	}
	if diff := cmp.Diff(want, in); diff != "" {
		t.Errorf("insights (-want +got):\n%s", diff)
	}
	for _, q := range []string{"?days=0", "?days=91", "?days=x"} {
		apitest.WantError(t, riskReq(e, c, "GET", "/v1/risk/insights"+q, nil), http.StatusBadRequest, "parameter_invalid")
	}
}
