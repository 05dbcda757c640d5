ALTER TABLE wallet_transactions ADD CONSTRAINT wallet_transactions_counterparty_merchant_id_fkey
    FOREIGN KEY (counterparty_merchant_id) REFERENCES merchants (id);
ALTER TABLE events ADD CONSTRAINT events_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES merchants (id);
