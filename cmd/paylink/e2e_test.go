package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/smtpsink"
)

// hookRequest is one webhook request the merchant's receiver got.
type hookRequest struct {
	id, timestamp, signature string
	body                     []byte
}

// system is one `paylink dev` process (API and worker) as a merchant's
// backend, a shopper's browser and a webhook receiver see it.
type system struct {
	t     *testing.T
	base  string // http://127.0.0.1:port
	dbURL string
	hooks chan hookRequest
	mail  <-chan smtpsink.Message
}

func startSystem(t *testing.T) *system {
	t.Helper()
	_, dbURL := pgtest.NewWithURL(t)
	_, redisURL := redistest.New(t)
	handle, mail := smtpsink.Chan(16)
	sink, err := smtpsink.Listen("127.0.0.1:0", handle)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	s := &system{t: t, dbURL: dbURL, hooks: make(chan hookRequest, 16), mail: mail}
	logs := &lineWatcher{re: regexp.MustCompile(`msg="api listening" addr=(\S+)`), found: make(chan string, 1)}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev"}, getenvFrom(map[string]string{
			"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "PAYLINK_ADDR": "127.0.0.1:0",
			"PAYLINK_BASE_URL": "http://localhost", "PAYLINK_DEV_DIR": t.TempDir(),
			"PAYLINK_SMTP_HOST": "127.0.0.1", "PAYLINK_SMTP_PORT": strconv.Itoa(sink.Addr().Port),
			"PAYLINK_OUTBOX_POLL": "20ms",
		}), io.Discard, logs)
	}()
	s.base = "http://" + started(t, logs, done)
	t.Cleanup(func() {
		stop()
		if err := within(t, done, "return from paylink dev after stop"); err != nil {
			t.Errorf("paylink dev: %v", err)
		}
	})
	return s
}

// call sends a JSON request and decodes the JSON answer into out (when
// not nil); it returns the status.
func (s *system) call(method, path string, auth [2]string, body any, out any, header ...string) int {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if auth[0] != "" {
		req.SetBasicAuth(auth[0], auth[1])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: %d %s: %v", method, path, res.StatusCode, raw, err)
		}
	}
	return res.StatusCode
}

// verify checks a delivery's Standard Webhooks signature, written here
// independently of the server's code, and returns its envelope.
func verify(t *testing.T, secret string, d hookRequest) map[string]any {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", d.id, d.timestamp, d.body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !strings.Contains(" "+d.signature+" ", " "+want+" ") {
		t.Fatalf("webhook-signature %q lacks %q", d.signature, want)
	}
	var env map[string]any
	if err := json.Unmarshal(d.body, &env); err != nil {
		t.Fatal(err)
	}
	if env["id"] != d.id {
		t.Fatalf("envelope id %v != webhook-id %s", env["id"], d.id)
	}
	return env
}

// TestPaymentReachesMerchantAndShopper follows one payment through the
// whole platform: the merchant registers a webhook endpoint and turns on
// payment e-mails, a shopper pays a single-use link by card, and then
// the merchant's receiver gets signed payment.succeeded and
// payment_link.completed events whose data is what the API answers, the
// shopper gets a receipt and the merchant an e-mail, neither with the
// card number; a refund then arrives as payment.refunded.
func TestPaymentReachesMerchantAndShopper(t *testing.T) {
	t.Parallel()
	s := startSystem(t)
	var mu sync.Mutex
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		s.hooks <- hookRequest{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	var signup struct {
		Merchant struct{ ID string }
		APIKey   struct{ ID, Secret string } `json:"api_key"`
	}
	if st := s.call("POST", "/v1/merchants", [2]string{}, map[string]string{
		"name": "Tea House", "email": "owner@tea.test", "password": "a long password"}, &signup); st != 201 {
		t.Fatalf("sign-up: %d", st)
	}
	key := [2]string{signup.APIKey.ID, signup.APIKey.Secret}
	var endpoint struct{ Secret string }
	if st := s.call("POST", "/v1/webhook_endpoints", key, map[string]any{"url": receiver.URL, "events": []string{"*"}}, &endpoint); st != 201 {
		t.Fatalf("webhook endpoint: %d", st)
	}
	if st := s.call("POST", "/v1/merchant", key, map[string]any{"payment_emails": true}, nil); st != 200 {
		t.Fatalf("payment_emails: %d", st)
	}
	var link struct{ ID, URL string }
	if st := s.call("POST", "/v1/payment_links", key, map[string]any{"amount": 2500, "currency": "usd",
		"description": "Sencha", "single_use": true}, &link); st != 201 {
		t.Fatalf("link: %d", st)
	}
	u, _ := url.Parse(link.URL)
	payBody := map[string]any{"email": "ada@example.test", "name": "Ada Shopper", "payment_method": map[string]any{
		"type": "card", "card": map[string]any{"number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}}}
	var paid struct{ Payment struct{ ID, Status string } }
	for i := 0; i < 2; i++ { // a double click: one payment
		if st := s.call("POST", u.RequestURI(), [2]string{}, payBody, &paid, "Idempotency-Key", "click-1"); st != 200 || paid.Payment.Status != "succeeded" {
			t.Fatalf("pay: %d %+v", st, paid)
		}
	}

	got := map[string]map[string]any{}
	for len(got) < 2 {
		env := verify(t, endpoint.Secret, within(t, s.hooks, "webhook delivery"))
		typ := env["type"].(string)
		if got[typ] != nil {
			t.Fatalf("%s delivered twice", typ)
		}
		got[typ] = env
	}
	var apiPayment map[string]any
	s.call("GET", "/v1/payments/"+paid.Payment.ID, key, nil, &apiPayment)
	if diff := cmp.Diff(apiPayment, got["payment.succeeded"]["data"]); diff != "" {
		t.Errorf("payment.succeeded data differs from GET /v1/payments (-api +event):\n%s", diff)
	}
	if data := got["payment_link.completed"]["data"].(map[string]any); data["id"] != link.ID || data["status"] != "completed" {
		t.Errorf("payment_link.completed data = %v", data)
	}

	mails := map[string]string{}
	for len(mails) < 2 {
		m := within(t, s.mail, "e-mail")
		mails[strings.Join(m.To, ",")] = string(m.Data)
	}
	receipt, notice := mails["ada@example.test"], mails["owner@tea.test"]
	if !strings.Contains(receipt, "Sencha") {
		t.Errorf("the receipt does not say what was bought (the link's description):\n%s", receipt)
	}
	// The receipt links the payment's receipt page, signed, which opens.
	text := strings.ReplaceAll(regexp.MustCompile(`=\r?\n`).ReplaceAllString(receipt, ""), "=3D", "=") // quoted-printable, as sent
	found := regexp.MustCompile(`View your receipt: (\S+)`).FindStringSubmatch(text)
	if found == nil {
		t.Fatalf("the receipt links no receipt page:\n%s", text)
	}
	page, err := url.Parse(found[1])
	if err != nil || page.Path != "/pay/"+link.ID+"/payments/"+paid.Payment.ID {
		t.Fatalf("receipt page %q", found[1])
	}
	res, err := http.Get(s.base + page.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "$25.00") || !strings.Contains(string(body), "Sencha") {
		t.Errorf("receipt page: %d\n%s", res.StatusCode, body)
	}
	for who, text := range map[string]string{"receipt": receipt, "merchant e-mail": notice} {
		if !strings.Contains(text, "$25.00") || !strings.Contains(text, "4242") || strings.Contains(text, "4242424242424242") {
			t.Errorf("%s lacks the amount or last4, or shows the card number:\n%s", who, text)
		}
	}

	var refund struct{ Status string }
	if st := s.call("POST", "/v1/payments/"+paid.Payment.ID+"/refunds", key, map[string]any{"amount": 500}, &refund); st != 201 {
		t.Fatalf("refund: %d", st)
	}
	// The refund is two events: the payment as it is now, and the refund.
	after := map[string]map[string]any{}
	for len(after) < 2 {
		env := verify(t, endpoint.Secret, within(t, s.hooks, "webhook delivery"))
		after[env["type"].(string)] = env["data"].(map[string]any)
	}
	if data := after["payment.refunded"]; data["id"] != paid.Payment.ID || data["amount_refunded"] != float64(500) {
		t.Fatalf("payment.refunded data = %v (events %v)", data, after)
	}
	if data := after["refund.succeeded"]; data["payment"] != paid.Payment.ID || data["amount"] != float64(500) {
		t.Fatalf("refund.succeeded data = %v", data)
	}
	// And the shopper hears of it: the amount and what is left.
	m := within(t, s.mail, "refund e-mail")
	if strings.Join(m.To, ",") != "ada@example.test" || !strings.Contains(string(m.Data), "$5.00") ||
		!strings.Contains(string(m.Data), "$20.00") {
		t.Fatalf("refund e-mail to %v:\n%s", m.To, m.Data)
	}
}
