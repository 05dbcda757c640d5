package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pipeTx is the pgx.Tx that WithTx hands out. It saves the two round
// trips a transaction spends on BEGIN and COMMIT alone: BEGIN travels in
// the same pipeline as the first statement, and COMMIT in the same
// pipeline as the statements queued in the transaction's Writes.
// PostgreSQL keeps a transaction opened by BEGIN inside a pipeline open
// after the pipeline's Sync, so what follows runs in it as usual.
type pipeTx struct {
	conn   *pgx.Conn
	begun  bool // BEGIN has been sent
	closed bool // committed or rolled back
}

var errNested = errors.New("postgres: nested transactions are not supported; use SAVEPOINT")

// begin sends BEGIN on its own, for the calls that cannot carry it.
func (t *pipeTx) begin(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	if t.begun {
		return nil
	}
	t.begun = true
	_, err := t.conn.Exec(ctx, "begin")
	return err
}

// SendBatch sends b in the transaction, led by BEGIN when it is the first
// thing sent.
func (t *pipeTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.closed {
		return closedBatch{}
	}
	if t.begun {
		return t.conn.SendBatch(ctx, b)
	}
	t.begun = true
	led := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, b.Len()+1)}
	led.Queue("begin")
	led.QueuedQueries = append(led.QueuedQueries, b.QueuedQueries...)
	return &begunBatch{BatchResults: t.conn.SendBatch(ctx, led)}
}

// Exec runs sql in the transaction. A statement with arguments carries
// BEGIN along; one without may hold several commands, which only the
// simple protocol runs, so BEGIN goes first on its own.
func (t *pipeTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.closed || t.begun || len(args) == 0 {
		if err := t.begin(ctx); err != nil {
			return pgconn.CommandTag{}, err
		}
		return t.conn.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.SendBatch(ctx, b)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// QueryRow runs sql in the transaction, carrying BEGIN along when needed.
func (t *pipeTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.closed {
		return errRow{pgx.ErrTxClosed}
	}
	if t.begun {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.SendBatch(ctx, b)
	return batchRow{row: br.QueryRow(), br: br}
}

// Query runs sql in the transaction. Rows stream, so BEGIN goes first on
// its own when nothing was sent yet.
func (t *pipeTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	return t.conn.Query(ctx, sql, args...)
}

// CopyFrom runs COPY FROM in the transaction.
func (t *pipeTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	return t.conn.CopyFrom(ctx, table, columns, src)
}

// Prepare prepares a statement on the transaction's connection.
func (t *pipeTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if t.closed {
		return nil, pgx.ErrTxClosed
	}
	return t.conn.Prepare(ctx, name, sql)
}

// Begin would start a nested transaction; Paylink uses SAVEPOINT instead.
func (t *pipeTx) Begin(context.Context) (pgx.Tx, error) { return nil, errNested }

// LargeObjects is not supported: Paylink stores no large objects, and
// pgx offers no way to build the value for a transaction of our own.
func (t *pipeTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

// Conn is the connection the transaction runs on.
func (t *pipeTx) Conn() *pgx.Conn { return t.conn }

// Commit commits the transaction.
func (t *pipeTx) Commit(ctx context.Context) error { return t.commit(ctx, nil) }

// commit sends later's statements, if any, and COMMIT in one round trip.
// A transaction that never sent anything has nothing to commit. When the
// commit fails the transaction is rolled back, so the connection goes
// back to the pool clean.
func (t *pipeTx) commit(ctx context.Context, later *Writes) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	b := &pgx.Batch{}
	if later != nil {
		b.QueuedQueries = later.b.QueuedQueries
	}
	if !t.begun && b.Len() == 0 {
		t.closed = true
		return nil
	}
	b.Queue("commit").Exec(func(tag pgconn.CommandTag) error {
		if tag.String() == "ROLLBACK" { // the transaction had already failed
			return pgx.ErrTxCommitRollback
		}
		return nil
	})
	err := t.SendBatch(ctx, b).Close()
	t.closed = true
	if err != nil && t.conn.PgConn().TxStatus() != 'I' {
		// The pool drops a connection left inside a transaction, so a
		// failed rollback costs a reconnect and nothing else.
		_, _ = t.conn.Exec(ctx, "rollback")
	}
	return err
}

// Rollback rolls the transaction back; after Commit it is a no-op that
// returns pgx.ErrTxClosed, as pgx's own transactions do.
func (t *pipeTx) Rollback(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	if !t.begun || t.conn.PgConn().TxStatus() == 'I' {
		return nil
	}
	_, err := t.conn.Exec(ctx, "rollback")
	return err
}

// begunBatch hides the result of the BEGIN that leads a batch.
type begunBatch struct {
	pgx.BatchResults
	skipped bool
}

// skip reads BEGIN's result. An error there stays in the batch and is
// what the caller's read returns.
func (b *begunBatch) skip() {
	if !b.skipped {
		b.skipped = true
		_, _ = b.BatchResults.Exec()
	}
}

func (b *begunBatch) Exec() (pgconn.CommandTag, error) {
	b.skip()
	return b.BatchResults.Exec()
}

func (b *begunBatch) Query() (pgx.Rows, error) {
	b.skip()
	return b.BatchResults.Query()
}

func (b *begunBatch) QueryRow() pgx.Row {
	b.skip()
	return b.BatchResults.QueryRow()
}

// batchRow is the row of a one-query batch; scanning it closes the batch.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// errRow is a row that only reports err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// closedBatch is what a batch sent on a finished transaction returns.
type closedBatch struct{}

func (closedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, pgx.ErrTxClosed }
func (closedBatch) Query() (pgx.Rows, error)         { return nil, pgx.ErrTxClosed }
func (closedBatch) QueryRow() pgx.Row                { return errRow{pgx.ErrTxClosed} }
func (closedBatch) Close() error                     { return pgx.ErrTxClosed }
func (closedBatch) Tx() pgx.Tx                       { return nil }
