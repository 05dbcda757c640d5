package riskmodel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
)

// selectActive reads the active version, if any.
const selectActive = `SELECT version, bias, weights, reason_at, auc FROM risk_models WHERE active`

// selectLabels are the labelled screened payments: fraud = a refund with
// reason fraudulent or a review closed as refunded; not fraud = succeeded
// before $1 with neither. Features come from what screening kept.
const selectLabels = `
SELECT id, reasons, customer_payments, method_type, fraud FROM (
  SELECT p.id, pr.reasons, coalesce((pr.signals->>'customer_payments')::bigint, 0) AS customer_payments,
         p.method_type, p.status, p.created_at,
         EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id AND r.reason = 'fraudulent')
         OR EXISTS (SELECT 1 FROM reviews v WHERE v.payment_id = p.id AND v.closed_reason = 'refunded') AS fraud
  FROM payments p JOIN payment_risk pr ON pr.payment_id = p.id
) l
WHERE fraud OR (status = 'succeeded' AND created_at < $1)
ORDER BY id`

const insertVersion = `
INSERT INTO risk_models (bias, weights, reason_at, auc, previous_auc, fraud_count, legit_count, heldout_count, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING version`

// Example is one labelled payment.
type Example struct {
	Payment  string
	Features Features
	Fraud    bool
}

// LegitAge is how old a succeeded payment with no fraud sign must be to
// count as not fraud.
const LegitAge = 60 * 24 * time.Hour

// Labels reads the labelled payments as of now (ordered by id).
func Labels(ctx context.Context, db postgres.DBTX, now time.Time) ([]Example, error) {
	rows, err := db.Query(ctx, selectLabels, now.Add(-LegitAge))
	if err != nil {
		return nil, fmt.Errorf("read risk labels: %w", err)
	}
	var out []Example
	for rows.Next() {
		var (
			ex       Example
			reasons  []string
			customer int64
			method   string
		)
		if err := rows.Scan(&ex.Payment, &reasons, &customer, &method, &ex.Fraud); err != nil {
			return nil, fmt.Errorf("read risk labels: %w", err)
		}
		ex.Features = FeaturesOf(reasons, customer, method)
		out = append(out, ex)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read risk labels: %w", err)
	}
	return out, nil
}

// Active returns the active version (ok false: none, the engine uses
// DefaultModel) and its recorded held-out AUC.
func Active(ctx context.Context, db postgres.DBTX) (m Model, auc float64, ok bool, err error) {
	var version int64
	err = db.QueryRow(ctx, selectActive).Scan(&version, &m.Bias, &m.Weights, &m.ReasonAt, &auc)
	if errors.Is(err, pgx.ErrNoRows) {
		return DefaultModel, 0, false, nil
	}
	if err != nil {
		return DefaultModel, 0, false, fmt.Errorf("read active risk model: %w", err)
	}
	m.Version = VersionName(version)
	return m, auc, true, nil
}

// VersionName is how payment_risk.model names a stored version.
func VersionName(version int64) string { return "trained-" + strconv.FormatInt(version, 10) }
