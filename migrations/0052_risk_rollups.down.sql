DROP INDEX refunds_merchant_fraud_idx;
DROP TABLE risk_rollup_watermark;
DROP TABLE risk_daily;
