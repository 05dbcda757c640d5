// Package walletrisk screens wallet top-ups and withdrawals with the
// platform's own signals before anything is charged or paid out (API.md
// Part 3): card testing, card and IP velocity and a user cycling cards,
// counted in Redis in one round trip, the risk test cards and the active
// risk model. No merchant rules or lists apply. The decision is stored
// with the wallet transaction and never shown to the wallet user.
package walletrisk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/logevery"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/riskmodel"
	"github.com/paylink/paylink/internal/wallet"
)

// WithdrawalHold is how long an elevated-risk withdrawal's payout waits
// before the worker pays it: the money has left the balance, and a
// stolen card's top-up has that long to come back as a dispute first.
const WithdrawalHold = 24 * time.Hour

// Attempt is one wallet card attempt as screening sees it: a top-up
// (Kind wallet.TypeTopUp) or a withdrawal (wallet.TypeWithdrawal). ID
// names the attempt (a retried request keeps its id and counts once).
type Attempt struct {
	ID          string
	Kind        string
	UserID      string
	IP          string
	Fingerprint string
	// TestScore is the fixed score of a risk test card
	// (riskmodel.TestCardScore), 0 for any other card.
	TestScore int
}

// Decision is what screening decided about a wallet attempt. Outcome is
// risk.Block (nothing charged or paid), risk.Challenge (a top-up goes
// through the issuer's challenge), risk.Review (a withdrawal's payout is
// held for WithdrawalHold) or risk.Allow.
type Decision struct {
	Score   int
	Level   string
	Outcome string
	Reasons []string
	Model   string
}

// Screener screens wallet attempts. It is safe for concurrent use; one per
// process.
type Screener struct {
	counters    *Counters
	models      *riskmodel.Source
	th          risk.Thresholds
	fingerprint func(number string) string
	log         *slog.Logger
	now         func() time.Time
	// unavailable logs Redis's outage once per logevery.Outage, not once
	// an attempt.
	unavailable *logevery.Warning

	// blocked remembers the IPs ("ip:…") and users ("user:…") this process
	// saw blocked for card testing (→ until), so they stay blocked while
	// Redis cannot be read.
	blocked sync.Map
}

// New returns a Screener counting in counters with thresholds th (the
// checkout's), scoring with the active model in db; fingerprint gives a
// card number's fingerprint (the processor's), needed before the
// processor is asked.
func New(db *postgres.DB, counters *Counters, th risk.Thresholds, fingerprint func(number string) string, log *slog.Logger, now func() time.Time) *Screener {
	return &Screener{counters: counters, models: riskmodel.NewSource(db, riskmodel.RefreshEvery, now), th: th,
		fingerprint: fingerprint, log: log, now: now, unavailable: logevery.New(logevery.Outage)}
}

// AttemptID names a card attempt of userID: derived from its
// Idempotency-Key when there is one (a retry is the same attempt, for the
// processor and for the counters), else fresh; prefix names the kind.
func AttemptID(prefix, userID, idempotencyKey string) string {
	if idempotencyKey == "" {
		return id.New(prefix)
	}
	sum := sha256.Sum256([]byte(userID + "\x00" + idempotencyKey))
	return prefix + "_" + hex.EncodeToString(sum[:16])
}

// Attempt is the attempt id of kind by userID from ip with the card
// number: only the number's fingerprint and test score are kept.
func (s *Screener) Attempt(id, kind, userID, ip, number string) *Attempt {
	return &Attempt{ID: id, Kind: kind, UserID: userID, IP: ip, Fingerprint: s.fingerprint(number),
		TestScore: riskmodel.TestCardScore(number)}
}

// Screen counts a's signals (one Redis round trip; when Redis cannot be
// asked the counts are unknown, risk_degraded is added and this
// process's memory of card-testing blocks still applies) and decides.
func (s *Screener) Screen(ctx context.Context, a *Attempt) Decision {
	now := s.now()
	c, err := s.counters.Count(ctx, a, now)
	ipKey, userKey := "ip:"+a.IP, "user:"+a.UserID
	switch {
	case err != nil:
		s.unavailable.Warn(ctx, s.log, "wallet risk signals unavailable", "err", err)
		c = Counts{Degraded: true, CardTesting: s.remembered(userKey, now) || a.IP != "" && s.remembered(ipKey, now)}
	case c.CardTesting:
		if a.IP != "" {
			s.blocked.Store(ipKey, now.Add(s.th.TestingBlock))
		}
		s.blocked.Store(userKey, now.Add(s.th.TestingBlock))
	}
	return s.decide(ctx, a, c)
}

func (s *Screener) remembered(key string, now time.Time) bool {
	until, ok := s.blocked.Load(key)
	return ok && now.Before(until.(time.Time))
}

// Failed records that attempt a failed with a 402. It makes no round
// trip: the failure rides the next screening (Counters) and is best
// effort, as a lost count only weakens card testing. A nil s or a does
// nothing.
func (s *Screener) Failed(a *Attempt) {
	if s == nil || a == nil {
		return
	}
	s.counters.Failed(a, s.now())
}

// decide scores a: card testing blocks (score 99); otherwise the model
// over the fired signals (at most elevated), or a test card's fixed
// score. Highest blocks; elevated challenges a top-up and reviews (holds)
// a withdrawal; normal allows. A wallet user is a signed-in account, not a
// merchant's new customer, so the model's new_customer feature is off.
func (s *Screener) decide(ctx context.Context, a *Attempt, c Counts) Decision {
	var signals []string
	set := func(name string, on bool) {
		if on {
			signals = append(signals, name)
		}
	}
	set(risk.EmailCardVelocity, c.UserCards >= int64(s.th.EmailCards))
	set(risk.CardVelocity, c.CardAttempts >= int64(s.th.CardAttempts))
	set(risk.IPVelocity, c.IPAttempts >= int64(s.th.IPAttempts))
	model, err := s.models.Current(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "risk model unavailable, scoring with the last one read", "err", err, "model", model.Version)
	}
	score, modelReasons := model.Score(riskmodel.FeaturesOf(signals, 1, "card"))
	score = min(score, 74) // the platform's signals alone make an attempt at most elevated
	reasons := signals
	for _, r := range modelReasons {
		if !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	if a.TestScore > 0 {
		score = a.TestScore
		reasons = append(reasons, risk.TestCard)
	}
	if c.Degraded {
		reasons = append(reasons, risk.Degraded)
	}
	if c.CardTesting {
		score = 99
		reasons = append(reasons, risk.CardTesting)
	}
	d := Decision{Score: score, Level: risk.Level(score), Outcome: risk.Allow, Reasons: reasons, Model: model.Version}
	switch {
	case d.Level == "highest":
		d.Outcome = risk.Block
	case d.Level == "elevated" && a.Kind == wallet.TypeWithdrawal:
		d.Outcome = risk.Review
	case d.Level == "elevated":
		d.Outcome = risk.Challenge
	}
	return d
}

// Screening is an attempt and the decision about it; the zero value is
// an attempt that was not screened.
type Screening struct {
	Attempt  *Attempt
	Decision *Decision
}

// Check screens the attempt id of kind by userID from ip with the card
// number (see Screen). A nil s screens nothing: the zero Screening.
func (s *Screener) Check(ctx context.Context, id, kind, userID, ip, number string) Screening {
	if s == nil {
		return Screening{}
	}
	a := s.Attempt(id, kind, userID, ip, processor.Normalize(number))
	d := s.Screen(ctx, a)
	return Screening{Attempt: a, Decision: &d}
}

// Outcome is the decision's outcome, risk.Allow when not screened.
func (sc Screening) Outcome() string {
	if sc.Decision == nil {
		return risk.Allow
	}
	return sc.Decision.Outcome
}

const (
	insertDecision = `
INSERT INTO wallet_risk (transaction_id, user_id, score, level, outcome, reasons, model, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
)

// Record stores sc's decision with wallet transaction t, in tx, the
// transaction that records t (nothing when sc was not screened), and
// holds the payout of a withdrawal it reviews for WithdrawalHold.
func Record(ctx context.Context, tx pgx.Tx, t *wallet.Transaction, sc Screening, now time.Time) error {
	d := sc.Decision
	if d == nil {
		return nil
	}
	if d.Outcome == risk.Review && t.Type == wallet.TypeWithdrawal {
		if err := wallet.HoldPayout(ctx, tx, t.ID, now.Add(WithdrawalHold)); err != nil {
			return err
		}
	}
	reasons := d.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	if _, err := tx.Exec(ctx, insertDecision, t.ID, t.UserID, d.Score, d.Level, d.Outcome, reasons, d.Model, now); err != nil {
		return fmt.Errorf("save wallet risk decision: %w", err)
	}
	return nil
}
