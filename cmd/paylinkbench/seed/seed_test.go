package seed

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/seal"
)

const testKeys = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// TestSeed seeds a small history and checks what a benchmark relies on:
// the counts asked for, the skew, a ledger that verifies with balances
// equal to the payments, the retention windows, and API keys that work.
func TestSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, url := pgtest.NewWithURL(t)
	state := filepath.Join(t.TempDir(), "state.json")
	var out bytes.Buffer
	args := []string{"seed", "-db", url, "-keys", testKeys, "-merchants", "40", "-payments", "4000", "-wallet-tx", "1000",
		"-users", "50", "-days", "60", "-state", state}
	if err := Run(ctx, args[1:], func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatalf("paylinkbench %v: %v\n%s", args, err, out.String())
	}
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := db.Pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM payments`); n != 4000 {
		t.Errorf("%d payments, want 4000", n)
	}
	if n := count(`SELECT count(*) FROM wallet_transactions`); n < 1000 || n > 1001 {
		t.Errorf("%d wallet transactions, want 1000 (1001 when a transfer ends it)", n)
	}
	if n := count(`SELECT count(*) FROM events`); n != 4000 {
		t.Errorf("%d events, want one per payment", n)
	}
	top := count(`SELECT count(*) FROM payments GROUP BY merchant_id ORDER BY 1 DESC LIMIT 1`)
	median := count(`SELECT count(*) FROM payments GROUP BY merchant_id ORDER BY 1 DESC OFFSET 20 LIMIT 1`)
	if top < 600 || median*10 > top {
		t.Errorf("biggest merchant has %d payments, the 21st %d: not skewed", top, median)
	}
	rep, err := ledger.Verify(ctx, db.Pool)
	if err != nil || !rep.OK() || rep.Transactions == 0 {
		t.Fatalf("ledger verify: %+v, %v", rep, err)
	}
	if n := count(`SELECT count(*) FROM payments p JOIN ledger_transactions t ON t.reference = p.id WHERE p.status = 'succeeded'`); n != count(`SELECT count(*) FROM payments WHERE status = 'succeeded'`) || n < 3600 {
		t.Errorf("%d succeeded payments with a posting", n)
	}
	if n := count(`SELECT count(*) FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
		WHERE a.kind = 'merchant' GROUP BY a.kind HAVING sum(b.balance) = (SELECT sum(amount) FROM payments WHERE status = 'succeeded')`); n == 0 {
		t.Error("merchant balances do not add up to the succeeded payments")
	}
	if n := count(`SELECT count(*) FROM webhook_deliveries WHERE created_at < now() - interval '31 days'`); n != 0 {
		t.Errorf("%d deliveries older than their retention", n)
	}
	if n := count(`SELECT count(*) FROM idempotency_keys WHERE created_at < now() - interval '49 hours'`); n != 0 {
		t.Errorf("%d Idempotency-Key records older than their retention", n)
	}
	// A seeded receipt is stored as the worker stores one: its HTML part
	// as template data, which renders.
	var emailID string
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM emails WHERE html_data IS NOT NULL LIMIT 1`).Scan(&emailID); err != nil {
		t.Fatalf("no seeded e-mail with its HTML part's data: %v", err)
	}
	if n := count(`SELECT count(*) FROM emails WHERE html_data IS NULL`); n != 0 {
		t.Errorf("%d seeded e-mails without their HTML part's data", n)
	}
	if e, err := notify.Read(ctx, db.Pool, emailID); err != nil || !strings.Contains(e.HTML, "<!doctype html>") {
		t.Errorf("seeded e-mail %s renders as %.80q, %v; want an HTML document", emailID, e.HTML, err)
	}
	raw, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil || len(st.Merchants) != 5 || len(st.Users) == 0 {
		t.Fatalf("state %s: %v", raw, err)
	}
	keyring, _ := seal.Parse(testKeys)
	merchants := merchant.NewService(keyring, merchant.NewUsage(), time.Now)
	m, _, err := merchants.AuthenticateKey(ctx, db.Pool, st.Merchants[0].KeyID, st.Merchants[0].KeySecret)
	if err != nil || m.ID != st.Merchants[0].ID || st.Merchants[0].Payments != top {
		t.Fatalf("the biggest merchant's key: %+v, %v (state %+v, biggest has %d payments)", m, err, st.Merchants[0], top)
	}
	// A second seed of the same database is refused.
	if err := Run(ctx, args[1:], func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Error("seeding a non-empty database succeeded")
	}
}
