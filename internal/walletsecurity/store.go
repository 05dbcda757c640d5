package walletsecurity

const (
	insertNotification = `
INSERT INTO wallet_notifications (id, user_id, type, message, created_at) VALUES ($1, $2, $3, $4, $5)`

	updatePassword = `UPDATE users SET password_hash = $2 WHERE id = $1`

	lockUser = `SELECT id FROM users WHERE id = $1 FOR UPDATE`

	insertReset = `
INSERT INTO wallet_password_resets (id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`

	countRecentResets = `SELECT count(*) FROM wallet_password_resets WHERE user_id = $1 AND created_at > $2`

	selectReset = `SELECT user_id, expires_at, used_at FROM wallet_password_resets WHERE token_hash = $1`

	deleteExpiredResets = `DELETE FROM wallet_password_resets WHERE expires_at < $1`

	voidResets = `UPDATE wallet_password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL`
)
