// Package seed is paylinkbench seed: it fills an empty database with a
// long, skewed history, fast (COPY), for the benchmarks at scale.
package seed

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/password"
	"github.com/paylink/paylink/internal/paymentstats"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/seal"
)

// ErrUsage is returned after the usage was printed (exit status 2).
var ErrUsage = errors.New("usage")

// seedFlags are paylinkbench seed's options.
type seedFlags struct {
	db, state, keys                    string
	merchants, payments, walletTx      int
	users, keyed                       int
	days                               int
	endpointShare                      float64
	webhookDays, emailDays, idempotent time.Duration
}

// merchantEmail is the e-mail of the i-th seeded merchant, its dashboard
// log-in.
func merchantEmail(i int) string { return fmt.Sprintf("shop%d@seed.test", i) }

// seedPassword is every seeded user's and merchant's password, so a
// benchmark can log in as any of them.
const seedPassword = "seeded-password-1"

// Run (paylinkbench seed) fills an empty, migrated database with a long history, fast:
// every table is streamed with COPY, several at once, by a generator that
// keeps the ledger's balances in memory. PostgreSQL's triggers (the
// ledger's posting and guard triggers, foreign keys) are bypassed for the
// load (session_replication_role = replica, so it needs a superuser);
// CHECK constraints and unique indexes still apply, and the result is
// what the triggers would have left: `paylink ledger verify` finds it
// clean. See seedgen.go for what is generated.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var f seedFlags
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.db, "db", getenv("DATABASE_URL"), "URL of an empty, migrated database, as a superuser (default $DATABASE_URL)")
	fs.StringVar(&f.keys, "keys", getenv("PAYLINK_ENCRYPTION_KEYS"), "the API's PAYLINK_ENCRYPTION_KEYS, to seal secrets as it does")
	fs.StringVar(&f.state, "state", "", "file to write the seeded merchants' API keys and users' logins to, for paylinkbench reads")
	fs.IntVar(&f.merchants, "merchants", 10_000, "merchants (three of them big: 20%, 15% and 10% of the payments)")
	fs.IntVar(&f.payments, "payments", 10_000_000, "card payments (95% succeeded), each with its ledger postings and event")
	fs.IntVar(&f.walletTx, "wallet-tx", 1_000_000, "wallet transactions (top-ups and both sides of transfers)")
	fs.IntVar(&f.users, "users", 100_000, "wallet users")
	fs.IntVar(&f.keyed, "keyed", 5, "merchants (the biggest first, then from the middle and the end) whose API keys go to -state")
	fs.IntVar(&f.days, "days", 365, "days of history, ending now")
	fs.Float64Var(&f.endpointShare, "endpoints", 0.3, "share of merchants (besides the big ones, which all have one) with a webhook endpoint")
	fs.DurationVar(&f.webhookDays, "webhook-retention", 30*24*time.Hour, "deliveries and attempts are seeded for this last stretch only (what retention keeps)")
	fs.DurationVar(&f.emailDays, "email-retention", 30*24*time.Hour, "sent receipts are seeded for this last stretch only")
	fs.DurationVar(&f.idempotent, "idempotency-retention", 48*time.Hour, "Idempotency-Key records are seeded for this last stretch only")
	if err := fs.Parse(args); err != nil {
		return ErrUsage
	}
	if f.db == "" || f.keys == "" || f.merchants < 4 || f.payments < 1 || f.users < 2 || f.days < 1 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "paylinkbench seed: need -db, -keys (or PAYLINK_ENCRYPTION_KEYS), -merchants >= 4, -payments >= 1, -users >= 2, -days >= 1")
		return ErrUsage
	}
	keyring, err := seal.Parse(f.keys)
	if err != nil {
		return fmt.Errorf("-keys: %w", err)
	}
	db, err := postgres.Open(ctx, f.db, 4)
	if err != nil {
		return err
	}
	defer db.Close()
	var existing int64
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM payments) + (SELECT count(*) FROM merchants)`).Scan(&existing); err != nil {
		return fmt.Errorf("is the database migrated? %w", err)
	}
	if existing > 0 {
		return errors.New("paylinkbench seed: the database is not empty; seed a fresh one")
	}

	start := time.Now()
	hash, err := password.NewHasher(password.Config{}).Hash(ctx, seedPassword)
	if err != nil {
		return err
	}
	g := newGenerator(f, keyring, hash)
	if err := g.prelude(ctx, db); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seed: %d merchants, %d users, their accounts and links in %s\n", f.merchants, f.users, time.Since(start).Round(time.Millisecond))
	streams, err := openStreams(ctx, f.db)
	if err != nil {
		return err
	}
	genErr := g.history(ctx, streams)
	copied, err := streams.close()
	if err := errors.Join(genErr, err); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seed: history copied in %s: %s\n", time.Since(start).Round(time.Millisecond), copied)
	if err := g.finish(ctx, db, idempotency.NewStore(keyring)); err != nil {
		return err
	}
	// The daily totals the worker's payments:rollup would have kept.
	rolled := time.Now()
	if err := paymentstats.Rollup(ctx, db, rolled, 500); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seed: daily payment totals of the last %d days rolled up in %s\n",
		int(paymentstats.Backfill.Hours()/24), time.Since(rolled).Round(time.Millisecond))
	if f.state != "" {
		if err := g.writeState(ctx, db, merchant.NewService(keyring, merchant.NewUsage(), time.Now), f.state); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "seed: %d payments, %d wallet transactions, %d merchants, %d users in %s\n",
		g.paid, g.walletRows, f.merchants, f.users, time.Since(start).Round(time.Millisecond))
	return nil
}

// stream copies rows into one table over a connection of its own.
type stream struct {
	table string
	rows  chan []any
	n     int64
	err   error
	done  chan struct{}
}

// streams are the tables the history is copied into, side by side.
type streams map[string]*stream

// seedColumns are the columns each streamed table is copied with.
var seedColumns = map[string][]string{
	"payments": {"id", "merchant_id", "payment_link_id", "single_use", "amount", "currency", "status", "failure_code",
		"customer_email", "customer_name", "method_type", "card_brand", "card_last4", "card_exp_month", "card_exp_year",
		"card_fingerprint", "processor_ref", "created_at", "updated_at"},
	"ledger_transactions":  {"id", "kind", "reference", "entry_count", "created_at"},
	"ledger_entries":       {"transaction_id", "account_id", "shard", "amount"},
	"events":               {"id", "merchant_id", "type", "data", "created_at", "notified_at"},
	"webhook_deliveries":   {"id", "merchant_id", "event_id", "endpoint_id", "status", "attempts", "enqueued_at", "created_at", "completed_at"},
	"webhook_attempts":     {"delivery_id", "n", "merchant_id", "attempted_at", "status_code", "latency_ms", "response_body"},
	"emails":               {"id", "to_addr", "subject", "body", "html_data", "created_at", "sent_at", "dedupe_key", "enqueued_at", "attempts"},
	"wallet_transactions":  {"id", "user_id", "type", "status", "amount", "currency", "counterparty_user_id", "counterparty", "reference", "card_brand", "card_last4", "created_at", "updated_at"},
	"wallet_notifications": {"id", "user_id", "type", "message", "transaction_id", "created_at", "read_at"},
}

// openStreams starts one COPY per table in seedColumns.
func openStreams(ctx context.Context, url string) (streams, error) {
	out := streams{}
	for table, cols := range seedColumns {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			out.close()
			return nil, err
		}
		if _, err := conn.Exec(ctx, "SET session_replication_role = replica"); err != nil {
			conn.Close(ctx)
			out.close()
			return nil, fmt.Errorf("bypass triggers for the load (needs a superuser): %w", err)
		}
		s := &stream{table: table, rows: make(chan []any, 4096), done: make(chan struct{})}
		out[table] = s
		go func() {
			defer close(s.done)
			defer conn.Close(context.WithoutCancel(ctx))
			s.n, s.err = conn.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() ([]any, error) {
				row, ok := <-s.rows
				if !ok {
					return nil, nil
				}
				return row, nil
			}))
			if s.err != nil {
				s.err = fmt.Errorf("copy into %s: %w", table, s.err)
				for range s.rows { // let the generator finish
				}
			}
		}()
	}
	return out, nil
}

// put sends one row to table's COPY.
func (s streams) put(table string, row ...any) { s[table].rows <- row }

// close ends every COPY and reports how many rows each took.
func (s streams) close() (string, error) {
	var (
		errs  []error
		parts []string
	)
	for _, st := range s {
		close(st.rows)
	}
	for _, table := range slices.Sorted(maps.Keys(s)) {
		st := s[table]
		<-st.done
		errs = append(errs, st.err)
		parts = append(parts, fmt.Sprintf("%s %d", table, st.n))
	}
	return strings.Join(parts, ", "), errors.Join(errs...)
}

// State is what -state holds: logins for paylinkbench reads.
type State struct {
	Merchants []Merchant `json:"merchants"`
	Users     []User     `json:"users"`
	Payments  int        `json:"payments"`
}

// Merchant is a seeded merchant with an API key, its dashboard log-in and
// its payment count.
type Merchant struct {
	ID        string `json:"id"`
	KeyID     string `json:"key_id"`
	KeySecret string `json:"key_secret"`
	Email     string `json:"email"`
	Password  string `json:"password"`
	Payments  int    `json:"payments"`
}

// User is a seeded wallet user's login and transaction count.
type User struct {
	Email        string `json:"email"`
	Password     string `json:"password"`
	Transactions int    `json:"transactions"`
}

// writeState creates API keys for the -keyed merchants (the biggest
// first) and writes them, with the busiest users' logins, to path.
func (g *generator) writeState(ctx context.Context, db *postgres.DB, merchants *merchant.Service, path string) error {
	st := State{Payments: g.paid}
	picks := []int{0, 1, 2, g.f.merchants / 2, g.f.merchants - 1}
	for i := 3; len(picks) < g.f.keyed && i < g.f.merchants; i++ {
		picks = append(picks, i)
	}
	for _, i := range picks[:min(g.f.keyed, len(picks))] {
		m := g.merchants[i]
		err := db.WithTx(ctx, func(tx pgx.Tx) error {
			k, err := merchants.CreateKey(ctx, tx, m.id)
			if err == nil {
				st.Merchants = append(st.Merchants, Merchant{ID: m.id, KeyID: k.ID, KeySecret: k.Secret,
					Email: merchantEmail(i), Password: seedPassword, Payments: m.payments})
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	for _, i := range []int{0, 1, g.f.users / 2} {
		u := g.users[i]
		st.Users = append(st.Users, User{Email: u.email, Password: seedPassword, Transactions: u.rows})
	}
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o600)
}
