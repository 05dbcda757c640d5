package webhook

const (
	// recordEvent inserts the event and its deliveries in one statement.
	// A delivery's id is "dlv_" + the timestamp characters of $7 (a fresh
	// id made at the same time as the event) + 16 hexadecimal characters
	// (all in the ids' alphabet) of md5($7 || endpoint id): as
	// unguessable as $7's random part, distinct per endpoint, and cheap.
	// (A SQL function making random ids, as 0003 had, is planned anew by
	// every statement that calls it, which cost more than the rest of this
	// one.)
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

	selectEndpoints = `SELECT ` + endpointColumns + ` FROM webhook_endpoints`

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

	selectEvents = `SELECT ` + eventColumns + ` FROM events`

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

	selectDeliveries = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries`

	listAttempts = `
SELECT delivery_id, n, attempted_at, status_code, latency_ms, response_body, error
FROM webhook_attempts
WHERE merchant_id = $1 AND delivery_id = ANY($2)
ORDER BY delivery_id, n`

	selectUnnotified = `
SELECT ` + eventColumns + `
FROM events
WHERE notified_at IS NULL
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED`

	markNotified = `
UPDATE events SET notified_at = $2 WHERE id = ANY($1)`
)
