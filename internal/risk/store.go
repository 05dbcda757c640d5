package risk

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/riskreview"
)

// CustomerPaymentsCap is where customer_payments stops counting: a
// customer's earlier succeeded payments are read one by one on every
// payment, so a regular's count costs at most this many index entries.
const CustomerPaymentsCap = 100

// amountsTTL is how long a merchant's median succeeded amount in a
// currency, once its window of AmountHistory payments is full, is reused
// before it is read again: reading that window is the dearest part of a
// busy merchant's screening, and its median moves slowly.
const amountsTTL = time.Minute

// historySQL returns the queries of what screening needs of the
// database, each in one round trip: selectHistory reads the customer's
// earlier succeeded payments (up to CustomerPaymentsCap), the number and
// median of the merchant's last window succeeded payments in the
// currency (of an even number of them, the mean of the two middle
// amounts), and the version of its rules and lists; selectCustomer the
// same without the amounts, when they are cached. The limits are
// literals, so the planner walks the id order for the window (with a
// parameter it could walk the whole amount index instead).
func historySQL(window int) (selectHistory, selectCustomer string) {
	customer := fmt.Sprintf(`(SELECT count(*) FROM (SELECT 1 FROM payments
          WHERE merchant_id = $1 AND lower(customer_email) = $2 AND status = 'succeeded' LIMIT %d) c)`, CustomerPaymentsCap)
	version := `coalesce((SELECT version FROM risk_versions WHERE merchant_id = $1), 0)`
	selectHistory = fmt.Sprintf(`
WITH recent AS (
  SELECT amount FROM payments
  WHERE merchant_id = $1 AND currency = $3 AND status = 'succeeded'
  ORDER BY id DESC LIMIT %d)
SELECT %s,
       (SELECT count(*) FROM recent),
       (SELECT coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY amount), 0) FROM recent),
       %s`, window, customer, version)
	selectCustomer = fmt.Sprintf(`SELECT %s, %s`, customer, version)
	return selectHistory, selectCustomer
}

const (
	selectVersion = `SELECT coalesce((SELECT version FROM risk_versions WHERE merchant_id = $1), 0)`

	// bumpVersion moves a merchant's rules-and-lists version, in the
	// transaction that changes them: every replica reloads them on its
	// next payment of the merchant.
	bumpVersion = `
INSERT INTO risk_versions (merchant_id, version) VALUES ($1, 1)
ON CONFLICT (merchant_id) DO UPDATE SET version = risk_versions.version + 1`

	insertDecision = `
INSERT INTO payment_risk (payment_id, merchant_id, score, level, outcome, reasons, rule_id, model, review_id, created_at,
                          signals)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

	setReview = `UPDATE payment_risk SET review_id = $3 WHERE merchant_id = $1 AND payment_id = $2`

	countMatch = `UPDATE risk_rules SET matches = matches + 1 WHERE merchant_id = $1 AND id = $2`

	countErrors = `UPDATE risk_rules SET errors = errors + 1 WHERE merchant_id = $1 AND id = ANY($2)`
)

type history struct {
	customerPayments int64
	succeeded        int64
	median           float64
	version          int64
}

// amounts is a merchant's full window of succeeded amounts in a currency
// as read at a moment.
type amounts struct {
	succeeded int64
	median    float64
	at        time.Time
}

// history reads a's customer, merchant amounts and rules version. The
// amounts of a full window come from e.amounts while younger than
// amountsTTL; a merchant with fewer succeeded payments is read every
// time, so its first payments count at once.
func (e *Engine) history(ctx context.Context, a *Attempt) (history, error) {
	var h history
	key := a.MerchantID + "\x00" + a.Currency
	now := e.now()
	if v, ok := e.amounts.Load(key); ok && now.Sub(v.(amounts).at) < amountsTTL {
		c := v.(amounts)
		h.succeeded, h.median = c.succeeded, c.median
		if err := e.db.Pool.QueryRow(ctx, e.selectCustomer, a.MerchantID, lower(a.Email)).
			Scan(&h.customerPayments, &h.version); err != nil {
			return h, fmt.Errorf("read risk history: %w", err)
		}
		return h, nil
	}
	err := e.db.Pool.QueryRow(ctx, e.selectHistory, a.MerchantID, lower(a.Email), a.Currency).
		Scan(&h.customerPayments, &h.succeeded, &h.median, &h.version)
	if err != nil {
		return h, fmt.Errorf("read risk history: %w", err)
	}
	if h.succeeded >= int64(e.th.AmountHistory) {
		e.amounts.Store(key, amounts{succeeded: h.succeeded, median: h.median, at: now})
	} else {
		e.amounts.Delete(key)
	}
	return h, nil
}

// Save stores d as payment payID's risk through w (the payment's
// transaction, or writes queued into it), with the deciding rule's match
// and the failed rules' errors counted. reviewID is the review d opened,
// "" for none.
func Save(ctx context.Context, w postgres.Execer, merchantID, payID, reviewID string, d *Decision, now time.Time) error {
	reasons := d.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	if _, err := w.Exec(ctx, insertDecision, payID, merchantID, d.Score, d.Level, d.Outcome, reasons, orNil(d.Rule),
		d.Model, orNil(reviewID), now, signalsOf(d)); err != nil {
		return fmt.Errorf("save risk decision: %w", err)
	}
	if d.ruleMatched != "" {
		if _, err := w.Exec(ctx, countMatch, merchantID, d.ruleMatched); err != nil {
			return fmt.Errorf("count rule match: %w", err)
		}
	}
	if len(d.ruleErrors) > 0 {
		if _, err := w.Exec(ctx, countErrors, merchantID, d.ruleErrors); err != nil {
			return fmt.Errorf("count rule errors: %w", err)
		}
	}
	return nil
}

// Record stores d as payment payID's risk through w (its transaction),
// opening a review first when d reviews a payment that succeeded. It
// returns the review's id, "" for none.
func Record(ctx context.Context, w postgres.Execer, merchantID, payID string, succeeded bool, d *Decision, now time.Time) (string, error) {
	var reviewID string
	if d.Outcome == Review && succeeded {
		var err error
		if reviewID, err = riskreview.Open(ctx, w, merchantID, payID, d.ReviewReason(), now); err != nil {
			return "", err
		}
	}
	return reviewID, Save(ctx, w, merchantID, payID, reviewID, d, now)
}

// ReviewChallenged opens, through w, the review that d asks for of
// payment payID, which succeeded once its challenge was passed: Record
// found it awaiting the challenge. It returns the review's id, "" for
// none.
func ReviewChallenged(ctx context.Context, w postgres.Execer, merchantID, payID string, d *Decision, now time.Time) (string, error) {
	if d.Outcome != Review {
		return "", nil
	}
	reviewID, err := riskreview.Open(ctx, w, merchantID, payID, d.ReviewReason(), now)
	if err != nil {
		return "", err
	}
	if _, err := w.Exec(ctx, setReview, merchantID, payID, reviewID); err != nil {
		return "", fmt.Errorf("set payment review: %w", err)
	}
	return reviewID, nil
}

func signalsOf(d *Decision) map[string]any {
	if d.signals == nil {
		return map[string]any{}
	}
	return d.signals
}

func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func bump(ctx context.Context, tx pgx.Tx, merchantID string) error {
	if _, err := tx.Exec(ctx, bumpVersion, merchantID); err != nil {
		return fmt.Errorf("bump risk version: %w", err)
	}
	return nil
}
