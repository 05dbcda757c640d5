ALTER TABLE payments
    DROP CONSTRAINT payments_row_valid,
    ADD CONSTRAINT payments_amount_check CHECK (amount > 0),
    ADD CONSTRAINT payments_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    ADD CONSTRAINT payments_status_check
        CHECK (status IN ('requires_action', 'processing', 'succeeded', 'failed', 'canceled')),
    ADD CONSTRAINT payments_card_last4_check CHECK (card_last4 ~ '^[0-9]{4}$'),
    ADD CONSTRAINT payments_challenge_outcome_check CHECK (challenge_outcome IN ('approve', 'fail')),
    ADD CONSTRAINT payments_merchant_reference_check CHECK (merchant_reference ~ '^[A-Za-z0-9._:-]{1,64}$'),
    ADD CONSTRAINT payments_one_source CHECK (num_nonnulls(payment_link_id, payment_form_id, merchant_reference) <= 1),
    ADD CONSTRAINT payments_refund_only_succeeded CHECK (amount_refunded = 0 OR status = 'succeeded'),
    ADD CONSTRAINT payments_wallet_user CHECK ((method_type = 'wallet') = (wallet_user_id IS NOT NULL));
DROP FUNCTION payments_row_valid(payments);
