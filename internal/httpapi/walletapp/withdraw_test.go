package walletapp_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/passkey/passkeytest"
	"github.com/paylink/paylink/internal/wire"
)

// withdraw asks for a withdrawal of amount USD to the card number.
func withdraw(s *apitest.Shopper, amount any, currency, number string) apitest.Response {
	return s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/withdrawals",
		Body: map[string]any{"amount": amount, "currency": currency, "card": apitest.Card(number)}})
}

// TestWalletWithdrawal drives a withdrawal through the API: 201
// processing with the money gone from the balance at once, listed and
// filterable in the history; once the worker's settlement ran, succeeded
// (or failed with the money back), and the ledger verifies.
func TestWalletWithdrawal(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("withdraw@example.test")
	s.TopUp(5000, "USD")
	res := withdraw(s, 2000, "usd", "4242 4242 4242 4242")
	if res.Status != 201 {
		t.Fatalf("withdraw: %d %s", res.Status, res.Body)
	}
	var w wire.WalletTransaction
	res.Decode(t, &w)
	if w.Type != "withdrawal" || w.Status != "processing" || w.Amount != 2000 || w.Currency != "USD" ||
		w.Card == nil || w.Card.Last4 != "4242" || w.Counterparty != nil {
		t.Fatalf("withdrawal = %+v", w)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 3000}, s.Balances()); diff != "" {
		t.Errorf("balance right after (-want +got):\n%s", diff)
	}
	if h := s.History("?type=withdrawal&status=processing"); len(h.Data) != 1 || h.Data[0].ID != w.ID {
		t.Errorf("processing withdrawals = %+v", h)
	}
	declined := withdraw(s, 1000, "USD", "4000000000000002")
	if declined.Status != 201 {
		t.Fatalf("withdraw to a declining card: %d %s", declined.Status, declined.Body)
	}
	var d wire.WalletTransaction
	declined.Decode(t, &d)
	if diff := cmp.Diff(map[string]int64{"USD": 2000}, s.Balances()); diff != "" {
		t.Errorf("balance with two in flight (-want +got):\n%s", diff)
	}
	ctx := context.Background()
	for _, id := range []string{w.ID, d.ID} {
		if err := e.Deps.Wallet.SettlePayout(ctx, e.Deps.Processor, id); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(map[string]int64{"USD": 3000}, s.Balances()); diff != "" {
		t.Errorf("balance after settling (-want +got):\n%s", diff)
	}
	if h := s.History("?type=withdrawal&status=succeeded"); len(h.Data) != 1 || h.Data[0].ID != w.ID {
		t.Errorf("succeeded withdrawals = %+v", h)
	}
	h := s.History("?status=failed")
	if len(h.Data) != 1 || h.Data[0].ID != d.ID || h.Data[0].FailureCode == nil || *h.Data[0].FailureCode != "card_declined" {
		t.Errorf("failed = %+v", h)
	}
	if h := s.History("?type=topup&status=failed"); len(h.Data) != 0 {
		t.Errorf("failed top-ups = %+v", h)
	}
	n := s.Notifications("")
	if len(n.Data) < 2 || n.Data[0].Type != "withdrawal.failed" || !strings.Contains(n.Data[0].Message, "back in your wallet") {
		t.Errorf("notifications = %+v", n.Data)
	}
	rep, err := ledger.Verify(ctx, e.DB.Pool)
	if err != nil || !rep.OK() {
		t.Fatalf("ledger verify: %+v, %v", rep, err)
	}
	// The card number is nowhere in plaintext: not in rows, not in logs.
	var dump string
	if err := e.DB.Pool.QueryRow(ctx, `SELECT concat(
		(SELECT string_agg(row_to_json(t)::text, '') FROM wallet_transactions t),
		(SELECT string_agg(row_to_json(p)::text, '') FROM wallet_payouts p),
		(SELECT string_agg(encode(sealed, 'escape'), '') FROM idempotency_keys))`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"4242424242424242", "4000000000000002"} {
		if strings.Contains(dump, secret) || strings.Contains(e.Logs.String(), secret) {
			t.Errorf("%s found at rest or in the logs", secret)
		}
	}
}

// TestWalletWithdrawalRefusals: bad input and a short balance are
// refused with their codes and write nothing.
func TestWalletWithdrawalRefusals(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("refuse@example.test")
	s.TopUp(1000, "USD")
	before := apitest.MoneyRows(t, e)
	apitest.WantErrorType(t, withdraw(s, 1001, "USD", "4242424242424242"), 402, "insufficient_funds", "invalid_request_error")
	apitest.WantErrorType(t, withdraw(s, 5, "EUR", "4242424242424242"), 402, "insufficient_funds", "invalid_request_error")
	apitest.WantError(t, withdraw(s, 0, "USD", "4242424242424242"), 400, "amount_invalid")
	apitest.WantError(t, withdraw(s, "10", "USD", "4242424242424242"), 400, "amount_invalid")
	apitest.WantError(t, withdraw(s, 10.5, "USD", "4242424242424242"), 400, "amount_invalid")
	apitest.WantError(t, withdraw(s, 100000000, "USD", "4242424242424242"), 400, "amount_invalid")
	apitest.WantError(t, withdraw(s, 10, "XAU", "4242424242424242"), 400, "currency_unsupported")
	apitest.WantError(t, withdraw(s, 10, "USD", "4242424242424241"), 402, "invalid_number")
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/withdrawals", Body: map[string]any{"amount": 10,
		"currency": "USD", "card": map[string]any{"number": "4242424242424242", "exp_month": 1, "exp_year": 2020, "cvc": "123"}}}),
		402, "expired_card")
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/withdrawals",
		Body: map[string]any{"amount": 10, "currency": "USD"}}), 400, "card_required")
	apitest.WantError(t, e.NewShopper().Do(apitest.Req{Method: "POST", Path: "/v1/wallet/withdrawals",
		Body: map[string]any{"amount": 10, "currency": "USD", "card": apitest.Card("4242424242424242")}}), 401, "login_required")
	apitest.WantError(t, s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/transactions?status=lost"}), 400, "status_invalid")
	if after := apitest.MoneyRows(t, e); after != before {
		t.Errorf("refused withdrawals wrote rows: %s, before %s", after, before)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 1000}, s.Balances()); diff != "" {
		t.Errorf("balance (-want +got):\n%s", diff)
	}
}

// withdrawalConfirmation begins a passkey confirmation of a withdrawal of
// amount USD to card number and answers it with auth.
func withdrawalConfirmation(t *testing.T, s *apitest.Shopper, auth *passkeytest.Authenticator, amount int, number string) json.RawMessage {
	t.Helper()
	opts := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin", Body: map[string]any{
		"action": "withdrawal", "amount": amount, "currency": "USD", "card": map[string]any{"number": number}}})
	if opts.Status != 200 {
		t.Fatalf("confirm/begin withdrawal: %d %s", opts.Status, opts.Body)
	}
	a, err := auth.Get(opts.Body)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestWithdrawalNeedsPasskeyConfirmation: money leaves the wallet of a
// user with a passkey only with a confirmation of exactly this card,
// amount and currency, as a transfer does; the password alone (a stolen
// session) withdraws nothing. The confirmation is single use, and the
// stored challenge holds no card number.
func TestWithdrawalNeedsPasskeyConfirmation(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("pk-withdraw@example.test")
	phone := passkeytest.New(apitest.Origin)
	apitest.RegisterPasskey(t, s, phone)
	s.TopUp(5000, "USD")
	before := apitest.MoneyRows(t, e)
	withdrawWith := func(amount int, number string, assertion json.RawMessage) apitest.Response {
		return s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/withdrawals", Body: map[string]any{"amount": amount,
			"currency": "USD", "card": apitest.Card(number), "passkey_assertion": assertion}})
	}
	apitest.WantError(t, withdraw(s, 2000, "USD", "4242424242424242"), 403, "passkey_confirmation_required")
	apitest.WantError(t, withdrawWith(2000, "5555555555554444", withdrawalConfirmation(t, s, phone, 2000, "4242424242424242")),
		403, "passkey_confirmation_mismatch") // confirmed for another card
	apitest.WantError(t, withdrawWith(2001, "4242424242424242", withdrawalConfirmation(t, s, phone, 2000, "4242424242424242")),
		403, "passkey_confirmation_mismatch") // for another amount
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin", Body: map[string]any{
		"action": "withdrawal", "amount": 2000, "currency": "USD"}}), 400, "card_required")
	if after := apitest.MoneyRows(t, e); after != before {
		t.Fatalf("refused withdrawals wrote rows: %s, before %s", after, before)
	}
	if b := s.Balances()["USD"]; b != 5000 {
		t.Fatalf("balance after refusals = %d, want 5000", b)
	}
	if n := e.Count("SELECT count(*) FROM webauthn_challenges WHERE payee LIKE '%4242%' OR payee LIKE '%4444%'"); n != 0 {
		t.Errorf("%d stored challenges hold a card number", n)
	}

	// The spaced number the page sends is the same card.
	ok := withdrawalConfirmation(t, s, phone, 2000, "4242 4242 4242 4242")
	res := withdrawWith(2000, "4242424242424242", ok)
	if res.Status != 201 {
		t.Fatalf("confirmed withdrawal: %d %s", res.Status, res.Body)
	}
	if b := s.Balances()["USD"]; b != 3000 {
		t.Fatalf("balance after the withdrawal = %d, want 3000", b)
	}
	// The same confirmation again (a new Idempotency-Key): refused.
	apitest.WantError(t, withdrawWith(2000, "4242424242424242", ok), 400, "passkey_challenge_invalid")
	if b := s.Balances()["USD"]; b != 3000 {
		t.Fatalf("balance after a replayed confirmation = %d, want 3000", b)
	}
	if strings.Contains(e.Logs.String(), "4242424242424242") {
		t.Error("a card number reached the log")
	}
}
