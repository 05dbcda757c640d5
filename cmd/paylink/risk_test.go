package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/walletrisk"
)

// TestRiskTrainWithoutLabels runs `paylink risk train` on a database with
// no labelled payments: it says so, stores nothing and exits 0; a wrong
// sub-command is a usage error.
func TestRiskTrainWithoutLabels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, dbURL := pgtest.NewWithURL(t)
	env := getenvFrom(map[string]string{"DATABASE_URL": dbURL})
	var out bytes.Buffer
	if err := run(ctx, []string{"risk", "train"}, env, &out, io.Discard); err != nil {
		t.Fatalf("risk train: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "labels: 0 fraud, 0 not fraud") || !strings.Contains(out.String(), "too few labels") ||
		!strings.Contains(out.String(), "nothing stored") {
		t.Errorf("risk train printed %q; want the label counts and that nothing was stored", out.String())
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM risk_models`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d risk model versions (%v), want 0", n, err)
	}
	if err := run(ctx, []string{"risk", "fit"}, env, io.Discard, io.Discard); err != exitCode(2) {
		t.Errorf("risk fit = %v, want exit status 2", err)
	}
}

// TestRiskPayoutsAndRelease: `paylink risk payouts` lists the held payout
// with who asked and why, not the one already relayed; `risk release`
// ends its hold once, and a second release, or of a payout never held,
// fails and changes nothing.
func TestRiskPayoutsAndRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, dbURL := pgtest.NewWithURL(t)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO users (id, email, first_name, last_name, phone, password_hash)
		VALUES ('usr_1', 'ada@example.test', 'Ada', 'L', '+4915112345678', 'x')`)
	for i, txn := range []string{"wtx_held", "wtx_plain"} {
		exec(`INSERT INTO wallet_transactions (id, user_id, type, status, amount, currency, reference)
			VALUES ($1, 'usr_1', 'withdrawal', 'pending', 1250, 'USD', $1)`, txn)
		hold := "now() + interval '1 day'"
		if i == 1 {
			hold = "NULL"
		}
		exec(`INSERT INTO wallet_payouts (id, user_id, amount, currency, status, created_at, hold_until)
			VALUES ($1, 'usr_1', 1250, 'USD', 'processing', now(), `+hold+`)`, txn)
	}
	exec(`INSERT INTO wallet_risk (transaction_id, user_id, score, level, outcome, reasons, model, created_at)
		VALUES ('wtx_held', 'usr_1', 70, 'elevated', 'review', '{test_card}', 'default-2', now())`)
	env := getenvFrom(map[string]string{"DATABASE_URL": dbURL})
	risk := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"risk"}, args...), env, &out, io.Discard)
		return out.String(), err
	}
	out, err := risk("payouts")
	if err != nil || !strings.Contains(out, "wtx_held") || !strings.Contains(out, "ada@example.test") ||
		!strings.Contains(out, "$12.50") || !strings.Contains(out, "test_card") || strings.Contains(out, "wtx_plain") {
		t.Fatalf("risk payouts = %v\n%s\nwant wtx_held only, with its user, amount and reasons", err, out)
	}
	if out, err := risk("release", "wtx_held"); err != nil || !strings.Contains(out, "released wtx_held") {
		t.Fatalf("risk release = %v\n%s", err, out)
	}
	var released bool
	if err := db.Pool.QueryRow(ctx, `SELECT hold_until <= now() FROM wallet_payouts WHERE id = 'wtx_held'`).Scan(&released); err != nil || !released {
		t.Fatalf("hold after the release: ended %v (%v)", released, err)
	}
	for _, id := range []string{"wtx_held", "wtx_plain", "wtx_none"} {
		if _, err := risk("release", id); !errors.Is(err, walletrisk.ErrNotHeld) {
			t.Errorf("risk release %s = %v, want ErrNotHeld", id, err)
		}
	}
	if out, err := risk("payouts"); err != nil || !strings.Contains(out, "no payout is held") {
		t.Errorf("risk payouts after the release = %v\n%s", err, out)
	}
	if _, err := risk("release"); err != exitCode(2) {
		t.Errorf("risk release without an id = %v, want exit status 2", err)
	}
}
