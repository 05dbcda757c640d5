package wallet

const (
	insertUser = `
INSERT INTO users (id, email, first_name, middle_name, last_name, phone, password_hash, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

	userColumns = `id, email, first_name, middle_name, last_name, phone, created_at`

	selectUser = `SELECT ` + userColumns + ` FROM users WHERE id = $1`

	selectUserByEmail = `SELECT ` + userColumns + ` FROM users WHERE lower(email) = lower($1)`

	selectUserForLogin = `SELECT ` + userColumns + `, password_hash FROM users WHERE lower(email) = lower($1)`

	insertSession = `
INSERT INTO user_sessions (id, user_id, method, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`

	// selectLiveSession reads a session that is neither revoked nor
	// expired, with its user.
	selectLiveSession = `
SELECT u.id, u.email, u.first_name, u.middle_name, u.last_name, u.phone, u.created_at, s.method, s.created_at, s.expires_at
FROM user_sessions s JOIN users u ON u.id = s.user_id
WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2`

	deleteExpiredSessions = `DELETE FROM user_sessions WHERE expires_at < $1`

	revokeSession = `
UPDATE user_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`
)

const (
	insertTransaction = `
INSERT INTO wallet_transactions (id, user_id, type, status, amount, currency, counterparty_user_id,
    counterparty_merchant_id, counterparty, note, reference, payment_id, card_brand, card_last4, failure_code,
    created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`

	transactionColumns = `id, user_id, type, status, amount, currency, counterparty_user_id, counterparty_merchant_id,
    counterparty, note, reference, payment_id, card_brand, card_last4, failure_code, created_at, updated_at`

	selectTransactions = `SELECT ` + transactionColumns + ` FROM wallet_transactions`

	selectPaymentEntry = `SELECT ` + transactionColumns + ` FROM wallet_transactions
WHERE payment_id = $1 AND type = 'payment' AND counterparty_merchant_id IS NOT NULL`

	selectTransaction = `SELECT ` + transactionColumns + ` FROM wallet_transactions WHERE user_id = $1 AND id = $2`

	insertPendingCapture = `
INSERT INTO wallet_pending_captures (processor_ref, transaction_id, amount, currency, created_at)
VALUES ($1, $2, $3, $4, $5)`

	selectPendingCapture = `SELECT amount, currency FROM wallet_pending_captures WHERE processor_ref = $1`

	deletePendingCapture = `DELETE FROM wallet_pending_captures WHERE processor_ref = $1`

	selectDueCaptures = `
SELECT processor_ref FROM wallet_pending_captures WHERE created_at < $1 ORDER BY created_at LIMIT $2`

	insertNotification = `
INSERT INTO wallet_notifications (id, user_id, type, message, transaction_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6)`

	selectNotifications = `SELECT id, type, message, transaction_id, created_at, read_at FROM wallet_notifications`

	markRead = `
UPDATE wallet_notifications SET read_at = coalesce(read_at, $3)
WHERE user_id = $1 AND id = $2
RETURNING id, type, message, transaction_id, created_at, read_at`

	markAllRead = `
UPDATE wallet_notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL`
)

const (
	insertPayout = `
INSERT INTO wallet_payouts (id, user_id, amount, currency, card_sealed, status, created_at)
VALUES ($1, $2, $3, $4, $5, 'processing', $6)`

	selectPayout = `SELECT amount, currency, card_sealed, status FROM wallet_payouts WHERE id = $1`

	lockPayout = `SELECT user_id, status FROM wallet_payouts WHERE id = $1 FOR UPDATE`

	settlePayout = `
UPDATE wallet_payouts SET status = $2, failure_code = $3, processor_ref = $4, settled_at = $5, card_sealed = NULL
WHERE id = $1`

	setTransactionStatus = `
UPDATE wallet_transactions SET status = $2, failure_code = $3, updated_at = $4 WHERE id = $1
RETURNING ` + transactionColumns

	selectUnrelayedPayouts = `
SELECT id FROM wallet_payouts
WHERE status = 'processing' AND enqueued_at IS NULL AND (hold_until IS NULL OR hold_until <= $2)
ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`

	holdPayout = `UPDATE wallet_payouts SET hold_until = $2 WHERE id = $1`

	markPayoutsRelayed = `UPDATE wallet_payouts SET enqueued_at = $2 WHERE id = ANY($1)`

	selectOverduePayouts = `
SELECT id FROM wallet_payouts WHERE status = 'processing' AND enqueued_at < $1 ORDER BY id LIMIT 1000`
)

const (
	lockTopUp = `SELECT ` + transactionColumns + ` FROM wallet_transactions
WHERE user_id = $1 AND id = $2 AND type = 'topup' FOR UPDATE`

	// cancelAbandonedTopUps cancels top-ups waiting for their challenge
	// since before $1, at $2, at most $3.
	cancelAbandonedTopUps = `
UPDATE wallet_transactions SET status = 'canceled', failure_code = 'challenge_expired', updated_at = $2
WHERE id IN (SELECT id FROM wallet_transactions
             WHERE status = 'requires_action' AND type = 'topup' AND created_at < $1
             ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
RETURNING ` + transactionColumns
)

const (
	// revokeUserSessions revokes user $1's live sessions but $2, at $3.
	revokeUserSessions = `
UPDATE user_sessions SET revoked_at = $3
WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL AND expires_at > $3
RETURNING id, expires_at`
)
