package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strconv"
	"testing"

	"github.com/paylink/paylink/internal/pgtest"
)

// TestBenchLedger runs each shape briefly against a fresh database and
// checks the report line, that no transfer failed, that the ledger
// verified, and that the database holds at least the transfers reported.
func TestBenchLedger(t *testing.T) {
	t.Parallel()
	line := regexp.MustCompile(`^ledger shape=(\w+) c=3 measured=1s transfers=(\d+) tps=[\d.]+ p50=\S+ p99=\S+ refused=0 errors=0 verify=ok\n$`)
	for _, shape := range []string{"spread", "hot", "card"} {
		t.Run(shape, func(t *testing.T) {
			t.Parallel()
			db, url := pgtest.NewWithURL(t)
			var out bytes.Buffer
			args := []string{"ledger", "-db", url, "-shape", shape, "-c", "3", "-d", "1s", "-warmup", "0s", "-pairs", "10"}
			if err := run(context.Background(), args, func(string) string { return "" }, &out, io.Discard); err != nil {
				t.Fatalf("paylinkbench %v: %v\n%s", args, err, out.String())
			}
			m := line.FindStringSubmatch(out.String())
			if m == nil || m[1] != shape {
				t.Fatalf("report %q does not match %s", out.String(), line)
			}
			reported, _ := strconv.Atoi(m[2])
			var posted int
			if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM ledger_transactions WHERE kind <> 'topup'`).Scan(&posted); err != nil {
				t.Fatal(err)
			}
			if posted < reported {
				t.Errorf("reported %d transfers, the ledger holds %d", reported, posted)
			}
		})
	}
}

func TestBenchUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"nope"}, {"ledger", "-shape", "sideways", "-db", "postgres://x"}, {"ledger"}} {
		if err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard); err != exitCode(2) {
			t.Errorf("paylinkbench %v = %v, want exit status 2", args, err)
		}
	}
}
