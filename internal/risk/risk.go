// Package risk screens checkout payments before anything is charged
// (API.md Part 3): sliding-window signals counted in Redis, an
// explainable logistic score, the merchant's allow/block lists and CEL
// rules, and the decision (allow, review, challenge, block) stored with
// the payment. The reviews that decisions open are package riskreview's.
package risk

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/paylink/paylink/internal/logevery"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/riskmodel"
)

// Outcomes of a decision.
const (
	Allow     = "allow"
	Review    = "review"
	Challenge = "challenge"
	Block     = "block"
)

// Attempt is one payment attempt as screening sees it. ID names the
// attempt (a retried request keeps its id and counts once).
type Attempt struct {
	ID          string
	MerchantID  string
	IP          string
	Email       string
	Method      string // "card" or "wallet"
	Brand       string
	Fingerprint string // "" for a wallet payment
	Amount      int64
	Currency    string
	Link, Form  string
	Realm       string
	Metadata    map[string]string
	// TestScore is the fixed score of a risk test card (riskmodel.TestCardScore), 0
	// for any other card.
	TestScore int
}

// Decision is what screening decided about an attempt; it is stored with
// the payment and shown as its risk.
type Decision struct {
	Score   int
	Level   string
	Outcome string
	Reasons []string
	Rule    string // the deciding rule's id, "" for none
	Model   string
	// ruleMatched is the rule whose matches count goes up with the
	// payment; ruleErrors are rules that failed at run time (skipped).
	ruleMatched string
	ruleErrors  []string
	// signals are what rules saw beyond the payment row, kept for
	// backtests.
	signals map[string]any
}

// ReviewReason is why a review outcome reviews: "rule" when a rule
// decided (a review rule, or a wallet payment's challenge rule), else
// "elevated_risk".
func (d *Decision) ReviewReason() string {
	if d.Rule != "" {
		return "rule"
	}
	return "elevated_risk"
}

// Engine screens attempts. It is safe for concurrent use; one per process.
type Engine struct {
	db       *postgres.DB
	counters *Counters
	models   *riskmodel.Source
	th       Thresholds
	now      func() time.Time
	// selectHistory and selectCustomer are historySQL's queries for
	// th.AmountHistory.
	selectHistory, selectCustomer string
	log                           *slog.Logger
	// unavailable logs Redis's outage once per logevery.Outage, not once
	// an attempt.
	unavailable *logevery.Warning

	mu    sync.Mutex
	cache map[string]*merchantConfig // merchant id → rules and lists at a version
	// amounts holds full windows of succeeded amounts (merchant + "\x00"
	// + currency → amounts) for amountsTTL.
	amounts sync.Map

	// blocked remembers the IPs this process saw blocked for card testing
	// (merchant + "\x00" + ip → until), so they stay blocked while Redis
	// cannot be read.
	blocked sync.Map
}

// NewEngine returns an Engine reading rules, lists and history from db
// and counting in counters. It scores with the active model version
// (riskmodel.Source: a newly activated version is used within
// riskmodel.RefreshEvery).
func NewEngine(db *postgres.DB, counters *Counters, th Thresholds, log *slog.Logger, now func() time.Time) *Engine {
	e := &Engine{db: db, counters: counters, models: riskmodel.NewSource(db, riskmodel.RefreshEvery, now), th: th, now: now, log: log,
		unavailable: logevery.New(logevery.Outage), cache: map[string]*merchantConfig{}}
	e.selectHistory, e.selectCustomer = historySQL(th.AmountHistory)
	return e
}

// Screen decides about attempt a (API.md Part 3, "Order"): counts its
// signals (one Redis round trip; when Redis cannot be asked, counts are
// unknown and the reason risk_degraded is added, while rules, lists and
// this process's memory of card-testing blocks still apply; that memory
// also outlives a Redis that lost its keys), reads the
// customer's and merchant's history and the merchant's rules and lists
// (one PostgreSQL query; rules and lists come from this process's cache
// unless their version moved), scores and decides.
func (e *Engine) Screen(ctx context.Context, a *Attempt) (Decision, error) {
	now := e.now()
	counts, err := e.counters.Count(ctx, a, now)
	memKey := a.MerchantID + "\x00" + a.IP
	switch {
	case err != nil:
		e.unavailable.Warn(ctx, e.log, "risk signals unavailable", "err", err, "merchant", a.MerchantID)
		counts = Counts{Degraded: true}
	case counts.CardTesting && a.IP != "":
		e.blocked.Store(memKey, now.Add(e.th.TestingBlock))
	}
	// A block this process saw stands for its hour, while Redis cannot be
	// read and after Redis restarted or was flushed.
	if until, ok := e.blocked.Load(memKey); ok && now.Before(until.(time.Time)) {
		counts.CardTesting = true
	}
	h, err := e.history(ctx, a)
	if err != nil {
		return Decision{}, err
	}
	cfg, err := e.config(ctx, a.MerchantID, h.version)
	if err != nil {
		return Decision{}, err
	}
	return e.decide(ctx, a, counts, h, cfg), nil
}

// Failed records that card attempt a failed with a 402. It makes no
// round trip: the failure rides the merchant's next screening (Counters)
// and is best effort, as a lost count only weakens card_testing.
func (e *Engine) Failed(a *Attempt) {
	e.counters.Failed(a, e.now())
}

// features are a's model inputs and the signals that fired.
func (e *Engine) features(a *Attempt, c Counts, h history) (riskmodel.Features, []string) {
	var signals []string
	set := func(name string, on bool) {
		if on {
			signals = append(signals, name)
		}
	}
	set(EmailCardVelocity, c.EmailCards >= int64(e.th.EmailCards))
	set(CardVelocity, c.CardAttempts >= int64(e.th.CardAttempts))
	set(IPVelocity, c.IPAttempts >= int64(e.th.IPAttempts))
	set(AmountAnomaly, h.succeeded >= int64(e.th.AmountMinimum) && float64(a.Amount) > float64(e.th.AmountFactor)*h.median)
	return riskmodel.FeaturesOf(signals, h.customerPayments, a.Method), signals
}
