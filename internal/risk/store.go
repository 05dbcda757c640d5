package risk

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
)

const (
	// selectHistory reads, in one round trip, what screening needs of the
	// database: the customer's earlier succeeded payments (counted up to
	// 1000), the number and median of the merchant's last $4 succeeded
	// payments in the currency, and the version of its rules and lists.
	selectHistory = `
WITH recent AS (
  SELECT amount FROM payments
  WHERE merchant_id = $1 AND currency = $3 AND status = 'succeeded'
  ORDER BY id DESC LIMIT $4)
SELECT (SELECT count(*) FROM (SELECT 1 FROM payments
          WHERE merchant_id = $1 AND lower(customer_email) = $2 AND status = 'succeeded' LIMIT 1000) c),
       (SELECT count(*) FROM recent),
       (SELECT coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY amount), 0) FROM recent),
       coalesce((SELECT version FROM risk_versions WHERE merchant_id = $1), 0)`

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

	countMatch = `UPDATE risk_rules SET matches = matches + 1 WHERE merchant_id = $1 AND id = $2`

	countErrors = `UPDATE risk_rules SET errors = errors + 1 WHERE merchant_id = $1 AND id = ANY($2)`
)

type history struct {
	customerPayments int64
	succeeded        int64
	median           int64
	version          int64
}

func (e *Engine) history(ctx context.Context, a *Attempt) (history, error) {
	var h history
	err := e.db.Pool.QueryRow(ctx, selectHistory, a.MerchantID, lower(a.Email), a.Currency, e.th.AmountHistory).
		Scan(&h.customerPayments, &h.succeeded, &h.median, &h.version)
	if err != nil {
		return h, fmt.Errorf("read risk history: %w", err)
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
