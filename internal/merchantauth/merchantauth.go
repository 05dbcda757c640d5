// Package merchantauth logs merchants in to the dashboard: the password
// check (Argon2id through the process's password.Hasher, each attempt
// reserved first with the lock-out subject "merchant:<e-mail>", package
// lockout), the passkey log-in (package passkey's merchants, counted in
// the same lock-out), the sessions a log-in starts, password changes and
// e-mailed single-use reset links (password.go), and the e-mails telling
// a merchant a passkey was added or removed or its password changed. A session ends at an absolute
// expiry, after an idle gap, or when revoked (log-out, log-out everywhere,
// or revoked from the list of sessions); PostgreSQL decides on every
// request, so a revocation applies at once on every replica.
//
// A session only ever names its merchant: it is not an API key and has no
// scopes; every read the dashboard makes with it is scoped by that
// merchant's id.
package merchantauth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/lockout"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/password"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/seal"
)

// Errors of log-in and sessions.
var (
	ErrInvalidCredentials = &apperr.Error{Kind: apperr.Unauthenticated, Code: "invalid_credentials",
		Message: "The e-mail or password is wrong."}
	ErrLoginRequired = &apperr.Error{Kind: apperr.Unauthenticated, Code: "login_required",
		Message: "Log in to the dashboard first; the session is missing, expired or logged out."}
	ErrSessionNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "session_not_found", Message: "No such session."}
)

// Log-in methods of sessions.
const (
	MethodPassword = "password"
	MethodPasskey  = "passkey"
)

// Defaults of Config.
const (
	DefaultIdle     = 30 * time.Minute
	DefaultAbsolute = 12 * time.Hour
)

// Config is how sessions last and how log-ins are limited.
type Config struct {
	Idle, Absolute time.Duration // 0: DefaultIdle, DefaultAbsolute
	MaxFailures    int           // checks per Lockout window (lockout.Config)
	Lockout        time.Duration
	Passwords      *password.Hasher
	Keys           *seal.Keyring // seals reset links in the e-mail outbox (notify.QueueSealed)
}

// Service checks passwords and keeps sessions.
type Service struct {
	db    *postgres.DB
	cfg   Config
	guard *lockout.Guard
	now   func() time.Time
}

// New returns a Service on db.
func New(db *postgres.DB, cfg Config, now func() time.Time) *Service {
	if cfg.Idle == 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.Absolute == 0 {
		cfg.Absolute = DefaultAbsolute
	}
	return &Service{db: db, cfg: cfg, now: now,
		guard: lockout.New(db, lockout.Config{MaxAttempts: cfg.MaxFailures, Lockout: cfg.Lockout}, now)}
}

// Session is a live dashboard log-in of MerchantID.
type Session struct {
	ID, MerchantID, Method, UserAgent string
	CreatedAt, LastSeenAt, ExpiresAt  time.Time
	// IdleUntil is when the session ends unless used before.
	IdleUntil time.Time
}

// CheckPassword verifies a log-in and returns the merchant's id. Every
// wrong answer is ErrInvalidCredentials after the same Argon2id work,
// whether the e-mail exists or not. The attempt is reserved with the
// lock-out subject "merchant:<e-mail>" before anything is looked up, so
// at most Config.MaxFailures checks run per window whatever the
// concurrency; past them every attempt gets a *lockout.LockedError.
func (s *Service) CheckPassword(ctx context.Context, email, pw string) (string, error) {
	email, err := merchant.NormalizeEmail(email)
	if err != nil {
		if err := s.cfg.Passwords.VerifyNone(ctx, pw); err != nil {
			return "", err
		}
		return "", ErrInvalidCredentials
	}
	att, err := s.guard.Reserve(ctx, "merchant:"+email)
	if err != nil {
		return "", err
	}
	mid, ok, err := s.verify(ctx, email, pw)
	if err != nil {
		if aerr := att.Abandon(context.WithoutCancel(ctx)); aerr != nil {
			return "", errors.Join(err, aerr)
		}
		return "", err
	}
	if !ok {
		return "", ErrInvalidCredentials
	}
	if err := att.Succeeded(ctx); err != nil {
		return "", err
	}
	return mid, nil
}

// CheckPasskey verifies a passkey log-in, an assertion answering a
// BeginLogin challenge of pk (the merchants' passkey.Service), and
// returns the merchant's id. When the assertion's user handle names a
// merchant, an attempt is reserved with that merchant's lock-out subject
// first, as for a password: a locked merchant cannot log in with a
// passkey either, and a failed assertion counts (an internal error gives
// the attempt back). It returns passkey's errors (ErrAssertionInvalid for
// any passkey that is not a merchant's) or a *lockout.LockedError.
func (s *Service) CheckPasskey(ctx context.Context, pk *passkey.Service, assertion []byte) (string, error) {
	claimed, err := passkey.ClaimedOwner(assertion)
	if err != nil {
		return "", err
	}
	email, err := merchant.LoginEmail(ctx, s.db.Pool, claimed)
	switch {
	case errors.Is(err, merchant.ErrNotFound):
		return "", passkey.ErrAssertionInvalid // a wallet user's passkey, or none at all
	case err != nil:
		return "", err
	}
	att, err := s.guard.Reserve(ctx, "merchant:"+email)
	if err != nil {
		return "", err
	}
	var mid string
	err = s.db.WithTx(ctx, func(tx pgx.Tx) error {
		var err error
		mid, err = pk.FinishLogin(ctx, tx, assertion)
		return err
	})
	if ae := (*apperr.Error)(nil); err != nil && !errors.As(err, &ae) {
		if aerr := att.Abandon(context.WithoutCancel(ctx)); aerr != nil {
			return "", errors.Join(err, aerr)
		}
	}
	if err != nil {
		return "", err
	}
	if err := att.Succeeded(ctx); err != nil {
		return "", err
	}
	return mid, nil
}

// verify checks pw against the merchant of email, or spends the same work
// when there is none.
func (s *Service) verify(ctx context.Context, email, pw string) (string, bool, error) {
	mid, hash, err := merchant.PasswordHash(ctx, s.db.Pool, email)
	switch {
	case errors.Is(err, merchant.ErrNotFound):
		return "", false, s.cfg.Passwords.VerifyNone(ctx, pw)
	case err != nil:
		return "", false, err
	}
	ok, err := s.cfg.Passwords.Verify(ctx, pw, hash)
	if err != nil {
		return "", false, fmt.Errorf("verify password of %s: %w", mid, err)
	}
	return mid, ok, nil
}

// Start stores a new session of merchantID in tx and returns its cookie
// token, "<session id>.<secret>", and its absolute expiry. Only the
// secret's SHA-256 is stored.
func (s *Service) Start(ctx context.Context, tx pgx.Tx, merchantID, method, userAgent string) (string, time.Time, error) {
	now := s.now().UTC()
	sid := id.NewAt("mses", now)
	enc := newSecret()
	exp := now.Add(s.cfg.Absolute)
	if len(userAgent) > 200 {
		userAgent = userAgent[:200]
	}
	if _, err := tx.Exec(ctx, insertSession, sid, merchantID, tokenHash(enc), method, userAgent, now, exp); err != nil {
		return "", time.Time{}, fmt.Errorf("insert merchant session: %w", err)
	}
	return sid + "." + enc, exp, nil
}

// Authenticate returns the live session of token and marks it used now,
// which pushes its idle end back. It returns ErrLoginRequired for a
// malformed, unknown, revoked, idle or expired session.
func (s *Service) Authenticate(ctx context.Context, token string) (*Session, error) {
	sid, secret, ok := strings.Cut(token, ".")
	if !ok || !id.Valid("mses", sid) {
		return nil, ErrLoginRequired
	}
	now := s.now().UTC()
	var sess Session
	err := s.db.Pool.QueryRow(ctx, touchSession, sid, now, now.Add(-s.cfg.Idle), tokenHash(secret)).Scan(&sess.MerchantID,
		&sess.Method, &sess.UserAgent, &sess.CreatedAt, &sess.LastSeenAt, &sess.ExpiresAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrLoginRequired
	case err != nil:
		return nil, fmt.Errorf("read merchant session: %w", err)
	}
	sess.ID = sid
	sess.IdleUntil = sess.LastSeenAt.Add(s.cfg.Idle)
	return &sess, nil
}

// Logout revokes the session of token; a malformed or unknown token is a
// no-op.
func (s *Service) Logout(ctx context.Context, token string) error {
	sess, err := s.Authenticate(ctx, token)
	if errors.Is(err, ErrLoginRequired) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.Revoke(ctx, sess.MerchantID, sess.ID)
}

// Revoke ends one session of merchantID. It returns ErrSessionNotFound
// for a session that is not the merchant's or already ended.
func (s *Service) Revoke(ctx context.Context, merchantID, sessionID string) error {
	tag, err := s.db.Pool.Exec(ctx, revokeSession, merchantID, sessionID, s.now().UTC())
	if err != nil {
		return fmt.Errorf("revoke merchant session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrSessionNotFound
	}
	return nil
}

// RevokeAll ends every session of merchantID (log-out everywhere) and
// says how many were live.
func (s *Service) RevokeAll(ctx context.Context, merchantID string) (int64, error) {
	tag, err := s.db.Pool.Exec(ctx, revokeAllSessions, merchantID, s.now().UTC())
	if err != nil {
		return 0, fmt.Errorf("revoke merchant sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// List returns merchantID's live sessions, newest first.
func (s *Service) List(ctx context.Context, merchantID string) ([]Session, error) {
	now := s.now().UTC()
	rows, err := s.db.Pool.Query(ctx, listSessions, merchantID, now, now.Add(-s.cfg.Idle))
	if err != nil {
		return nil, fmt.Errorf("list merchant sessions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) {
		var x Session
		x.MerchantID = merchantID
		err := r.Scan(&x.ID, &x.Method, &x.UserAgent, &x.CreatedAt, &x.LastSeenAt, &x.ExpiresAt)
		x.IdleUntil = x.LastSeenAt.Add(s.cfg.Idle)
		return x, err
	})
}

const (
	insertSession = `
INSERT INTO merchant_sessions (id, merchant_id, token_hash, method, user_agent, created_at, last_seen_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`

	// touchSession reads a live session and marks it used.
	touchSession = `
UPDATE merchant_sessions SET last_seen_at = $2
WHERE id = $1 AND token_hash = $4 AND revoked_at IS NULL AND expires_at > $2 AND last_seen_at > $3
RETURNING merchant_id, method, user_agent, created_at, last_seen_at, expires_at`

	revokeSession = `
UPDATE merchant_sessions SET revoked_at = $3 WHERE merchant_id = $1 AND id = $2 AND revoked_at IS NULL`

	revokeAllSessions = `
UPDATE merchant_sessions SET revoked_at = $2 WHERE merchant_id = $1 AND revoked_at IS NULL`

	listSessions = `
SELECT id, method, user_agent, created_at, last_seen_at, expires_at FROM merchant_sessions
WHERE merchant_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_seen_at > $3
ORDER BY id DESC LIMIT 100`
)
