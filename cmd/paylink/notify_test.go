package main

import (
	"bytes"
	"context"
	"mime"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// settled waits until the system has nothing left to e-mail (every event
// has had its e-mails derived, every e-mail is sent or given up) and
// returns the e-mails the sink got since the last call, as "to: subject"
// lines, sorted. An e-mail is in the sink before it is recorded as sent,
// so nothing can arrive later.
func (s *system) settled() []string {
	s.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(ctx)
	for deadline := time.Now().Add(waitLimit); ; {
		var busy int
		if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM events WHERE notified_at IS NULL)
			+ (SELECT count(*) FROM emails WHERE sent_at IS NULL AND failed_at IS NULL)`).Scan(&busy); err != nil {
			s.t.Fatal(err)
		}
		if busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%d events or e-mails still pending after %s", busy, waitLimit)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
	var got []string
	for {
		select {
		case m := <-s.mail:
			msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
			if err != nil {
				s.t.Fatal(err)
			}
			subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if err != nil {
				s.t.Fatal(err)
			}
			got = append(got, strings.Join(m.To, ",")+": "+subject)
		default:
			slices.Sort(got)
			return got
		}
	}
}

// TestNotifyOnChoosesTheMerchantsEmails: the merchant's notify_on, set
// with PATCH /v1/merchant, decides which payment events are e-mailed to
// its notification_email, each once; the shopper's e-mails do not depend
// on it. A change applies to the next event.
func TestNotifyOnChoosesTheMerchantsEmails(t *testing.T) {
	t.Parallel()
	s := startSystem(t)
	var signup struct {
		APIKey struct{ ID, Secret string } `json:"api_key"`
	}
	if st := s.call("POST", "/v1/merchants", [2]string{}, map[string]string{
		"name": "Tea House", "email": "owner@tea.test", "password": "a long password"}, &signup); st != 201 {
		t.Fatalf("sign-up: %d", st)
	}
	key := [2]string{signup.APIKey.ID, signup.APIKey.Secret}
	patch := func(body map[string]any) {
		t.Helper()
		var m struct {
			NotifyOn          []string `json:"notify_on"`
			NotificationEmail string   `json:"notification_email"`
		}
		if st := s.call("PATCH", "/v1/merchant", key, body, &m); st != 200 {
			t.Fatalf("PATCH /v1/merchant %v: %d", body, st)
		}
		if m.NotificationEmail != "alerts@tea.test" {
			t.Fatalf("notification_email = %q", m.NotificationEmail)
		}
	}
	patch(map[string]any{"notify_on": []string{"payment.failed", "payment.refunded"}, "notification_email": "alerts@tea.test"})

	var link struct{ URL string }
	if st := s.call("POST", "/v1/payment_links", key, map[string]any{"amount": 2500, "currency": "usd", "description": "Sencha", "single_use": false}, &link); st != 201 {
		t.Fatalf("link: %d", st)
	}
	u, _ := url.Parse(link.URL)
	pay := func(number, idem string) string {
		t.Helper()
		var out struct {
			Payment struct{ ID string }
			Error   struct{ Code string }
		}
		st := s.call("POST", u.RequestURI(), [2]string{}, map[string]any{"email": "ada@example.test", "name": "Ada Shopper", "payment_method": map[string]any{
			"type": "card", "card": map[string]any{"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}}}, &out, "Idempotency-Key", idem)
		if out.Payment.ID == "" {
			t.Fatalf("payment with %s: %d %+v", number, st, out)
		}
		return out.Payment.ID
	}
	paid := pay("4242424242424242", "ok-1")
	failed := pay("4000000000000002", "declined-1")
	if st := s.call("POST", "/v1/payments/"+paid+"/refunds", key, map[string]any{"amount": 500}, nil); st != 201 {
		t.Fatalf("refund: %d", st)
	}
	want := []string{
		"ada@example.test: Your payment to “Tea House” did not go through",
		"ada@example.test: Your receipt from “Tea House”: $25.00",
		"ada@example.test: “Tea House” refunded $5.00",
		"alerts@tea.test: Payment failed: $25.00 (" + failed + ")",
		"alerts@tea.test: Refunded $5.00 of $25.00 (" + paid + ")",
	}
	slices.Sort(want)
	if got := s.settled(); !slices.Equal(got, want) {
		t.Fatalf("e-mails with notify_on [payment.failed payment.refunded]:\n got %q\nwant %q", got, want)
	}

	patch(map[string]any{"notify_on": []string{"payment.succeeded"}})
	second := pay("4242424242424242", "ok-2")
	pay("4000000000000002", "declined-2")
	want = []string{
		"ada@example.test: Your payment to “Tea House” did not go through",
		"ada@example.test: Your receipt from “Tea House”: $25.00",
		"alerts@tea.test: Payment received: $25.00 (" + second + ")",
	}
	slices.Sort(want)
	if got := s.settled(); !slices.Equal(got, want) {
		t.Fatalf("e-mails with notify_on [payment.succeeded]:\n got %q\nwant %q", got, want)
	}
}
