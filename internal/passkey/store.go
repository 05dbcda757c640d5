package passkey

const (
	insertPasskey = `
INSERT INTO passkeys (id, user_id, credential_id, credential, sign_count, name, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

	selectPasskeys = `
SELECT id, user_id, name, created_at, last_used_at, credential, sign_count
FROM passkeys WHERE user_id = $1 ORDER BY id`

	countPasskeys = `SELECT count(*) FROM passkeys WHERE user_id = $1`

	lockUserPasskeys = `SELECT pg_advisory_xact_lock(hashtextextended('passkeys:' || $1, 0))`

	deletePasskey = `DELETE FROM passkeys WHERE user_id = $1 AND id = $2`

	renamePasskey = `
UPDATE passkeys SET name = $3 WHERE user_id = $1 AND id = $2
RETURNING id, user_id, name, created_at, last_used_at`

	// updateUse advances the sign counter only upwards (or keeps 0 for
	// authenticators that have none).
	updateUse = `
UPDATE passkeys SET sign_count = $2, credential = $3, last_used_at = $4
WHERE id = $1 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))`

	insertChallenge = `
INSERT INTO webauthn_challenges (challenge, purpose, user_id, session, nonce, action, amount, currency, payee, expires_at, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

	takeChallenge = `
DELETE FROM webauthn_challenges
WHERE challenge = $1 AND purpose = $2 AND expires_at > $3
RETURNING user_id, session, nonce, action, amount, currency, payee`

	deleteExpiredChallenges = `DELETE FROM webauthn_challenges WHERE expires_at <= $1`
)
