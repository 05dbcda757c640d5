-- Issue 22: versions of the risk model refitted from the platform's own
-- fraud labels (paylink risk train). At most one is active; the engine
-- scores with it, and with the shipped default while none is.
CREATE TABLE risk_models (
    version        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bias           double precision NOT NULL,
    weights        jsonb NOT NULL,
    reason_at      double precision NOT NULL,
    -- held-out AUC of this model, and of the model active when it was
    -- trained (on the same held-out payments)
    auc            double precision NOT NULL,
    previous_auc   double precision NOT NULL,
    fraud_count    integer NOT NULL,
    legit_count    integer NOT NULL,
    heldout_count  integer NOT NULL,
    created_at     timestamptz NOT NULL,
    active         boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX risk_models_one_active ON risk_models (active) WHERE active;
