package walletapp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/passkey/passkeytest"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/wire"
)

func TestWalletTopUp(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("topup@example.test")
	tx := s.TopUp(5000, "usd")
	if !strings.HasPrefix(tx.ID, "txn_") || tx.Type != "topup" || tx.Status != "succeeded" || tx.Amount != 5000 ||
		tx.Currency != "USD" || tx.Counterparty != nil || tx.Card == nil || tx.Card.Brand != "visa" || tx.Card.Last4 != "4242" {
		t.Errorf("top-up = %+v", tx)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 5000}, s.Balances()); diff != "" {
		t.Errorf("balances (-want +got):\n%s", diff)
	}
	h := s.History("")
	if len(h.Data) != 1 || h.Data[0].ID != tx.ID {
		t.Errorf("history = %+v", h)
	}
	n := s.Notifications("")
	if len(n.Data) != 1 || n.Data[0].Type != "topup.succeeded" || n.Data[0].Read || n.Data[0].Transaction == nil ||
		*n.Data[0].Transaction != tx.ID || !strings.Contains(n.Data[0].Message, "$50.00") {
		t.Errorf("notifications = %+v", n)
	}
	if got := e.Count("SELECT count(*) FROM emails WHERE to_addr = 'topup@example.test' AND body LIKE '%$50.00%'"); got != 1 {
		t.Errorf("queued e-mails = %d, want 1", got)
	}
	// With an HTML part (its template's data, rendered when sent), once
	// per transaction and status.
	if got := e.Count("SELECT count(*) FROM emails WHERE to_addr = 'topup@example.test' AND html_data->>'template' = 'wallet' AND html_data::text LIKE '%$50.00%' AND dedupe_key LIKE 'wallet:txn_%:succeeded'"); got != 1 {
		t.Errorf("e-mails with an HTML part and a key per status = %d, want 1", got)
	}
	// Neither the card number nor the CVC, nor the password, is at rest or
	// in a log line.
	var dump string
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT concat(
		(SELECT string_agg(row_to_json(t)::text, '') FROM wallet_transactions t),
		(SELECT string_agg(row_to_json(n)::text, '') FROM wallet_notifications n),
		(SELECT string_agg(row_to_json(m)::text, '') FROM emails m),
		(SELECT string_agg(row_to_json(u)::text, '') FROM users u),
		(SELECT string_agg(encode(sealed, 'escape'), '') FROM idempotency_keys))`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"4242424242424242", apitest.WalletPassword} {
		if strings.Contains(dump, secret) || strings.Contains(e.Logs.String(), secret) {
			t.Errorf("%q found at rest or in the logs", secret)
		}
	}
}

func TestWalletTopUpDeclinesChangeNothing(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("declined@example.test")
	before := apitest.MoneyRows(t, e)
	tests := []struct {
		name, number, code, param string
	}{
		{"declined", "4000000000000002", "card_declined", "card"},
		{"insufficient funds", "4000000000009995", "insufficient_funds", "card"},
		{"expired", "4000000000000069", "expired_card", "card"},
		{"incorrect cvc", "4000000000000127", "incorrect_cvc", "card"},
		{"processing error", "4000000000000119", "processing_error", "card"},
		{"luhn failure", "4242424242424241", "invalid_number", "card.number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/topup", Body: map[string]any{"amount": 1000, "currency": "USD", "card": apitest.Card(tt.number)}})
			apitest.WantError(t, res, 402, tt.code)
			var b edge.ErrorBody
			res.Decode(t, &b)
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
			apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/topup", Body: tt.body}), tt.status, tt.code)
		})
	}
	if after := apitest.MoneyRows(t, e); after != before {
		t.Errorf("refused top-ups wrote rows: %s, before %s", after, before)
	}
	if b := s.Balances(); len(b) != 0 {
		t.Errorf("balances after declines = %v, want none", b)
	}
	apitest.WantError(t, e.NewShopper().Do(apitest.Req{Method: "POST", Path: "/v1/wallet/topup",
		Body: map[string]any{"amount": 1000, "currency": "USD", "card": apitest.Card("4242424242424242")}}), 401, "login_required")
}

func TestWalletTopUpIsIdempotent(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("idem@example.test")
	h := map[string]string{"Idempotency-Key": "topup-1"}
	body := map[string]any{"amount": 1500, "currency": "EUR", "card": apitest.Card("5555555555554444")}
	first := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/topup", Body: body, Header: h})
	again := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/topup", Body: body, Header: h})
	if first.Status != 201 || again.Status != 201 || string(first.Body) != string(again.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", first.Status, first.Body, again.Status, again.Body)
	}
	body["amount"] = 9999
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/topup", Body: body, Header: h}), 422, "idempotency_key_reused")
	if diff := cmp.Diff(map[string]int64{"EUR": 1500}, s.Balances()); diff != "" {
		t.Errorf("balances (-want +got):\n%s", diff)
	}
	// Keys are per user: another user's same key charges afresh.
	o := e.WalletUser("idem2@example.test")
	if res := o.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/topup", Body: body, Header: h}); res.Status != 201 || res.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("other user's key: %d %s", res.Status, res.Body)
	}
}

func TestWalletTransfer(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := e.WalletUser("alice@example.test")
	bob := e.WalletUser("bob@example.test")
	alice.TopUp(10000, "USD")
	res := alice.Transfer("Bob@Example.test", 2500, "usd", nil)
	if res.Status != http.StatusCreated {
		t.Fatalf("transfer: %d %s", res.Status, res.Body)
	}
	var out wire.WalletTransaction
	res.Decode(t, &out)
	if out.Type != "transfer_out" || out.Status != "succeeded" || out.Amount != 2500 || out.Currency != "USD" ||
		out.Counterparty == nil || *out.Counterparty != "bob@example.test" || out.Note != "lunch" {
		t.Errorf("transfer = %+v", out)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 7500}, alice.Balances()); diff != "" {
		t.Errorf("alice (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 2500}, bob.Balances()); diff != "" {
		t.Errorf("bob (-want +got):\n%s", diff)
	}
	in := bob.History("")
	if len(in.Data) != 1 || in.Data[0].Type != "transfer_in" || in.Data[0].Amount != 2500 || *in.Data[0].Counterparty != "alice@example.test" {
		t.Errorf("bob's history = %+v", in)
	}
	if n := bob.Notifications(""); len(n.Data) != 1 || n.Data[0].Type != "transfer_in.succeeded" || !strings.Contains(n.Data[0].Message, "alice@example.test") {
		t.Errorf("bob's notifications = %+v", n)
	}
	if n := alice.Notifications(""); len(n.Data) != 2 || n.Data[0].Type != "transfer_out.succeeded" {
		t.Errorf("alice's notifications = %+v", n)
	}
	if got := e.Count("SELECT count(*) FROM emails WHERE to_addr IN ('alice@example.test', 'bob@example.test')"); got != 3 {
		t.Errorf("e-mails = %d, want 3 (top-up, sent, received)", got)
	}

	before := apitest.MoneyRows(t, e)
	apitest.WantErrorType(t, alice.Transfer("bob@example.test", 7501, "USD", nil), 402, "insufficient_funds", "invalid_request_error")
	apitest.WantErrorType(t, alice.Transfer("bob@example.test", 100, "EUR", nil), 402, "insufficient_funds", "invalid_request_error")
	apitest.WantError(t, alice.Transfer("carol@example.test", 100, "USD", nil), 404, "receiver_not_found")
	apitest.WantError(t, alice.Transfer("ALICE@example.test", 100, "USD", nil), 400, "transfer_to_self")
	apitest.WantError(t, alice.Transfer("not an email", 100, "USD", nil), 400, "email_invalid")
	apitest.WantError(t, alice.Transfer("bob@example.test", 0, "USD", nil), 400, "amount_invalid")
	apitest.WantError(t, alice.Transfer("bob@example.test", 100, "XAU", nil), 400, "currency_unsupported")
	apitest.WantError(t, alice.Transfer("bob@example.test", 100, "USD", map[string]any{"note": strings.Repeat("n", 501)}), 400, "note_too_long")
	apitest.WantError(t, alice.Transfer("bob@example.test", 100, "USD", map[string]any{"memo": "x"}), 400, "unknown_parameter")
	apitest.WantError(t, e.NewShopper().Transfer("bob@example.test", 100, "USD", nil), 401, "login_required")
	if after := apitest.MoneyRows(t, e); after != before {
		t.Errorf("refused transfers wrote rows: %s, before %s", after, before)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 7500}, alice.Balances()); diff != "" {
		t.Errorf("alice after refusals (-want +got):\n%s", diff)
	}
}

func TestWalletConcurrentTransfersNeverOverdraw(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := e.WalletUser("race-a@example.test")
	bob := e.WalletUser("race-b@example.test")
	alice.TopUp(1000, "USD")
	bob.TopUp(100, "USD")
	const n = 50 // 50 × 30 = 1500 > 1000
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]apitest.Response, n)
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = alice.Transfer("race-b@example.test", 30, "USD", nil)
		}()
	}
	close(start)
	wg.Wait()
	ok, short := 0, 0
	for i, r := range results {
		switch {
		case r.Status == 201:
			ok++
		case r.Status == 402 && r.ErrorCode() == "insufficient_funds":
			short++
		default:
			t.Errorf("transfer %d: %d %s", i, r.Status, r.Body)
		}
	}
	if ok != 33 || short != 17 {
		t.Errorf("%d succeeded and %d were refused; want 33 (990 of 1000) and 17", ok, short)
	}
	a, b := alice.Balances()["USD"], bob.Balances()["USD"]
	if a != 10 || b != 1090 {
		t.Errorf("balances = %d and %d; want 10 and 1090 (the sum 1100 unchanged, none below zero)", a, b)
	}
	// The ledger agrees: the card-in system account gave exactly 1100.
	cardIn, err := ledger.Balance(context.Background(), e.DB.Pool, ledger.Account{Kind: ledger.CardIn, Currency: money.USD})
	if err != nil || cardIn != -1100 {
		t.Errorf("card_in USD = %d (%v), want -1100", cardIn, err)
	}
	var sent, received int
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT
		count(*) FILTER (WHERE type = 'transfer_out'), count(*) FILTER (WHERE type = 'transfer_in') FROM wallet_transactions`).Scan(&sent, &received); err != nil {
		t.Fatal(err)
	}
	if sent != ok || received != ok {
		t.Errorf("history rows: %d out, %d in; want %d each", sent, received, ok)
	}
}

func TestWalletHistoryAndNotifications(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("history@example.test")
	other := e.WalletUser("history-other@example.test")
	var ids []string
	for i := 1; i <= 5; i++ {
		ids = append(ids, s.TopUp(int64(i*100), "USD").ID)
	}
	s.Transfer("history-other@example.test", 50, "USD", nil)
	page1 := s.History("?limit=2&type=topup")
	if len(page1.Data) != 2 || !page1.HasMore || page1.Data[0].ID != ids[4] || page1.Data[1].ID != ids[3] {
		t.Fatalf("page 1 = %+v", page1)
	}
	page2 := s.History("?limit=10&type=topup&starting_after=" + page1.Data[1].ID)
	if len(page2.Data) != 3 || page2.HasMore || page2.Data[2].ID != ids[0] {
		t.Fatalf("page 2 = %+v", page2)
	}
	if all := s.History(""); len(all.Data) != 6 || all.Data[0].Type != "transfer_out" {
		t.Errorf("full history = %+v", all)
	}
	apitest.WantError(t, s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/transactions?limit=0"}), 400, "limit_invalid")
	apitest.WantError(t, s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/transactions?type=gift"}), 400, "type_invalid")
	apitest.WantError(t, s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/transactions?starting_after=pay_x"}), 400, "starting_after_invalid")
	one := s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/transactions/" + ids[0]})
	var got wire.WalletTransaction
	one.Decode(t, &got)
	if one.Status != 200 || got.Amount != 100 {
		t.Errorf("one transaction = %d %s", one.Status, one.Body)
	}
	apitest.WantError(t, other.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/transactions/" + ids[0]}), 404, "transaction_not_found")

	unread := s.Notifications("?unread=true")
	if len(unread.Data) != 6 {
		t.Fatalf("unread = %d, want 6", len(unread.Data))
	}
	first := unread.Data[0].ID
	res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/notifications/" + first + "/read"})
	var n wire.Notification
	res.Decode(t, &n)
	if res.Status != 200 || !n.Read || n.ID != first {
		t.Fatalf("mark read: %d %s", res.Status, res.Body)
	}
	apitest.WantError(t, other.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/notifications/" + unread.Data[1].ID + "/read"}), 404, "notification_not_found")
	if got := s.Notifications("?unread=true"); len(got.Data) != 5 {
		t.Errorf("unread after one read = %d, want 5", len(got.Data))
	}
	res = s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/notifications/read_all"})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"marked_read":5`) {
		t.Errorf("read_all = %d %s", res.Status, res.Body)
	}
	if got := s.Notifications("?unread=true"); len(got.Data) != 0 {
		t.Errorf("unread after read_all = %d", len(got.Data))
	}
	if got := s.Notifications("?limit=2"); len(got.Data) != 2 || !got.HasMore || !got.Data[0].Read {
		t.Errorf("notifications page = %+v", got)
	}
	apitest.WantError(t, s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/notifications?unread=maybe"}), 400, "unread_invalid")
}

// confirmTransfer begins a passkey confirmation for a transfer and answers
// it with auth.
func confirmTransfer(t *testing.T, s *apitest.Shopper, auth *passkeytest.Authenticator, to string, amount int64, currency string) json.RawMessage {
	t.Helper()
	opts := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin",
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
	e := apitest.New(t)
	alice := e.WalletUser("pk-alice@example.test")
	e.WalletUser("pk-bob@example.test")
	e.WalletUser("pk-carol@example.test")
	alice.TopUp(10000, "USD")
	auth := passkeytest.New(apitest.Origin)
	apitest.RegisterPasskey(t, alice, auth)

	apitest.WantError(t, alice.Transfer("pk-bob@example.test", 500, "USD", nil), 403, "passkey_confirmation_required")
	a := confirmTransfer(t, alice, auth, "pk-bob@example.test", 500, "USD")
	// The assertion approves exactly bob, 500, USD.
	apitest.WantError(t, alice.Transfer("pk-bob@example.test", 600, "USD", map[string]any{"passkey_assertion": a}), 403, "passkey_confirmation_mismatch")
	apitest.WantError(t, alice.Transfer("pk-carol@example.test", 500, "USD", map[string]any{"passkey_assertion": a}), 403, "passkey_confirmation_mismatch")
	apitest.WantError(t, alice.Transfer("pk-bob@example.test", 500, "EUR", map[string]any{"passkey_assertion": a}), 403, "passkey_confirmation_mismatch")
	if res := alice.Transfer("pk-bob@example.test", 500, "USD", map[string]any{"passkey_assertion": a}); res.Status != 201 {
		t.Fatalf("confirmed transfer: %d %s", res.Status, res.Body)
	}
	// Replaying the captured assertion body is refused: the challenge is spent.
	apitest.WantError(t, alice.Transfer("pk-bob@example.test", 500, "USD", map[string]any{"passkey_assertion": a}), 400, "passkey_challenge_invalid")
	// An assertion made for a log-in challenge cannot confirm a transfer.
	opts := alice.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/login/begin"})
	login, _ := auth.Get(opts.Body)
	apitest.WantError(t, alice.Transfer("pk-bob@example.test", 500, "USD", map[string]any{"passkey_assertion": json.RawMessage(login)}), 400, "passkey_challenge_invalid")
	// Without user verification.
	auth.UserVerified = false
	noUV := confirmTransfer(t, alice, auth, "pk-bob@example.test", 1, "USD")
	apitest.WantError(t, alice.Transfer("pk-bob@example.test", 1, "USD", map[string]any{"passkey_assertion": noUV}), 401, "passkey_invalid")
	if diff := cmp.Diff(map[string]int64{"USD": 9500}, alice.Balances()); diff != "" {
		t.Errorf("alice (-want +got):\n%s", diff)
	}
	if got := e.Count("SELECT count(*) FROM wallet_transactions WHERE type = 'transfer_out'"); got != 1 {
		t.Errorf("transfers = %d, want exactly the confirmed one", got)
	}
	apitest.WantError(t, alice.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin",
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
	e := apitest.New(t, func(d *httpapi.Deps) {
		sim = d.Processor
		d.Processor = flakyCapture{d.Processor}
	})
	s := e.WalletUser("sweep@example.test")
	tx := s.TopUp(700, "GBP")
	if diff := cmp.Diff(map[string]int64{"GBP": 700}, s.Balances()); diff != "" {
		t.Errorf("balances (-want +got):\n%s", diff)
	}
	if n := e.Count("SELECT count(*) FROM wallet_pending_captures WHERE transaction_id = $1", tx.ID); n != 1 {
		t.Fatalf("pending captures = %d, want the failed one kept", n)
	}
	n, err := e.Deps.Wallet.CaptureDue(context.Background(), sim, time.Now().Add(time.Minute), 10)
	if err != nil || n != 1 {
		t.Fatalf("sweep captured %d (%v), want 1", n, err)
	}
	if n := e.Count("SELECT count(*) FROM wallet_pending_captures"); n != 0 {
		t.Errorf("pending captures after the sweep = %d", n)
	}
	// A healthy processor captures at once.
	ok := apitest.New(t)
	u := ok.WalletUser("captured@example.test")
	u.TopUp(700, "GBP")
	if n := ok.Count("SELECT count(*) FROM wallet_pending_captures"); n != 0 {
		t.Errorf("pending captures after a normal top-up = %d, want 0", n)
	}
}
