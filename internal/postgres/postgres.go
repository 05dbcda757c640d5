// Package postgres opens the PostgreSQL pool, runs transactions with
// bounded retries, applies the embedded migrations, and recognises
// PostgreSQL errors by SQLSTATE and constraint name.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is the application's connection pool.
type DB struct {
	Pool *pgxpool.Pool
}

// DBTX is what read-only store functions need; both *pgxpool.Pool and
// pgx.Tx satisfy it.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Open connects a pool to url with at most maxConns connections and checks
// that the server answers.
func Open(ctx context.Context, url string, maxConns int32) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// Per host: a server that does not answer (a failed machine, a
		// dropped route) costs this long, then pgx tries the next host.
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	// Idle connections to a server that went away are found and dropped
	// within seconds rather than handed to the next request.
	cfg.HealthCheckPeriod = 5 * time.Second
	cfg.ConnConfig.BuildContextWatcherHandler = cancelOnServer
	cfg.PrepareConn = notCancelled
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// cancelOnServer is how a statement whose context ends stops: PostgreSQL
// is asked to cancel it, so the backend stops too and the connection
// stays usable for the rollback. pgx's default only closes the socket, and
// a backend waiting on a lock does not notice a closed socket: it kept
// the transaction's locks (an Idempotency-Key's among them) until the
// wait ended. If the server cannot be asked (it is gone), the socket is
// closed after cancelDeadline as before.
//
// A cancel request reaches the backend by a signal, so one delivered late
// would cancel whatever the connection runs next: a connection that sent
// one is never handed out again (notCancelled).
func cancelOnServer(c *pgconn.PgConn) ctxwatch.Handler {
	h := &serverCancel{CancelRequestContextWatcherHandler: &pgconn.CancelRequestContextWatcherHandler{
		Conn: c, DeadlineDelay: cancelDeadline}}
	c.CustomData()[cancelKey] = h
	return h
}

// serverCancel is pgx's cancel-request handler that remembers it sent one.
type serverCancel struct {
	*pgconn.CancelRequestContextWatcherHandler
	sent atomic.Bool
}

// HandleCancel marks the connection and asks PostgreSQL to cancel.
func (h *serverCancel) HandleCancel(ctx context.Context) {
	h.sent.Store(true)
	h.CancelRequestContextWatcherHandler.HandleCancel(ctx)
}

// cancelKey is where a connection's serverCancel is kept (CustomData).
const cancelKey = "paylink.cancel"

// notCancelled is the pool's check before it hands out a connection:
// one that sent a cancel request is closed instead.
func notCancelled(_ context.Context, c *pgx.Conn) (bool, error) {
	h, _ := c.PgConn().CustomData()[cancelKey].(*serverCancel)
	return h == nil || !h.sent.Load(), nil
}

// cancelDeadline is how long a cancelled statement waits for PostgreSQL
// to confirm the cancel before its connection is closed instead.
const cancelDeadline = time.Second

// Close closes the pool, waiting for connections in use to be returned.
func (db *DB) Close() { db.Pool.Close() }

// connectTimeout bounds one connection attempt to one host, unless
// DATABASE_URL sets connect_timeout.
const connectTimeout = 3 * time.Second

// rollbackTimeout bounds the rollback of a failed transaction, which
// runs whether or not its context has ended.
const rollbackTimeout = 5 * time.Second

// maxAttempts bounds WithTx's retries of serialization failures and
// deadlocks.
const maxAttempts = 3

// WithTx runs fn in a READ COMMITTED transaction and commits if fn returns
// nil. Serialization failures and deadlocks are retried up to 3 attempts in
// all, so fn must only touch the database: no HTTP calls, no enqueues, no
// Redis. BEGIN travels with the transaction's first statement rather than
// on its own round trip.
func (db *DB) WithTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return db.WithTxLater(ctx, func(tx pgx.Tx, _ *Writes) error { return fn(tx) })
}

// WithTxLater is WithTx for work that can leave statements needing no
// answer in later: they are sent together with COMMIT, in one round trip.
func (db *DB) WithTxLater(ctx context.Context, fn func(tx pgx.Tx, later *Writes) error) error {
	for attempt := 1; ; attempt++ {
		err := db.runTx(ctx, fn)
		if attempt == maxAttempts || !IsRetryable(err) {
			return err
		}
	}
}

// runTx is one attempt of WithTxLater.
func (db *DB) runTx(ctx context.Context, fn func(pgx.Tx, *Writes) error) error {
	c, err := db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	// Should fn panic, Release finds the connection inside a transaction
	// and closes it, which rolls the transaction back.
	tx := &pipeTx{conn: c.Conn()}
	later := &Writes{}
	if err := fn(tx, later); err != nil {
		// fn's error is the one to report. The rollback runs even when ctx
		// has ended (a request past its deadline): the transaction's locks
		// are then gone before the caller answers, so a retry with the same
		// Idempotency-Key does not find it still in progress.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		_ = tx.Rollback(rctx)
		cancel()
		return err
	}
	return tx.commit(ctx, later)
}

// PageOf runs a list query that asks for limit+1 rows itself, with args,
// and scans the rows: the first limit of them, and whether more follow.
func PageOf[T any](ctx context.Context, db DBTX, limit int, scan pgx.RowToFunc[T], sql string, args ...any) ([]T, bool, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, false, err
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, false, err
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// IsRetryable reports whether err is a serialization failure (40001) or a
// deadlock (40P01), after which the whole transaction may be run again.
func IsRetryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// IsCanceled reports whether err is PostgreSQL cancelling a statement
// (57014): its context ended (see cancelOnServer), or statement_timeout.
func IsCanceled(err error) bool {
	return IsRaised(err, "57014")
}

// IsUniqueViolation reports whether err is a unique violation (23505) of
// the named constraint or index.
func IsUniqueViolation(err error, constraint string) bool {
	return isViolation(err, "23505", constraint)
}

// IsCheckViolation reports whether err is a check violation (23514) of the
// named constraint.
func IsCheckViolation(err error, constraint string) bool {
	return isViolation(err, "23514", constraint)
}

// IsRaised reports whether err was raised by a trigger or function with
// RAISE … USING ERRCODE = code.
func IsRaised(err error, code string) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == code
}

func isViolation(err error, code, constraint string) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == code && pg.ConstraintName == constraint
}

// Execer runs a statement whose only result is success or failure. A
// pgx.Tx is one (the statement runs at once); so is *Writes (it runs
// later, together with others).
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Writes collects statements that need no answer but success, to send
// them with the transaction's COMMIT in one round trip (see WithTxLater).
// Its Exec only queues: it always succeeds and returns an empty command
// tag; errors come from the commit.
type Writes struct {
	b pgx.Batch
}

// Exec queues sql for the commit.
func (w *Writes) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	w.b.Queue(sql, args...)
	return pgconn.CommandTag{}, nil
}
