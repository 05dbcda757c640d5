-- GET /v1/risk/rules and /v1/risk/lists/{list}/items are pages, newest
-- first, like every list of the API: each reads its owner's index.
CREATE INDEX risk_rules_newest_idx ON risk_rules (merchant_id, id DESC);
CREATE INDEX risk_list_items_newest_idx ON risk_list_items (merchant_id, list, id DESC);
