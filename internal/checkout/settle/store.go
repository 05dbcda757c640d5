package settle

import "github.com/paylink/paylink/internal/checkout"

const (
	pendingCaptures = `
SELECT payment_id, processor_ref, amount, currency FROM pending_captures
ORDER BY payment_id LIMIT $1`

	deleteCaptured = `DELETE FROM pending_captures WHERE payment_id = ANY($1)`

	unsentRefunds = `
SELECT r.id, r.merchant_id, r.payment_id, r.amount, r.currency, r.status, r.created_at, p.processor_ref
FROM refunds r JOIN payments p ON p.id = r.payment_id
WHERE r.sent_at IS NULL AND r.created_at <= $1
ORDER BY r.created_at LIMIT $2`

	// staleProcessing are payments a crash left in processing.
	staleProcessing = `
SELECT p.merchant_id, p.id FROM payments p
WHERE p.status = 'processing' AND p.updated_at <= $1
ORDER BY p.updated_at LIMIT $2`

	// cancelAbandoned cancels challenges unanswered since $2 and reads
	// them (as they were before: the caller sets status and updated_at).
	cancelAbandoned = `
WITH gone AS (
  UPDATE payments SET status = 'canceled', updated_at = $1
  WHERE id IN (SELECT id FROM payments WHERE status = 'requires_action' AND updated_at <= $2
               ORDER BY updated_at LIMIT $3 FOR UPDATE SKIP LOCKED)
  RETURNING id)
` + checkout.PaymentRows + `WHERE p.id IN (SELECT id FROM gone)`
)
