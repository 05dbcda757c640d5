package merchantapi_test

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/wire"
)

// payAs pays link with a card as a shopper with email, and returns the
// payment.
func payAs(t *testing.T, e *apitest.Env, link wire.PaymentLink, number, email string) wire.Payment {
	t.Helper()
	body := apitest.CardBody(number)
	body["email"] = email
	return apitest.PayAnswerOf(t, e.Pay(apitest.CheckoutPath(t, link), body, "")).Payment
}

// TestSearchPaymentsOverHTTP: GET /v1/payments reads every Part 2 filter
// from the query, alone and combined, pages under a filter, and carries
// the link's realm on each payment. (Package payments tests the filters'
// meaning in depth; this is the route.)
func TestSearchPaymentsOverHTTP(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("search@shop.test")
	eu := e.CreateLink(c, map[string]any{"amount": 1000, "realm": "shop.eu", "single_use": false})
	plain := e.CreateLink(c, map[string]any{"amount": 5000, "single_use": false})
	if eu.Realm == nil || *eu.Realm != "shop.eu" || plain.Realm != nil {
		t.Fatalf("link realms = %v, %v", eu.Realm, plain.Realm)
	}

	p1 := payAs(t, e, eu, "4242424242424242", "ada@a.test")
	p2 := payAs(t, e, plain, "4242424242424242", "ada@a.test")
	e.Clock.Advance(time.Hour)
	p3 := payAs(t, e, eu, "4242424242424242", "Bob@B.test")
	p4 := payAs(t, e, eu, "4000000000000002", "ada@a.test") // declined
	if p1.Realm == nil || *p1.Realm != "shop.eu" || p2.Realm != nil || p4.Status != "failed" {
		t.Fatalf("payments: realm %v / %v, declined status %q", p1.Realm, p2.Realm, p4.Status)
	}
	created, err := time.Parse(time.RFC3339, p3.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	split := created.Add(-30 * time.Minute).Format(time.RFC3339)

	for _, tt := range []struct {
		query string
		want  []string // newest first
	}{
		{"", []string{p4.ID, p3.ID, p2.ID, p1.ID}},
		{"realm=shop.eu", []string{p4.ID, p3.ID, p1.ID}},
		{"email=ADA@a.test", []string{p4.ID, p2.ID, p1.ID}},
		{"email=bob@b.test", []string{p3.ID}},
		{"created_gte=" + url.QueryEscape(split), []string{p4.ID, p3.ID}},
		{"created_lt=" + url.QueryEscape(split), []string{p2.ID, p1.ID}},
		{"amount_gte=5000", []string{p2.ID}},
		{"amount_lte=1000", []string{p4.ID, p3.ID, p1.ID}},
		{"status=failed", []string{p4.ID}},
		{"payment_link=" + plain.ID, []string{p2.ID}},
		{"realm=shop.eu&status=succeeded&email=ada@a.test", []string{p1.ID}},
		{"realm=shop.eu&created_gte=" + url.QueryEscape(split) + "&amount_gte=1000&amount_lte=1000", []string{p4.ID, p3.ID}},
		{"realm=other", []string{}},
	} {
		got, more := apitest.ListIDs(t, e, c, "/v1/payments?"+tt.query)
		if !slices.Equal(got, tt.want) || more {
			t.Errorf("?%s = %v (has_more %v); want %v", tt.query, got, more, tt.want)
		}
	}

	// Pages of one under a filter: every match once, in order, while a
	// new matching payment arrives between pages (it sorts first, so it
	// belongs to no later page).
	var paged []string
	after := ""
	for page := 0; ; page++ {
		path := "/v1/payments?realm=shop.eu&limit=1"
		if after != "" {
			path += "&starting_after=" + after
		}
		got, more := apitest.ListIDs(t, e, c, path)
		paged = append(paged, got...)
		if page == 0 {
			payAs(t, e, eu, "4242424242424242", "late@a.test")
		}
		if !more {
			break
		}
		after = got[len(got)-1]
	}
	if want := []string{p4.ID, p3.ID, p1.ID}; !slices.Equal(paged, want) {
		t.Fatalf("pages of realm=shop.eu = %v; want %v", paged, want)
	}
}

// TestSearchRefusesMalformedFilters: each malformed filter is 400 with
// its param, before anything is read.
func TestSearchRefusesMalformedFilters(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("malformed@shop.test")
	for _, tt := range []struct{ query, code, param string }{
		{"status=paid", "status_invalid", "status"},
		{"payment_link=pay_123", "payment_link_invalid", "payment_link"},
		{"payment_form=plink_1", "payment_form_invalid", "payment_form"},
		{"realm=Shop", "realm_invalid", "realm"},
		{"email=nobody", "email_invalid", "email"},
		{"created_gte=2026-13-01", "created_invalid", "created_gte"},
		{"created_lt=yesterday", "created_invalid", "created_lt"},
		{"amount_gte=-1", "amount_invalid", "amount_gte"},
		{"amount_lte=1.5", "amount_invalid", "amount_lte"},
		{"limit=0", "limit_invalid", "limit"},
	} {
		res := e.Do(apitest.Req{Method: "GET", Path: "/v1/payments?" + tt.query, Auth: &c})
		apitest.WantError(t, res, 400, tt.code)
		var b struct {
			Error struct{ Param string } `json:"error"`
		}
		res.Decode(t, &b)
		if b.Error.Param != tt.param {
			t.Errorf("?%s: param %q, want %q", tt.query, b.Error.Param, tt.param)
		}
	}
}

// TestListsRefuseUnknownParameters: a query parameter a list does not
// take (a mistyped filter) is 400 unknown_parameter naming it, as an
// unknown body field is, rather than silently a wider list or CSV; every
// filter API.md names is still taken.
func TestListsRefuseUnknownParameters(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("typo@shop.test")
	e.Paid(c, 1500)
	for path, param := range map[string]string{
		"/v1/payments?staus=failed":                "staus",
		"/v1/reports/payments.csv?staus=failed":    "staus",
		"/v1/payments?limit=5&ending_before=pay_1": "ending_before",
		"/v1/payment_links?realms=eu":              "realms",
		"/v1/payment_forms?state=active":           "state",
		"/v1/refunds?payment_id=pay_1":             "payment_id",
		"/v1/events?types=payment.succeeded":       "types",
		"/v1/webhook_endpoints?url=x":              "url",
		"/v1/api_keys?scope=x":                     "scope",
		"/v1/reviews?state=open":                   "state",
		"/v1/risk/rules?enabled=true":              "enabled",
	} {
		res := e.Do(apitest.Req{Method: "GET", Path: path, Auth: &c})
		apitest.WantError(t, res, 400, "unknown_parameter")
		var b struct {
			Error struct{ Param string } `json:"error"`
		}
		res.Decode(t, &b)
		if b.Error.Param != param {
			t.Errorf("%s: param %q, want %q", path, b.Error.Param, param)
		}
	}
	for _, path := range []string{"/v1/payments?status=succeeded&payment_link=plink_01m8000000000000000000000a&payment_form=pform_01m8000000000000000000000a" +
		"&realm=shop&email=a@b.test&created_gte=2026-01-01T00:00:00Z&created_lt=2027-01-01T00:00:00Z&amount_gte=1&amount_lte=5&limit=5",
		"/v1/reports/payments.csv?status=succeeded&amount_gte=1", "/v1/payment_links?status=active&realm=shop",
		"/v1/payment_forms?status=active&realm=shop", "/v1/refunds?payment=pay_01m8000000000000000000000a",
		"/v1/events?type=payment.succeeded", "/v1/reviews?status=open"} {
		if res := e.Do(apitest.Req{Method: "GET", Path: path, Auth: &c}); res.Status != 200 {
			t.Errorf("%s: %d %s", path, res.Status, res.Body)
		}
	}
	s := e.WalletUser("typo@wallet.test")
	apitest.WantError(t, s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/transactions?typ=topup"}), 400, "unknown_parameter")
	if res := s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/transactions?type=topup&status=succeeded&limit=3"}); res.Status != 200 {
		t.Errorf("wallet transactions with filters: %d %s", res.Status, res.Body)
	}
	if res := s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/notifications?unread=true"}); res.Status != 200 {
		t.Errorf("wallet notifications unread: %d %s", res.Status, res.Body)
	}
}

// TestRealmsOnLinksAndForms: realm is taken on creation, checked, and
// filters both lists.
func TestRealmsOnLinksAndForms(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("realms@shop.test")
	a := e.CreateLink(c, map[string]any{"realm": "site-a"})
	e.CreateLink(c, nil)
	fa := e.CreateForm(c, map[string]any{"realm": "site-a"})
	e.CreateForm(c, nil)
	if got, _ := apitest.ListIDs(t, e, c, "/v1/payment_links?realm=site-a"); !slices.Equal(got, []string{a.ID}) {
		t.Errorf("links of realm site-a = %v, want [%s]", got, a.ID)
	}
	if got, _ := apitest.ListIDs(t, e, c, "/v1/payment_forms?realm=site-a&status=active"); !slices.Equal(got, []string{fa.ID}) {
		t.Errorf("forms of realm site-a = %v, want [%s]", got, fa.ID)
	}
	if got, _ := apitest.ListIDs(t, e, c, "/v1/payment_links"); len(got) != 2 {
		t.Errorf("all links = %v, want 2", got)
	}
	for _, path := range []string{"/v1/payment_links", "/v1/payment_forms"} {
		apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: path + "?realm=A", Auth: &c}), 400, "realm_invalid")
		// Given, a realm has 1 to 64 characters: empty or not a string is refused.
		for _, realm := range []any{"has space", "", 123} {
			body := map[string]any{"amount": 500, "currency": "usd", "realm": realm}
			if path == "/v1/payment_forms" {
				body["title"], body["allowed_origins"] = "Donate", []string{apitest.ShopOrigin}
			}
			apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: path, Auth: &c, Body: body}), 400, "realm_invalid")
		}
	}
	if n := e.Count(`SELECT (SELECT count(*) FROM payment_links) + (SELECT count(*) FROM payment_forms)`); n != 4 {
		t.Errorf("%d links and forms; the refused ones were stored", n)
	}
}
