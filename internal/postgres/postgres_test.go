package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

func TestWritesRunAtSendInOrder(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE w (n int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	err := db.WithTx(ctx, func(tx pgx.Tx) error {
		var later postgres.Writes
		for _, n := range []int{1, 2} {
			if _, err := later.Exec(ctx, `INSERT INTO w VALUES ($1)`, n); err != nil {
				return err
			}
		}
		var before int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM w`).Scan(&before); err != nil || before != 0 {
			t.Fatalf("rows before Send = %d (%v), want 0: Exec must only queue", before, err)
		}
		return later.Send(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM w`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows after commit = %d (%v), want 2", n, err)
	}

	// A failing queued statement fails Send and the whole transaction.
	err = db.WithTx(ctx, func(tx pgx.Tx) error {
		var later postgres.Writes
		later.Exec(ctx, `INSERT INTO w VALUES (3)`)
		later.Exec(ctx, `INSERT INTO w VALUES (1)`) // duplicate key
		return later.Send(ctx, tx)
	})
	if !postgres.IsUniqueViolation(err, "w_pkey") {
		t.Fatalf("Send with a duplicate key: %v, want the unique violation", err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM w`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows after the failed transaction = %d (%v), want still 2", n, err)
	}
}
