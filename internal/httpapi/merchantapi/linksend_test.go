package merchantapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi/apitest"
)

func TestSendPaymentLink(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	mid, c := e.SignUp("send@shop.test")
	l := e.CreateLink(c, map[string]any{"expires_in": 7 * 24 * 3600})
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links/" + l.ID + "/send", Auth: &c,
		Body: map[string]any{"email": "Ada@Example.test", "reminders": true}})
	if res.Status != http.StatusAccepted || strings.TrimSpace(string(res.Body)) != `{"link":"`+l.ID+`","email":"ada@example.test","reminders":true}` {
		t.Fatalf("send = %d %s", res.Status, res.Body)
	}
	if n := e.Count(`SELECT count(*) FROM emails WHERE to_addr = 'ada@example.test' AND body LIKE '%' || $1 || '%'`, l.URL); n != 1 {
		t.Fatalf("%d e-mails carrying the link's URL", n)
	}
	if n := e.Count(`SELECT count(*) FROM events WHERE merchant_id = $1 AND type = 'payment_link.sent'`, mid); n != 1 {
		t.Fatalf("%d payment_link.sent events", n)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links/" + l.ID + "/send", Auth: &c,
		Body: map[string]any{"email": "not an address"}}), http.StatusBadRequest, "email_invalid")
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links/plink_nope/send", Auth: &c,
		Body: map[string]any{"email": "ada@example.test"}}), http.StatusNotFound, "payment_link_not_found")
	e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links/" + l.ID + "/deactivate", Auth: &c})
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links/" + l.ID + "/send", Auth: &c,
		Body: map[string]any{"email": "ada@example.test"}}), http.StatusGone, "link_inactive")
	if n := e.Count(`SELECT count(*) FROM link_sends`); n != 1 {
		t.Fatalf("%d sendings after refused ones, want 1", n)
	}
}

// TestSendPaymentLinkOverTheLimitSaysWhenToRetry: the 11th recipient of a
// link in a day is 429 rate_limit_error send_limit_reached with
// Retry-After (API.md Part 1): whole seconds until the first of the day's
// recipients leaves the 24-hour window, here 21 hours after the first
// sendings 3 hours ago; once that time has passed the sending goes.
func TestSendPaymentLinkOverTheLimitSaysWhenToRetry(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("sendlimit@shop.test")
	l := e.CreateLink(c, map[string]any{"expires_in": 7 * 24 * 3600})
	send := func(email string) apitest.Response {
		return e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links/" + l.ID + "/send", Auth: &c,
			Body: map[string]any{"email": email}})
	}
	for i := range 10 {
		if res := send(string(rune('a'+i)) + "@example.test"); res.Status != http.StatusAccepted {
			t.Fatalf("recipient %d: %d %s", i+1, res.Status, res.Body)
		}
	}
	e.Clock.Advance(3 * time.Hour)
	res := send("k@example.test")
	apitest.WantError(t, res, http.StatusTooManyRequests, "send_limit_reached")
	if !strings.Contains(string(res.Body), `"type":"rate_limit_error"`) || res.Header.Get("X-RateLimit-Limit") == "" {
		t.Fatalf("429 body %s, headers %v", res.Body, res.Header)
	}
	ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || ra <= 0 || ra > 24*3600 {
		t.Fatalf("Retry-After = %q; want whole seconds in (0, 86400]", res.Header.Get("Retry-After"))
	}
	// The clock runs (real time plus an offset): allow the test's seconds.
	if want := 21 * 3600; ra > want || ra < want-60 {
		t.Fatalf("Retry-After = %d; want about %d (the first recipients leave the window 21 h from now)", ra, want)
	}
	e.Clock.Advance(time.Duration(ra) * time.Second)
	if res := send("k@example.test"); res.Status != http.StatusAccepted {
		t.Fatalf("after Retry-After: %d %s", res.Status, res.Body)
	}
}
