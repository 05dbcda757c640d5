-- Log-in attempts per subject ("wallet:<e-mail>", later "merchant:<e-mail>"),
-- reserved before the password is checked (package lockout): attempts in
-- the window that started at window_start, and the lock they led to.
-- Replaces login_failures, which counted failures after the check, so
-- parallel guesses all got checked.
CREATE TABLE auth_attempts (
    subject       text PRIMARY KEY,
    attempts      integer NOT NULL CHECK (attempts >= 0),
    window_start  timestamptz NOT NULL,
    locked_until  timestamptz,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX auth_attempts_window_start_idx ON auth_attempts (window_start);

INSERT INTO auth_attempts (subject, attempts, window_start, locked_until, updated_at)
SELECT 'wallet:' || email, failures, updated_at, locked_until, updated_at FROM login_failures;

DROP TABLE login_failures;
