package delivery

import (
	"encoding/json"
	"errors"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/webhook"
)

// TestDeliverSignedPayment: a payment's event reaches the endpoint as the
// Standard Webhooks envelope with a signature the independent verifier
// accepts, and GET /v1/events/{id} would answer the same bytes.
func TestDeliverSignedPayment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rcv := newReceiver(t, status(200, `{"received":true}`))
	ep := f.endpoint(rcv.URL+"/paylink", webhook.PaymentSucceeded)
	evtID := f.record(webhook.PaymentSucceeded, payment("pay_01kaqv7n2tq1w4e0m8a6r3c5yb"))
	d := f.onlyDelivery(evtID)
	if d.Status != webhook.DeliveryPending || d.EndpointID != ep.ID || !strings.HasPrefix(d.ID, "dlv_") {
		t.Fatalf("delivery after Record = %+v; want a pending dlv_ for %s", d, ep.ID)
	}

	if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	got := rcv.next(t)
	if err := verify(ep.Secret, got.Header, got.Body); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if got.Header.Get("webhook-id") != evtID || got.Header.Get("webhook-timestamp") != strconv.FormatInt(f.clock.Now().Unix(), 10) {
		t.Errorf("headers id=%q timestamp=%q; want %s and %d", got.Header.Get("webhook-id"),
			got.Header.Get("webhook-timestamp"), evtID, f.clock.Now().Unix())
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var env struct {
		ID, Type, Timestamp string
		Data                map[string]any
	}
	if err := json.Unmarshal(got.Body, &env); err != nil {
		t.Fatal(err)
	}
	if env.ID != evtID || env.Type != webhook.PaymentSucceeded || env.Data["id"] != "pay_01kaqv7n2tq1w4e0m8a6r3c5yb" ||
		env.Data["customer"].(map[string]any)["email"] != "ada@example.test" {
		t.Errorf("body = %s", got.Body)
	}
	ev, err := f.hooks.GetEvent(f.ctx, f.db.Pool, f.merchant.ID, evtID)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := ev.Envelope(); string(b) != string(got.Body) {
		t.Errorf("GET envelope differs from the delivered body:\n%s\n%s", b, got.Body)
	}
	d = f.onlyDelivery(evtID)
	if d.Status != webhook.DeliverySucceeded || d.Attempts != 1 || len(d.Log) != 1 || d.CompletedAt == nil {
		t.Fatalf("delivery = %+v; want succeeded after 1 attempt", d)
	}
	if a := d.Log[0]; a.StatusCode != 200 || a.ResponseBody != `{"received":true}` || a.Error != "" || a.Latency < 0 {
		t.Errorf("attempt = %+v", a)
	}
	// Done is done: running the task again sends nothing.
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case extra := <-rcv.got:
		t.Fatalf("a finished delivery was sent again: %s", extra.Body)
	default:
	}
}

// TestRetriesUntilSuccess: 500, 500, then 200. The delivery succeeds on
// the third attempt and all three are recorded; each retry waits the
// configured delay, with jitter.
func TestRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rcv := newReceiver(t, status(500, "boom 1"), status(500, "boom 2"), status(200, "ok"))
	f.endpoint(rcv.URL, webhook.AllEvents)
	d := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_1")))
	for i, wantDelay := range []time.Duration{10 * time.Second, time.Minute} {
		err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID)
		var retry *RetryError
		if !errors.As(err, &retry) {
			t.Fatalf("attempt %d: %v; want a RetryError", i+1, err)
		}
		if lo, hi := wantDelay*8/10, wantDelay*12/10; retry.After < lo || retry.After > hi {
			t.Errorf("attempt %d: retry in %s; want %s ±20%%", i+1, retry.After, wantDelay)
		}
		cur := f.onlyDelivery(d.EventID)
		if cur.Status != webhook.DeliveryPending || cur.NextAttemptAt == nil || !cur.NextAttemptAt.Equal(f.clock.Now().Add(retry.After).Truncate(time.Microsecond)) {
			t.Errorf("attempt %d: delivery %+v; want pending until now+%s", i+1, cur, retry.After)
		}
		// Not due yet: a task run early is put back, nothing is sent.
		if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); !errors.As(err, &retry) {
			t.Errorf("early run: %v; want a RetryError", err)
		}
		f.clock.Advance(retry.After)
	}
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	if n := len(rcv.got); n != 3 {
		t.Fatalf("receiver got %d requests, want 3", n)
	}
	got := f.onlyDelivery(d.EventID)
	if got.Status != webhook.DeliverySucceeded || got.Attempts != 3 || len(got.Log) != 3 {
		t.Fatalf("delivery = %+v; want succeeded with 3 attempts", got)
	}
	for i, want := range []struct {
		status int
		body   string
	}{{500, "boom 1"}, {500, "boom 2"}, {200, "ok"}} {
		a := got.Log[i]
		if a.N != i+1 || a.StatusCode != want.status || a.ResponseBody != want.body || (want.status == 200) != (a.Error == "") {
			t.Errorf("attempt %d = %+v; want %d %q", i+1, a, want.status, want.body)
		}
	}
	var failing *time.Time
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT failing_since FROM webhook_endpoints`).Scan(&failing); err != nil || failing != nil {
		t.Errorf("failing_since = %v (%v); a success must end the failure streak", failing, err)
	}
}

// TestSlowReceiverIsRetried: the receiver holds the request past the
// timeout (blocked on a channel); the attempt fails as a timeout and the
// retry succeeds.
func TestSlowReceiverIsRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *setup) { c.Timeout = 300 * time.Millisecond })
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done(): // Paylink gave up and closed the connection
		}
	}
	rcv := newReceiver(t, slow, status(204, ""))
	f.endpoint(rcv.URL, webhook.AllEvents)
	d := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_1")))
	var retry *RetryError
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); !errors.As(err, &retry) {
		t.Fatalf("slow attempt: %v; want a RetryError", err)
	}
	a := f.onlyDelivery(d.EventID).Log[0]
	if a.StatusCode != 0 || !strings.Contains(a.Error, "no complete answer within 300ms") {
		t.Fatalf("attempt = %+v; want a timeout without status", a)
	}
	f.clock.Advance(retry.After)
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := f.onlyDelivery(d.EventID); got.Status != webhook.DeliverySucceeded || got.Attempts != 2 {
		t.Fatalf("delivery = %+v; want succeeded on attempt 2", got)
	}
}

// TestGoneDisablesEndpoint: 410 disables the endpoint at once, fails the
// delivery without retry, e-mails the merchant's notification e-mail once
// (even with notify_on empty) in text and HTML, the HTML naming the
// endpoint's URL escaped, and later events are not delivered to it.
func TestGoneDisablesEndpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	alerts, none := "alerts@acme.test", []string{}
	f.tx(func(tx pgx.Tx) error {
		_, err := f.svc.cfg.Merchants.Update(f.ctx, tx, f.merchant.ID, merchant.Update{NotificationEmail: &alerts, NotifyOn: &none})
		return err
	})
	rcv := newReceiver(t, status(410, "gone"))
	ep := f.endpoint(rcv.URL+"/hooks?team=ops&v=2", webhook.AllEvents)
	d := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_1")))
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); !errors.Is(err, ErrGaveUp) {
		t.Fatalf("Deliver: %v; want ErrGaveUp", err)
	}
	got, err := f.hooks.GetEndpoint(f.ctx, f.db.Pool, f.merchant.ID, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != webhook.StatusDisabled || got.DisabledReason != webhook.ReasonGone {
		t.Fatalf("endpoint = %s/%s; want disabled/gone", got.Status, got.DisabledReason)
	}
	if d := f.onlyDelivery(d.EventID); d.Status != webhook.DeliveryFailed || d.Attempts != 1 || d.Log[0].StatusCode != 410 {
		t.Fatalf("delivery = %+v; want failed after one 410", d)
	}
	mails := f.emails()
	if len(mails) != 1 || mails[0].to != alerts || !strings.Contains(mails[0].body, ep.ID) ||
		!strings.Contains(mails[0].body, "410") {
		t.Fatalf("e-mails = %+v; want one to the merchant about %s", mails, ep.ID)
	}
	// Multipart like every other merchant e-mail: the HTML part is
	// rendered from the templates when sent (notify.Read is what the
	// sender reads).
	var emailID string
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT id FROM emails WHERE html_data IS NOT NULL`).Scan(&emailID); err != nil {
		t.Fatalf("the e-mail has no HTML part: %v", err)
	}
	sent, err := notify.Read(f.ctx, f.db.Pool, emailID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sent.Text, ep.URL) || !strings.HasPrefix(sent.HTML, "<!doctype html>") ||
		!strings.Contains(sent.HTML, html.EscapeString(ep.URL)) || strings.Contains(sent.HTML, "ops&v=2") ||
		!strings.Contains(sent.HTML, ep.ID) || !strings.Contains(sent.HTML, "410 Gone") {
		t.Fatalf("e-mail parts:\ntext: %s\nhtml: %s\nwant both naming %s (escaped in HTML), %s and 410 Gone", sent.Text, sent.HTML, ep.URL, ep.ID)
	}
	if ds := f.deliveries(f.record(webhook.PaymentSucceeded, payment("pay_2"))); len(ds) != 0 {
		t.Fatalf("a disabled endpoint got %d new deliveries", len(ds))
	}
}

// TestRedirectIsNotFollowed: a 302 counts as a failure and the target of
// the redirect is never contacted.
func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer target.Close()
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
	})
	f.endpoint(rcv.URL, webhook.AllEvents)
	d := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_1")))
	var retry *RetryError
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); !errors.As(err, &retry) {
		t.Fatalf("Deliver: %v; want a RetryError", err)
	}
	a := f.onlyDelivery(d.EventID).Log[0]
	if a.StatusCode != 302 || !strings.Contains(a.Error, "redirects are not followed") {
		t.Fatalf("attempt = %+v", a)
	}
	if hits.Load() != 0 {
		t.Fatalf("the redirect target was called %d times", hits.Load())
	}
}

// TestPrivateAddressRefusedAtDelivery: the endpoint's host resolved to a
// public address at registration; by delivery time it resolves to
// 127.0.0.1. The attempt is refused by the dialer and recorded.
func TestPrivateAddressRefusedAtDelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *setup) { c.Guard.AllowPrivate = false })
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	f.resolver.Set("hooks.shop.test", "93.184.215.14")
	u, err := f.hooks.CheckURL(f.ctx, "https://hooks.shop.test:"+port+"/paylink")
	if err != nil {
		t.Fatalf("registration: %v", err)
	}
	f.endpoint(u.String(), webhook.AllEvents)
	f.resolver.Set("hooks.shop.test", "127.0.0.1")
	d := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_1")))
	var retry *RetryError
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); !errors.As(err, &retry) {
		t.Fatalf("Deliver: %v; want a RetryError", err)
	}
	a := f.onlyDelivery(d.EventID).Log[0]
	if a.StatusCode != 0 || !strings.Contains(a.Error, "connection refused by Paylink") || !strings.Contains(a.Error, "127.0.0.1") {
		t.Fatalf("attempt = %+v; want the dialer's refusal", a)
	}
	if conns.Load() != 0 {
		t.Fatalf("the loopback server saw %d connections", conns.Load())
	}
}

// TestRetryAfterIsHonoured: a 503 asking for 2 minutes is retried no
// sooner, although the schedule says 10 seconds.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(503)
	})
	f.endpoint(rcv.URL, webhook.AllEvents)
	d := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_1")))
	var retry *RetryError
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); !errors.As(err, &retry) || retry.After != 2*time.Minute {
		t.Fatalf("Deliver: %v; want a retry in exactly 2m", err)
	}
	if got := f.onlyDelivery(d.EventID); !got.NextAttemptAt.Equal(f.clock.Now().Add(2 * time.Minute)) {
		t.Fatalf("next_attempt_at = %v; want now+2m", got.NextAttemptAt)
	}
}

// TestScheduleExhaustedFailsDelivery: with two retries configured, the
// third failure ends the delivery.
func TestScheduleExhaustedFailsDelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *setup) { c.Schedule = []time.Duration{time.Second, time.Second} })
	rcv := newReceiver(t, status(500, "no"))
	ep := f.endpoint(rcv.URL, webhook.AllEvents)
	d := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_1")))
	for i := 1; i <= 3; i++ {
		err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID)
		var retry *RetryError
		switch {
		case i < 3 && errors.As(err, &retry):
			f.clock.Advance(retry.After)
		case i == 3 && errors.Is(err, ErrGaveUp):
		default:
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if got := f.onlyDelivery(d.EventID); got.Status != webhook.DeliveryFailed || got.Attempts != 3 || got.NextAttemptAt != nil {
		t.Fatalf("delivery = %+v; want failed after 3 attempts", got)
	}
	// It failed from the event on: the last failure disables the endpoint
	// and tells the merchant, once.
	got, _ := f.hooks.GetEndpoint(f.ctx, f.db.Pool, f.merchant.ID, ep.ID)
	if got.Status != webhook.StatusDisabled || got.DisabledReason != webhook.ReasonFailing {
		t.Fatalf("endpoint = %s/%s; want disabled/failing", got.Status, got.DisabledReason)
	}
	if mails := f.emails(); len(mails) != 1 || !strings.Contains(mails[0].body, "has failed, retries included") {
		t.Fatalf("e-mails = %+v; want one saying the retries are spent", mails)
	}
}

// TestScheduleExhaustedAfterASuccessKeepsEndpoint: an endpoint that
// answered another event since this one failed first stays enabled when
// this one's retries run out.
func TestScheduleExhaustedAfterASuccessKeepsEndpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *setup) { c.Schedule = []time.Duration{time.Second} })
	rcv := newReceiver(t, status(500, "down"), status(200, "ok"), status(500, "down"))
	ep := f.endpoint(rcv.URL, webhook.AllEvents)
	d := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_1")))
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); !errors.As(err, new(*RetryError)) {
		t.Fatalf("first attempt: %v", err)
	}
	f.clock.Advance(time.Minute)
	other := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_2")))
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, other.ID); err != nil {
		t.Fatalf("other event: %v", err)
	}
	f.clock.Advance(time.Minute)
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); !errors.Is(err, ErrGaveUp) {
		t.Fatalf("last attempt: %v; want ErrGaveUp", err)
	}
	if got, _ := f.hooks.GetEndpoint(f.ctx, f.db.Pool, f.merchant.ID, ep.ID); got.Status != webhook.StatusEnabled {
		t.Fatalf("endpoint %s after a success in between; want enabled", got.Status)
	}
}

// TestEndpointFailingForDaysIsDisabled: failures spread over more than
// DisableAfter, with no success in between, disable the endpoint and
// e-mail the merchant once.
func TestEndpointFailingForDaysIsDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rcv := newReceiver(t, status(500, "down"))
	ep := f.endpoint(rcv.URL, webhook.AllEvents)
	first := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_1")))
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, first.ID); !errors.As(err, new(*RetryError)) {
		t.Fatalf("first failure: %v", err)
	}
	f.clock.Advance(71 * time.Hour)
	second := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_2")))
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, second.ID); !errors.As(err, new(*RetryError)) {
		t.Fatalf("71h into the streak: %v; want still retrying", err)
	}
	f.clock.Advance(2 * time.Hour)
	third := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_3")))
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, third.ID); !errors.Is(err, ErrGaveUp) {
		t.Fatalf("73h into the streak: %v; want ErrGaveUp", err)
	}
	got, _ := f.hooks.GetEndpoint(f.ctx, f.db.Pool, f.merchant.ID, ep.ID)
	if got.Status != webhook.StatusDisabled || got.DisabledReason != webhook.ReasonFailing {
		t.Fatalf("endpoint = %s/%s; want disabled/failing", got.Status, got.DisabledReason)
	}
	// The first delivery, still pending, now fails without a request.
	before := len(rcv.got)
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, first.ID); !errors.Is(err, ErrGaveUp) {
		t.Fatalf("pending delivery to a disabled endpoint: %v", err)
	}
	if len(rcv.got) != before {
		t.Fatal("a disabled endpoint was called")
	}
	mails := f.emails()
	if len(mails) != 1 || !strings.Contains(mails[0].body, "since "+f.clock.Now().Add(-73*time.Hour).UTC().Format("2 Jan 2006 15:04")+" UTC has failed") {
		t.Fatalf("e-mails = %+v; want one about the failure streak", mails)
	}
	// Enabling it again ends the streak.
	enabled := webhook.StatusEnabled
	f.tx(func(tx pgx.Tx) error {
		e, err := f.hooks.UpdateEndpoint(f.ctx, tx, f.merchant.ID, ep.ID, webhook.EndpointUpdate{Status: &enabled})
		if err == nil && (e.Status != webhook.StatusEnabled || e.DisabledReason != "") {
			t.Errorf("after enabling: %s/%s", e.Status, e.DisabledReason)
		}
		return err
	})
	var failing *time.Time
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT failing_since FROM webhook_endpoints WHERE id = $1`, ep.ID).Scan(&failing); err != nil || failing != nil {
		t.Fatalf("failing_since after enabling = %v, %v", failing, err)
	}
}

// TestConcurrentRunsOfOneDeliveryPostOnce: two workers running the same
// delivery at once (a task handed over twice) make one attempt between
// them; the other is told to come back when the lease ends.
func TestConcurrentRunsOfOneDeliveryPostOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	entered, release := make(chan struct{}), make(chan struct{})
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
	})
	f.endpoint(rcv.URL, webhook.AllEvents)
	d := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_1")))
	first := make(chan error, 1)
	go func() { first <- f.svc.Deliver(f.ctx, f.merchant.ID, d.ID) }()
	select {
	case <-entered:
	case <-time.After(time.Minute):
		t.Fatal("the first run's request never reached the receiver")
	}
	var retry *RetryError
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); !errors.As(err, &retry) || retry.After <= 0 {
		t.Fatalf("second run during the first: %v; want a RetryError", err)
	}
	close(release)
	select {
	case err := <-first:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the first run did not return once the receiver answered")
	}
	if got := f.onlyDelivery(d.EventID); got.Status != webhook.DeliverySucceeded || got.Attempts != 1 || len(rcv.got) != 1 {
		t.Fatalf("delivery = %+v, receiver calls = %d; want one attempt", got, len(rcv.got))
	}
}

// email is a queued e-mail.
type email struct{ to, subject, body, key string }

func (f *fixture) emails() []email {
	f.t.Helper()
	rows, err := f.db.Pool.Query(f.ctx, `SELECT to_addr, subject, body, coalesce(dedupe_key, '') FROM emails ORDER BY id`)
	if err != nil {
		f.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (email, error) {
		var e email
		err := r.Scan(&e.to, &e.subject, &e.body, &e.key)
		return e, err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}
