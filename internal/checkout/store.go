package checkout

const paymentColumns = `p.id, p.merchant_id, coalesce(p.payment_link_id, ''), p.single_use, p.amount, p.currency, p.status,
       p.amount_refunded, coalesce(p.failure_code, ''), p.customer_email, p.customer_name, p.method_type,
       coalesce(p.card_brand, ''), coalesce(p.card_last4, ''), coalesce(p.card_exp_month, 0),
       coalesce(p.card_exp_year, 0), coalesce(p.card_fingerprint, ''), coalesce(p.processor_ref, ''),
       coalesce(p.challenge_outcome, ''), p.created_at, p.updated_at, coalesce(l.metadata, f.metadata, '{}'),
       coalesce(p.payment_form_id, ''), coalesce(p.merchant_reference, ''), coalesce(p.customer_phone, ''),
       p.billing_address, coalesce(p.realm, ''), pr.score, coalesce(pr.level, ''), coalesce(pr.outcome, ''),
       pr.reasons, coalesce(pr.rule_id, ''), coalesce(pr.model, ''), coalesce(pr.review_id, '')`

const paymentFrom = ` FROM payments p` + paymentJoins

// paymentJoins are what a payment p is read with: its link and form (for
// the metadata) and its risk decision.
const paymentJoins = ` LEFT JOIN payment_links l ON l.id = p.payment_link_id
       LEFT JOIN payment_forms f ON f.id = p.payment_form_id
       LEFT JOIN payment_risk pr ON pr.payment_id = p.id `

// PaymentRows selects payments p (with their link l and form f, for the
// metadata) as ScanPayment reads them; package payments appends its
// WHERE clause.
const PaymentRows = `SELECT ` + paymentColumns + paymentFrom

// PagePaymentRows selects, as ScanPayment reads them, the payments whose
// ids a common table expression named page lists; package payments
// prepends it and appends the order.
const PagePaymentRows = `SELECT ` + paymentColumns + ` FROM page JOIN payments p ON p.id = page.id` + paymentJoins

const (
	// insertPayment inserts a payment only if its link can still be paid
	// at $17 (active and not expired) and its merchant accepts it (the
	// link's currency, cards, the brand $11), all read in the same
	// statement; $18 is true when the caller already holds the link (a
	// single-use link it just completed). No row inserted means the link
	// cannot be paid or the merchant does not accept the payment.
	insertPayment = `
INSERT INTO payments (id, merchant_id, payment_link_id, single_use, amount, currency, status, failure_code,
                      customer_email, customer_name, method_type, card_brand, card_last4, card_exp_month,
                      card_exp_year, card_fingerprint, processor_ref, created_at, updated_at, realm)
SELECT $1, l.merchant_id, l.id, $4, $5, $6, $7, $8, $9, $10, 'card', $11, $12, $13, $14, $15, $16, $17, $17, l.realm
FROM payment_links l
WHERE l.merchant_id = $2 AND l.id = $3 AND ($18 OR (l.status = 'active' AND l.expires_at > $17))
  AND paylink_merchant_accepts(l.merchant_id, l.currency, 'card', $11)`

	// insertCapturedPayment inserts a succeeded payment and its capture
	// queue row in one statement (one round trip on the hot path).
	insertCapturedPayment = `
WITH p AS (` + insertPayment + `
RETURNING id, merchant_id, processor_ref, amount, currency, created_at)
INSERT INTO pending_captures (payment_id, merchant_id, processor_ref, amount, currency, created_at)
SELECT id, merchant_id, processor_ref, amount, currency, created_at FROM p`

	// insertWalletPayment inserts a succeeded wallet payment under the
	// same rule as insertPayment: only if its link can still be paid at
	// $10, or $11 is true (the caller completed the single-use link), and
	// its merchant accepts wallet payments in the link's currency.
	insertWalletPayment = `
INSERT INTO payments (id, merchant_id, payment_link_id, single_use, amount, currency, status,
                      customer_email, customer_name, method_type, wallet_user_id, created_at, updated_at, realm)
SELECT $1, l.merchant_id, l.id, $4, $5, $6, 'succeeded', $7, $8, 'wallet', $9, $10, $10, l.realm
FROM payment_links l
WHERE l.merchant_id = $2 AND l.id = $3 AND ($11 OR (l.status = 'active' AND l.expires_at > $10))
  AND paylink_merchant_accepts(l.merchant_id, l.currency, 'wallet', NULL)`

	// insertBlockedWalletPayment records a wallet payment screening
	// blocked: failed, so it neither pays nor completes its link.
	insertBlockedWalletPayment = `
INSERT INTO payments (id, merchant_id, payment_link_id, single_use, amount, currency, status, failure_code,
                      customer_email, customer_name, method_type, wallet_user_id, created_at, updated_at, realm)
SELECT $1, l.merchant_id, l.id, $4, $5, $6, 'failed', $11, $7, $8, 'wallet', $9, $10, $10, l.realm
FROM payment_links l WHERE l.merchant_id = $2 AND l.id = $3`

	// insertFormPayment inserts a payment of a form submission only if
	// the form is still active and takes this amount and currency, and its
	// merchant accepts the payment (currency, cards, the brand $12), read
	// in the same statement. No row inserted means one of these fails.
	insertFormPayment = `
INSERT INTO payments (id, merchant_id, payment_form_id, amount, currency, status, failure_code,
                      customer_email, customer_name, customer_phone, billing_address, method_type, card_brand,
                      card_last4, card_exp_month, card_exp_year, card_fingerprint, processor_ref, created_at, updated_at,
                      realm)
SELECT $1, f.merchant_id, f.id, $4, $5, $6, $7, $8, $9, $10, $11, 'card', $12, $13, $14, $15, $16, $17, $18, $18,
       f.realm
FROM payment_forms f
WHERE f.merchant_id = $2 AND f.id = $3 AND f.status = 'active' AND f.currency = $5
  AND (f.amount = $4 OR (f.amount IS NULL AND $4 BETWEEN f.amount_min AND f.amount_max))
  AND paylink_merchant_accepts(f.merchant_id, f.currency, 'card', $12)`

	// insertCapturedFormPayment inserts a succeeded form payment and its
	// capture queue row in one statement.
	insertCapturedFormPayment = `
WITH p AS (` + insertFormPayment + `
RETURNING id, merchant_id, processor_ref, amount, currency, created_at)
INSERT INTO pending_captures (payment_id, merchant_id, processor_ref, amount, currency, created_at)
SELECT id, merchant_id, processor_ref, amount, currency, created_at FROM p`

	// insertSignedPayment inserts a payment of a signed link if its
	// merchant accepts it (currency, cards, the brand $10); its reference
	// was claimed first when it succeeded.
	insertSignedPayment = `
INSERT INTO payments (id, merchant_id, merchant_reference, amount, currency, status, failure_code,
                      customer_email, customer_name, method_type, card_brand, card_last4, card_exp_month,
                      card_exp_year, card_fingerprint, processor_ref, created_at, updated_at)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, 'card', $10, $11, $12, $13, $14, $15, $16, $16
WHERE paylink_merchant_accepts($2, $5, 'card', $10)
RETURNING id, merchant_id, processor_ref, amount, currency, created_at`

	insertCapturedSignedPayment = `
WITH p AS (` + insertSignedPayment + `)
INSERT INTO pending_captures (payment_id, merchant_id, processor_ref, amount, currency, created_at)
SELECT id, merchant_id, processor_ref, amount, currency, created_at FROM p`

	// insertPaidReference claims a signed link's reference: it waits for
	// a concurrent claim of the same reference, and inserts nothing if
	// that one committed.
	insertPaidReference = `
INSERT INTO paid_references (merchant_id, reference, payment_id, paid_at) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING`

	referencePaid = `SELECT EXISTS (SELECT 1 FROM paid_references WHERE merchant_id = $1 AND reference = $2)`

	selectPaymentForForm = `SELECT ` + paymentColumns + paymentFrom +
		`WHERE p.merchant_id = $1 AND p.payment_form_id = $2 AND p.id = $3`

	selectPaymentForReference = `SELECT ` + paymentColumns + paymentFrom +
		`WHERE p.merchant_id = $1 AND p.merchant_reference = $2 AND p.id = $3`

	// claimChallenge moves a payment waiting for its challenge to
	// processing, remembering the shopper's answer; only one request wins.
	claimChallenge = `
UPDATE payments SET status = 'processing', challenge_outcome = $3, updated_at = $4
WHERE merchant_id = $1 AND id = $2 AND status = 'requires_action'`

	insertPendingCapture = `
INSERT INTO pending_captures (payment_id, merchant_id, processor_ref, amount, currency, created_at)
VALUES ($1, $2, $3, $4, $5, $6)`

	selectPayment = `SELECT ` + paymentColumns + paymentFrom + `WHERE p.merchant_id = $1 AND p.id = $2`

	selectPaymentForLink = `SELECT ` + paymentColumns + paymentFrom +
		`WHERE p.merchant_id = $1 AND p.payment_link_id = $2 AND p.id = $3`

	lockPayment = `SELECT ` + paymentColumns + paymentFrom + `WHERE p.merchant_id = $1 AND p.id = $2 FOR UPDATE OF p`

	finishPayment = `
UPDATE payments SET status = $3, failure_code = $4, updated_at = $5
WHERE merchant_id = $1 AND id = $2`

	addRefunded = `
UPDATE payments SET amount_refunded = amount_refunded + $3, updated_at = $4
WHERE merchant_id = $1 AND id = $2`

	insertRefund = `
INSERT INTO refunds (id, merchant_id, payment_id, amount, currency, status, created_at, reason)
VALUES ($1, $2, $3, $4, $5, 'succeeded', $6, $7)`

	pendingCaptureOf = `
SELECT processor_ref, amount, currency FROM pending_captures WHERE payment_id = $1`

	deleteCaptured = `DELETE FROM pending_captures WHERE payment_id = ANY($1)`

	markRefundSent = `
UPDATE refunds SET processor_ref = $2, sent_at = $3 WHERE id = $1 AND sent_at IS NULL`
)
