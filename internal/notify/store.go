package notify

const (
	insertEmail = `
INSERT INTO emails (id, to_addr, subject, body, created_at, html) VALUES ($1, $2, $3, $4, $5, $6)`

	insertEmailOnce = `
INSERT INTO emails (id, to_addr, subject, body, created_at, dedupe_key, html) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING`

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
SELECT to_addr, subject, body, coalesce(html, ''), created_at, sent_at IS NOT NULL OR failed_at IS NOT NULL
FROM emails WHERE id = $1`

	markSent = `
UPDATE emails SET sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1`

	markAttemptFailed = `
UPDATE emails SET attempts = attempts + 1, last_error = $2 WHERE id = $1`

	markFailed = `
UPDATE emails SET failed_at = $2, attempts = attempts + 1, last_error = $3 WHERE id = $1`

	backlog = `
SELECT count(*), count(*) FILTER (WHERE enqueued_at IS NULL), min(created_at)
FROM emails WHERE sent_at IS NULL AND failed_at IS NULL`
)
