package idempotency

const (
	tryLock      = `SELECT pg_try_advisory_xact_lock($1)`
	selectRecord = `SELECT status, sealed FROM idempotency_keys WHERE scope = $1 AND key = $2`
	insertRecord = `
INSERT INTO idempotency_keys (scope, key, status, sealed, created_at)
VALUES ($1, $2, $3, $4, $5)`
	deleteOld = `
DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT $2))`
)
