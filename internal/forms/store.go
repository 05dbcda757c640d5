package forms

const formColumns = `id, merchant_id, title, description, currency, amount, amount_min, amount_max, collect,
       allowed_origins, success_url, metadata, status, created_at, deactivated_at`

const (
	insertForm = `
INSERT INTO payment_forms (id, merchant_id, title, description, currency, amount, amount_min, amount_max,
                           collect, allowed_origins, success_url, metadata, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

	selectForm = `SELECT ` + formColumns + ` FROM payment_forms WHERE merchant_id = $1 AND id = $2`

	openForm = `
SELECT f.id, f.merchant_id, f.title, f.description, f.currency, f.amount, f.amount_min, f.amount_max, f.collect,
       f.allowed_origins, f.success_url, f.metadata, f.status, f.created_at, f.deactivated_at, m.name
FROM payment_forms f JOIN merchants m ON m.id = f.merchant_id
WHERE f.id = $1`

	listForms = `
SELECT ` + formColumns + ` FROM payment_forms
WHERE merchant_id = $1 AND ($2 = '' OR id < $2) AND ($3 = '' OR status = $3)
ORDER BY id DESC
LIMIT $4`

	deactivateForm = `
UPDATE payment_forms SET status = 'inactive', deactivated_at = $3
WHERE merchant_id = $1 AND id = $2 AND status = 'active'
RETURNING ` + formColumns

	selectFormStatus = `SELECT status FROM payment_forms WHERE merchant_id = $1 AND id = $2`
)
