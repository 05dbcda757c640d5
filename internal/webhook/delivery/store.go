package delivery

const (
	// claimDelivery leases a pending delivery that is due ($5 is now plus
	// a little tolerance) and not leased, and reads what an attempt needs.
	claimDelivery = `
UPDATE webhook_deliveries d SET locked_until = $4
FROM webhook_endpoints e, events ev
WHERE d.merchant_id = $1 AND d.id = $2 AND d.status = 'pending'
  AND (d.locked_until IS NULL OR d.locked_until <= $3)
  AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= $5)
  AND e.id = d.endpoint_id AND ev.id = d.event_id
RETURNING d.attempts, d.event_id, d.endpoint_id, e.url, e.status, e.deleted_at, e.secret_sealed,
    e.previous_secret_sealed, e.previous_secret_expires_at, ev.type, ev.data, ev.created_at`

	deliveryState = `
SELECT status, locked_until, next_attempt_at FROM webhook_deliveries WHERE merchant_id = $1 AND id = $2`

	releaseDelivery = `
UPDATE webhook_deliveries SET locked_until = NULL WHERE merchant_id = $1 AND id = $2 AND status = 'pending'`

	finishDelivery = `
UPDATE webhook_deliveries SET status = $3, completed_at = $4, next_attempt_at = NULL, locked_until = NULL
WHERE merchant_id = $1 AND id = $2 AND status = 'pending'`

	insertAttempt = `
INSERT INTO webhook_attempts (delivery_id, n, merchant_id, attempted_at, status_code, latency_ms, response_body, error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

	deliverySucceeded = `
UPDATE webhook_deliveries SET status = 'succeeded', attempts = $3, completed_at = $4, next_attempt_at = NULL, locked_until = NULL
WHERE merchant_id = $1 AND id = $2`

	deliveryFailed = `
UPDATE webhook_deliveries SET status = 'failed', attempts = $3, completed_at = $4, next_attempt_at = NULL, locked_until = NULL
WHERE merchant_id = $1 AND id = $2`

	// deliveryRetry schedules the next attempt; a delivery whose first
	// attempt the outbox made itself is handed to the task queue from now
	// on ($5).
	deliveryRetry = `
UPDATE webhook_deliveries SET attempts = $3, next_attempt_at = $4, locked_until = NULL, enqueued_at = coalesce(enqueued_at, $5)
WHERE merchant_id = $1 AND id = $2`

	endpointHealthy = `
UPDATE webhook_endpoints SET failing_since = NULL
WHERE merchant_id = $1 AND id = $2 AND failing_since IS NOT NULL`

	// endpointFailing starts the failure streak if none is running and
	// returns when it started.
	endpointFailing = `
UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $3)
WHERE merchant_id = $1 AND id = $2
RETURNING failing_since`

	disableEndpoint = `
UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $3
WHERE merchant_id = $1 AND id = $2 AND status = 'enabled'`

	// selectUnrelayed reads new deliveries not leased ($2 is now) to a
	// worker making their first attempt itself.
	selectUnrelayed = `
SELECT id, merchant_id, next_attempt_at
FROM webhook_deliveries
WHERE enqueued_at IS NULL AND status = 'pending' AND (locked_until IS NULL OR locked_until <= $2)
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED`

	markRelayed = `
UPDATE webhook_deliveries SET enqueued_at = $2 WHERE id = ANY($1)`

	// claimNew leases up to $3 new deliveries, not leased at $1 and due
	// by $4, until $2 for their first attempt, and reads what it needs.
	// (= ANY of an array keeps every step an index probe, whatever the
	// planner guesses of the batch's size.)
	claimNew = `
WITH leased AS (
    UPDATE webhook_deliveries SET locked_until = $2
    WHERE id = ANY (ARRAY(
        SELECT id FROM webhook_deliveries
        WHERE enqueued_at IS NULL AND status = 'pending' AND (locked_until IS NULL OR locked_until <= $1)
          AND next_attempt_at <= $4
        ORDER BY id
        LIMIT $3
        FOR UPDATE SKIP LOCKED))
    RETURNING merchant_id, id, attempts, event_id, endpoint_id
)
SELECT d.merchant_id, d.id, d.attempts, d.event_id, d.endpoint_id, e.url, e.status, e.deleted_at, e.secret_sealed,
    e.previous_secret_sealed, e.previous_secret_expires_at, ev.type, ev.data, ev.created_at
FROM leased d
JOIN webhook_endpoints e ON e.id = d.endpoint_id
JOIN events ev ON ev.id = d.event_id`

	// recordSucceeded stores first attempts that succeeded, all in one
	// statement: the attempts, the deliveries' new state, and the end of
	// their endpoints' failure streaks. The = ANY conditions keep the
	// updates index probes.
	recordSucceeded = `
WITH o AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::int[], $7::int[], $8::text[])
        AS o(merchant_id, delivery_id, endpoint_id, n, attempted_at, status_code, latency_ms, response_body)
), attempts AS (
    INSERT INTO webhook_attempts (delivery_id, n, merchant_id, attempted_at, status_code, latency_ms, response_body, error)
    SELECT delivery_id, n, merchant_id, attempted_at, status_code, latency_ms, response_body, '' FROM o
), deliveries AS (
    UPDATE webhook_deliveries d SET status = 'succeeded', attempts = o.n, completed_at = o.attempted_at,
        next_attempt_at = NULL, locked_until = NULL
    FROM o WHERE d.id = ANY ($2) AND d.id = o.delivery_id AND d.merchant_id = o.merchant_id
)
UPDATE webhook_endpoints e SET failing_since = NULL
WHERE e.id = ANY ($3) AND e.failing_since IS NOT NULL`

	// handOver gives a leased delivery to the task queue from now on.
	handOver = `
UPDATE webhook_deliveries SET enqueued_at = coalesce(enqueued_at, $3), locked_until = NULL
WHERE merchant_id = $1 AND id = $2 AND status = 'pending'`

	// selectOverdue pages through pending deliveries due before $1 and
	// not leased at $2, after the key ($3, $4).
	selectOverdue = `
SELECT id, merchant_id, next_attempt_at
FROM webhook_deliveries
WHERE status = 'pending' AND enqueued_at IS NOT NULL AND next_attempt_at < $1
  AND (locked_until IS NULL OR locked_until < $2)
  AND (next_attempt_at, id) > ($3, $4)
ORDER BY next_attempt_at, id
LIMIT $5`

	// purgeFinished deletes up to $2 finished deliveries with ids below $1
	// (made before a cutoff; ids sort by time), oldest first, and their
	// attempts.
	purgeFinished = `
WITH d AS (
    DELETE FROM webhook_deliveries
    WHERE id = ANY (ARRAY(
        SELECT id FROM webhook_deliveries
        WHERE id < $1 AND status <> 'pending'
        ORDER BY id
        LIMIT $2
        FOR UPDATE SKIP LOCKED))
    RETURNING id
), attempts AS (
    DELETE FROM webhook_attempts WHERE delivery_id = ANY (ARRAY(SELECT id FROM d))
)
SELECT count(*) FROM d`

	backlog = `
SELECT count(*), count(*) FILTER (WHERE enqueued_at IS NULL), count(*) FILTER (WHERE next_attempt_at < $1),
    min(created_at), (SELECT count(*) FROM events WHERE notified_at IS NULL)
FROM webhook_deliveries
WHERE status = 'pending'`
)
