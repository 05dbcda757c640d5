package riskmodel_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/riskmodel"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

type seed struct {
	t   *testing.T
	db  *postgres.DB
	seq time.Duration
}

func newSeed(t *testing.T) *seed {
	t.Helper()
	s := &seed{t: t, db: pgtest.New(t)}
	s.exec(`INSERT INTO merchants (id, name, email, password_hash) VALUES ('mer_a', 'Shop', 'a@shop.test', 'x')`)
	return s
}

func (s *seed) exec(sql string, args ...any) {
	s.t.Helper()
	if _, err := s.db.Pool.Exec(context.Background(), sql, args...); err != nil {
		s.t.Fatal(err)
	}
}

// pay inserts a screened payment created age ago and returns its id.
func (s *seed) pay(age time.Duration, status, method string, reasons []string, customerPayments int) string {
	s.t.Helper()
	if reasons == nil {
		reasons = []string{}
	}
	s.seq += time.Millisecond
	at := now.Add(-age).Add(s.seq)
	p := id.NewAt("pay", at)
	s.exec(`INSERT INTO payments (id, merchant_id, amount, currency, status, customer_email, customer_name, method_type,
		created_at, updated_at) VALUES ($1, 'mer_a', 1000, 'USD', $2, 's@example.test', 'S', $3, $4, $4)`, p, status, method, at)
	s.exec(`INSERT INTO payment_risk (payment_id, merchant_id, score, level, outcome, reasons, model, signals, created_at)
		VALUES ($1, 'mer_a', 10, 'normal', 'allow', $2, 'default-1', jsonb_build_object('customer_payments', $3::int), $4)`,
		p, reasons, customerPayments, at)
	return p
}

func (s *seed) refund(p, reason string) {
	s.t.Helper()
	s.exec(`INSERT INTO refunds (id, merchant_id, payment_id, amount, currency, status, created_at, reason)
		VALUES ($1, 'mer_a', $2, 100, 'USD', 'succeeded', $3, $4)`, id.New("re"), p, now, reason)
}

func (s *seed) review(p, closed string) {
	s.t.Helper()
	s.exec(`INSERT INTO reviews (id, merchant_id, payment_id, status, reason, closed_reason, created_at, closed_at)
		VALUES ($1, 'mer_a', $2, 'closed', 'elevated_risk', $3, $4, $4)`, id.New("rev"), p, closed, now)
}

const day = 24 * time.Hour

func TestLabelsAtTheirEdges(t *testing.T) {
	t.Parallel()
	s := newSeed(t)
	want := map[string]bool{} // payment → fraud; absent payments must not be labelled
	young := s.pay(59*day, "succeeded", "card", nil, 1)
	old := s.pay(61*day, "succeeded", "card", []string{"card_velocity", "allow_list"}, 3)
	want[old] = false
	fraudRefund := s.pay(day, "succeeded", "card", nil, 0)
	s.refund(fraudRefund, "fraudulent")
	want[fraudRefund] = true
	customerRefundYoung := s.pay(59*day, "succeeded", "card", nil, 1)
	s.refund(customerRefundYoung, "requested_by_customer")
	customerRefundOld := s.pay(61*day, "succeeded", "card", nil, 1)
	s.refund(customerRefundOld, "requested_by_customer")
	want[customerRefundOld] = false
	reviewRefunded := s.pay(2*day, "succeeded", "card", []string{"ip_velocity"}, 1)
	s.review(reviewRefunded, "refunded")
	want[reviewRefunded] = true
	reviewApprovedYoung := s.pay(59*day, "succeeded", "card", nil, 1)
	s.review(reviewApprovedYoung, "approved")
	reviewApprovedOld := s.pay(61*day, "succeeded", "card", nil, 1)
	s.review(reviewApprovedOld, "approved")
	want[reviewApprovedOld] = false
	s.pay(90*day, "failed", "card", nil, 1)

	got, err := riskmodel.Labels(context.Background(), s.db.Pool, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("%d labels, want %d (%v): the 59-day, failed and young non-fraud payments must be left out", len(got), len(want), got)
	}
	for _, ex := range got {
		fraud, ok := want[ex.Payment]
		if !ok || fraud != ex.Fraud {
			t.Errorf("payment %s labelled fraud=%v; want labelled=%v fraud=%v", ex.Payment, ex.Fraud, ok, fraud)
		}
		if ex.Payment == young {
			t.Errorf("a 59-day-old payment is labelled")
		}
	}
	for _, ex := range got {
		switch ex.Payment {
		case old:
			if ex.Features[riskmodel.CardVelocity] != 1 || len(ex.Features) != 1 {
				t.Errorf("features of %s = %v; want only card_velocity (allow_list is no feature, 3 earlier payments)", old, ex.Features)
			}
		case fraudRefund:
			if ex.Features[riskmodel.NewCustomer] != 1 || len(ex.Features) != 1 {
				t.Errorf("features of %s = %v; want new_customer", fraudRefund, ex.Features)
			}
		}
	}
}

func TestAUCOfAKnownSet(t *testing.T) {
	t.Parallel()
	m := riskmodel.Model{Weights: map[string]float64{riskmodel.CardVelocity: 1}}
	ex := func(fraud bool, cv float64) riskmodel.Example {
		return riskmodel.Example{Fraud: fraud, Features: riskmodel.Features{riskmodel.CardVelocity: cv}}
	}
	// 3 fraud (cv 1, 1, 0) × 4 legitimate (cv 1, 0, 0, 0): fraud cv=1 beat
	// 3 legitimate each (6) and tie 1 each (1); fraud cv=0 ties 3 (1.5):
	// 8.5 of 12 pairs.
	set := []riskmodel.Example{ex(true, 1), ex(true, 1), ex(true, 0), ex(false, 1), ex(false, 0), ex(false, 0), ex(false, 0)}
	if got, want := riskmodel.AUC(m, set), 8.5/12; math.Abs(got-want) > 1e-12 {
		t.Errorf("AUC = %v, want %v", got, want)
	}
	if got := riskmodel.AUC(m, set[:3]); !math.IsNaN(got) {
		t.Errorf("AUC without legitimate examples = %v, want NaN", got)
	}
	perfect := []riskmodel.Example{ex(true, 1), ex(false, 0), ex(false, 0)}
	if got := riskmodel.AUC(m, perfect); got != 1 {
		t.Errorf("AUC of a separating model = %v, want 1", got)
	}
}

func TestFitLearnsTheSignal(t *testing.T) {
	t.Parallel()
	var set []riskmodel.Example
	for i := range 400 {
		fraud := i%4 == 0
		f := riskmodel.Features{}
		if fraud != (i%20 == 1) { // fraud mostly with ip_velocity, some noise
			f[riskmodel.IPVelocity] = 1
		}
		set = append(set, riskmodel.Example{Fraud: fraud, Features: f})
	}
	m := riskmodel.Fit(set, riskmodel.DefaultOptions.L2, riskmodel.DefaultOptions.Iterations)
	if m.Weights[riskmodel.IPVelocity] < 2 || math.Abs(m.Weights[riskmodel.CardVelocity]) > 0.5 {
		t.Errorf("weights = %v; want ip_velocity strongly positive and an absent feature near 0", m.Weights)
	}
	if auc := riskmodel.AUC(m, set); auc < 0.9 {
		t.Errorf("training AUC = %v, want ≥ 0.9", auc)
	}
}

// quietFraud seeds 400 old labelled payments where fraud mostly comes
// without card_velocity and legitimate payments mostly with it: the
// opposite of what DefaultModel weighs.
func quietFraud(s *seed) {
	for i := range 400 {
		fraud := i%4 == 0
		var reasons []string
		if fraud == (i%20 == 1) {
			reasons = []string{riskmodel.CardVelocity}
		}
		p := s.pay(90*day, "succeeded", "card", reasons, 1)
		if fraud {
			s.refund(p, "fraudulent")
		}
	}
}

func active(t *testing.T, db *postgres.DB) string {
	t.Helper()
	m, _, _, err := riskmodel.Active(context.Background(), db.Pool)
	if err != nil {
		t.Fatal(err)
	}
	return m.Version
}

func TestTrainActivatesOnlyABetterModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSeed(t)
	quietFraud(s)

	r, err := riskmodel.Train(ctx, s.db, now, riskmodel.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Stored || !r.Activated || r.Previous != riskmodel.DefaultModel.Version || !(r.AUC > r.PreviousAUC) || r.Fraud != 100 || r.Legit != 300 {
		t.Fatalf("first training = %+v; want a stored, activated version beating the default model on 100 fraud / 300 not", r)
	}
	if got := active(t, s.db); got != r.Version {
		t.Fatalf("active = %s, want %s", got, r.Version)
	}
	first := r.Version

	// The same labels again: the new version is no better, so it is
	// stored inactive and the first stays active.
	r, err = riskmodel.Train(ctx, s.db, now, riskmodel.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Stored || r.Activated || r.Previous != first || r.AUC > r.PreviousAUC {
		t.Fatalf("second training = %+v; want stored but not activated", r)
	}
	if got := active(t, s.db); got != first {
		t.Fatalf("active = %s after a no-better version, want %s", got, first)
	}

	// A worse model (not fitted at all: every payment scores the same,
	// AUC 0.5) against a hand-made active one that ranks payments
	// without card_velocity first: stored, never activated.
	s.exec(`UPDATE risk_models SET active = false`)
	s.exec(`INSERT INTO risk_models (bias, weights, reason_at, auc, previous_auc, fraud_count, legit_count, heldout_count, created_at, active)
		VALUES (-3, '{"card_velocity": -6}', 1, 1, 0, 0, 0, 0, $1, true)`, now)
	best := active(t, s.db)
	unfitted := riskmodel.DefaultOptions
	unfitted.Iterations = 0
	r, err = riskmodel.Train(ctx, s.db, now, unfitted)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Stored || r.Activated || r.AUC != 0.5 || !(r.PreviousAUC > 0.5) || active(t, s.db) != best {
		t.Fatalf("training a worse model against %s = %+v; want it stored, inactive, %s still active", best, r, best)
	}

	// -force activates anyway.
	opts := riskmodel.DefaultOptions
	opts.Force = true
	r, err = riskmodel.Train(ctx, s.db, now, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Activated || active(t, s.db) != r.Version {
		t.Fatalf("forced training = %+v; want it active", r)
	}
	var actives int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM risk_models WHERE active`).Scan(&actives); err != nil || actives != 1 {
		t.Fatalf("%d active versions (%v), want 1", actives, err)
	}
}

func TestTrainWithTooFewLabelsStoresNothing(t *testing.T) {
	t.Parallel()
	s := newSeed(t)
	for range 19 {
		s.refund(s.pay(day, "succeeded", "card", nil, 1), "fraudulent")
		s.pay(61*day, "succeeded", "card", nil, 1)
	}
	r, err := riskmodel.Train(context.Background(), s.db, now, riskmodel.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM risk_models`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if r.Stored || n != 0 || r.Fraud != 19 || r.Legit != 19 {
		t.Fatalf("training on 19 + 19 labels = %+v, %d versions; want nothing stored", r, n)
	}
}
