package merchantapi_test

import (
	"net/http"
	"strings"
	"testing"

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
