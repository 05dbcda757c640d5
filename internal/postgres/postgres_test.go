package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// trips counts the round trips a pool makes: one per query or batch.
type trips struct {
	mu sync.Mutex
	n  int
}

func (c *trips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return ctx
}
func (c *trips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *trips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return c.TraceQueryStart(ctx, nil, pgx.TraceQueryStartData{})
}
func (c *trips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *trips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (c *trips) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = 0
	return n
}

// newDB is a fresh database with table w, reached by a pool of at most
// maxConns connections whose round trips are counted.
func newDB(t *testing.T, maxConns int32) (*postgres.DB, *trips) {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE w (n int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	cfg := db.Pool.Config().Copy()
	counter := &trips{}
	cfg.ConnConfig.Tracer = counter
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &postgres.DB{Pool: pool}, counter
}

// nextTxServes commits a transaction inserting v into w on db, which
// must work (the pool's connection is usable after what went before), and
// then finds want rows in w.
func nextTxServes(t *testing.T, db *postgres.DB, v, want int) {
	t.Helper()
	ctx := context.Background()
	if err := db.WithTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO w VALUES ($1)`, v)
		return err
	}); err != nil {
		t.Fatalf("the next transaction: %v", err)
	}
	if n := count(t, db); n != want {
		t.Fatalf("rows = %d, want %d", n, want)
	}
}

func count(t *testing.T, db *postgres.DB) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM w`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWritesRunWithCommitInOrder(t *testing.T) {
	t.Parallel()
	db, counter := newDB(t, 1)
	ctx := context.Background()
	err := db.WithTxLater(ctx, func(tx pgx.Tx, later *postgres.Writes) error {
		for _, n := range []int{1, 2} {
			if _, err := later.Exec(ctx, `INSERT INTO w VALUES ($1)`, n); err != nil {
				return err
			}
		}
		var before int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM w WHERE n > $1`, 0).Scan(&before); err != nil || before != 0 {
			t.Fatalf("rows before commit = %d (%v), want 0: Exec must only queue", before, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// BEGIN rode with the SELECT, the writes with COMMIT.
	if n := counter.take(); n != 2 {
		t.Errorf("the transaction took %d round trips, want 2", n)
	}
	if n := count(t, db); n != 2 {
		t.Fatalf("rows after commit = %d, want 2", n)
	}

	// A failing queued statement fails the commit and the whole
	// transaction, and the connection goes back to the pool usable.
	err = db.WithTxLater(ctx, func(tx pgx.Tx, later *postgres.Writes) error {
		if _, err := tx.Exec(ctx, `INSERT INTO w VALUES ($1)`, 3); err != nil {
			return err
		}
		later.Exec(ctx, `INSERT INTO w VALUES ($1)`, 4)
		later.Exec(ctx, `INSERT INTO w VALUES ($1)`, 1) // duplicate key
		return nil
	})
	if !postgres.IsUniqueViolation(err, "w_pkey") {
		t.Fatalf("commit with a duplicate key: %v, want the unique violation", err)
	}
	if n := count(t, db); n != 2 {
		t.Fatalf("rows after the failed transaction = %d, want still 2", n)
	}
	nextTxServes(t, db, 5, 3)
}

// TestPipelinedBeginOpensARealTransaction: BEGIN sent in a pipeline with
// the first statement must leave a transaction open across statements,
// holding its locks until commit, and roll back as a whole.
func TestPipelinedBeginOpensARealTransaction(t *testing.T) {
	t.Parallel()
	db, counter := newDB(t, 2)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO w VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	counter.take()

	locked, tried := make(chan struct{}), make(chan error)
	var xids [2]int64
	done := make(chan error)
	go func() {
		done <- db.WithTx(ctx, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT n FROM w WHERE n = $1 FOR UPDATE`, 1).Scan(new(int)); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `SELECT txid_current()`).Scan(&xids[0]); err != nil {
				return err
			}
			close(locked)
			if err := <-tried; err != nil {
				return err
			}
			return tx.QueryRow(ctx, `SELECT txid_current()`).Scan(&xids[1])
		})
	}()
	<-locked
	// The row lock outlives the pipeline that took it.
	_, err := db.Pool.Exec(ctx, `SELECT n FROM w WHERE n = $1 FOR UPDATE NOWAIT`, 1)
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "55P03" {
		tried <- errors.New("stop")
		<-done
		t.Fatalf("locking the row another transaction holds: %v, want lock_not_available", err)
	}
	tried <- nil
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if xids[0] != xids[1] {
		t.Errorf("statements ran in transactions %d and %d, want one", xids[0], xids[1])
	}

	// fn's error rolls back everything, including the statement that
	// carried BEGIN.
	boom := errors.New("boom")
	err = db.WithTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO w VALUES ($1)`, 2); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithTx = %v, want fn's error", err)
	}
	if n := count(t, db); n != 1 {
		t.Fatalf("rows after the rolled back transaction = %d, want 1", n)
	}
}

func TestTxEdges(t *testing.T) {
	t.Parallel()
	db, counter := newDB(t, 1)
	ctx := context.Background()

	// Nothing sent, nothing to commit: no round trip at all.
	if err := db.WithTx(ctx, func(pgx.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if n := counter.take(); n != 0 {
		t.Errorf("an empty transaction took %d round trips, want 0", n)
	}

	// Only queued writes: BEGIN, the writes and COMMIT in one round trip.
	if err := db.WithTxLater(ctx, func(_ pgx.Tx, later *postgres.Writes) error {
		_, err := later.Exec(ctx, `INSERT INTO w VALUES ($1)`, 9)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := counter.take(); n != 1 {
		t.Errorf("a transaction of queued writes took %d round trips, want 1", n)
	}
	if tag, err := db.Pool.Exec(ctx, `DELETE FROM w WHERE n = 9`); err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("deleting the queued write's row: %v (%v), want 1 row: it was not committed", tag, err)
	}

	// A first statement without arguments may hold several commands.
	if err := db.WithTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO w VALUES (1); INSERT INTO w VALUES (2)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db); n != 2 {
		t.Fatalf("rows = %d, want 2", n)
	}

	// A failed statement whose error fn swallows leaves the transaction
	// aborted: the commit must say it rolled back, not succeed.
	err := db.WithTx(ctx, func(tx pgx.Tx) error {
		_, _ = tx.Exec(ctx, `INSERT INTO w VALUES ($1)`, 3)
		_, _ = tx.Exec(ctx, `INSERT INTO w VALUES ($1)`, 1) // duplicate key
		return nil
	})
	if !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatalf("commit of an aborted transaction = %v, want ErrTxCommitRollback", err)
	}
	if n := count(t, db); n != 2 {
		t.Fatalf("rows = %d, want still 2", n)
	}

	// Batches inside the transaction read their own results, not BEGIN's.
	err = db.WithTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`SELECT max(n) FROM w WHERE n > $1`, 0)
		b.Queue(`INSERT INTO w VALUES ($1)`, 7)
		br := tx.SendBatch(ctx, b)
		var max int
		if err := br.QueryRow().Scan(&max); err != nil || max != 2 {
			t.Errorf("first batch result = %d (%v), want 2", max, err)
		}
		if tag, err := br.Exec(); err != nil || tag.RowsAffected() != 1 {
			t.Errorf("second batch result = %v (%v), want INSERT 0 1", tag, err)
		}
		return br.Close()
	})
	if err != nil {
		t.Fatal(err)
	}

	// After commit the transaction refuses more work.
	var kept pgx.Tx
	if err := db.WithTx(ctx, func(tx pgx.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Exec(ctx, `INSERT INTO w VALUES ($1)`, 8); !errors.Is(err, pgx.ErrTxClosed) {
		t.Errorf("Exec after commit = %v, want ErrTxClosed", err)
	}
	if n := count(t, db); n != 3 {
		t.Fatalf("rows = %d, want 3", n)
	}
}

// TestCanceledTransactionLeavesNothing: a request that goes away in the
// middle of its transaction (the context is canceled) commits nothing,
// and the pool's only connection serves the next transaction.
func TestCanceledTransactionLeavesNothing(t *testing.T) {
	t.Parallel()
	db, _ := newDB(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	err := db.WithTxLater(ctx, func(tx pgx.Tx, later *postgres.Writes) error {
		if _, err := tx.Exec(ctx, `INSERT INTO w VALUES ($1)`, 1); err != nil {
			return err
		}
		later.Exec(ctx, `INSERT INTO w VALUES ($1)`, 2)
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WithTxLater after cancel = %v, want context.Canceled", err)
	}
	if n := count(t, db); n != 0 {
		t.Fatalf("rows after the canceled transaction = %d, want 0", n)
	}
	nextTxServes(t, db, 3, 1)
}

// TestStatementPastItsDeadlineLetsGoAtOnce: a statement waiting on a lock
// when its context's deadline passes is cancelled on the server (57014),
// and its transaction rolled back, before WithTx returns: the locks it
// held are free at once, and the pool's only connection serves the next
// transaction. (Closing the socket instead left the server's backend
// waiting, locks held, until the lock it waited for was let go.)
func TestStatementPastItsDeadlineLetsGoAtOnce(t *testing.T) {
	t.Parallel()
	db, _ := newDB(t, 1)
	ctx := context.Background()
	holder, err := pgx.ConnectConfig(ctx, db.Pool.Config().ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if _, err := holder.Exec(ctx, `BEGIN; INSERT INTO w VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err = db.WithTx(tctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(tctx, `SELECT pg_advisory_xact_lock(7)`); err != nil {
			return err
		}
		_, err := tx.Exec(tctx, `INSERT INTO w VALUES (1)`) // waits for the holder
		return err
	})
	if !postgres.IsCanceled(err) {
		t.Fatalf("WithTx past its deadline = %v, want PostgreSQL's cancel (57014)", err)
	}
	var free bool
	if err := holder.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(7)`).Scan(&free); err != nil || !free {
		t.Fatalf("the cancelled transaction's advisory lock: free %v (%v), want free", free, err)
	}
	if _, err := holder.Exec(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	nextTxServes(t, db, 2, 1)
}

// TestCancelledConnectionIsNotReused: a connection whose statement was
// cancelled (its context ended) is closed rather than handed out again,
// so a cancel request PostgreSQL delivers late cannot cancel another
// request's statement on it.
func TestCancelledConnectionIsNotReused(t *testing.T) {
	t.Parallel()
	db, _ := newDB(t, 1)
	ctx := context.Background()
	var before int
	if err := db.Pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := db.Pool.Exec(tctx, `SELECT pg_sleep(30)`); !postgres.IsCanceled(err) {
		t.Fatalf("pg_sleep past its deadline = %v, want PostgreSQL's cancel (57014)", err)
	}
	var after int
	if err := db.Pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Fatalf("the pool handed out the cancelled connection again (backend %d)", after)
	}
	var again int
	if err := db.Pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&again); err != nil || again != after {
		t.Fatalf("a connection that cancelled nothing: backend %d then %d (%v), want it kept", after, again, err)
	}
}
