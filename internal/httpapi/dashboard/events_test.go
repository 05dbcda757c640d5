package dashboard_test

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/webhook"
)

var eventJSON = regexp.MustCompile(`(?s)<pre class="json" id="event-json"[^>]*><code>(.*?)</code></pre>`)

// The Developers section's events: the list filters by type and pages,
// an event's page shows exactly the API's body and its deliveries, and
// redeliver queues one more delivery; merchant B's session sees none of
// A's events, by id or in the list, and cannot redeliver them.
func TestDashboardEvents(t *testing.T) {
	env := apitest.New(t, allowPrivate)
	midA, credsA := env.SignUp("events@shop.test")
	_, _ = env.SignUp("other-events@shop.test")
	if res := env.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints", Auth: &credsA,
		Body: map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"payment.succeeded"}}}); res.Status != http.StatusCreated {
		t.Fatalf("create endpoint: %d %s", res.Status, res.Body)
	}
	pay := env.Paid(credsA, 1234)
	var paid string
	if err := env.DB.Pool.QueryRow(t.Context(), `SELECT id FROM events WHERE merchant_id = $1 AND type = 'payment.succeeded'`, midA).Scan(&paid); err != nil {
		t.Fatal(err)
	}
	a := newBrowser(env)
	a.login("events@shop.test")

	list := a.get("/dashboard/developers/events")
	wantContains(t, list, `href="/dashboard/developers/events/`+paid+`"`, "payment.succeeded")
	if p := a.get("/dashboard/developers/events?type=payment.failed"); p.Status != http.StatusOK || strings.Contains(p.Body, paid) ||
		!strings.Contains(p.Body, "No payment.failed events yet") {
		t.Fatalf("type filter: %d %s", p.Status, p.Body)
	}
	if p := a.get("/dashboard/developers/events?type=payment.exploded"); p.Status != http.StatusBadRequest {
		t.Fatalf("unknown type: %d", p.Status)
	}

	// The page's JSON is GET /v1/events/{id}'s body, indented.
	ev := a.get("/dashboard/developers/events/" + paid)
	m := eventJSON.FindStringSubmatch(ev.Body)
	if ev.Status != http.StatusOK || m == nil {
		t.Fatalf("event page: %d %s", ev.Status, ev.Body)
	}
	api := env.Do(apitest.Req{Method: "GET", Path: "/v1/events/" + paid, Auth: &credsA})
	var want bytes.Buffer
	if err := json.Indent(&want, []byte(api.Body), "", "  "); err != nil {
		t.Fatal(err)
	}
	if got := html.UnescapeString(m[1]); got != want.String() {
		t.Fatalf("event JSON:\n%s\nwant:\n%s", got, want.String())
	}
	if !strings.Contains(m[1], pay.ID) {
		t.Fatalf("the event's JSON lacks its payment %s", pay.ID)
	}
	wantContains(t, ev, `href="/dashboard/payments/`+pay.ID+`" id="about"`, `id="deliveries"`, `href="/dashboard/developers/webhooks/we_`)

	// Redeliver queues one more delivery to the subscribed endpoint.
	p := a.post("/dashboard/developers/events/"+paid+"/redeliver", url.Values{})
	if p.Status != http.StatusSeeOther || p.Location != "/dashboard/developers/events/"+paid+"?redelivered=1" {
		t.Fatalf("redeliver: %d %q %s", p.Status, p.Location, p.Body)
	}
	if n := env.Count(`SELECT count(*) FROM webhook_deliveries WHERE event_id = $1`, paid); n != 2 {
		t.Fatalf("%d deliveries after redeliver; want 2", n)
	}
	wantContains(t, a.get(p.Location), "Queued again: 1 delivery.")

	// B sees none of it and cannot redeliver it.
	b := newBrowser(env)
	b.login("other-events@shop.test")
	if p := b.get("/dashboard/developers/events/" + paid); p.Status != http.StatusNotFound {
		t.Errorf("B reads A's event: %d", p.Status)
	}
	if p := b.post("/dashboard/developers/events/"+paid+"/redeliver", url.Values{}); p.Status != http.StatusNotFound {
		t.Errorf("B redelivers A's event: %d", p.Status)
	}
	if p := b.get("/dashboard/developers/events"); strings.Contains(p.Body, paid) || !strings.Contains(p.Body, "No events yet") {
		t.Errorf("B's list shows A's event or no empty state: %s", p.Body)
	}
	if n := env.Count(`SELECT count(*) FROM webhook_deliveries WHERE event_id = $1`, paid); n != 2 {
		t.Fatalf("%d deliveries after B's redeliver; want 2", n)
	}
	if p := b.get("/dashboard/developers/events/evt_nope"); p.Status != http.StatusNotFound {
		t.Errorf("malformed id: %d", p.Status)
	}

	// 30 more events: the first page holds 25, the next page the rest,
	// and the type filter follows the pager.
	now := time.Now()
	for i := range 30 {
		if _, err := webhook.Record(t.Context(), env.DB.Pool, midA, "payment_link.sent", map[string]int{"n": i}, now); err != nil {
			t.Fatal(err)
		}
	}
	first := a.get("/dashboard/developers/events?type=payment_link.sent")
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(first.Body)
	if next == nil || strings.Count(first.Body, `<tr>`)-1 != 25 {
		t.Fatalf("first page: %d rows, next %v", strings.Count(first.Body, `<tr>`)-1, next)
	}
	second := a.get(html.UnescapeString(next[1]))
	if n := strings.Count(second.Body, `<tr>`) - 1; n != 5 || strings.Contains(second.Body, `rel="next"`) || strings.Contains(second.Body, paid) {
		t.Fatalf("second page: %d rows\n%s", n, second.Body)
	}
}
