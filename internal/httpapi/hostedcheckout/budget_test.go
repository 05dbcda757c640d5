package hostedcheckout_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/risk"
)

// statementCounter counts database round trips and statements.
type statementCounter struct {
	mu         sync.Mutex
	trips      int
	statements []string
}

func (s *statementCounter) add(trip bool, sql string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if trip {
		s.trips++
	}
	s.statements = append(s.statements, strings.Join(strings.Fields(sql), " "))
}

func (s *statementCounter) reset() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	trips, stmts := s.trips, s.statements
	s.trips, s.statements = 0, nil
	return trips, stmts
}

func (s *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.add(true, d.SQL)
	return ctx
}

func (s *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (s *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	s.add(true, "")
	s.mu.Lock()
	s.statements = s.statements[:len(s.statements)-1]
	s.mu.Unlock()
	return ctx
}

func (s *statementCounter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	s.add(false, d.SQL)
}

func (s *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TestPaymentStatementBudget keeps the hot path's database work in check:
// one card payment on a reusable link, with an Idempotency-Key, must not
// take more round trips than budgeted: screening's read, then the
// transaction's three. The figures are the ones BENCHMARKS.md reports.
func TestPaymentStatementBudget(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	cfg := e.DB.Pool.Config().Copy()
	counter := &statementCounter{}
	cfg.ConnConfig.Tracer = counter
	// One connection: a payment whose transaction waited for a second one
	// (a read through the pool while it holds the first) would never
	// finish, and under load would stall every payment once the pool is
	// full of such transactions.
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	// The replica screens through the traced pool too.
	traced := e.Replica(func(d *httpapi.Deps) {
		d.DB = &postgres.DB{Pool: pool}
		sim := processor.NewSimulator(apitest.TestSimulatorKey, processor.NewRedisKeys(d.Redis), d.Now)
		engine := risk.NewEngine(d.DB, risk.NewCounters(d.Redis, "", risk.DefaultThresholds, d.Log), risk.DefaultThresholds, d.Log, d.Now)
		d.Checkout = checkout.NewService(sim, d.Links, d.Now).WithRisk(engine, sim.Fingerprint)
	})
	_, c := traced.SignUp("budget@shop.test")
	l := traced.CreateLink(c, map[string]any{"single_use": false})
	path := apitest.CheckoutPath(t, l)
	counter.reset()
	if res := traced.Pay(path, apitest.CardBody("4242424242424242"), "warm-up"); res.Status != http.StatusOK {
		t.Fatalf("warm-up: %d %s", res.Status, res.Body) // creates the ledger accounts
	}
	// A merchant that never had a risk rule or list item has none to read,
	// even on its first payment after a start.
	_, first := counter.reset()
	for _, s := range first {
		if strings.Contains(s, "risk_rules") || strings.Contains(s, "risk_list_items") {
			t.Errorf("the first payment read rules or lists the merchant never had: %.110s", s)
		}
	}
	if res := traced.Pay(path, apitest.CardBody("4242424242424242"), "measured"); res.Status != http.StatusOK {
		t.Fatalf("pay: %d %s", res.Status, res.Body)
	}
	trips, stmts := counter.reset()
	t.Logf("one payment: %d round trips, %d statements", trips, len(stmts))
	for _, s := range stmts {
		t.Logf("  %.110s", s)
	}
	const maxTrips = 4
	if trips > maxTrips {
		t.Errorf("a payment took %d database round trips, budget %d", trips, maxTrips)
	}
}
