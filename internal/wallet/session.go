package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/postgres"
)

// Errors about sessions.
var (
	ErrLoginRequired = &apperr.Error{Kind: apperr.Unauthenticated, Code: "login_required",
		Message: "Log in to the wallet first; the session is missing, expired or logged out."}
	ErrSessionStoreUnavailable = &apperr.Error{Kind: apperr.Unavailable, Code: "session_store_unavailable",
		Message: "Logging out could not be completed everywhere; retry."}
)

// Log-in methods recorded with a session.
const (
	MethodPassword = "password"
	MethodPasskey  = "passkey"
)

// Session is a live log-in of User.
type Session struct {
	ID        string
	User      User
	Method    string    // MethodPassword or MethodPasskey
	CreatedAt time.Time // when the log-in happened
	ExpiresAt time.Time
}

// macPurpose separates session-token MACs from other uses of the keys.
const macPurpose = "wallet-session"

// revoked is the cache value that marks a logged-out session.
const revoked = "revoked"

func cacheKey(sessionID string) string { return "paylink:wallet:session:" + sessionID }

// cached is a session as Redis holds it. Entries cached before Method and
// CreatedAt existed read as a password log-in, which asks for more, never
// less.
type cached struct {
	User      cachedUser `json:"u"`
	Method    string     `json:"m"`
	CreatedAt time.Time  `json:"c"`
	ExpiresAt time.Time  `json:"e"`
}

type cachedUser struct {
	ID, Email, FirstName, MiddleName, LastName, Phone string
	CreatedAt                                         time.Time
}

// StartSession stores a new session for userID in tx and returns its
// token, "<session id>.<expiry unix>.<key version>.<mac>", for the
// cookie. The token is never stored; only its session id is.
func (s *Service) StartSession(ctx context.Context, tx pgx.Tx, userID, method string) (string, time.Time, error) {
	now := s.now().UTC().Truncate(time.Second)
	exp := now.Add(s.cfg.SessionTTL)
	sid := id.NewAt("ses", now)
	if _, err := tx.Exec(ctx, insertSession, sid, userID, method, now, exp); err != nil {
		return "", time.Time{}, fmt.Errorf("insert session: %w", err)
	}
	payload := sid + "." + strconv.FormatInt(exp.Unix(), 10)
	return payload + "." + s.keys.Sign(macPurpose, []byte(payload)), exp, nil
}

// parseToken checks a token's MAC and expiry and returns its session id.
func (s *Service) parseToken(token string) (string, time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 4 || !id.Valid("ses", parts[0]) {
		return "", time.Time{}, false
	}
	payload := parts[0] + "." + parts[1]
	if !s.keys.Verify(macPurpose, []byte(payload), parts[2]+"."+parts[3]) {
		return "", time.Time{}, false
	}
	unix, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	exp := time.Unix(unix, 0).UTC()
	if !exp.After(s.now()) {
		return "", time.Time{}, false
	}
	return parts[0], exp, true
}

// Authenticate returns the live session a cookie token names. It checks
// the token's MAC and expiry, then Redis, where the session's user is
// cached for the token's remaining life; on a cache miss or when Redis is
// unreachable it asks PostgreSQL, so losing Redis logs nobody in or out
// wrongly. It returns ErrLoginRequired.
func (s *Service) Authenticate(ctx context.Context, token string) (*Session, error) {
	sid, exp, ok := s.parseToken(token)
	if !ok {
		return nil, ErrLoginRequired
	}
	raw, err := s.redis.Get(ctx, cacheKey(sid)).Result()
	switch {
	case err == nil && raw == revoked:
		return nil, ErrLoginRequired
	case err == nil:
		var c cached
		if json.Unmarshal([]byte(raw), &c) == nil {
			u := User(c.User)
			return &Session{ID: sid, User: u, Method: c.Method, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt}, nil
		}
	case errors.Is(err, redis.Nil):
	default:
		// Redis is down: PostgreSQL alone decides.
	}
	var sess Session
	u := &sess.User
	err = s.db.Pool.QueryRow(ctx, selectLiveSession, sid, s.now()).Scan(&u.ID, &u.Email, &u.FirstName, &u.MiddleName,
		&u.LastName, &u.Phone, &u.CreatedAt, &sess.Method, &sess.CreatedAt, &sess.ExpiresAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrLoginRequired
	case err != nil:
		return nil, fmt.Errorf("read session: %w", err)
	}
	sess.ID = sid
	if sess.ExpiresAt.After(exp) {
		sess.ExpiresAt = exp
	}
	s.cache(ctx, &sess)
	return &sess, nil
}

// cache stores sess in Redis for its remaining life, unless the key is
// already set: a log-out's tombstone written after our database read wins
// (SET NX), so a racing read cannot bring a revoked session back.
func (s *Service) cache(ctx context.Context, sess *Session) {
	if ttl := sess.ExpiresAt.Sub(s.now()); ttl > 0 {
		b, _ := json.Marshal(cached{User: cachedUser(sess.User), Method: sess.Method, CreatedAt: sess.CreatedAt, ExpiresAt: sess.ExpiresAt})
		s.redis.SetNX(ctx, cacheKey(sess.ID), b, ttl)
	}
}

// Logout revokes the session a token names, at once and on every replica:
// PostgreSQL marks it revoked and Redis caches a tombstone in place of
// the user for the token's remaining life. An invalid or expired token is
// a no-op. When Redis cannot be written it returns
// ErrSessionStoreUnavailable: the revocation stands in PostgreSQL, and
// the caller should retry so that no cached copy outlives it.
func (s *Service) Logout(ctx context.Context, token string) error {
	sid, exp, ok := s.parseToken(token)
	if !ok {
		return nil
	}
	if _, err := s.db.Pool.Exec(ctx, revokeSession, sid, s.now().UTC()); err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if ttl := exp.Sub(s.now()); ttl > 0 {
		if err := s.redis.Set(ctx, cacheKey(sid), revoked, ttl).Err(); err != nil {
			return ErrSessionStoreUnavailable.Wrap(err)
		}
	}
	return nil
}

// RevokeSessions revokes, in tx, every live session of userID but keep
// ("" for all), caching their tombstones in Redis before tx commits (a
// failed commit leaves them logged out, nothing else changed); it returns
// ErrSessionStoreUnavailable when Redis cannot take them.
func (s *Service) RevokeSessions(ctx context.Context, tx pgx.Tx, userID, keep string) error {
	now := s.now().UTC()
	rows, err := tx.Query(ctx, revokeUserSessions, userID, keep, now)
	if err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	type revokedSession struct {
		ID        string
		ExpiresAt time.Time
	}
	gone, err := pgx.CollectRows(rows, pgx.RowToStructByPos[revokedSession])
	if err != nil || len(gone) == 0 {
		return err
	}
	pipe := s.redis.Pipeline()
	for _, g := range gone {
		pipe.Set(ctx, cacheKey(g.ID), revoked, g.ExpiresAt.Sub(now))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return ErrSessionStoreUnavailable.Wrap(err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions that expired before cutoff (their
// tokens can no longer be presented, so their revocations are moot) and
// returns how many, for the periodic clean-up.
func DeleteExpiredSessions(ctx context.Context, db postgres.DBTX, cutoff time.Time) (int64, error) {
	tag, err := db.Exec(ctx, deleteExpiredSessions, cutoff)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
