package forms

const formColumns = `id, merchant_id, title, description, currency, amount, amount_min, amount_max, collect,
       allowed_origins, success_url, metadata, status, created_at, deactivated_at, realm`

const (
	// insertForm inserts nothing when the merchant does not accept the
	// currency.
	insertForm = `
INSERT INTO payment_forms (id, merchant_id, title, description, currency, amount, amount_min, amount_max,
                           collect, allowed_origins, success_url, metadata, created_at, realm)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
WHERE paylink_merchant_accepts($2, $5, NULL, NULL)`

	selectForm = `SELECT ` + formColumns + ` FROM payment_forms WHERE merchant_id = $1 AND id = $2`

	openForm = `
SELECT f.id, f.merchant_id, f.title, f.description, f.currency, f.amount, f.amount_min, f.amount_max, f.collect,
       f.allowed_origins, f.success_url, f.metadata, f.status, f.created_at, f.deactivated_at, f.realm,
       m.name, m.currencies, m.payment_methods, m.card_brands
FROM payment_forms f JOIN merchants m ON m.id = f.merchant_id
WHERE f.id = $1`

	selectForms = `SELECT ` + formColumns + ` FROM payment_forms`

	deactivateForm = `
UPDATE payment_forms SET status = 'inactive', deactivated_at = $3
WHERE merchant_id = $1 AND id = $2 AND status = 'active'
RETURNING ` + formColumns

	lockForm = selectForm + ` FOR UPDATE`

	// updateForm changes nothing when the form is inactive or the merchant
	// does not accept the currency.
	updateForm = `
UPDATE payment_forms SET title = $3, description = $4, currency = $5, amount = $6, amount_min = $7, amount_max = $8,
       collect = $9, allowed_origins = $10, success_url = $11, metadata = $12, realm = $13
WHERE merchant_id = $1 AND id = $2 AND status = 'active' AND paylink_merchant_accepts($1, $5, NULL, NULL)
RETURNING ` + formColumns

	selectFormStatus = `SELECT status FROM payment_forms WHERE merchant_id = $1 AND id = $2`
)
