package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paylink/paylink/internal/passkey/passkeytest"
	"github.com/paylink/paylink/internal/wire"
)

func walletPayBody(assertion json.RawMessage) map[string]any {
	m := map[string]any{"type": "wallet"}
	if assertion != nil {
		m["passkey_assertion"] = assertion
	}
	return map[string]any{"payment_method": m}
}

func TestPayLinkFromWallet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, shop := e.signUp("mugs@shop.test")
	l := e.createLink(shop, map[string]any{"amount": 2500, "description": "Blue mug"})
	path := checkoutPath(t, l)
	s := e.walletUser("payer@example.test")
	s.topUp(5000, "USD")

	// The checkout page offers the balance to the logged-in shopper.
	page := s.do(req{Method: "GET", Path: path})
	if page.Status != 200 || !strings.Contains(string(page.Body), `id="wallet-pay-button"`) || !strings.Contains(string(page.Body), "$50.00") {
		t.Fatalf("checkout page for a wallet user: %d, no balance offer", page.Status)
	}
	if anon := e.do(req{Method: "GET", Path: path}); !strings.Contains(string(anon.Body), `id="wallet-login"`) {
		t.Error("the checkout page does not offer a wallet log-in to anonymous shoppers")
	}

	res := s.do(req{Method: "POST", Path: path, Body: walletPayBody(nil), Header: map[string]string{"Idempotency-Key": "wallet-pay-1"}})
	if res.Status != 200 {
		t.Fatalf("wallet payment: %d %s", res.Status, res.Body)
	}
	a := payAnswerOf(t, res)
	p := a.Payment
	if p.Status != "succeeded" || p.PaymentMethod.Type != "wallet" || p.PaymentMethod.Last4 != nil || p.Amount != 2500 ||
		p.Customer.Email != "payer@example.test" || p.Customer.Name != "Ada King Lovelace" || a.ReceiptURL == "" {
		t.Errorf("payment = %+v", a)
	}
	// A retry with the same key replays; it does not pay twice.
	again := s.do(req{Method: "POST", Path: path, Body: walletPayBody(nil), Header: map[string]string{"Idempotency-Key": "wallet-pay-1"}})
	if again.Status != 200 || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %s", again.Status, again.Body)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 2500}, s.balances()); diff != "" {
		t.Errorf("wallet (-want +got):\n%s", diff)
	}
	e.wantBalance(shop, "USD", 2500)
	h := s.history("?type=payment")
	if len(h.Data) != 1 || *h.Data[0].Counterparty != "Shop mugs@shop.test" || *h.Data[0].Payment != p.ID {
		t.Errorf("history = %+v", h)
	}
	if n := s.notifications(""); n.Data[0].Type != "payment.succeeded" || !strings.Contains(n.Data[0].Message, "Shop mugs@shop.test") {
		t.Errorf("notification = %+v", n.Data[0])
	}
	if got := e.count("SELECT count(*) FROM events WHERE type IN ('payment.succeeded', 'payment_link.completed')"); got != 2 {
		t.Errorf("events = %d, want payment.succeeded and payment_link.completed", got)
	}
	if got := e.count("SELECT count(*) FROM pending_captures"); got != 0 {
		t.Errorf("a wallet payment queued a card capture")
	}
	// The single-use link is done.
	wantError(t, s.do(req{Method: "POST", Path: path, Body: walletPayBody(nil)}), 410, "link_completed")
	var got wire.Payment
	e.do(req{Method: "GET", Path: "/v1/payments/" + p.ID, Auth: &shop}).decode(t, &got)
	if got.PaymentMethod.Type != "wallet" || got.Status != "succeeded" {
		t.Errorf("merchant sees %+v", got)
	}

	// A refund goes back to the wallet, with no card processor involved.
	rf := e.do(req{Method: "POST", Path: "/v1/payments/" + p.ID + "/refunds", Auth: &shop, Body: map[string]any{"amount": 1000}})
	if rf.Status != http.StatusCreated {
		t.Fatalf("refund: %d %s", rf.Status, rf.Body)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 3500}, s.balances()); diff != "" {
		t.Errorf("wallet after refund (-want +got):\n%s", diff)
	}
	e.wantBalance(shop, "USD", 1500)
	if r := s.history("?type=refund"); len(r.Data) != 1 || r.Data[0].Amount != 1000 || *r.Data[0].Counterparty != "Shop mugs@shop.test" {
		t.Errorf("refund history = %+v", r)
	}
	if n := e.count("SELECT count(*) FROM refunds WHERE sent_at IS NOT NULL AND processor_ref IS NULL"); n != 1 {
		t.Errorf("wallet refunds marked sent without a processor = %d, want 1", n)
	}
	wantError(t, e.do(req{Method: "POST", Path: "/v1/payments/" + p.ID + "/refunds", Auth: &shop, Body: map[string]any{"amount": 1501}}),
		400, "refund_exceeds_payment")
}

func TestPayLinkFromWalletRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, shop := e.signUp("refuse@shop.test")
	l := e.createLink(shop, map[string]any{"amount": 9000})
	path := checkoutPath(t, l)
	s := e.walletUser("poor@example.test")
	s.topUp(5000, "USD")
	before := moneyRows(t, e)

	wantError(t, e.newShopper().do(req{Method: "POST", Path: path, Body: walletPayBody(nil)}), 401, "login_required")
	wantErrorType(t, s.do(req{Method: "POST", Path: path, Body: walletPayBody(nil)}), 402, "insufficient_funds", "invalid_request_error")
	wantError(t, s.do(req{Method: "POST", Path: path + "x", Body: walletPayBody(nil)}), 403, "link_signature_invalid")
	wantError(t, s.do(req{Method: "POST", Path: path, Body: walletPayBody(nil), Header: map[string]string{"Origin": "https://evil.test"}}),
		403, "origin_not_allowed")
	if got := e.count("SELECT count(*) FROM payments"); got != 0 {
		t.Errorf("payments = %d after refusals", got)
	}
	if after := moneyRows(t, e); after != before {
		t.Errorf("refused wallet payments wrote rows: %s, before %s", after, before)
	}
	e.wantBalance(shop, "USD", 0)
}

func TestPayLinkFromWalletNeedsPasskeyConfirmation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, shop := e.signUp("pk@shop.test")
	l := e.createLink(shop, map[string]any{"amount": 1200})
	other := e.createLink(shop, map[string]any{"amount": 1200})
	path := checkoutPath(t, l)
	s := e.walletUser("pk-payer@example.test")
	s.topUp(5000, "USD")
	auth := passkeytest.New(testOrigin)
	registerPasskey(t, s, auth)

	wantError(t, s.do(req{Method: "POST", Path: path, Body: walletPayBody(nil)}), 403, "passkey_confirmation_required")
	confirm := func(linkID string) json.RawMessage {
		t.Helper()
		opts := s.do(req{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin", Body: map[string]any{"action": "payment", "payment_link": linkID}})
		if opts.Status != 200 {
			t.Fatalf("confirm/begin: %d %s", opts.Status, opts.Body)
		}
		a, err := auth.Get(opts.Body)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// Confirmed for another link (same amount and currency): refused.
	wantError(t, s.do(req{Method: "POST", Path: path, Body: walletPayBody(confirm(other.ID))}), 403, "passkey_confirmation_mismatch")
	good := confirm(l.ID)
	res := s.do(req{Method: "POST", Path: path, Body: walletPayBody(good)})
	if res.Status != 200 || payAnswerOf(t, res).Payment.Status != "succeeded" {
		t.Fatalf("confirmed wallet payment: %d %s", res.Status, res.Body)
	}
	// The captured assertion replayed on a multi-use link of the same
	// amount is refused: the challenge is spent.
	multi := e.createLink(shop, map[string]any{"amount": 1200, "single_use": false})
	wantError(t, s.do(req{Method: "POST", Path: checkoutPath(t, multi), Body: walletPayBody(good)}), 400, "passkey_challenge_invalid")
	if diff := cmp.Diff(map[string]int64{"USD": 3800}, s.balances()); diff != "" {
		t.Errorf("wallet (-want +got):\n%s", diff)
	}
	wantError(t, s.do(req{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin", Body: map[string]any{"action": "payment", "payment_link": "nope"}}),
		400, "payment_link_invalid")
}

func TestSingleUseLinkPaidOnceFromManyWallets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, shop := e.signUp("once@shop.test")
	l := e.createLink(shop, map[string]any{"amount": 700})
	path := checkoutPath(t, l)
	const n = 8
	payers := make([]*shopper, n)
	for i := range payers {
		payers[i] = e.walletUser("once-" + string(rune('a'+i)) + "@example.test")
		payers[i].topUp(1000, "USD")
	}
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]response, n)
	)
	for i := range payers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = payers[i].do(req{Method: "POST", Path: path, Body: walletPayBody(nil)})
		}()
	}
	close(start)
	wg.Wait()
	paid := 0
	for i, r := range results {
		switch {
		case r.Status == 200:
			paid++
		case r.Status == 410 && r.errorCode() == "link_completed":
			if b := payers[i].balances()["USD"]; b != 1000 {
				t.Errorf("payer %d was refused but charged: balance %d", i, b)
			}
		default:
			t.Errorf("payer %d: %d %s", i, r.Status, r.Body)
		}
	}
	if paid != 1 {
		t.Fatalf("%d wallets paid the single-use link, want exactly 1", paid)
	}
	e.wantBalance(shop, "USD", 700)
	var total int64
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT coalesce(sum(amount), 0) FROM wallet_transactions WHERE type = 'payment'").Scan(&total); err != nil || total != 700 {
		t.Errorf("wallet payments total %d (%v), want 700", total, err)
	}
}
