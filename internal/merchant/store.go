package merchant

const (
	insertMerchant = `
INSERT INTO merchants (id, name, email, password_hash, created_at)
VALUES ($1, $2, $3, $4, $5)`

	selectMerchant = `
SELECT id, name, email, created_at, payment_emails FROM merchants WHERE id = $1`

	selectMerchants = `
SELECT id, name, email, created_at, payment_emails FROM merchants WHERE id = ANY($1)`

	selectMerchantByEmail = `
SELECT id, name, email, created_at, payment_emails FROM merchants WHERE lower(email) = lower($1)`

	setPaymentEmails = `
UPDATE merchants SET payment_emails = $2 WHERE id = $1
RETURNING id, name, email, created_at, payment_emails`

	revokeOtherKeys = `
UPDATE api_keys SET revoked_at = $3 WHERE merchant_id = $1 AND id <> $2 AND revoked_at IS NULL`

	insertKey = `
INSERT INTO api_keys (id, merchant_id, secret_digest, secret_sealed, created_at)
VALUES ($1, $2, $3, $4, $5)`

	selectKeyForAuth = `
SELECT k.secret_digest, k.revoked_at, m.id, m.name, m.email, m.created_at, m.payment_emails
FROM api_keys k JOIN merchants m ON m.id = k.merchant_id
WHERE k.id = $1`

	selectKeySealed = `
SELECT secret_sealed FROM api_keys
WHERE merchant_id = $1 AND id = $2 AND revoked_at IS NULL`

	selectSigningKey = `
SELECT k.secret_sealed, m.id, m.name, m.email, m.created_at, m.payment_emails
FROM api_keys k JOIN merchants m ON m.id = k.merchant_id
WHERE k.id = $1 AND k.revoked_at IS NULL`

	listKeys = `
SELECT id, merchant_id, created_at, last_used_at, revoked_at
FROM api_keys
WHERE merchant_id = $1 AND ($2 = '' OR id < $2)
ORDER BY id DESC
LIMIT $3`

	// lockMerchant serialises revocations per merchant. The active keys are
	// counted by the next statement: under READ COMMITTED a statement that
	// waited for the lock still reads its older snapshot.
	lockMerchant = `SELECT id FROM merchants WHERE id = $1 FOR UPDATE`

	countActiveKeys = `SELECT count(*) FROM api_keys WHERE merchant_id = $1 AND revoked_at IS NULL`

	selectKeyForUpdate = `
SELECT id, merchant_id, created_at, last_used_at, revoked_at
FROM api_keys WHERE merchant_id = $1 AND id = $2`

	revokeKey = `
UPDATE api_keys SET revoked_at = $3 WHERE merchant_id = $1 AND id = $2 AND revoked_at IS NULL`

	// flushUsage never moves last_used_at backwards, so replicas flushing
	// out of order agree.
	flushUsage = `
UPDATE api_keys k SET last_used_at = u.used_at
FROM unnest($1::text[], $2::timestamptz[]) AS u(id, used_at)
WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.used_at)`
)
