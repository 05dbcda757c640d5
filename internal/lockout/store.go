package lockout

const (
	// reserve counts one attempt for $1 at $2. A lock in force ($2 before
	// locked_until) is left as it is. A spent lock, or a window that
	// started at or before $4, starts a new window with this attempt. An
	// attempt past the $3 allowed in a window locks the subject until $5.
	reserve = `
INSERT INTO auth_attempts AS a (subject, attempts, window_start, locked_until, updated_at)
VALUES ($1, 1, $2, CASE WHEN 1 > $3 THEN $5::timestamptz END, $2)
ON CONFLICT (subject) DO UPDATE SET
    attempts = CASE
        WHEN a.locked_until > $2 THEN a.attempts
        WHEN a.locked_until IS NOT NULL OR a.window_start <= $4 THEN 1
        ELSE a.attempts + 1 END,
    window_start = CASE
        WHEN a.locked_until > $2 THEN a.window_start
        WHEN a.locked_until IS NOT NULL OR a.window_start <= $4 THEN $2
        ELSE a.window_start END,
    locked_until = CASE
        WHEN a.locked_until > $2 THEN a.locked_until
        WHEN a.locked_until IS NULL AND a.window_start > $4 AND a.attempts + 1 > $3 THEN $5::timestamptz
        END,
    updated_at = $2
RETURNING attempts, window_start, locked_until`

	// clearIfLast forgets $1's count when the attempt that saw count $2 in
	// the window of $3 is still the latest and no lock is in force.
	clearIfLast = `
DELETE FROM auth_attempts WHERE subject = $1 AND attempts = $2 AND window_start = $3 AND locked_until IS NULL`

	giveBack = `
UPDATE auth_attempts SET attempts = attempts - 1
WHERE subject = $1 AND window_start = $2 AND locked_until IS NULL AND attempts > 0`

	clear = `DELETE FROM auth_attempts WHERE subject = $1`

	deleteStale = `
DELETE FROM auth_attempts WHERE (locked_until IS NULL OR locked_until <= $1) AND window_start < $2`
)
