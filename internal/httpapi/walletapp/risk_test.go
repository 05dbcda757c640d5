package walletapp_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/walletrisk"
	"github.com/paylink/paylink/internal/wire"
)

// storedRisk is a wallet transaction's decision as stored.
type storedRisk struct {
	Score   int
	Level   string
	Outcome string
	Reasons []string
	Model   string
}

func riskOf(t *testing.T, e *apitest.Env, txnID string) storedRisk {
	t.Helper()
	var r storedRisk
	if err := e.DB.Pool.QueryRow(context.Background(),
		`SELECT score, level, outcome, reasons, model FROM wallet_risk WHERE transaction_id = $1`, txnID).
		Scan(&r.Score, &r.Level, &r.Outcome, &r.Reasons, &r.Model); err != nil {
		t.Fatalf("risk of %s: %v", txnID, err)
	}
	return r
}

// wantNoRisk fails t if an answer to a wallet user carries risk or a card
// fingerprint.
func wantNoRisk(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, word := range []string{"risk", "fingerprint", "score", risk.TestCard} {
		if strings.Contains(string(body), word) {
			t.Errorf("%s shows %q to the wallet user: %s", what, word, body)
		}
	}
}

func topUpWith(s *apitest.Shopper, number, key string) apitest.Response {
	r := apitest.Req{Method: "POST", Path: "/v1/wallet/topup",
		Body: map[string]any{"amount": 2500, "currency": "USD", "card": apitest.Card(number)}}
	if key != "" {
		r.Header = map[string]string{"Idempotency-Key": key}
	}
	return s.Do(r)
}

// TestWalletTopUpBlockedByRisk: the highest-risk test card is 402
// card_error payment_blocked, saying not why; nothing is charged or
// credited (no ledger row, no capture), the failed top-up is in the
// history with its decision stored beside it, and a replay answers the
// same without recording it twice.
func TestWalletTopUpBlockedByRisk(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("blocked@example.test")
	res := topUpWith(s, "4100 0000 0000 0019", "blk-1")
	apitest.WantErrorType(t, res, http.StatusPaymentRequired, "payment_blocked", "card_error")
	wantNoRisk(t, "the 402", res.Body)
	again := topUpWith(s, "4100 0000 0000 0019", "blk-1")
	if again.Status != http.StatusPaymentRequired || again.Header.Get("Idempotent-Replayed") != "true" ||
		string(again.Body) != string(res.Body) {
		t.Errorf("replay: %d %v %s; want the same 402 replayed", again.Status, again.Header, again.Body)
	}
	if b := s.Balances(); len(b) != 0 {
		t.Errorf("balances = %v; want none", b)
	}
	h := s.History("?type=topup")
	if len(h.Data) != 1 || h.Data[0].Status != "failed" || wire.Deref(h.Data[0].FailureCode) != "payment_blocked" ||
		h.Data[0].Card == nil || h.Data[0].Card.Last4 != "0019" {
		t.Fatalf("top-ups = %+v; want one failed, payment_blocked", h.Data)
	}
	got := s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/transactions/" + h.Data[0].ID})
	wantNoRisk(t, "the transaction", got.Body)
	want := storedRisk{Score: 99, Level: "highest", Outcome: risk.Block, Reasons: []string{risk.TestCard}, Model: "default-2"}
	if diff := cmp.Diff(want, riskOf(t, e, h.Data[0].ID)); diff != "" {
		t.Errorf("stored decision (-want +got):\n%s", diff)
	}
	if n := e.Count(`SELECT count(*) FROM ledger_transactions`) + e.Count(`SELECT count(*) FROM wallet_pending_captures`); n != 0 {
		t.Errorf("%d ledger transactions and captures; want none", n)
	}
	verifyLedger(t, e)
}

// TestWalletTopUpElevatedIsChallenged: the elevated-risk test card's
// top-up goes through the issuer's challenge (200 requires_action with
// next_action) with its decision stored; approving credits it.
func TestWalletTopUpElevatedIsChallenged(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("elevated@example.test")
	res := topUpWith(s, "4000000000009235", "elev-1")
	var top challengedTopUp
	res.Decode(t, &top)
	if res.Status != http.StatusOK || top.Status != "requires_action" || top.NextAction == nil || top.NextAction.Type != "challenge" {
		t.Fatalf("elevated top-up: %d %s; want 200 requires_action with a challenge", res.Status, res.Body)
	}
	wantNoRisk(t, "the challenged top-up", res.Body)
	want := storedRisk{Score: 70, Level: "elevated", Outcome: risk.Challenge, Reasons: []string{risk.TestCard}, Model: "default-2"}
	if diff := cmp.Diff(want, riskOf(t, e, top.ID)); diff != "" {
		t.Errorf("stored decision (-want +got):\n%s", diff)
	}
	if b := s.Balances(); len(b) != 0 {
		t.Errorf("balances before the challenge = %v; want none", b)
	}
	if a := answer(s, top.ID, "approve", "elev-ok"); a.Status != http.StatusOK {
		t.Fatalf("approve: %d %s", a.Status, a.Body)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 2500}, s.Balances()); diff != "" {
		t.Errorf("balance after approval (-want +got):\n%s", diff)
	}
	verifyLedger(t, e)
}

// relayed records the withdrawals handed to the task queue.
type relayed struct{ ids []string }

func (r *relayed) EnqueuePayout(_ context.Context, txnID string) (bool, error) {
	r.ids = append(r.ids, txnID)
	return true, nil
}

// TestWalletWithdrawalScreened: a blocked withdrawal is 402
// payment_blocked with the balance untouched and no payout; an elevated
// one is taken and answered processing as usual, but its payout is held
// a day before the worker may pay it, unless an operator releases it; an
// ordinary one is relayed at once. Each stores its decision.
func TestWalletWithdrawalScreened(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("payout@example.test")
	s.TopUp(5000, "USD")

	res := withdraw(s, 1000, "USD", "4100000000000019")
	apitest.WantErrorType(t, res, http.StatusPaymentRequired, "payment_blocked", "card_error")
	if diff := cmp.Diff(map[string]int64{"USD": 5000}, s.Balances()); diff != "" {
		t.Errorf("balance after the blocked withdrawal (-want +got):\n%s", diff)
	}
	failed := s.History("?type=withdrawal&status=failed")
	if len(failed.Data) != 1 || wire.Deref(failed.Data[0].FailureCode) != "payment_blocked" {
		t.Fatalf("failed withdrawals = %+v", failed.Data)
	}
	if r := riskOf(t, e, failed.Data[0].ID); r.Outcome != risk.Block || r.Score != 99 {
		t.Errorf("blocked withdrawal's decision = %+v", r)
	}
	if n := e.Count(`SELECT count(*) FROM wallet_payouts`); n != 0 {
		t.Errorf("%d payouts after a blocked withdrawal; want none", n)
	}

	var held, plain wire.WalletTransaction
	res = withdraw(s, 1000, "USD", "4000000000009235")
	if res.Status != http.StatusCreated {
		t.Fatalf("elevated withdrawal: %d %s", res.Status, res.Body)
	}
	res.Decode(t, &held)
	wantNoRisk(t, "the held withdrawal", res.Body)
	if held.Status != "processing" {
		t.Errorf("held withdrawal = %+v; want processing", held)
	}
	if r := riskOf(t, e, held.ID); r.Outcome != risk.Review || r.Level != "elevated" {
		t.Errorf("elevated withdrawal's decision = %+v; want review", r)
	}
	var until time.Time
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT hold_until FROM wallet_payouts WHERE id = $1`, held.ID).
		Scan(&until); err != nil {
		t.Fatal(err)
	}
	if d := time.Until(until); d < walletrisk.WithdrawalHold-time.Hour || d > walletrisk.WithdrawalHold {
		t.Errorf("payout held until %v, in %v; want about %v", until, d, walletrisk.WithdrawalHold)
	}
	withdraw(s, 500, "USD", processor.CardVisa).Decode(t, &plain)
	if r := riskOf(t, e, plain.ID); r.Outcome != risk.Allow {
		t.Errorf("ordinary withdrawal's decision = %+v; want allow", r)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 3500}, s.Balances()); diff != "" {
		t.Errorf("balance with two withdrawals in flight (-want +got):\n%s", diff)
	}
	q := &relayed{}
	if _, err := e.Deps.Wallet.RelayPayouts(context.Background(), q, 10); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{plain.ID}, q.ids); diff != "" {
		t.Errorf("payouts handed to the worker (-want +got):\n%s", diff)
	}
	// An operator who looked at it releases the held one: the next relay
	// hands it over.
	if err := walletrisk.ReleasePayout(context.Background(), e.DB.Pool, held.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Deps.Wallet.RelayPayouts(context.Background(), q, 10); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{plain.ID, held.ID}, q.ids); diff != "" {
		t.Errorf("payouts handed to the worker after the release (-want +got):\n%s", diff)
	}
	verifyLedger(t, e)
}

// TestWalletCardTestingThroughTopUps: ten declined top-ups over five
// cards from one user block the next top-up, with a good card, before the
// processor is asked (the seed route answers it in its envelope); nothing
// is credited.
func TestWalletCardTestingThroughTopUps(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("tester@example.test")
	cards := []string{processor.CardDeclined, processor.CardInsufficientFunds, processor.CardExpired,
		processor.CardIncorrectCVC, "4242424242424241"}
	for i := range 10 {
		res := topUpWith(s, cards[i%len(cards)], "")
		if res.Status != http.StatusPaymentRequired || res.ErrorCode() == "payment_blocked" {
			t.Fatalf("declined top-up %d: %d %s; want a 402 decline", i+1, res.Status, res.Body)
		}
	}
	apitest.WantErrorType(t, topUpWith(s, processor.CardVisa, ""), http.StatusPaymentRequired, "payment_blocked", "card_error")
	seed(t, s, apitest.Req{Method: "POST", Path: "/v1/topup", Body: map[string]any{"amount": 5000}}, 402, "payment_blocked")
	if b := s.Balances(); len(b) != 0 {
		t.Errorf("balances = %v; want none", b)
	}
	if n := e.Count(`SELECT count(*) FROM wallet_risk WHERE outcome = 'block' AND 'card_testing' = ANY(reasons)`); n != 2 {
		t.Errorf("%d top-ups blocked for card_testing stored; want 2", n)
	}
	verifyLedger(t, e)
}

// TestWalletTopUpRedisDown: with the risk counters' Redis unreachable a
// top-up goes on, screened blind: allowed, credited, risk_degraded stored.
func TestWalletTopUpRedisDown(t *testing.T) {
	t.Parallel()
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	e := apitest.New(t, func(d *httpapi.Deps) {
		d.WalletRisk = walletrisk.New(d.DB, walletrisk.NewCounters(down, "", risk.DefaultThresholds, d.Log), risk.DefaultThresholds,
			func(n string) string { return "fp-" + n[len(n)-4:] }, d.Log, time.Now)
	})
	s := e.WalletUser("blind@example.test")
	top := s.TopUp(2500, "USD")
	if diff := cmp.Diff(map[string]int64{"USD": 2500}, s.Balances()); diff != "" {
		t.Errorf("balance (-want +got):\n%s", diff)
	}
	if r := riskOf(t, e, top.ID); r.Outcome != risk.Allow || !slices.Equal(r.Reasons, []string{risk.Degraded}) {
		t.Errorf("decision with Redis down = %+v; want allow with risk_degraded", r)
	}
}
