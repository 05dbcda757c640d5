-- Top-ups whose card asks for the issuer's challenge wait in
-- requires_action (migration 0030 allows the status); the worker cancels
-- those nobody answered in time, found through this index.
CREATE INDEX wallet_transactions_waiting_topups_idx ON wallet_transactions (created_at)
    WHERE status = 'requires_action' AND type = 'topup';
