package passkey

// queries are one audience's statements: the same SQL over its own tables.
type queries struct {
	insertPasskey, selectPasskeys, countPasskeys, lockPasskeys, deletePasskey, renamePasskey, updateUse,
	insertChallenge, takeChallenge string
}

// queriesOf returns a's statements.
func queriesOf(a Audience) queries {
	if a == Merchants {
		return queries{insertPasskey: insertMerchantPasskey, selectPasskeys: selectMerchantPasskeys,
			countPasskeys: countMerchantPasskeys, lockPasskeys: lockMerchantPasskeys, deletePasskey: deleteMerchantPasskey,
			renamePasskey: renameMerchantPasskey, updateUse: updateMerchantUse, insertChallenge: insertMerchantChallenge,
			takeChallenge: takeMerchantChallenge}
	}
	return queries{insertPasskey: insertPasskey, selectPasskeys: selectPasskeys, countPasskeys: countPasskeys,
		lockPasskeys: lockUserPasskeys, deletePasskey: deletePasskey, renamePasskey: renamePasskey, updateUse: updateUse,
		insertChallenge: insertChallenge, takeChallenge: takeChallenge}
}

// Wallet users' passkeys and ceremonies.
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
INSERT INTO webauthn_challenges (challenge, purpose, user_id, session, nonce, action, amount, currency, payee, expires_at, created_at, stepped_up)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`

	takeChallenge = `
DELETE FROM webauthn_challenges
WHERE challenge = $1 AND purpose = $2 AND expires_at > $3
RETURNING user_id, session, nonce, action, amount, currency, payee, stepped_up`

	deleteExpiredChallenges = `DELETE FROM webauthn_challenges WHERE expires_at <= $1`
)

// Merchants' passkeys and ceremonies (migration 0054): the statements
// above on the merchant tables.
const (
	insertMerchantPasskey = `
INSERT INTO merchant_passkeys (id, merchant_id, credential_id, credential, sign_count, name, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

	selectMerchantPasskeys = `
SELECT id, merchant_id, name, created_at, last_used_at, credential, sign_count
FROM merchant_passkeys WHERE merchant_id = $1 ORDER BY id`

	countMerchantPasskeys = `SELECT count(*) FROM merchant_passkeys WHERE merchant_id = $1`

	lockMerchantPasskeys = `SELECT pg_advisory_xact_lock(hashtextextended('merchant_passkeys:' || $1, 0))`

	deleteMerchantPasskey = `DELETE FROM merchant_passkeys WHERE merchant_id = $1 AND id = $2`

	renameMerchantPasskey = `
UPDATE merchant_passkeys SET name = $3 WHERE merchant_id = $1 AND id = $2
RETURNING id, merchant_id, name, created_at, last_used_at`

	updateMerchantUse = `
UPDATE merchant_passkeys SET sign_count = $2, credential = $3, last_used_at = $4
WHERE id = $1 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))`

	insertMerchantChallenge = `
INSERT INTO merchant_webauthn_challenges (challenge, purpose, merchant_id, session, nonce, action, amount, currency, payee, expires_at, created_at, stepped_up)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`

	takeMerchantChallenge = `
DELETE FROM merchant_webauthn_challenges
WHERE challenge = $1 AND purpose = $2 AND expires_at > $3
RETURNING merchant_id, session, nonce, action, amount, currency, payee, stepped_up`

	deleteExpiredMerchantChallenges = `DELETE FROM merchant_webauthn_challenges WHERE expires_at <= $1`
)
