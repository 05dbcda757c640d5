package hostedcheckout_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/postgres"
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
// take more round trips than budgeted. The figures are the ones
// BENCHMARKS.md reports.
func TestPaymentStatementBudget(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	cfg := e.DB.Pool.Config().Copy()
	counter := &statementCounter{}
	cfg.ConnConfig.Tracer = counter
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	traced := e.Replica(func(d *httpapi.Deps) { d.DB = &postgres.DB{Pool: pool} })
	_, c := traced.SignUp("budget@shop.test")
	l := traced.CreateLink(c, map[string]any{"single_use": false})
	path := apitest.CheckoutPath(t, l)
	if res := traced.Pay(path, apitest.CardBody("4242424242424242"), "warm-up"); res.Status != http.StatusOK {
		t.Fatalf("warm-up: %d %s", res.Status, res.Body) // creates the ledger accounts
	}
	counter.reset()
	if res := traced.Pay(path, apitest.CardBody("4242424242424242"), "measured"); res.Status != http.StatusOK {
		t.Fatalf("pay: %d %s", res.Status, res.Body)
	}
	trips, stmts := counter.reset()
	t.Logf("one payment: %d round trips, %d statements", trips, len(stmts))
	for _, s := range stmts {
		t.Logf("  %.110s", s)
	}
	const maxTrips = 3
	if trips > maxTrips {
		t.Errorf("a payment took %d database round trips, budget %d", trips, maxTrips)
	}
}
