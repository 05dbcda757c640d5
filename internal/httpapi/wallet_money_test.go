package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/passkey/passkeytest"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/wire"
)

func card(number string) map[string]any {
	return map[string]any{"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
}

// topUp adds amount USD to s's wallet with the Visa test card.
func (s *shopper) topUp(amount int64, currency string) wire.WalletTransaction {
	s.e.t.Helper()
	res := s.do(req{Method: "POST", Path: "/v1/wallet/topup",
		Body: map[string]any{"amount": amount, "currency": currency, "card": card("4242424242424242")}})
	if res.Status != http.StatusCreated {
		s.e.t.Fatalf("top up: %d %s", res.Status, res.Body)
	}
	var t wire.WalletTransaction
	res.decode(s.e.t, &t)
	return t
}

func (s *shopper) balances() map[string]int64 {
	s.e.t.Helper()
	res := s.do(req{Method: "GET", Path: "/v1/wallet/account"})
	if res.Status != 200 {
		s.e.t.Fatalf("account: %d %s", res.Status, res.Body)
	}
	var a accountResponse
	res.decode(s.e.t, &a)
	out := map[string]int64{}
	for _, b := range a.Balances {
		if b.Amount != 0 {
			out[b.Currency] = b.Amount
		}
	}
	return out
}

func (s *shopper) history(query string) wire.List[wire.WalletTransaction] {
	s.e.t.Helper()
	res := s.do(req{Method: "GET", Path: "/v1/wallet/transactions" + query})
	if res.Status != 200 {
		s.e.t.Fatalf("history: %d %s", res.Status, res.Body)
	}
	var l wire.List[wire.WalletTransaction]
	res.decode(s.e.t, &l)
	return l
}

func (s *shopper) notifications(query string) wire.List[wire.Notification] {
	s.e.t.Helper()
	res := s.do(req{Method: "GET", Path: "/v1/wallet/notifications" + query})
	if res.Status != 200 {
		s.e.t.Fatalf("notifications: %d %s", res.Status, res.Body)
	}
	var l wire.List[wire.Notification]
	res.decode(s.e.t, &l)
	return l
}

func (s *shopper) transfer(to string, amount int64, currency string, extra map[string]any) response {
	body := map[string]any{"receiver_email": to, "amount": amount, "currency": currency, "note": "lunch"}
	for k, v := range extra {
		body[k] = v
	}
	return s.do(req{Method: "POST", Path: "/v1/wallet/transfers", Body: body})
}

// moneyRows counts what a money movement writes, to check a refused one
// wrote nothing.
func moneyRows(t *testing.T, e *env) string {
	t.Helper()
	return fmt.Sprintf("txns=%d notifications=%d emails=%d", count(t, e, "SELECT count(*) FROM wallet_transactions"),
		count(t, e, "SELECT count(*) FROM wallet_notifications"), count(t, e, "SELECT count(*) FROM emails"))
}

func TestWalletTopUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.walletUser("topup@example.test")
	tx := s.topUp(5000, "usd")
	if !strings.HasPrefix(tx.ID, "txn_") || tx.Type != "topup" || tx.Status != "succeeded" || tx.Amount != 5000 ||
		tx.Currency != "USD" || tx.Counterparty != nil || tx.Card == nil || tx.Card.Brand != "visa" || tx.Card.Last4 != "4242" {
		t.Errorf("top-up = %+v", tx)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 5000}, s.balances()); diff != "" {
		t.Errorf("balances (-want +got):\n%s", diff)
	}
	h := s.history("")
	if len(h.Data) != 1 || h.Data[0].ID != tx.ID {
		t.Errorf("history = %+v", h)
	}
	n := s.notifications("")
	if len(n.Data) != 1 || n.Data[0].Type != "topup.succeeded" || n.Data[0].Read || n.Data[0].Transaction == nil ||
		*n.Data[0].Transaction != tx.ID || !strings.Contains(n.Data[0].Message, "$50.00") {
		t.Errorf("notifications = %+v", n)
	}
	if got := count(t, e, "SELECT count(*) FROM emails WHERE to_addr = 'topup@example.test' AND body LIKE '%$50.00%'"); got != 1 {
		t.Errorf("queued e-mails = %d, want 1", got)
	}
	// Neither the card number nor the CVC, nor the password, is at rest or
	// in a log line.
	var dump string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT concat(
		(SELECT string_agg(row_to_json(t)::text, '') FROM wallet_transactions t),
		(SELECT string_agg(row_to_json(n)::text, '') FROM wallet_notifications n),
		(SELECT string_agg(row_to_json(m)::text, '') FROM emails m),
		(SELECT string_agg(row_to_json(u)::text, '') FROM users u),
		(SELECT string_agg(encode(sealed, 'escape'), '') FROM idempotency_keys))`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"4242424242424242", walletPassword} {
		if strings.Contains(dump, secret) || strings.Contains(e.logs.String(), secret) {
			t.Errorf("%q found at rest or in the logs", secret)
		}
	}
}

func TestWalletTopUpDeclinesChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.walletUser("declined@example.test")
	before := moneyRows(t, e)
	tests := []struct {
		name, number, code, param string
	}{
		{"declined", "4000000000000002", "card_declined", "card"},
		{"insufficient funds", "4000000000009995", "insufficient_funds", "card"},
		{"expired", "4000000000000069", "expired_card", "card"},
		{"incorrect cvc", "4000000000000127", "incorrect_cvc", "card"},
		{"processing error", "4000000000000119", "processing_error", "card"},
		{"luhn failure", "4242424242424241", "invalid_number", "card.number"},
		{"challenge", "4000000000003220", "authentication_required", "card"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.do(req{Method: "POST", Path: "/v1/wallet/topup", Body: map[string]any{"amount": 1000, "currency": "USD", "card": card(tt.number)}})
			wantError(t, res, 402, tt.code)
			var b edge.ErrorBody
			res.decode(t, &b)
			if b.Error.Param != tt.param || b.Error.Message == "" {
				t.Errorf("error = %+v; want param %q and a message", b.Error, tt.param)
			}
		})
	}
	bad := []struct {
		name, body, code string
		status           int
	}{
		{"no card", `{"amount":1000,"currency":"USD"}`, "card_required", 400},
		{"float amount", `{"amount":10.5,"currency":"USD","card":{"number":"4242424242424242","exp_month":12,"exp_year":2035,"cvc":"123"}}`, "amount_invalid", 400},
		{"string amount", `{"amount":"1000","currency":"USD","card":{"number":"4242424242424242","exp_month":12,"exp_year":2035,"cvc":"123"}}`, "amount_invalid", 400},
		{"zero", `{"amount":0,"currency":"USD","card":{"number":"4242424242424242","exp_month":12,"exp_year":2035,"cvc":"123"}}`, "amount_invalid", 400},
		{"too much", `{"amount":100000000,"currency":"USD","card":{"number":"4242424242424242","exp_month":12,"exp_year":2035,"cvc":"123"}}`, "amount_invalid", 400},
		{"currency", `{"amount":1000,"currency":"XYZ","card":{"number":"4242424242424242","exp_month":12,"exp_year":2035,"cvc":"123"}}`, "currency_unsupported", 400},
		{"unknown card field", `{"amount":1000,"currency":"USD","card":{"number":"4242424242424242","exp_month":12,"exp_year":2035,"cvc":"123","pin":"1234"}}`, "unknown_parameter", 400},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, s.do(req{Method: "POST", Path: "/v1/wallet/topup", Body: tt.body}), tt.status, tt.code)
		})
	}
	if after := moneyRows(t, e); after != before {
		t.Errorf("refused top-ups wrote rows: %s, before %s", after, before)
	}
	if b := s.balances(); len(b) != 0 {
		t.Errorf("balances after declines = %v, want none", b)
	}
	wantError(t, e.newShopper().do(req{Method: "POST", Path: "/v1/wallet/topup",
		Body: map[string]any{"amount": 1000, "currency": "USD", "card": card("4242424242424242")}}), 401, "login_required")
}

func TestWalletTopUpIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.walletUser("idem@example.test")
	h := map[string]string{"Idempotency-Key": "topup-1"}
	body := map[string]any{"amount": 1500, "currency": "EUR", "card": card("5555555555554444")}
	first := s.do(req{Method: "POST", Path: "/v1/wallet/topup", Body: body, Header: h})
	again := s.do(req{Method: "POST", Path: "/v1/wallet/topup", Body: body, Header: h})
	if first.Status != 201 || again.Status != 201 || string(first.Body) != string(again.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", first.Status, first.Body, again.Status, again.Body)
	}
	body["amount"] = 9999
	wantError(t, s.do(req{Method: "POST", Path: "/v1/wallet/topup", Body: body, Header: h}), 422, "idempotency_key_reused")
	if diff := cmp.Diff(map[string]int64{"EUR": 1500}, s.balances()); diff != "" {
		t.Errorf("balances (-want +got):\n%s", diff)
	}
	// Keys are per user: another user's same key charges afresh.
	o := e.walletUser("idem2@example.test")
	if res := o.do(req{Method: "POST", Path: "/v1/wallet/topup", Body: body, Header: h}); res.Status != 201 || res.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("other user's key: %d %s", res.Status, res.Body)
	}
}

func TestWalletTransfer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.walletUser("alice@example.test")
	bob := e.walletUser("bob@example.test")
	alice.topUp(10000, "USD")
	res := alice.transfer("Bob@Example.test", 2500, "usd", nil)
	if res.Status != http.StatusCreated {
		t.Fatalf("transfer: %d %s", res.Status, res.Body)
	}
	var out wire.WalletTransaction
	res.decode(t, &out)
	if out.Type != "transfer_out" || out.Status != "succeeded" || out.Amount != 2500 || out.Currency != "USD" ||
		out.Counterparty == nil || *out.Counterparty != "bob@example.test" || out.Note != "lunch" {
		t.Errorf("transfer = %+v", out)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 7500}, alice.balances()); diff != "" {
		t.Errorf("alice (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 2500}, bob.balances()); diff != "" {
		t.Errorf("bob (-want +got):\n%s", diff)
	}
	in := bob.history("")
	if len(in.Data) != 1 || in.Data[0].Type != "transfer_in" || in.Data[0].Amount != 2500 || *in.Data[0].Counterparty != "alice@example.test" {
		t.Errorf("bob's history = %+v", in)
	}
	if n := bob.notifications(""); len(n.Data) != 1 || n.Data[0].Type != "transfer_in.succeeded" || !strings.Contains(n.Data[0].Message, "alice@example.test") {
		t.Errorf("bob's notifications = %+v", n)
	}
	if n := alice.notifications(""); len(n.Data) != 2 || n.Data[0].Type != "transfer_out.succeeded" {
		t.Errorf("alice's notifications = %+v", n)
	}
	if got := count(t, e, "SELECT count(*) FROM emails WHERE to_addr IN ('alice@example.test', 'bob@example.test')"); got != 3 {
		t.Errorf("e-mails = %d, want 3 (top-up, sent, received)", got)
	}

	before := moneyRows(t, e)
	wantErrorType(t, alice.transfer("bob@example.test", 7501, "USD", nil), 402, "insufficient_funds", "invalid_request_error")
	wantErrorType(t, alice.transfer("bob@example.test", 100, "EUR", nil), 402, "insufficient_funds", "invalid_request_error")
	wantError(t, alice.transfer("carol@example.test", 100, "USD", nil), 404, "receiver_not_found")
	wantError(t, alice.transfer("ALICE@example.test", 100, "USD", nil), 400, "transfer_to_self")
	wantError(t, alice.transfer("not an email", 100, "USD", nil), 400, "email_invalid")
	wantError(t, alice.transfer("bob@example.test", 0, "USD", nil), 400, "amount_invalid")
	wantError(t, alice.transfer("bob@example.test", 100, "XAU", nil), 400, "currency_unsupported")
	wantError(t, alice.transfer("bob@example.test", 100, "USD", map[string]any{"note": strings.Repeat("n", 501)}), 400, "note_too_long")
	wantError(t, alice.transfer("bob@example.test", 100, "USD", map[string]any{"memo": "x"}), 400, "unknown_parameter")
	wantError(t, e.newShopper().transfer("bob@example.test", 100, "USD", nil), 401, "login_required")
	if after := moneyRows(t, e); after != before {
		t.Errorf("refused transfers wrote rows: %s, before %s", after, before)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 7500}, alice.balances()); diff != "" {
		t.Errorf("alice after refusals (-want +got):\n%s", diff)
	}
}

func TestWalletConcurrentTransfersNeverOverdraw(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.walletUser("race-a@example.test")
	bob := e.walletUser("race-b@example.test")
	alice.topUp(1000, "USD")
	bob.topUp(100, "USD")
	const n = 50 // 50 × 30 = 1500 > 1000
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]response, n)
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = alice.transfer("race-b@example.test", 30, "USD", nil)
		}()
	}
	close(start)
	wg.Wait()
	ok, short := 0, 0
	for i, r := range results {
		switch {
		case r.Status == 201:
			ok++
		case r.Status == 402 && r.errorCode() == "insufficient_funds":
			short++
		default:
			t.Errorf("transfer %d: %d %s", i, r.Status, r.Body)
		}
	}
	if ok != 33 || short != 17 {
		t.Errorf("%d succeeded and %d were refused; want 33 (990 of 1000) and 17", ok, short)
	}
	a, b := alice.balances()["USD"], bob.balances()["USD"]
	if a != 10 || b != 1090 {
		t.Errorf("balances = %d and %d; want 10 and 1090 (the sum 1100 unchanged, none below zero)", a, b)
	}
	// The ledger agrees: the card-in system account gave exactly 1100.
	cardIn, err := ledger.Balance(context.Background(), e.db.Pool, ledger.Account{Kind: ledger.CardIn, Currency: money.USD})
	if err != nil || cardIn != -1100 {
		t.Errorf("card_in USD = %d (%v), want -1100", cardIn, err)
	}
	var sent, received int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT
		count(*) FILTER (WHERE type = 'transfer_out'), count(*) FILTER (WHERE type = 'transfer_in') FROM wallet_transactions`).Scan(&sent, &received); err != nil {
		t.Fatal(err)
	}
	if sent != ok || received != ok {
		t.Errorf("history rows: %d out, %d in; want %d each", sent, received, ok)
	}
}

func TestWalletHistoryAndNotifications(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.walletUser("history@example.test")
	other := e.walletUser("history-other@example.test")
	var ids []string
	for i := 1; i <= 5; i++ {
		ids = append(ids, s.topUp(int64(i*100), "USD").ID)
	}
	s.transfer("history-other@example.test", 50, "USD", nil)
	page1 := s.history("?limit=2&type=topup")
	if len(page1.Data) != 2 || !page1.HasMore || page1.Data[0].ID != ids[4] || page1.Data[1].ID != ids[3] {
		t.Fatalf("page 1 = %+v", page1)
	}
	page2 := s.history("?limit=10&type=topup&starting_after=" + page1.Data[1].ID)
	if len(page2.Data) != 3 || page2.HasMore || page2.Data[2].ID != ids[0] {
		t.Fatalf("page 2 = %+v", page2)
	}
	if all := s.history(""); len(all.Data) != 6 || all.Data[0].Type != "transfer_out" {
		t.Errorf("full history = %+v", all)
	}
	wantError(t, s.do(req{Method: "GET", Path: "/v1/wallet/transactions?limit=0"}), 400, "limit_invalid")
	wantError(t, s.do(req{Method: "GET", Path: "/v1/wallet/transactions?type=gift"}), 400, "type_invalid")
	wantError(t, s.do(req{Method: "GET", Path: "/v1/wallet/transactions?starting_after=pay_x"}), 400, "starting_after_invalid")
	one := s.do(req{Method: "GET", Path: "/v1/wallet/transactions/" + ids[0]})
	var got wire.WalletTransaction
	one.decode(t, &got)
	if one.Status != 200 || got.Amount != 100 {
		t.Errorf("one transaction = %d %s", one.Status, one.Body)
	}
	wantError(t, other.do(req{Method: "GET", Path: "/v1/wallet/transactions/" + ids[0]}), 404, "transaction_not_found")

	unread := s.notifications("?unread=true")
	if len(unread.Data) != 6 {
		t.Fatalf("unread = %d, want 6", len(unread.Data))
	}
	first := unread.Data[0].ID
	res := s.do(req{Method: "POST", Path: "/v1/wallet/notifications/" + first + "/read"})
	var n wire.Notification
	res.decode(t, &n)
	if res.Status != 200 || !n.Read || n.ID != first {
		t.Fatalf("mark read: %d %s", res.Status, res.Body)
	}
	wantError(t, other.do(req{Method: "POST", Path: "/v1/wallet/notifications/" + unread.Data[1].ID + "/read"}), 404, "notification_not_found")
	if got := s.notifications("?unread=true"); len(got.Data) != 5 {
		t.Errorf("unread after one read = %d, want 5", len(got.Data))
	}
	res = s.do(req{Method: "POST", Path: "/v1/wallet/notifications/read_all"})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"marked_read":5`) {
		t.Errorf("read_all = %d %s", res.Status, res.Body)
	}
	if got := s.notifications("?unread=true"); len(got.Data) != 0 {
		t.Errorf("unread after read_all = %d", len(got.Data))
	}
	if got := s.notifications("?limit=2"); len(got.Data) != 2 || !got.HasMore || !got.Data[0].Read {
		t.Errorf("notifications page = %+v", got)
	}
	wantError(t, s.do(req{Method: "GET", Path: "/v1/wallet/notifications?unread=maybe"}), 400, "unread_invalid")
}

// confirmTransfer begins a passkey confirmation for a transfer and answers
// it with auth.
func confirmTransfer(t *testing.T, s *shopper, auth *passkeytest.Authenticator, to string, amount int64, currency string) json.RawMessage {
	t.Helper()
	opts := s.do(req{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin",
		Body: map[string]any{"action": "transfer", "receiver_email": to, "amount": amount, "currency": currency}})
	if opts.Status != 200 {
		t.Fatalf("confirm/begin: %d %s", opts.Status, opts.Body)
	}
	a, err := auth.Get(opts.Body)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestTransferMustBeConfirmedWithPasskey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.walletUser("pk-alice@example.test")
	e.walletUser("pk-bob@example.test")
	e.walletUser("pk-carol@example.test")
	alice.topUp(10000, "USD")
	auth := passkeytest.New(testOrigin)
	registerPasskey(t, alice, auth)

	wantError(t, alice.transfer("pk-bob@example.test", 500, "USD", nil), 403, "passkey_confirmation_required")
	a := confirmTransfer(t, alice, auth, "pk-bob@example.test", 500, "USD")
	// The assertion approves exactly bob, 500, USD.
	wantError(t, alice.transfer("pk-bob@example.test", 600, "USD", map[string]any{"passkey_assertion": a}), 403, "passkey_confirmation_mismatch")
	wantError(t, alice.transfer("pk-carol@example.test", 500, "USD", map[string]any{"passkey_assertion": a}), 403, "passkey_confirmation_mismatch")
	wantError(t, alice.transfer("pk-bob@example.test", 500, "EUR", map[string]any{"passkey_assertion": a}), 403, "passkey_confirmation_mismatch")
	if res := alice.transfer("pk-bob@example.test", 500, "USD", map[string]any{"passkey_assertion": a}); res.Status != 201 {
		t.Fatalf("confirmed transfer: %d %s", res.Status, res.Body)
	}
	// Replaying the captured assertion body is refused: the challenge is spent.
	wantError(t, alice.transfer("pk-bob@example.test", 500, "USD", map[string]any{"passkey_assertion": a}), 400, "passkey_challenge_invalid")
	// An assertion made for a log-in challenge cannot confirm a transfer.
	opts := alice.do(req{Method: "POST", Path: "/v1/wallet/passkeys/login/begin"})
	login, _ := auth.Get(opts.Body)
	wantError(t, alice.transfer("pk-bob@example.test", 500, "USD", map[string]any{"passkey_assertion": json.RawMessage(login)}), 400, "passkey_challenge_invalid")
	// Without user verification.
	auth.UserVerified = false
	noUV := confirmTransfer(t, alice, auth, "pk-bob@example.test", 1, "USD")
	wantError(t, alice.transfer("pk-bob@example.test", 1, "USD", map[string]any{"passkey_assertion": noUV}), 401, "passkey_invalid")
	if diff := cmp.Diff(map[string]int64{"USD": 9500}, alice.balances()); diff != "" {
		t.Errorf("alice (-want +got):\n%s", diff)
	}
	if got := count(t, e, "SELECT count(*) FROM wallet_transactions WHERE type = 'transfer_out'"); got != 1 {
		t.Errorf("transfers = %d, want exactly the confirmed one", got)
	}
	wantError(t, alice.do(req{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin",
		Body: map[string]any{"action": "refund", "receiver_email": "pk-bob@example.test", "amount": 1, "currency": "USD"}}), 400, "action_invalid")
}

// flakyCapture is the card processor with captures failing, as when the
// processor is down right after the top-up committed.
type flakyCapture struct{ processor.Processor }

func (flakyCapture) Capture(context.Context, string, string, money.Amount) (string, error) {
	return "", processor.ErrUnavailable
}

func TestWalletTopUpCaptureIsSweptWhenItFails(t *testing.T) {
	t.Parallel()
	var sim processor.Processor
	e := newEnv(t, func(d *Deps) {
		sim = d.Processor
		d.Processor = flakyCapture{d.Processor}
	})
	s := e.walletUser("sweep@example.test")
	tx := s.topUp(700, "GBP")
	if diff := cmp.Diff(map[string]int64{"GBP": 700}, s.balances()); diff != "" {
		t.Errorf("balances (-want +got):\n%s", diff)
	}
	if n := count(t, e, "SELECT count(*) FROM wallet_pending_captures WHERE transaction_id = $1", tx.ID); n != 1 {
		t.Fatalf("pending captures = %d, want the failed one kept", n)
	}
	n, err := e.deps.Wallet.CaptureDue(context.Background(), sim, time.Now().Add(time.Minute), 10)
	if err != nil || n != 1 {
		t.Fatalf("sweep captured %d (%v), want 1", n, err)
	}
	if n := count(t, e, "SELECT count(*) FROM wallet_pending_captures"); n != 0 {
		t.Errorf("pending captures after the sweep = %d", n)
	}
	// A healthy processor captures at once.
	ok := newEnv(t)
	u := ok.walletUser("captured@example.test")
	u.topUp(700, "GBP")
	if n := count(t, ok, "SELECT count(*) FROM wallet_pending_captures"); n != 0 {
		t.Errorf("pending captures after a normal top-up = %d, want 0", n)
	}
}
