package idempotency

const (
	tryLock      = `SELECT pg_try_advisory_xact_lock($1)`
	selectRecord = `SELECT status, sealed, sealed_redacted, created_at FROM idempotency_keys WHERE scope = $1 AND key = $2`
	insertRecord = `
INSERT INTO idempotency_keys (scope, key, status, sealed, sealed_redacted, created_at)
VALUES ($1, $2, $3, $4, $5, $6)`

	selectSecretBearing = `
SELECT scope, key, sealed_redacted FROM idempotency_keys
WHERE sealed_redacted IS NOT NULL AND created_at < $1
LIMIT 5000`

	forgetSecret = `
UPDATE idempotency_keys SET sealed = $3, sealed_redacted = NULL WHERE scope = $1 AND key = $2`
	deleteOld = `
DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT $2))`
)
