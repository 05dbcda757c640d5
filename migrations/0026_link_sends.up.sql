-- Payment links sent by e-mail, and their reminders (issue 16). A row is
-- one sending to one recipient; next_reminder_at is when its next
-- reminder is due (NULL: none left).
CREATE TABLE link_sends (
    id               text PRIMARY KEY,
    merchant_id      text NOT NULL REFERENCES merchants (id),
    link_id          text NOT NULL REFERENCES payment_links (id),
    email            text NOT NULL,
    reminders        boolean NOT NULL,
    created_at       timestamptz NOT NULL,
    next_reminder_at timestamptz,
    reminders_sent   integer NOT NULL DEFAULT 0
);
CREATE INDEX link_sends_link_idx ON link_sends (link_id, created_at);
CREATE INDEX link_sends_recipient_idx ON link_sends (merchant_id, email, created_at);
CREATE INDEX link_sends_due_idx ON link_sends (next_reminder_at) WHERE next_reminder_at IS NOT NULL;
