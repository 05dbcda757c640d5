package hostedcheckout_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paylink/paylink/internal/httpapi/apitest"
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
	e := apitest.New(t)
	_, shop := e.SignUp("mugs@shop.test")
	l := e.CreateLink(shop, map[string]any{"amount": 2500, "description": "Blue mug"})
	path := apitest.CheckoutPath(t, l)
	s := e.WalletUser("payer@example.test")
	s.TopUp(5000, "USD")

	// The checkout page offers the balance to the logged-in shopper.
	page := s.Do(apitest.Req{Method: "GET", Path: path})
	if page.Status != 200 || !strings.Contains(string(page.Body), `id="wallet-pay-button"`) || !strings.Contains(string(page.Body), "$50.00") {
		t.Fatalf("checkout page for a wallet user: %d, no balance offer", page.Status)
	}
	if anon := e.Do(apitest.Req{Method: "GET", Path: path}); !strings.Contains(string(anon.Body), `id="wallet-login"`) {
		t.Error("the checkout page does not offer a wallet log-in to anonymous shoppers")
	}

	res := s.Do(apitest.Req{Method: "POST", Path: path, Body: walletPayBody(nil), Header: map[string]string{"Idempotency-Key": "wallet-pay-1"}})
	if res.Status != 200 {
		t.Fatalf("wallet payment: %d %s", res.Status, res.Body)
	}
	a := apitest.PayAnswerOf(t, res)
	p := a.Payment
	if p.Status != "succeeded" || p.PaymentMethod.Type != "wallet" || p.PaymentMethod.Last4 != nil || p.Amount != 2500 ||
		p.Customer.Email != "payer@example.test" || p.Customer.Name != "Ada King Lovelace" || a.ReceiptURL == "" {
		t.Errorf("payment = %+v", a)
	}
	// A retry with the same key replays; it does not pay twice.
	again := s.Do(apitest.Req{Method: "POST", Path: path, Body: walletPayBody(nil), Header: map[string]string{"Idempotency-Key": "wallet-pay-1"}})
	if again.Status != 200 || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %s", again.Status, again.Body)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 2500}, s.Balances()); diff != "" {
		t.Errorf("wallet (-want +got):\n%s", diff)
	}
	e.WantBalance(shop, "USD", 2500)
	h := s.History("?type=payment")
	if len(h.Data) != 1 || *h.Data[0].Counterparty != "Shop mugs" || *h.Data[0].Payment != p.ID {
		t.Errorf("history = %+v", h)
	}
	if n := s.Notifications(""); n.Data[0].Type != "payment.succeeded" || !strings.Contains(n.Data[0].Message, "Shop mugs") {
		t.Errorf("notification = %+v", n.Data[0])
	}
	if got := e.Count("SELECT count(*) FROM events WHERE type IN ('payment.succeeded', 'payment_link.completed')"); got != 2 {
		t.Errorf("events = %d, want payment.succeeded and payment_link.completed", got)
	}
	if got := e.Count("SELECT count(*) FROM pending_captures"); got != 0 {
		t.Errorf("a wallet payment queued a card capture")
	}
	// The single-use link is done.
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: path, Body: walletPayBody(nil)}), 410, "link_completed")
	var got wire.Payment
	e.Do(apitest.Req{Method: "GET", Path: "/v1/payments/" + p.ID, Auth: &shop}).Decode(t, &got)
	if got.PaymentMethod.Type != "wallet" || got.Status != "succeeded" {
		t.Errorf("merchant sees %+v", got)
	}

	// A refund goes back to the wallet, with no card processor involved.
	rf := e.Do(apitest.Req{Method: "POST", Path: "/v1/payments/" + p.ID + "/refunds", Auth: &shop, Body: map[string]any{"amount": 1000}})
	if rf.Status != http.StatusCreated {
		t.Fatalf("refund: %d %s", rf.Status, rf.Body)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 3500}, s.Balances()); diff != "" {
		t.Errorf("wallet after refund (-want +got):\n%s", diff)
	}
	e.WantBalance(shop, "USD", 1500)
	if r := s.History("?type=refund"); len(r.Data) != 1 || r.Data[0].Amount != 1000 || *r.Data[0].Counterparty != "Shop mugs" {
		t.Errorf("refund history = %+v", r)
	}
	if n := e.Count("SELECT count(*) FROM refunds WHERE sent_at IS NOT NULL AND processor_ref IS NULL"); n != 1 {
		t.Errorf("wallet refunds marked sent without a processor = %d, want 1", n)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/payments/" + p.ID + "/refunds", Auth: &shop, Body: map[string]any{"amount": 1501}}),
		400, "refund_exceeds_payment")
}

func TestPayLinkFromWalletRefusals(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, shop := e.SignUp("refuse@shop.test")
	l := e.CreateLink(shop, map[string]any{"amount": 9000})
	path := apitest.CheckoutPath(t, l)
	s := e.WalletUser("poor@example.test")
	s.TopUp(5000, "USD")
	before := apitest.MoneyRows(t, e)

	apitest.WantError(t, e.NewShopper().Do(apitest.Req{Method: "POST", Path: path, Body: walletPayBody(nil)}), 401, "login_required")
	apitest.WantErrorType(t, s.Do(apitest.Req{Method: "POST", Path: path, Body: walletPayBody(nil)}), 402, "insufficient_funds", "invalid_request_error")
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: path + "x", Body: walletPayBody(nil)}), 403, "link_signature_invalid")
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: path, Body: walletPayBody(nil), Header: map[string]string{"Origin": "https://evil.test"}}),
		403, "origin_not_allowed")
	if got := e.Count("SELECT count(*) FROM payments"); got != 0 {
		t.Errorf("payments = %d after refusals", got)
	}
	if after := apitest.MoneyRows(t, e); after != before {
		t.Errorf("refused wallet payments wrote rows: %s, before %s", after, before)
	}
	e.WantBalance(shop, "USD", 0)
}

func TestPayLinkFromWalletNeedsPasskeyConfirmation(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, shop := e.SignUp("pk@shop.test")
	l := e.CreateLink(shop, map[string]any{"amount": 1200})
	other := e.CreateLink(shop, map[string]any{"amount": 1200})
	path := apitest.CheckoutPath(t, l)
	s := e.WalletUser("pk-payer@example.test")
	s.TopUp(5000, "USD")
	auth := passkeytest.New(apitest.Origin)
	apitest.RegisterPasskey(t, s, auth)

	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: path, Body: walletPayBody(nil)}), 403, "passkey_confirmation_required")
	confirm := func(linkID string) json.RawMessage {
		t.Helper()
		opts := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin", Body: map[string]any{"action": "payment", "payment_link": linkID}})
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
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: path, Body: walletPayBody(confirm(other.ID))}), 403, "passkey_confirmation_mismatch")
	good := confirm(l.ID)
	res := s.Do(apitest.Req{Method: "POST", Path: path, Body: walletPayBody(good)})
	if res.Status != 200 || apitest.PayAnswerOf(t, res).Payment.Status != "succeeded" {
		t.Fatalf("confirmed wallet payment: %d %s", res.Status, res.Body)
	}
	// The captured assertion replayed on a multi-use link of the same
	// amount is refused: the challenge is spent.
	multi := e.CreateLink(shop, map[string]any{"amount": 1200, "single_use": false})
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: apitest.CheckoutPath(t, multi), Body: walletPayBody(good)}), 400, "passkey_challenge_invalid")
	if diff := cmp.Diff(map[string]int64{"USD": 3800}, s.Balances()); diff != "" {
		t.Errorf("wallet (-want +got):\n%s", diff)
	}
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin", Body: map[string]any{"action": "payment", "payment_link": "nope"}}),
		400, "payment_link_invalid")
}

func TestSingleUseLinkPaidOnceFromManyWallets(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, shop := e.SignUp("once@shop.test")
	l := e.CreateLink(shop, map[string]any{"amount": 700})
	path := apitest.CheckoutPath(t, l)
	const n = 8
	payers := make([]*apitest.Shopper, n)
	for i := range payers {
		payers[i] = e.WalletUser("once-" + string(rune('a'+i)) + "@example.test")
		payers[i].TopUp(1000, "USD")
	}
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]apitest.Response, n)
	)
	for i := range payers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = payers[i].Do(apitest.Req{Method: "POST", Path: path, Body: walletPayBody(nil)})
		}()
	}
	close(start)
	wg.Wait()
	paid := 0
	for i, r := range results {
		switch {
		case r.Status == 200:
			paid++
		case r.Status == 410 && r.ErrorCode() == "link_completed":
			if b := payers[i].Balances()["USD"]; b != 1000 {
				t.Errorf("payer %d was refused but charged: balance %d", i, b)
			}
		default:
			t.Errorf("payer %d: %d %s", i, r.Status, r.Body)
		}
	}
	if paid != 1 {
		t.Fatalf("%d wallets paid the single-use link, want exactly 1", paid)
	}
	e.WantBalance(shop, "USD", 700)
	var total int64
	if err := e.DB.Pool.QueryRow(context.Background(), "SELECT coalesce(sum(amount), 0) FROM wallet_transactions WHERE type = 'payment'").Scan(&total); err != nil || total != 700 {
		t.Errorf("wallet payments total %d (%v), want 700", total, err)
	}
}
