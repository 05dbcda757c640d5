package merchantapi_test

import (
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/wire"
)

// refunded refunds body of payID and returns the refund, failing unless
// it is 201.
func refunded(t *testing.T, e *apitest.Env, c apitest.Creds, payID string, body any) wire.Refund {
	t.Helper()
	res := e.Refund(c, payID, body)
	if res.Status != http.StatusCreated {
		t.Fatalf("refund %s: %d %s", payID, res.Status, res.Body)
	}
	var r wire.Refund
	res.Decode(t, &r)
	return r
}

// TestRefundReasonsAndLists: a refund keeps its reason; GET /v1/refunds
// lists every refund or one payment's, GET /v1/refunds/{id} answers the
// refund as created, GET /v1/payments/{id}/refunds one payment's; none
// shows another merchant's.
func TestRefundReasonsAndLists(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("refund-lists@shop.test")
	p, q, untouched := e.Paid(c, 2500), e.Paid(c, 1000), e.Paid(c, 300)
	r1 := refunded(t, e, c, p.ID, map[string]any{"amount": 500, "reason": "requested_by_customer"})
	r2 := refunded(t, e, c, q.ID, map[string]any{"amount": 100, "reason": "duplicate"})
	r3 := refunded(t, e, c, p.ID, nil)
	if r1.Reason == nil || *r1.Reason != "requested_by_customer" || r3.Reason != nil || r3.Amount != 2000 || r1.Currency != "USD" {
		t.Fatalf("refunds = %+v / %+v", r1, r3)
	}
	apitest.WantError(t, e.Refund(c, q.ID, map[string]any{"amount": 100, "reason": "changed_mind"}), 400, "reason_invalid")
	if n := e.Count(`SELECT count(*) FROM refunds`); n != 3 {
		t.Fatalf("%d refunds after a refused reason, want 3", n)
	}

	for _, tt := range []struct {
		path string
		want []string
	}{
		{"/v1/refunds", []string{r3.ID, r2.ID, r1.ID}},
		{"/v1/refunds?payment=" + p.ID, []string{r3.ID, r1.ID}},
		{"/v1/payments/" + p.ID + "/refunds", []string{r3.ID, r1.ID}},
		{"/v1/payments/" + q.ID + "/refunds", []string{r2.ID}},
		{"/v1/payments/" + untouched.ID + "/refunds", []string{}},
		{"/v1/refunds?payment=" + untouched.ID, []string{}},
	} {
		if got, more := apitest.ListIDs(t, e, c, tt.path); !slices.Equal(got, tt.want) || more {
			t.Errorf("GET %s = %v (has_more %v), want %v", tt.path, got, more, tt.want)
		}
	}
	// Pages of one: every refund once, in order.
	first, more := apitest.ListIDs(t, e, c, "/v1/refunds?limit=2")
	rest, more2 := apitest.ListIDs(t, e, c, "/v1/refunds?limit=2&starting_after="+first[1])
	if !slices.Equal(append(first, rest...), []string{r3.ID, r2.ID, r1.ID}) || !more || more2 {
		t.Errorf("pages = %v (%v) + %v (%v)", first, more, rest, more2)
	}

	res := e.Do(apitest.Req{Method: "GET", Path: "/v1/refunds/" + r1.ID, Auth: &c})
	var got wire.Refund
	res.Decode(t, &got)
	if res.Status != 200 || !reflect.DeepEqual(got, r1) {
		t.Errorf("GET /v1/refunds/%s = %d %+v, want %+v", r1.ID, res.Status, got, r1)
	}

	_, other := e.SignUp("other-refunds@shop.test")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/refunds/" + r1.ID, Auth: &other}), 404, "refund_not_found")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/refunds/re_nope", Auth: &c}), 404, "refund_not_found")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payments/" + p.ID + "/refunds", Auth: &other}), 404, "payment_not_found")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payments/pay_nope/refunds", Auth: &c}), 404, "payment_not_found")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/refunds?payment=plink_1", Auth: &c}), 400, "payment_invalid")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/refunds?limit=101", Auth: &c}), 400, "limit_invalid")
	if got, _ := apitest.ListIDs(t, e, other, "/v1/refunds"); len(got) != 0 {
		t.Errorf("another merchant lists %v", got)
	}
}
