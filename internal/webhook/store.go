package webhook

const (
	// recordEvent inserts the event and its deliveries in one statement.
	// A delivery's id is "dlv_" + the timestamp characters of $7 (a fresh
	// id made at the same time as the event) + 16 hexadecimal characters
	// (all in the ids' alphabet) of md5($7 || endpoint id): as
	// unguessable as $7's random part, distinct per endpoint, and cheap.
	// (paylink_random_b32, a SQL function, is planned anew by every
	// statement that calls it, which cost more than the rest of this one.)
	recordEvent = `
WITH ev AS (
    INSERT INTO events (id, merchant_id, type, data, created_at, notified_at)
    VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING id
)
INSERT INTO webhook_deliveries (id, merchant_id, event_id, endpoint_id, next_attempt_at, created_at)
SELECT substr($7::text, 1, 14) || substr(md5($7::text || e.id), 1, 16), $2, ev.id, e.id, $5, $5
FROM ev, webhook_endpoints e
WHERE e.merchant_id = $2 AND e.status = 'enabled' AND e.deleted_at IS NULL
  AND e.events && ARRAY[$3::text, '*']`

	endpointColumns = `id, merchant_id, url, description, events, status, coalesce(disabled_reason, ''),
    previous_secret_expires_at, created_at`

	countEndpoints = `
SELECT count(*) FROM webhook_endpoints WHERE merchant_id = $1 AND deleted_at IS NULL`

	insertEndpoint = `
INSERT INTO webhook_endpoints (id, merchant_id, url, description, events, secret_sealed, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

	selectEndpoint = `
SELECT ` + endpointColumns + `
FROM webhook_endpoints WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL`

	endpointExists = `
SELECT true FROM webhook_endpoints WHERE merchant_id = $1 AND id = $2`

	listEndpoints = `
SELECT ` + endpointColumns + `
FROM webhook_endpoints
WHERE merchant_id = $1 AND deleted_at IS NULL AND ($2 = '' OR id < $2)
ORDER BY id DESC
LIMIT $3`

	// updateEndpoint changes the non-null fields; enabling clears the
	// reason and the failure streak, disabling records the merchant did it.
	updateEndpoint = `
UPDATE webhook_endpoints SET
    url = coalesce($3, url),
    events = coalesce($4, events),
    description = coalesce($5, description),
    status = coalesce($6, status),
    disabled_reason = CASE
        WHEN $6::text IS NULL OR $6 = status THEN disabled_reason
        WHEN $6 = 'enabled' THEN NULL
        ELSE 'merchant' END,
    failing_since = CASE WHEN $6 = 'enabled' AND status <> 'enabled' THEN NULL ELSE failing_since END
WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL
RETURNING ` + endpointColumns

	deleteEndpoint = `
UPDATE webhook_endpoints SET deleted_at = $3
WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL`

	cancelEndpointDeliveries = `
UPDATE webhook_deliveries SET status = 'canceled', completed_at = $3, next_attempt_at = NULL, locked_until = NULL
WHERE merchant_id = $1 AND endpoint_id = $2 AND status = 'pending'`

	// rotateSecret keeps the current secret as the previous one while the
	// overlap lasts ($4 non-null), else forgets it.
	rotateSecret = `
UPDATE webhook_endpoints SET
    previous_secret_sealed = CASE WHEN $4::timestamptz IS NULL THEN NULL ELSE secret_sealed END,
    previous_secret_expires_at = $4,
    secret_sealed = $3
WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL
RETURNING ` + endpointColumns

	eventColumns = `id, merchant_id, type, data, created_at`

	selectEvent = `
SELECT ` + eventColumns + ` FROM events WHERE merchant_id = $1 AND id = $2`

	listEvents = `
SELECT ` + eventColumns + `
FROM events
WHERE merchant_id = $1 AND ($2 = '' OR id < $2) AND ($3 = '' OR type = $3)
ORDER BY id DESC
LIMIT $4`

	deliveryColumns = `id, merchant_id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, completed_at`

	redeliver = `
INSERT INTO webhook_deliveries (id, merchant_id, event_id, endpoint_id, next_attempt_at, created_at)
SELECT substr($6::text, 1, 14) || substr(md5($6::text || e.id), 1, 16), $1, $2, e.id, $5, $5
FROM webhook_endpoints e
WHERE e.merchant_id = $1 AND e.status = 'enabled' AND e.deleted_at IS NULL
  AND (($4 = '' AND e.events && ARRAY[$3::text, '*']) OR e.id = $4)
RETURNING ` + deliveryColumns

	// eventsAbout reads a payment's events and its refunds' (indexes
	// events_object_idx, events_payment_idx).
	eventsAbout = `
SELECT ` + eventColumns + ` FROM events WHERE merchant_id = $1 AND data->>'id' = $2
UNION ALL
SELECT ` + eventColumns + ` FROM events WHERE merchant_id = $1 AND data ? 'payment' AND data->>'payment' = $2
ORDER BY id LIMIT 200`

	deliveriesOfEvents = `
SELECT ` + deliveryColumns + `
FROM webhook_deliveries
WHERE merchant_id = $1 AND event_id = ANY($2)
ORDER BY id`

	listEventDeliveries = `
SELECT ` + deliveryColumns + `
FROM webhook_deliveries
WHERE merchant_id = $1 AND event_id = $2 AND ($3 = '' OR id < $3)
ORDER BY id DESC
LIMIT $4`

	listEndpointDeliveries = `
SELECT ` + deliveryColumns + `
FROM webhook_deliveries
WHERE merchant_id = $1 AND endpoint_id = $2 AND ($3 = '' OR id < $3)
ORDER BY id DESC
LIMIT $4`

	listAttempts = `
SELECT delivery_id, n, attempted_at, status_code, latency_ms, response_body, error
FROM webhook_attempts
WHERE merchant_id = $1 AND delivery_id = ANY($2)
ORDER BY delivery_id, n`

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

	selectUnnotified = `
SELECT ` + eventColumns + `
FROM events
WHERE notified_at IS NULL
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED`

	markNotified = `
UPDATE events SET notified_at = $2 WHERE id = ANY($1)`

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
