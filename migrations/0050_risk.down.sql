DROP TABLE reviews;
DROP TABLE risk_versions;
DROP TABLE risk_list_items;
DROP TABLE risk_rules;
DROP TABLE payment_risk;
