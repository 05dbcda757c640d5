package dashboard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/webhook"
	"github.com/paylink/paylink/internal/webhook/delivery"
	"github.com/paylink/paylink/internal/wire"
)

// allowPrivate lets webhook endpoints point at the test's local receiver.
func allowPrivate(d *httpapi.Deps) {
	keyring, _ := seal.Parse(apitest.TestKeys)
	d.Webhooks = webhook.NewService(d.DB, webhook.Config{Keyring: keyring, Now: time.Now,
		Guard: &webhook.Guard{AllowPrivate: true, Resolver: apitest.TestResolver}, Timeout: 5 * time.Second})
}

var secretValue = regexp.MustCompile(`id="secret" readonly value="([^"]+)"`)

// A key made in the dashboard with one scope shows its secret once, works
// against the API with that scope only, and can be revoked; another
// merchant's session can neither see nor touch it.
func TestDashboardKeys(t *testing.T) {
	env := apitest.New(t)
	_, _ = env.SignUp("keys@shop.test")
	b := newBrowser(env)
	b.login("keys@shop.test")
	p := b.post("/dashboard/developers/keys", url.Values{"name": {"Reports"}, "scopes": {"payments:read"}})
	if p.Status != http.StatusOK {
		t.Fatalf("create key: %d %s", p.Status, p.Body)
	}
	m := secretValue.FindStringSubmatch(p.Body)
	kid := regexp.MustCompile(`<code id="secret-id">(key_[a-z0-9]+)</code>`).FindStringSubmatch(p.Body)
	if m == nil || kid == nil {
		t.Fatalf("no secret shown:\n%s", p.Body)
	}
	creds := apitest.Creds{ID: kid[1], Secret: m[1]}
	if res := env.Do(apitest.Req{Method: "GET", Path: "/v1/payments", Auth: &creds}); res.Status != http.StatusOK {
		t.Fatalf("scoped key reads payments: %d", res.Status)
	}
	apitest.WantError(t, env.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links", Auth: &creds,
		Body: map[string]any{"amount": 100, "currency": "USD"}}), http.StatusForbidden, "insufficient_scope")
	list := b.get("/dashboard/developers")
	wantContains(t, list, kid[1], "Reports", "payments:read")
	if strings.Contains(list.Body, m[1]) {
		t.Fatal("the list shows a secret")
	}
	if n := env.Count(`SELECT count(*) FROM api_keys WHERE secret_sealed::text LIKE '%' || $1 || '%'`, m[1]); n != 0 {
		t.Fatal("secret stored in the clear")
	}
	// A bad scope is an error next to the scopes.
	p = b.post("/dashboard/developers/keys", url.Values{"scopes": {"everything"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("bad scope: %d", p.Status)
	}

	// Another merchant cannot roll or revoke it, nor list it.
	_, _ = env.SignUp("other@shop.test")
	o := newBrowser(env)
	o.login("other@shop.test")
	for _, action := range []string{"roll", "revoke"} {
		if p := o.post("/dashboard/developers/keys/"+kid[1]+"/"+action, url.Values{}); p.Status != http.StatusNotFound {
			t.Errorf("other merchant %s: %d", action, p.Status)
		}
	}
	if strings.Contains(o.get("/dashboard/developers").Body, kid[1]) {
		t.Fatal("another merchant lists the key")
	}

	// Roll shows a new secret; revoke ends the new key.
	p = b.post("/dashboard/developers/keys/"+kid[1]+"/roll", url.Values{})
	rolled := secretValue.FindStringSubmatch(p.Body)
	newID := regexp.MustCompile(`<code id="secret-id">(key_[a-z0-9]+)</code>`).FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || rolled == nil || rolled[1] == m[1] {
		t.Fatalf("roll: %d %s", p.Status, p.Body)
	}
	if p := b.post("/dashboard/developers/keys/"+newID[1]+"/revoke", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", p.Status, p.Body)
	}
	apitest.WantError(t, env.Do(apitest.Req{Method: "GET", Path: "/v1/payments", Auth: &apitest.Creds{ID: newID[1], Secret: rolled[1]}}),
		http.StatusUnauthorized, "api_key_revoked")
}

// A webhook endpoint added in the dashboard shows its secret once, gets a
// test event, and its page shows its deliveries; another merchant cannot
// see it or ping it.
func TestDashboardWebhooks(t *testing.T) {
	env := apitest.New(t, allowPrivate)
	_, creds := env.SignUp("hooks@shop.test")
	got := make(chan string, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("webhook-id")
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	b := newBrowser(env)
	b.login("hooks@shop.test")
	p := b.post("/dashboard/developers/webhooks", url.Values{"url": {"not a url"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("bad url: %d", p.Status)
	}
	p = b.post("/dashboard/developers/webhooks", url.Values{"url": {rcv.URL + "/hook"}, "events": {"payment.succeeded"}})
	ep := regexp.MustCompile(`<code id="secret-id">(we_[a-z0-9]+)</code>`).FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || ep == nil || secretValue.FindStringSubmatch(p.Body) == nil {
		t.Fatalf("add endpoint: %d %s", p.Status, p.Body)
	}
	p = b.post("/dashboard/developers/webhooks/"+ep[1]+"/test", url.Values{})
	wantContains(t, p, `id="ping-result"`, "HTTP 204")
	select {
	case id := <-got:
		if !strings.HasPrefix(id, "evt_") {
			t.Fatalf("webhook-id %q", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver got no test event")
	}

	// A payment's event is delivered (by the service, as the worker would)
	// and shows in the endpoint's log with its attempt.
	pay := env.Paid(creds, 700)
	var dlv, mid string
	if err := env.DB.Pool.QueryRow(t.Context(), `SELECT d.id, d.merchant_id FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.endpoint_id = $1 AND e.data->>'id' = $2`, ep[1], pay.ID).Scan(&dlv, &mid); err != nil {
		t.Fatal(err)
	}
	if err := deliverer(env).Deliver(t.Context(), mid, dlv); err != nil {
		t.Fatal(err)
	}
	log := b.get("/dashboard/developers/webhooks/" + ep[1])
	wantContains(t, log, "succeeded", "Attempt 1: HTTP 204")
	if page := b.get("/dashboard/payments/" + pay.ID); !strings.Contains(page.Body, "Attempt 1: HTTP 204") {
		t.Fatalf("the payment's timeline lacks the delivery:\n%s", page.Body)
	}

	// Redeliver the payment's event from its page: one more delivery.
	var evt string
	if err := env.DB.Pool.QueryRow(t.Context(), `SELECT event_id FROM webhook_deliveries WHERE id = $1`, dlv).Scan(&evt); err != nil {
		t.Fatal(err)
	}
	wantContains(t, b.get("/dashboard/payments/"+pay.ID), `action="/dashboard/events/`+evt+`/redeliver"`)
	if p := b.post("/dashboard/events/"+evt+"/redeliver", url.Values{"payment": {pay.ID}}); p.Status != http.StatusSeeOther {
		t.Fatalf("redeliver: %d %s", p.Status, p.Body)
	}
	if n := env.Count(`SELECT count(*) FROM webhook_deliveries WHERE event_id = $1`, evt); n != 2 {
		t.Fatalf("%d deliveries after redelivery", n)
	}
	// Rotate shows a new secret; a disabled endpoint can be turned on.
	p = b.post("/dashboard/developers/webhooks/"+ep[1]+"/rotate", url.Values{})
	if p.Status != http.StatusOK || secretValue.FindStringSubmatch(p.Body) == nil {
		t.Fatalf("rotate: %d %s", p.Status, p.Body)
	}
	if res := env.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints/" + ep[1], Auth: &creds, Body: map[string]any{"status": "disabled"}}); res.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", res.Status, res.Body)
	}
	wantContains(t, b.get("/dashboard/developers/webhooks/"+ep[1]), `id="enable"`)
	if p := b.post("/dashboard/developers/webhooks/"+ep[1]+"/enable", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("enable: %d %s", p.Status, p.Body)
	}
	if n := env.Count(`SELECT count(*) FROM webhook_endpoints WHERE id = $1 AND status = 'enabled'`, ep[1]); n != 1 {
		t.Fatal("the endpoint is not enabled again")
	}

	_, _ = env.SignUp("nosy@shop.test")
	o := newBrowser(env)
	o.login("nosy@shop.test")
	if p := o.get("/dashboard/developers/webhooks/" + ep[1]); p.Status != http.StatusNotFound {
		t.Errorf("other merchant sees the endpoint: %d", p.Status)
	}
	if p := o.post("/dashboard/developers/webhooks/"+ep[1]+"/test", url.Values{}); p.Status != http.StatusNotFound {
		t.Errorf("other merchant pings the endpoint: %d", p.Status)
	}
	if strings.Contains(o.get("/dashboard/developers").Body, ep[1]) {
		t.Error("other merchant lists the endpoint")
	}
	for _, path := range []string{"/dashboard/developers/webhooks/" + ep[1] + "/rotate", "/dashboard/developers/webhooks/" + ep[1] + "/enable",
		"/dashboard/events/" + evt + "/redeliver"} {
		if p := o.post(path, url.Values{"payment": {pay.ID}}); p.Status != http.StatusNotFound {
			t.Errorf("other merchant POST %s: %d", path, p.Status)
		}
	}
}

// Settings change through merchant.Update, with errors next to the field;
// sessions are listed and can be ended one by one.
func TestDashboardSettings(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("set@shop.test")
	b := newBrowser(env)
	b.login("set@shop.test")
	p := b.post("/dashboard/settings", url.Values{"name": {"Set Shop"}, "notification_email": {"ops@shop.test"},
		"currencies": {"EUR"}, "payment_methods": {"card"}, "card_brands": {"visa"}, "notify_on": {"payment.failed"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	res := env.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &creds})
	for _, want := range []string{`"name":"Set Shop"`, `"currencies":["EUR"]`, `"card_brands":["visa"]`, `"notification_email":"ops@shop.test"`} {
		if !strings.Contains(string(res.Body), want) {
			t.Errorf("merchant %s lacks %s", res.Body, want)
		}
	}
	p = b.post("/dashboard/settings", url.Values{"name": {"Set Shop"}, "notification_email": {"nope"}, "currencies": {"EUR", "USD"},
		"payment_methods": {"card"}, "card_brands": {"visa", "amex"}, "notify_on": {"review.opened"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("bad e-mail: %d", p.Status)
	}
	// The refused form keeps what was ticked (not what is saved), and
	// nothing changed.
	wantContains(t, p, `value="nope"`, "field-error", `id="cur-USD" name="currencies" value="USD" checked`,
		`id="brand-amex" name="card_brands" value="amex" checked`, `id="notify-review.opened" name="notify_on" value="review.opened" checked`)
	if strings.Contains(p.Body, `value="payment.failed" checked`) {
		t.Fatal("the refused form shows the saved notify_on instead of the ticked one")
	}
	if res := env.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &creds}); !strings.Contains(string(res.Body), `"currencies":["EUR"]`) {
		t.Fatalf("a refused form changed the merchant: %s", res.Body)
	}
	// A name sign-up refuses is refused here too (shoppers read it in
	// receipts), next to the name field, and changes nothing.
	for _, name := range []string{"https://evil.com", "Paylink Support"} {
		p = b.post("/dashboard/settings", url.Values{"name": {name}, "notification_email": {"new@shop.test"}, "currencies": {"EUR", "USD"},
			"payment_methods": {"card"}, "card_brands": {"visa"}, "notify_on": {"payment.failed"}})
		if p.Status != http.StatusBadRequest {
			t.Fatalf("name %q: %d", name, p.Status)
		}
		wantContains(t, p, "field-error", "The name cannot contain")
		res := env.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &creds})
		if !strings.Contains(string(res.Body), `"name":"Set Shop"`) || !strings.Contains(string(res.Body), `"currencies":["EUR"]`) ||
			!strings.Contains(string(res.Body), `"notification_email":"ops@shop.test"`) {
			t.Fatalf("the refused name %q changed the merchant: %s", name, res.Body)
		}
	}
	// The new-link form offers only the accepted currency.
	if nl := b.get("/dashboard/links/new"); strings.Contains(nl.Body, `value="USD"`) || !strings.Contains(nl.Body, `value="EUR"`) {
		t.Fatalf("new-link currencies:\n%s", nl.Body)
	}

	other := newBrowser(env)
	other.login("set@shop.test")
	page := b.get("/dashboard/settings")
	ids := regexp.MustCompile(`/dashboard/settings/sessions/(mses_[a-z0-9]+)/revoke`).FindAllStringSubmatch(page.Body, -1)
	if len(ids) != 2 {
		t.Fatalf("%d sessions listed", len(ids))
	}
	// End the one that is not "this browser" (the newest is other's).
	if p := b.post("/dashboard/settings/sessions/"+ids[0][1]+"/revoke", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("revoke session: %d", p.Status)
	}
	wantLoginRedirect(t, other.get("/dashboard"))
	if p := b.get("/dashboard"); p.Status != http.StatusOK {
		t.Fatalf("this browser was logged out: %d", p.Status)
	}
}

// deliverer makes deliveries as the worker does, with e's webhook service.
func deliverer(e *apitest.Env) *delivery.Service {
	return delivery.NewService(e.DB, delivery.Config{Webhooks: e.Deps.Webhooks, Merchants: e.Deps.Merchants, Now: time.Now,
		Schedule: []time.Duration{time.Second}, DisableAfter: 72 * time.Hour})
}

// A webhook endpoint is deleted from its page (after a confirmation), as
// DELETE /v1/webhook_endpoints/{id} deletes it: gone from the API's list
// and the Developers page, its pending deliveries cancelled, the other
// endpoint kept; a form from another origin and another merchant's
// session delete nothing.
func TestDashboardDeleteEndpoint(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("delete-hooks@shop.test")
	var eps [2]wire.WebhookEndpoint
	for i := range eps {
		res := env.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints", Auth: &creds,
			Body: map[string]any{"url": fmt.Sprintf("https://hooks.shop.test/%d", i), "events": []string{"payment.succeeded"}}})
		if res.Status != http.StatusCreated {
			t.Fatalf("create endpoint: %d %s", res.Status, res.Body)
		}
		res.Decode(t, &eps[i])
	}
	gone, kept := eps[0].ID, eps[1].ID
	pay := env.Paid(creds, 900) // a delivery waits for each endpoint
	b := newBrowser(env)
	b.login("delete-hooks@shop.test")
	path := "/dashboard/developers/webhooks/" + gone
	wantContains(t, b.get(path), `action="`+path+`/delete" data-confirm="Delete this endpoint?`, `id="delete-endpoint"`)

	listed := func() string {
		t.Helper()
		res := env.Do(apitest.Req{Method: "GET", Path: "/v1/webhook_endpoints", Auth: &creds})
		if res.Status != http.StatusOK {
			t.Fatalf("list endpoints: %d %s", res.Status, res.Body)
		}
		return string(res.Body)
	}
	for _, origin := range []string{"https://evil.example", "null"} {
		b.origin = origin
		if p := b.post(path+"/delete", url.Values{}); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "origin_not_allowed") {
			t.Errorf("form from origin %q: %d", origin, p.Status)
		}
	}
	b.origin = apitest.Origin
	_, _ = env.SignUp("nosy-hooks@shop.test")
	o := newBrowser(env)
	o.login("nosy-hooks@shop.test")
	if p := o.post(path+"/delete", url.Values{}); p.Status != http.StatusNotFound {
		t.Errorf("other merchant deletes the endpoint: %d", p.Status)
	}
	if !strings.Contains(listed(), gone) {
		t.Fatal("a refused form deleted the endpoint")
	}

	p := b.post(path+"/delete", url.Values{})
	if p.Status != http.StatusSeeOther || p.Location != "/dashboard/developers?deleted="+gone {
		t.Fatalf("delete: %d %q %s", p.Status, p.Location, p.Body)
	}
	if l := listed(); strings.Contains(l, gone) || !strings.Contains(l, kept) {
		t.Fatalf("the API lists after the delete: %s", l)
	}
	apitest.WantError(t, env.Do(apitest.Req{Method: "GET", Path: "/v1/webhook_endpoints/" + gone, Auth: &creds}),
		http.StatusNotFound, "webhook_endpoint_not_found")
	dev := b.get(p.Location)
	wantContains(t, dev, `id="deleted"`, gone, kept)
	if strings.Contains(dev.Body, `href="`+path+`"`) {
		t.Fatal("the Developers page still lists the deleted endpoint")
	}
	if n := env.Count(`SELECT count(*) FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.endpoint_id = $1 AND e.data->>'id' = $2 AND d.status = 'canceled'`, gone, pay.ID); n != 1 {
		t.Fatalf("%d canceled deliveries of the payment's event to the deleted endpoint, want 1", n)
	}
	if n := env.Count(`SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending'`, kept); n != 1 {
		t.Fatalf("%d pending deliveries to the kept endpoint, want 1", n)
	}
	if p := b.get(path); p.Status != http.StatusNotFound {
		t.Fatalf("the deleted endpoint's page: %d", p.Status)
	}
	if p := b.post(path+"/delete", url.Values{}); p.Status != http.StatusNotFound {
		t.Fatalf("delete again: %d", p.Status)
	}
}

// Rolling a key in the dashboard takes the old key's grace period as the
// API does (expires_in, 0 .. 7 days): 0 ends a leaked key at once, 7 days
// keeps it working for a week, and anything else is refused.
func TestDashboardRollKeyGrace(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("roll@shop.test")
	b := newBrowser(env)
	b.login("roll@shop.test")
	wantContains(t, b.get("/dashboard/developers"), `name="expires_in"`, `<option value="0">`, `<option value="604800">`)

	p := b.post("/dashboard/developers/keys/"+creds.ID+"/roll", url.Values{"expires_in": {"0"}})
	wantContains(t, p, "the old one stopped working at once")
	rolled := secretValue.FindStringSubmatch(p.Body)
	newID := regexp.MustCompile(`<code id="secret-id">(key_[a-z0-9]+)</code>`).FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || rolled == nil || newID == nil {
		t.Fatalf("roll now: %d %s", p.Status, p.Body)
	}
	apitest.WantError(t, env.Do(apitest.Req{Method: "GET", Path: "/v1/payments", Auth: &creds}),
		http.StatusUnauthorized, "api_key_expired")

	p = b.post("/dashboard/developers/keys/"+newID[1]+"/roll", url.Values{"expires_in": {"604800"}})
	wantContains(t, p, "the old one works for 7 more days")
	if n := env.Count(`SELECT count(*) FROM api_keys WHERE id = $1
		AND expires_at BETWEEN now() + interval '6 days 23 hours' AND now() + interval '7 days 1 hour'`, newID[1]); n != 1 {
		t.Fatalf("the key rolled with 7 days does not expire in 7 days")
	}
	if res := env.Do(apitest.Req{Method: "GET", Path: "/v1/payments", Auth: &apitest.Creds{ID: newID[1], Secret: rolled[1]}}); res.Status != http.StatusOK {
		t.Fatalf("the key rolled with 7 days stopped at once: %d", res.Status)
	}

	keys := env.Count(`SELECT count(*) FROM api_keys`)
	for _, bad := range []string{"604801", "-1", "soon"} {
		if p := b.post("/dashboard/developers/keys/"+newID[1]+"/roll", url.Values{"expires_in": {bad}}); p.Status != http.StatusBadRequest {
			t.Errorf("roll expires_in=%s: %d", bad, p.Status)
		}
	}
	if n := env.Count(`SELECT count(*) FROM api_keys`); n != keys {
		t.Fatalf("a refused roll made a key: %d keys, were %d", n, keys)
	}
}

// A refused new-key or new-endpoint form comes back with the boxes the
// merchant ticked still ticked, not only its text fields.
func TestDashboardRefusedFormsKeepTickedBoxes(t *testing.T) {
	env := apitest.New(t)
	_, _ = env.SignUp("ticks@shop.test")
	b := newBrowser(env)
	b.login("ticks@shop.test")
	p := b.post("/dashboard/developers/keys", url.Values{"name": {"Reports"}, "scopes": {"payments:read", "balance:read", "everything"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("bad scope: %d", p.Status)
	}
	wantContains(t, p, `value="Reports"`, `name="scopes" value="payments:read" checked>`, `name="scopes" value="balance:read" checked>`,
		`name="scopes" value="refunds:write">`)

	p = b.post("/dashboard/developers/webhooks", url.Values{"url": {"ftp://shop.test/hook"}, "description": {"Orders"},
		"events": {"payment.failed", "refund.succeeded"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("bad url: %d", p.Status)
	}
	wantContains(t, p, `value="ftp://shop.test/hook"`, `value="Orders"`, `name="events" value="payment.failed" checked>`,
		`name="events" value="refund.succeeded" checked>`, `name="events" value="payment.succeeded">`)

	// A fresh page ticks nothing.
	if strings.Contains(b.get("/dashboard/developers").Body, " checked>") {
		t.Error("the developers page ticks a box by itself")
	}
}
