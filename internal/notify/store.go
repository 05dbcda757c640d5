package notify

const (
	insertEmail = `
INSERT INTO emails (id, to_addr, subject, body, created_at, html, html_data) VALUES ($1, $2, $3, $4, $5, $6, $7)`

	insertSealedEmail = `
INSERT INTO emails (id, to_addr, subject, body, created_at, body_sealed) VALUES ($1, $2, $3, '', $4, $5)`

	// insertEmailsOnce queues many messages, each only if no e-mail with
	// its dedupe key was queued before; a key given twice queues the first.
	// It returns the keys it queued.
	insertEmailsOnce = `
INSERT INTO emails (id, to_addr, subject, body, html, created_at, dedupe_key, html_data)
SELECT m.id, m.to_addr, m.subject, m.body, nullif(m.html, ''), $6, m.dedupe_key, m.html_data
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $7::text[], $8::json[])
    WITH ORDINALITY AS m(id, to_addr, subject, body, html, dedupe_key, html_data, n)
ORDER BY m.n
ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
RETURNING dedupe_key`

	selectUnrelayed = `
SELECT id FROM emails
WHERE enqueued_at IS NULL AND sent_at IS NULL AND failed_at IS NULL
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED`

	markRelayed = `
UPDATE emails SET enqueued_at = $2 WHERE id = ANY($1)`

	// selectStale pages through unsent e-mails handed to the task queue
	// before $1, after id $2.
	selectStale = `
SELECT id FROM emails
WHERE sent_at IS NULL AND failed_at IS NULL AND enqueued_at < $1 AND id > $2
ORDER BY id
LIMIT $3`

	selectEmail = `
SELECT to_addr, subject, body, coalesce(html, ''), html_data, body_sealed, created_at,
    sent_at IS NOT NULL OR failed_at IS NOT NULL
FROM emails WHERE id = $1`

	markSent = `
UPDATE emails SET sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1`

	markAttemptFailed = `
UPDATE emails SET attempts = attempts + 1, last_error = $2 WHERE id = $1`

	markFailed = `
UPDATE emails SET failed_at = $2, attempts = attempts + 1, last_error = $3 WHERE id = $1`

	// purgeDone deletes up to $2 e-mails with ids below $1 (made before a
	// cutoff) that were sent or given up on, oldest first.
	purgeDone = `
DELETE FROM emails WHERE id = ANY (ARRAY(
    SELECT id FROM emails
    WHERE id < $1 AND (sent_at IS NOT NULL OR failed_at IS NOT NULL)
    ORDER BY id
    LIMIT $2
    FOR UPDATE SKIP LOCKED))`

	backlog = `
SELECT count(*), count(*) FILTER (WHERE enqueued_at IS NULL), min(created_at)
FROM emails WHERE sent_at IS NULL AND failed_at IS NULL`

	// countQuotas counts $3[i] e-mails for scope $1[i] in the window
	// starting at $2[i] and returns each window's count.
	countQuotas = `
INSERT INTO email_quotas AS q (scope, window_start, sent, updated_at)
SELECT c.scope, c.window_start, c.n, $4
FROM unnest($1::text[], $2::timestamptz[], $3::int[]) WITH ORDINALITY AS c(scope, window_start, n, i)
ORDER BY c.i
ON CONFLICT (scope, window_start) DO UPDATE SET sent = q.sent + excluded.sent, updated_at = excluded.updated_at
RETURNING scope, window_start, sent`

	holdBack = `
UPDATE emails SET failed_at = $2, last_error = $3 WHERE dedupe_key = ANY($1) AND sent_at IS NULL`

	deleteQuotas = `DELETE FROM email_quotas WHERE window_start < $1`
)
