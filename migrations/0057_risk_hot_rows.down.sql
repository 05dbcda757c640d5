ALTER TABLE payment_risk
    ADD CONSTRAINT payment_risk_payment_id_fkey FOREIGN KEY (payment_id) REFERENCES payments (id),
    ADD CONSTRAINT payment_risk_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES merchants (id);
ALTER TABLE reviews
    ADD CONSTRAINT reviews_payment_id_fkey FOREIGN KEY (payment_id) REFERENCES payments (id),
    ADD CONSTRAINT reviews_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES merchants (id);
