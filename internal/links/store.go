package links

const linkColumns = `id, merchant_id, amount, currency, description, single_use, status,
       success_url, cancel_url, metadata, expires_at, created_at, completed_at, deactivated_at, realm`

const (
	// insertLink inserts nothing when the merchant does not accept the
	// currency.
	insertLink = `
INSERT INTO payment_links (id, merchant_id, amount, currency, description, single_use,
                           success_url, cancel_url, metadata, expires_at, created_at, realm)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12
WHERE paylink_merchant_accepts($2, $4, NULL, NULL)`

	selectLink = `SELECT ` + linkColumns + ` FROM payment_links WHERE merchant_id = $1 AND id = $2`

	openLink = `
SELECT l.id, l.merchant_id, l.amount, l.currency, l.description, l.single_use, l.status,
       l.success_url, l.cancel_url, l.metadata, l.expires_at, l.created_at, l.completed_at, l.deactivated_at, l.realm,
       m.name, m.currencies, m.payment_methods, m.card_brands
FROM payment_links l JOIN merchants m ON m.id = l.merchant_id
WHERE l.id = $1`

	selectLinks = `SELECT ` + linkColumns + ` FROM payment_links`

	deactivateLink = `
UPDATE payment_links SET status = 'deactivated', deactivated_at = $3
WHERE merchant_id = $1 AND id = $2 AND status = 'active' AND expires_at > $3
RETURNING ` + linkColumns

	completeLink = `
UPDATE payment_links SET status = 'completed', completed_at = $3
WHERE merchant_id = $1 AND id = $2 AND status = 'active' AND expires_at > $3`

	selectLinkState = `SELECT status, expires_at FROM payment_links WHERE merchant_id = $1 AND id = $2`

	expireDue = `
UPDATE payment_links SET status = 'expired'
WHERE id IN (SELECT id FROM payment_links
             WHERE status = 'active' AND expires_at <= $1
             ORDER BY expires_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED)
RETURNING ` + linkColumns
)
