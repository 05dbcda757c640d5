package merchantapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/webhook"
	"github.com/paylink/paylink/internal/webhook/delivery"
	"github.com/paylink/paylink/internal/wire"
)

// allowPrivate gives the server a webhook service that accepts loopback
// receivers, as PAYLINK_WEBHOOK_ALLOW_PRIVATE does.
func allowPrivate(d *httpapi.Deps) {
	keyring, _ := seal.Parse(apitest.TestKeys)
	d.Webhooks = webhook.NewService(d.DB, webhook.Config{Keyring: keyring, Now: time.Now,
		Guard: &webhook.Guard{AllowPrivate: true, Resolver: apitest.TestResolver}, Timeout: 5 * time.Second})
}

func createEndpoint(e *apitest.Env, c apitest.Creds, body any) (apitest.Response, wire.WebhookEndpoint) {
	e.T.Helper()
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints", Auth: &c, Body: body})
	var out wire.WebhookEndpoint
	if res.Status == http.StatusCreated {
		res.Decode(e.T, &out)
	}
	return res, out
}

func TestWebhookEndpointLifecycle(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, key := e.SignUp("hooks@shop.test")
	res, ep := createEndpoint(e, key, map[string]any{"url": "https://hooks.shop.test/paylink", "events": []string{"payment.succeeded", "payment.succeeded", "payment.refunded"}, "description": "orders"})
	if res.Status != http.StatusCreated || !strings.HasPrefix(ep.ID, "we_") || !strings.HasPrefix(ep.Secret, "whsec_") ||
		ep.Status != "enabled" || ep.URL != "https://hooks.shop.test/paylink" || fmt.Sprint(ep.Events) != "[payment.succeeded payment.refunded]" {
		t.Fatalf("create = %d %s", res.Status, res.Body)
	}
	// The secret is shown once: not by GET, not by list, not at rest, not in logs.
	one := e.Do(apitest.Req{Method: "GET", Path: "/v1/webhook_endpoints/" + ep.ID, Auth: &key})
	list := e.Do(apitest.Req{Method: "GET", Path: "/v1/webhook_endpoints", Auth: &key})
	var row string
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT t::text FROM webhook_endpoints t`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	secretKey := strings.TrimPrefix(ep.Secret, "whsec_")
	for where, text := range map[string]string{"GET": string(one.Body), "list": string(list.Body), "database": row, "logs": e.Logs.String()} {
		if strings.Contains(text, secretKey) {
			t.Errorf("the secret appears in %s", where)
		}
	}
	var got wire.WebhookEndpoint
	one.Decode(t, &got)
	if one.Status != 200 || got.ID != ep.ID || got.Secret != "" {
		t.Fatalf("GET = %d %s", one.Status, one.Body)
	}

	upd := e.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints/" + ep.ID, Auth: &key,
		Body: map[string]any{"events": []string{"*"}, "status": "disabled", "url": "https://hooks.shop.test/v2"}})
	upd.Decode(t, &got)
	if upd.Status != 200 || got.Status != "disabled" || got.DisabledReason == nil || *got.DisabledReason != "merchant" ||
		got.URL != "https://hooks.shop.test/v2" || fmt.Sprint(got.Events) != "[*]" {
		t.Fatalf("update = %d %s", upd.Status, upd.Body)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints/" + ep.ID, Auth: &key,
		Body: map[string]any{"url": "https://localhost/"}}), 400, "url_not_allowed")

	rot := e.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints/" + ep.ID + "/rotate_secret", Auth: &key})
	rot.Decode(t, &got)
	if rot.Status != 200 || !strings.HasPrefix(got.Secret, "whsec_") || got.Secret == ep.Secret || got.PreviousSecretExpiresAt == nil {
		t.Fatalf("rotate = %d %s", rot.Status, rot.Body)
	}
	if exp, _ := time.Parse(time.RFC3339, *got.PreviousSecretExpiresAt); time.Until(exp) < 23*time.Hour || time.Until(exp) > 25*time.Hour {
		t.Errorf("previous secret expires at %s; want in about 24h", *got.PreviousSecretExpiresAt)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints/" + ep.ID + "/rotate_secret", Auth: &key,
		Body: map[string]any{"expires_in": 8 * 86400}}), 400, "expiry_invalid")

	del := e.Do(apitest.Req{Method: "DELETE", Path: "/v1/webhook_endpoints/" + ep.ID, Auth: &key})
	if del.Status != 200 || strings.TrimSpace(string(del.Body)) != fmt.Sprintf(`{"id":%q,"deleted":true}`, ep.ID) {
		t.Fatalf("delete = %d %s", del.Status, del.Body)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/webhook_endpoints/" + ep.ID, Auth: &key}), 404, "webhook_endpoint_not_found")
	apitest.WantError(t, e.Do(apitest.Req{Method: "DELETE", Path: "/v1/webhook_endpoints/" + ep.ID, Auth: &key}), 404, "webhook_endpoint_not_found")
	if l := e.Do(apitest.Req{Method: "GET", Path: "/v1/webhook_endpoints", Auth: &key}); strings.TrimSpace(string(l.Body)) != `{"data":[],"has_more":false}` {
		t.Fatalf("list after delete = %s", l.Body)
	}
	// Another merchant sees none of it.
	_, other := e.SignUp("other@shop.test")
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints/" + ep.ID, Auth: &other, Body: map[string]any{}}), 404, "webhook_endpoint_not_found")
}

// TestWebhookEndpointRejectsBadInput: every refusal is a 400 with the
// right code, and nothing is stored.
func TestWebhookEndpointRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, key := e.SignUp("bad@shop.test")
	all := []string{"*"}
	tests := []struct {
		name string
		body any
		code string
	}{
		{"http without allow-private", map[string]any{"url": "http://hooks.shop.test/", "events": all}, "url_not_allowed"},
		{"localhost", map[string]any{"url": "https://localhost/hook", "events": all}, "url_not_allowed"},
		{"loopback literal", map[string]any{"url": "https://127.0.0.1:8443/hook", "events": all}, "url_not_allowed"},
		{"private literal", map[string]any{"url": "https://10.0.0.1/hook", "events": all}, "url_not_allowed"},
		{"CGNAT literal", map[string]any{"url": "https://100.64.0.1/hook", "events": all}, "url_not_allowed"},
		{"IPv4-mapped loopback", map[string]any{"url": "https://[::ffff:127.0.0.1]/hook", "events": all}, "url_not_allowed"},
		{"metadata", map[string]any{"url": "https://169.254.169.254/latest", "events": all}, "url_not_allowed"},
		{"name resolving to a private address", map[string]any{"url": "https://private.shop.test/", "events": all}, "url_not_allowed"},
		{"name resolving to metadata", map[string]any{"url": "https://metadata.shop.test/", "events": all}, "url_not_allowed"},
		{"unresolvable", map[string]any{"url": "https://nowhere.shop.test/", "events": all}, "url_unresolvable"},
		{"not a URL", map[string]any{"url": "hooks.shop.test", "events": all}, "url_invalid"},
		{"missing url", map[string]any{"events": all}, "url_invalid"},
		{"no events", map[string]any{"url": "https://hooks.shop.test/", "events": []string{}}, "events_invalid"},
		{"missing events", map[string]any{"url": "https://hooks.shop.test/"}, "events_invalid"},
		{"unknown event", map[string]any{"url": "https://hooks.shop.test/", "events": []string{"payment.exploded"}}, "events_invalid"},
		{"long description", map[string]any{"url": "https://hooks.shop.test/", "events": all, "description": strings.Repeat("x", 501)}, "description_invalid"},
		{"unknown field", map[string]any{"url": "https://hooks.shop.test/", "events": all, "secret": "whsec_mine"}, "unknown_parameter"},
		{"events not a list", `{"url": "https://hooks.shop.test/", "events": "*"}`, "parameter_invalid"},
	}
	for _, tc := range tests {
		res, _ := createEndpoint(e, key, tc.body)
		if res.Status != 400 || res.ErrorCode() != tc.code {
			t.Errorf("%s: %d %s; want 400 %s", tc.name, res.Status, res.Body, tc.code)
		}
	}
	if n := e.Count("SELECT count(*) FROM webhook_endpoints"); n != 0 {
		t.Fatalf("%d endpoints stored after refusals", n)
	}
	for i := range 16 {
		if res, _ := createEndpoint(e, key, map[string]any{"url": fmt.Sprintf("https://hooks.shop.test/%d", i), "events": all}); res.Status != 201 {
			t.Fatalf("endpoint %d: %d %s", i, res.Status, res.Body)
		}
	}
	res, _ := createEndpoint(e, key, map[string]any{"url": "https://hooks.shop.test/17", "events": all})
	apitest.WantError(t, res, 400, "webhook_endpoint_limit")
	if n := e.Count("SELECT count(*) FROM webhook_endpoints"); n != 16 {
		t.Fatalf("%d endpoints stored, want 16", n)
	}
}

func TestAllowPrivateOpensLoopbackNotMetadata(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, allowPrivate)
	_, key := e.SignUp("dev@shop.test")
	for _, u := range []string{"http://localhost:9999/hook", "http://10.1.2.3/hook", "https://[::1]:8443/"} {
		if res, _ := createEndpoint(e, key, map[string]any{"url": u, "events": []string{"*"}}); res.Status != 201 {
			t.Errorf("allow-private: %s: %d %s", u, res.Status, res.Body)
		}
	}
	for _, u := range []string{"http://169.254.169.254/", "http://metadata.shop.test/", "http://[fe80::1]/"} {
		res, _ := createEndpoint(e, key, map[string]any{"url": u, "events": []string{"*"}})
		apitest.WantError(t, res, 400, "url_not_allowed")
	}
}

// TestEventsAPI: events are listed and read per merchant with the
// delivered envelope; redelivery and the delivery attempts are visible.
func TestEventsAPI(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, allowPrivate)
	merchantID, key := e.SignUp("events@shop.test")
	otherID, other := e.SignUp("other-events@shop.test")
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(503)
		fmt.Fprint(w, "maintenance")
	}))
	defer rcv.Close()
	record := func(mid, typ, payID string) string {
		var id string
		if err := e.DB.WithTx(context.Background(), func(tx pgx.Tx) (err error) {
			id, err = webhook.Record(context.Background(), tx, mid, typ, map[string]any{"id": payID, "amount": 2500, "currency": "USD"}, time.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	res, ep := createEndpoint(e, key, map[string]any{"url": rcv.URL + "/hook", "events": []string{"payment.succeeded"}})
	if res.Status != 201 {
		t.Fatalf("create endpoint: %d %s", res.Status, res.Body)
	}
	paid := record(merchantID, webhook.PaymentSucceeded, "pay_1")
	refunded := record(merchantID, webhook.PaymentRefunded, "pay_1")
	foreign := record(otherID, webhook.PaymentSucceeded, "pay_9")

	var page wire.List[wire.Event]
	e.Do(apitest.Req{Method: "GET", Path: "/v1/events", Auth: &key}).Decode(t, &page)
	if len(page.Data) != 2 || page.Data[0].ID != refunded || page.Data[1].ID != paid {
		t.Fatalf("events = %+v; want [refunded, paid]", page.Data)
	}
	e.Do(apitest.Req{Method: "GET", Path: "/v1/events?type=payment.succeeded&limit=1", Auth: &key}).Decode(t, &page)
	if len(page.Data) != 1 || page.Data[0].ID != paid || page.HasMore {
		t.Fatalf("filtered events = %+v", page)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/events?type=payment.exploded", Auth: &key}), 400, "type_invalid")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/events?limit=0", Auth: &key}), 400, "limit_invalid")

	one := e.Do(apitest.Req{Method: "GET", Path: "/v1/events/" + paid, Auth: &key})
	ev, _ := e.Deps.Webhooks.GetEvent(context.Background(), e.DB.Pool, merchantID, paid)
	envelope, _ := ev.Envelope()
	if one.Status != 200 || string(one.Body) != string(envelope) || !strings.Contains(string(one.Body), `"type":"payment.succeeded"`) {
		t.Fatalf("GET event = %d %s; want the delivered envelope %s", one.Status, one.Body, envelope)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/events/" + foreign, Auth: &key}), 404, "event_not_found")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/events/evt_nope", Auth: &key}), 404, "event_not_found")

	// One attempt, answered 503, is visible through the API.
	var first []wire.WebhookDelivery
	var dl wire.List[wire.WebhookDelivery]
	e.Do(apitest.Req{Method: "GET", Path: "/v1/events/" + paid + "/deliveries", Auth: &key}).Decode(t, &dl)
	first = dl.Data
	if len(first) != 1 || first[0].Endpoint != ep.ID || first[0].Status != "pending" || len(first[0].Attempts) != 0 {
		t.Fatalf("deliveries = %+v", first)
	}
	if err := deliverer(e).Deliver(context.Background(), merchantID, first[0].ID); err == nil {
		t.Fatal("a 503 delivered")
	}
	e.Do(apitest.Req{Method: "GET", Path: "/v1/webhook_endpoints/" + ep.ID + "/deliveries", Auth: &key}).Decode(t, &dl)
	if len(dl.Data) != 1 || dl.Data[0].AttemptCount != 1 || len(dl.Data[0].Attempts) != 1 || dl.Data[0].NextAttemptAt == nil {
		t.Fatalf("endpoint deliveries = %+v", dl.Data)
	}
	a := dl.Data[0].Attempts[0]
	if a.StatusCode == nil || *a.StatusCode != 503 || a.ResponseBody != "maintenance" || a.Error == nil || a.LatencyMS < 0 {
		t.Fatalf("attempt = %+v", a)
	}

	// Redelivery makes a new delivery, once per Idempotency-Key.
	redeliver := apitest.Req{Method: "POST", Path: "/v1/events/" + paid + "/redeliver", Auth: &key, Header: map[string]string{"Idempotency-Key": "again-1"}}
	r1, r2 := e.Do(redeliver), e.Do(redeliver)
	e.Do(apitest.Req{Method: "GET", Path: "/v1/events/" + paid + "/deliveries", Auth: &key}).Decode(t, &dl)
	if r1.Status != 200 || string(r1.Body) != string(r2.Body) || r2.Header.Get("Idempotent-Replayed") != "true" || len(dl.Data) != 2 {
		t.Fatalf("redeliver = %d %s / replay %s; %d deliveries, want 2", r1.Status, r1.Body, r2.Body, len(dl.Data))
	}
	// payment.refunded has no subscribed endpoint: nothing to do.
	if r := e.Do(apitest.Req{Method: "POST", Path: "/v1/events/" + refunded + "/redeliver", Auth: &key}); strings.TrimSpace(string(r.Body)) != `{"data":[],"has_more":false}` {
		t.Fatalf("redeliver unsubscribed = %d %s", r.Status, r.Body)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/events/" + paid + "/redeliver", Auth: &key,
		Body: map[string]string{"endpoint": "we_01kaqv7n2v8d3m2k3v9x5h4q7z"}}), 404, "webhook_endpoint_not_found")
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/events/" + foreign + "/redeliver", Auth: &key}), 404, "event_not_found")
	e.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints/" + ep.ID, Auth: &key, Body: map[string]string{"status": "disabled"}})
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/events/" + paid + "/redeliver", Auth: &key,
		Body: map[string]string{"endpoint": ep.ID}}), 409, "webhook_endpoint_disabled")
	if n := e.Count("SELECT count(*) FROM webhook_deliveries"); n != 2 {
		t.Fatalf("%d deliveries; want 2 (the first and one redelivery)", n)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/webhook_endpoints/" + ep.ID + "/deliveries", Auth: &other}), 404, "webhook_endpoint_not_found")
}

// TestMerchantPaymentEmailsSetting: the older payment_emails switch is
// the payment.succeeded of notify_on, which decides the e-mails: it shows
// it, and turning it on or off adds or removes that event alone.
func TestMerchantPaymentEmailsSetting(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, key := e.SignUp("settings@shop.test")
	var m wire.Merchant
	e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &key}).Decode(t, &m)
	if !m.PaymentEmails || !slices.Equal(m.NotifyOn, []string{"payment.succeeded"}) {
		t.Fatalf("defaults: payment_emails %v, notify_on %v; want true, [payment.succeeded] (API.md)", m.PaymentEmails, m.NotifyOn)
	}
	post := func(on bool, wantNotifyOn ...string) {
		t.Helper()
		res := e.Do(apitest.Req{Method: "POST", Path: "/v1/merchant", Auth: &key, Body: map[string]bool{"payment_emails": on}})
		res.Decode(t, &m)
		if res.Status != 200 || m.PaymentEmails != on || !slices.Equal(m.NotifyOn, wantNotifyOn) {
			t.Fatalf("payment_emails %v = %d %s; want notify_on %v", on, res.Status, res.Body, wantNotifyOn)
		}
		e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &key}).Decode(t, &m)
		if m.PaymentEmails != on || !slices.Equal(m.NotifyOn, wantNotifyOn) {
			t.Fatalf("the setting did not stick: %+v", m)
		}
	}
	post(false)
	res := e.Do(apitest.Req{Method: "PATCH", Path: "/v1/merchant", Auth: &key, Body: map[string]any{"notify_on": []string{"payment.refunded"}}})
	if res.Status != 200 {
		t.Fatalf("PATCH notify_on = %d %s", res.Status, res.Body)
	}
	post(true, "payment.refunded", "payment.succeeded")
	post(true, "payment.refunded", "payment.succeeded") // on again: no second copy
	post(false, "payment.refunded")
	post(true, "payment.refunded", "payment.succeeded")
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/merchant", Auth: &key, Body: `{"payment_emails": "yes"}`}), 400, "parameter_invalid")
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/merchant", Auth: &key, Body: `{"name": "Renamed"}`}), 400, "unknown_parameter")
	e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &key}).Decode(t, &m)
	if !m.PaymentEmails || m.Name != "Shop settings" || len(m.NotifyOn) != 2 {
		t.Fatalf("refused requests changed the merchant: %+v", m)
	}
}

// deliverer makes deliveries as the worker does, with e's webhook service.
func deliverer(e *apitest.Env) *delivery.Service {
	return delivery.NewService(e.DB, delivery.Config{Webhooks: e.Deps.Webhooks, Merchants: e.Deps.Merchants, Now: time.Now,
		Schedule: []time.Duration{time.Second}, DisableAfter: 72 * time.Hour})
}
