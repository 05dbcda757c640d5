package walletapp_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/processor"
)

// challengedTopUp is the answer of a top-up with the challenge card.
type challengedTopUp struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Status     string `json:"status"`
	Amount     int64  `json:"amount"`
	NextAction *struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"next_action"`
	FailureCode *string `json:"failure_code"`
}

func topUpWithChallenge(t *testing.T, s *apitest.Shopper, amount int64) challengedTopUp {
	t.Helper()
	res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/topup",
		Body: map[string]any{"amount": amount, "currency": "USD", "card": apitest.Card(processor.CardChallenge)}})
	var out challengedTopUp
	res.Decode(t, &out)
	if res.Status != 200 || out.Type != "topup" || out.Status != "requires_action" || out.Amount != amount ||
		out.NextAction == nil || out.NextAction.Type != "challenge" ||
		out.NextAction.URL != "http://paylink.test/wallet/topups/"+out.ID+"/challenge" {
		t.Fatalf("challenged top-up: %d %s", res.Status, res.Body)
	}
	return out
}

func answer(s *apitest.Shopper, id, outcome, key string) apitest.Response {
	return answerAt(s, "/v1/wallet/topups/"+id+"/challenge", outcome, key)
}

// answerAt sends a challenge answer to path: the API's route, or
// next_action.url itself, as the page does at checkout.
func answerAt(s *apitest.Shopper, path, outcome, key string) apitest.Response {
	return s.Do(apitest.Req{Method: "POST", Path: path,
		Body: map[string]string{"outcome": outcome}, Header: map[string]string{"Idempotency-Key": key}})
}

func verifyLedger(t *testing.T, e *apitest.Env) {
	t.Helper()
	rep, err := ledger.Verify(context.Background(), e.DB.Pool)
	if err != nil || !rep.OK() {
		t.Fatalf("ledger verify: %+v, %v", rep, err)
	}
}

// TestWalletTopUpChallengeApprovedCreditsOnce: the challenge card answers
// requires_action with the challenge page; nothing is credited until it is
// approved; approvals racing from several tabs and a later one credit
// once, and the card is captured.
func TestWalletTopUpChallengeApprovedCreditsOnce(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("challenge@example.test")
	top := topUpWithChallenge(t, s, 2500)
	if b := s.Balances(); len(b) != 0 {
		t.Fatalf("balance before approval = %v", b)
	}
	if h := s.History("?status=requires_action"); len(h.Data) != 1 || h.Data[0].ID != top.ID {
		t.Fatalf("waiting top-ups = %+v", h)
	}
	page := s.Do(apitest.Req{Method: "GET", Path: "/wallet/topups/" + top.ID + "/challenge"})
	if page.Status != 200 || !strings.Contains(string(page.Body), "$25.00") || !strings.Contains(page.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("challenge page: %d", page.Status)
	}
	// Half the tabs answer at next_action.url, as at checkout, half at the API's route.
	paths := []string{apitest.PathOf(t, top.NextAction.URL), "/v1/wallet/topups/" + top.ID + "/challenge"}
	var wg sync.WaitGroup
	results := make([]apitest.Response, 6)
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = answerAt(s, paths[i%2], "approve", fmt.Sprint("tab-", i)) }()
	}
	wg.Wait()
	for i, r := range results {
		var got challengedTopUp
		r.Decode(t, &got)
		if r.Status != 200 || got.Status != "succeeded" || got.NextAction != nil {
			t.Fatalf("approval %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := answer(s, top.ID, "fail", "late-fail"); r.Status != 200 || !strings.Contains(string(r.Body), `"succeeded"`) {
		t.Fatalf("a late fail: %d %s", r.Status, r.Body)
	}
	if b := s.Balances()["USD"]; b != 2500 {
		t.Fatalf("balance = %d, want 2500 once", b)
	}
	if n := e.Count("SELECT count(*) FROM ledger_transactions WHERE kind = 'wallet_topup'"); n != 1 {
		t.Errorf("%d top-up postings, want 1", n)
	}
	if n := e.Count("SELECT count(*) FROM wallet_pending_captures"); n != 0 {
		t.Errorf("%d captures left pending, want 0", n)
	}
	if n := s.Notifications(""); len(n.Data) != 2 || n.Data[0].Type != "topup.succeeded" || n.Data[1].Type != "topup.requires_action" {
		t.Errorf("notifications = %+v", n.Data)
	}
	// The page of a top-up no longer waiting goes back to the wallet.
	s.Client.CheckRedirect = noRedirect
	if r := s.Do(apitest.Req{Method: "GET", Path: "/wallet/topups/" + top.ID + "/challenge"}); r.Status != 303 || r.Header.Get("Location") != "/wallet" {
		t.Errorf("challenge page after approval: %d to %q", r.Status, r.Header.Get("Location"))
	}
	verifyLedger(t, e)
}

// TestWalletTopUpChallengeFailedAndAbandoned: failing the check fails the
// top-up and credits nothing, even when approved afterwards; a challenge
// nobody answers is canceled by the expiry, and approving it then credits
// nothing either. Other users cannot answer it.
func TestWalletTopUpChallengeFailedAndAbandoned(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("failing@example.test")
	failed := topUpWithChallenge(t, s, 700)
	apitest.WantError(t, e.WalletUser("intruder@example.test").Do(apitest.Req{Method: "POST",
		Path: "/v1/wallet/topups/" + failed.ID + "/challenge", Body: map[string]string{"outcome": "approve"}}), 404, "transaction_not_found")
	apitest.WantError(t, answer(s, failed.ID, "maybe", "k0"), 400, "outcome_invalid")
	var got challengedTopUp
	r := answer(s, failed.ID, "fail", "k1")
	r.Decode(t, &got)
	if r.Status != 200 || got.Status != "failed" || got.FailureCode == nil || *got.FailureCode != "authentication_failed" {
		t.Fatalf("fail: %d %s", r.Status, r.Body)
	}
	if r := answer(s, failed.ID, "approve", "k2"); r.Status != 200 || !strings.Contains(string(r.Body), `"failed"`) {
		t.Fatalf("approve after fail: %d %s", r.Status, r.Body)
	}

	abandoned := topUpWithChallenge(t, s, 900)
	ctx := context.Background()
	if refs, err := e.Deps.Wallet.ExpireTopUps(ctx, time.Now().Add(-30*time.Minute), 100); err != nil || len(refs) != 0 {
		t.Fatalf("expiry of a fresh challenge = %v, %v; want nothing", refs, err)
	}
	refs, err := e.Deps.Wallet.ExpireTopUps(ctx, time.Now().Add(time.Minute), 100)
	if err != nil || len(refs) != 1 {
		t.Fatalf("expiry = %v, %v; want the abandoned one", refs, err)
	}
	if err := e.Deps.Processor.Void(ctx, "wallet-void:"+refs[0], refs[0]); err != nil {
		t.Fatalf("releasing the hold: %v", err)
	}
	if r := answer(s, abandoned.ID, "approve", "k3"); r.Status != 200 || !strings.Contains(string(r.Body), `"canceled"`) {
		t.Fatalf("approve after expiry: %d %s", r.Status, r.Body)
	}
	if b := s.Balances(); len(b) != 0 {
		t.Fatalf("balance = %v, want nothing credited", b)
	}
	if h := s.History("?type=topup&status=canceled"); len(h.Data) != 1 || h.Data[0].ID != abandoned.ID {
		t.Errorf("canceled top-ups = %+v", h.Data)
	}
	if n := e.Count("SELECT count(*) FROM ledger_transactions"); n != 0 {
		t.Errorf("%d ledger transactions, want none", n)
	}
	verifyLedger(t, e)
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
