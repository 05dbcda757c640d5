package merchant

// merchantColumns are what scanMerchant reads, from merchants m.
// payment_emails is no longer read: it is the "payment.succeeded" of
// notify_on, which decides the e-mails.
const merchantColumns = `m.id, m.name, m.email, m.created_at, 'payment.succeeded' = ANY (m.notify_on), m.currencies, m.payment_methods,
       m.card_brands, m.notification_email, m.notify_on`

// keyColumns are what scanKey reads, from api_keys k.
const keyColumns = `k.id, k.merchant_id, k.name, k.scopes, k.created_at, k.last_used_at, k.revoked_at, k.expires_at`

const (
	insertMerchant = `
INSERT INTO merchants (id, name, email, password_hash, created_at)
VALUES ($1, $2, $3, $4, $5)`

	selectMerchant = `SELECT ` + merchantColumns + ` FROM merchants m WHERE m.id = $1`

	selectMerchantByEmail = `SELECT ` + merchantColumns + ` FROM merchants m WHERE lower(m.email) = lower($1)`

	selectMerchants = `SELECT ` + merchantColumns + ` FROM merchants m WHERE m.id = ANY($1)`

	// setPaymentEmails adds payment.succeeded to notify_on or removes it;
	// the old column is kept in step for a replica of the previous release.
	setPaymentEmails = `
UPDATE merchants m SET payment_emails = $2,
       notify_on = CASE WHEN NOT $2 THEN array_remove(m.notify_on, 'payment.succeeded')
                        WHEN 'payment.succeeded' = ANY (m.notify_on) THEN m.notify_on
                        ELSE array_append(m.notify_on, 'payment.succeeded') END
WHERE m.id = $1
RETURNING ` + merchantColumns

	// updateMerchant changes the fields given (non-NULL); a list the
	// merchant sets is never NULL, so NULL always means "unchanged".
	updateMerchant = `
UPDATE merchants m SET name = coalesce($2, m.name), currencies = coalesce($3, m.currencies),
       payment_methods = coalesce($4, m.payment_methods), card_brands = coalesce($5, m.card_brands),
       notification_email = coalesce($6, m.notification_email), notify_on = coalesce($7, m.notify_on)
WHERE m.id = $1
RETURNING ` + merchantColumns

	selectAcceptance = `SELECT currencies, payment_methods, card_brands FROM merchants WHERE id = $1`

	revokeOtherKeys = `
UPDATE api_keys SET revoked_at = $3 WHERE merchant_id = $1 AND id <> $2 AND revoked_at IS NULL`

	insertKey = `
INSERT INTO api_keys (id, merchant_id, secret_digest, secret_sealed, created_at, name, scopes)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

	selectKeyForAuth = `
SELECT ` + merchantColumns + `, k.secret_digest, ` + keyColumns + `
FROM api_keys k JOIN merchants m ON m.id = k.merchant_id
WHERE k.id = $1`

	selectKeySealed = `
SELECT secret_sealed FROM api_keys
WHERE merchant_id = $1 AND id = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)`

	selectSigningKey = `
SELECT ` + merchantColumns + `, k.secret_sealed
FROM api_keys k JOIN merchants m ON m.id = k.merchant_id
WHERE k.id = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2)
  AND (k.scopes IS NULL OR $3 = ANY (k.scopes))`

	selectKeys = `SELECT ` + keyColumns + ` FROM api_keys k`

	// lockMerchant serialises revocations and rolls per merchant. The
	// keys are counted by the next statement: under READ COMMITTED a
	// statement that waited for the lock still reads its older snapshot.
	lockMerchant = `SELECT id FROM merchants WHERE id = $1 FOR UPDATE`

	// countLastingKeys counts the keys that are neither revoked nor set to
	// expire: a merchant always keeps one, so it can never lock itself out.
	countLastingKeys = `SELECT count(*) FROM api_keys WHERE merchant_id = $1 AND revoked_at IS NULL AND expires_at IS NULL`

	selectKeyForUpdate = `SELECT ` + keyColumns + ` FROM api_keys k WHERE k.merchant_id = $1 AND k.id = $2 FOR UPDATE`

	revokeKey = `
UPDATE api_keys SET revoked_at = $3 WHERE merchant_id = $1 AND id = $2 AND revoked_at IS NULL`

	// expireKey moves a rolled key's expiry to $3, never later than it
	// already was.
	expireKey = `
UPDATE api_keys SET expires_at = least(expires_at, $3) WHERE merchant_id = $1 AND id = $2
RETURNING expires_at`

	// flushUsage never moves last_used_at backwards, so replicas flushing
	// out of order agree.
	flushUsage = `
UPDATE api_keys k SET last_used_at = u.used_at
FROM unnest($1::text[], $2::timestamptz[]) AS u(id, used_at)
WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.used_at)`
)

const (
	selectPasswordHash = `SELECT id, password_hash FROM merchants WHERE lower(email) = lower($1)`
	setPasswordHash    = `UPDATE merchants SET password_hash = $2 WHERE id = $1`
	selectLoginEmail   = `SELECT lower(email) FROM merchants WHERE id = $1`
)
