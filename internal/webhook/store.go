package webhook

const insertEvent = `
INSERT INTO events (id, merchant_id, type, data, created_at) VALUES ($1, $2, $3, $4, $5)`
