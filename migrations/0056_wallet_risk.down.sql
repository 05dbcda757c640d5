ALTER TABLE wallet_payouts DROP COLUMN hold_until;
DROP TABLE wallet_risk;
