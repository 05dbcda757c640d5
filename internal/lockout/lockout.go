// Package lockout limits how many guesses of a secret may be checked per
// subject (an account's e-mail address), whatever the concurrency: an
// attempt is reserved in PostgreSQL before its slow check runs, and the
// reservation's own count decides whether it may run. At most
// Config.MaxAttempts checks run per subject per window; the attempt after
// them locks the subject for Config.Lockout, and every attempt in the lock,
// right or wrong, is refused without being checked.
//
// Every password log-in goes through a Guard. The wallet's log-in uses the
// subject "wallet:<e-mail>"; the merchant dashboard's log-in should use
// "merchant:<e-mail>" and call it the same way:
//
//	email, err := merchant.NormalizeEmail(in.Email)
//	if err != nil {
//		// no account can have it: spend the same work, answer the same 401
//	}
//	att, err := guard.Reserve(ctx, "merchant:"+email)
//	if err != nil {
//		return err // *LockedError: 429 account_locked, Retry-After from RetryAfter
//	}
//	ok, err := hasher.Verify(ctx, in.Password, storedHash) // or VerifyNone for an unknown e-mail
//	if err != nil {
//		att.Abandon(ctx) // nothing was checked (e.g. password.ErrBusy); give the attempt back
//		return err
//	}
//	if !ok {
//		return errInvalidCredentials // the reservation already counted the failure
//	}
//	if err := att.Succeeded(ctx); err != nil {
//		return err
//	}
//
// Reserve before looking the account up, so an address nobody has is
// locked exactly like one that exists.
package lockout

import (
	"context"
	"fmt"
	"time"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/postgres"
)

// ErrLocked is what every attempt on a locked subject gets (429).
var ErrLocked = &apperr.Error{Kind: apperr.RateLimited, Code: "account_locked",
	Message: "Too many failed log-ins; try again after the number of seconds in Retry-After."}

// LockedError is ErrLocked with the time the lock ends.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "locked until " + e.Until.UTC().Format(time.RFC3339)
}

// Unwrap makes errors.Is(err, ErrLocked) and apperr matching work.
func (e *LockedError) Unwrap() error { return ErrLocked }

// RetryAfter is how long the lock still lasts at now.
func (e *LockedError) RetryAfter(now time.Time) time.Duration { return e.Until.Sub(now) }

// Config is how many checks a subject gets per window, and how long it is
// locked after them. The window is as long as the lock: a subject gets at
// most MaxAttempts checks every Lockout.
type Config struct {
	MaxAttempts int
	Lockout     time.Duration
}

// Guard reserves attempts in PostgreSQL.
type Guard struct {
	db  *postgres.DB
	cfg Config
	now func() time.Time
}

// New returns a Guard storing its counts in db.
func New(db *postgres.DB, cfg Config, now func() time.Time) *Guard {
	return &Guard{db: db, cfg: cfg, now: now}
}

// Attempt is one reserved check of a subject's secret.
type Attempt struct {
	g           *Guard
	subject     string
	seq         int       // the subject's count once this attempt was reserved
	windowStart time.Time // the window it was counted in
}

// Reserve counts one attempt for subject and reports whether its secret
// may be checked. The count is one atomic statement, so concurrent
// attempts get distinct places and at most MaxAttempts of a window pass.
// It returns a *LockedError when the subject is locked, or becomes locked
// by this attempt.
func (g *Guard) Reserve(ctx context.Context, subject string) (Attempt, error) {
	now := g.now().UTC()
	var (
		a           = Attempt{g: g, subject: subject}
		lockedUntil *time.Time
	)
	err := g.db.Pool.QueryRow(ctx, reserve, subject, now, g.cfg.MaxAttempts, now.Add(-g.cfg.Lockout), now.Add(g.cfg.Lockout)).
		Scan(&a.seq, &a.windowStart, &lockedUntil)
	if err != nil {
		return Attempt{}, fmt.Errorf("reserve log-in attempt: %w", err)
	}
	if lockedUntil != nil && lockedUntil.After(now) {
		return Attempt{}, &LockedError{Until: *lockedUntil}
	}
	return a, nil
}

// Succeeded records that the secret was right: the subject's count starts
// again, unless other attempts were reserved after this one (they may be
// guesses racing a success, and must stay counted) or a lock is in force.
func (a Attempt) Succeeded(ctx context.Context) error {
	if _, err := a.g.db.Pool.Exec(ctx, clearIfLast, a.subject, a.seq, a.windowStart); err != nil {
		return fmt.Errorf("clear log-in attempts: %w", err)
	}
	return nil
}

// Abandon gives back an attempt whose secret was never checked (the
// server was too busy, say), so the user is not locked out by retries
// that checked nothing. It does nothing once the subject is locked or
// its window has passed.
func (a Attempt) Abandon(ctx context.Context) error {
	if _, err := a.g.db.Pool.Exec(ctx, giveBack, a.subject, a.windowStart); err != nil {
		return fmt.Errorf("give back log-in attempt: %w", err)
	}
	return nil
}

// Clear forgets subject's count and lifts its lock, in db (a
// transaction, say): for when the owner has proved the account theirs
// another way, such as a password reset link e-mailed to them.
func Clear(ctx context.Context, db postgres.DBTX, subject string) error {
	if _, err := db.Exec(ctx, clear, subject); err != nil {
		return fmt.Errorf("clear log-in attempts: %w", err)
	}
	return nil
}

// DeleteStale removes the counts of subjects with no lock in force at now
// whose window started before cutoff, for the periodic clean-up; pass a
// cutoff at least one lock-out duration back.
func DeleteStale(ctx context.Context, db postgres.DBTX, now, cutoff time.Time) (int64, error) {
	tag, err := db.Exec(ctx, deleteStale, now, cutoff)
	if err != nil {
		return 0, fmt.Errorf("delete stale log-in attempts: %w", err)
	}
	return tag.RowsAffected(), nil
}
