CREATE TABLE login_failures (
    email         text PRIMARY KEY,
    failures      integer NOT NULL CHECK (failures >= 0),
    locked_until  timestamptz,
    updated_at    timestamptz NOT NULL
);

INSERT INTO login_failures (email, failures, locked_until, updated_at)
SELECT substr(subject, 8), attempts, locked_until, updated_at FROM auth_attempts WHERE subject LIKE 'wallet:%';

DROP TABLE auth_attempts;
