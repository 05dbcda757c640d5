package notify

const insertEmail = `
INSERT INTO emails (id, to_addr, subject, body, created_at) VALUES ($1, $2, $3, $4, $5)`
