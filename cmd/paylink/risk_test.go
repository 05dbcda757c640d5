package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/pgtest"
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
