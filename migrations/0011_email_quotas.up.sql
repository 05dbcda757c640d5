-- Shopper e-mails counted per recipient ("to:<address>") and per merchant
-- ("merchant:<id>") in fixed windows (package notify, ShopperLimits).
CREATE TABLE email_quotas (
    scope         text NOT NULL,
    window_start  timestamptz NOT NULL,
    sent          integer NOT NULL CHECK (sent > 0),
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (scope, window_start)
);
CREATE INDEX email_quotas_window_start_idx ON email_quotas (window_start);
