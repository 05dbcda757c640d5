package risk

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"

	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/redistest"
)

type engineFixture struct {
	db  *postgres.DB
	rdb *redis.Client
	now time.Time
}

func newEngineFixture(t *testing.T) *engineFixture {
	t.Helper()
	rdb, _ := redistest.New(t)
	return &engineFixture{db: pgtest.New(t), rdb: rdb, now: t0}
}

func (f *engineFixture) engine() *Engine {
	return NewEngine(f.db, NewCounters(f.rdb, "", DefaultThresholds, discard), DefaultThresholds,
		discard, func() time.Time { return f.now })
}

func (f *engineFixture) merchant(t *testing.T, id string) {
	t.Helper()
	if _, err := f.db.Pool.Exec(context.Background(), `INSERT INTO merchants (id, name, email, password_hash)
		VALUES ($1, 'Shop', $1 || '@shop.test', 'x')`, id); err != nil {
		t.Fatal(err)
	}
}

func (f *engineFixture) tx(t *testing.T, fn func(pgx.Tx) error) {
	t.Helper()
	if err := f.db.WithTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func (f *engineFixture) rule(t *testing.T, mer, action, expr string) string {
	t.Helper()
	var r *Rule
	f.tx(t, func(tx pgx.Tx) (err error) {
		r, err = CreateRule(context.Background(), tx, mer, action, expr, "", f.now)
		return err
	})
	return r.ID
}

func (f *engineFixture) item(t *testing.T, mer, list, typ, value string) {
	t.Helper()
	f.tx(t, func(tx pgx.Tx) error {
		_, err := AddItem(context.Background(), tx, mer, list, typ, value, f.now)
		return err
	})
}

var attempts atomic.Int64

func shopper(mer string) *Attempt {
	return &Attempt{ID: fmt.Sprintf("a%d", attempts.Add(1)), MerchantID: mer, IP: "203.0.113.9", Email: "Ada@Example.test",
		Method: "card", Brand: "visa", Fingerprint: "fpadafpadafpadafpadafpada2", Amount: 2500, Currency: "USD",
		Link: "plink_1", Metadata: map[string]string{"channel": "web"}}
}

// TestDecisionOrder is API.md Part 3's order as a table: card_testing;
// allow list and allow rules; block list and block rules; challenge
// rules; review rules; the default by level. The first matching rule of
// the deciding action is the decision's rule.
func TestDecisionOrder(t *testing.T) {
	t.Parallel()
	f := newEngineFixture(t)
	e := f.engine()
	ctx := context.Background()
	type rules struct{ action, expr string }
	cases := []struct {
		name        string
		rules       []rules
		allow       [][2]string // list items: type, value
		block       [][2]string
		testCard    int
		cardTesting bool
		wantOutcome string
		wantRule    int // index into rules of the deciding rule, -1 for none
		wantReason  string
	}{
		{name: "nothing: normal allows", wantOutcome: Allow, wantRule: -1},
		{name: "highest-risk test card blocks", testCard: 99, wantOutcome: Block, wantRule: -1, wantReason: TestCard},
		{name: "elevated test card reviews", testCard: 70, wantOutcome: Review, wantRule: -1, wantReason: TestCard},
		{name: "allow list beats a block rule", allow: [][2]string{{TypeEmail, "ADA@example.TEST"}},
			rules: []rules{{ActionBlock, "amount > 100"}}, wantOutcome: Allow, wantRule: -1, wantReason: AllowList},
		{name: "allow list beats the highest score", allow: [][2]string{{TypeEmailDomain, "Example.Test"}}, testCard: 99,
			wantOutcome: Allow, wantRule: -1, wantReason: AllowList},
		{name: "allow rule beats the block list", rules: []rules{{ActionAllow, "metadata['channel'] == 'web'"}},
			block: [][2]string{{TypeIP, "203.0.113.0/24"}}, wantOutcome: Allow, wantRule: 0},
		{name: "block list (CIDR)", block: [][2]string{{TypeIP, "203.0.113.0/24"}}, wantOutcome: Block, wantRule: -1,
			wantReason: BlockList},
		{name: "block list (card)", block: [][2]string{{TypeCardFingerprint, "FPADAFPADAFPADAFPADAFPADA2"}}, wantOutcome: Block, wantRule: -1,
			wantReason: BlockList},
		{name: "block rule beats challenge and review", rules: []rules{{ActionReview, "true"}, {ActionChallenge, "true"},
			{ActionBlock, "email_domain == 'example.test'"}}, wantOutcome: Block, wantRule: 2},
		{name: "first matching block rule is the rule", rules: []rules{{ActionBlock, "amount < 10"},
			{ActionBlock, "currency == 'USD'"}, {ActionBlock, "link == 'plink_1'"}}, wantOutcome: Block, wantRule: 1},
		{name: "challenge beats review", rules: []rules{{ActionReview, "true"}, {ActionChallenge, "card_brand == 'visa'"}},
			wantOutcome: Challenge, wantRule: 1},
		{name: "review rule", rules: []rules{{ActionReview, "customer_payments == 0 && amount >= 2500"}},
			wantOutcome: Review, wantRule: 0},
		{name: "review rule beats a normal score's allow", rules: []rules{{ActionReview, "level == 'normal'"}},
			wantOutcome: Review, wantRule: 0},
		{name: "a rule failing at run time is skipped", rules: []rules{{ActionBlock, "metadata['missing'] == 'x'"}},
			wantOutcome: Allow, wantRule: -1},
		{name: "card_testing beats the allow list and allow rules", allow: [][2]string{{TypeIP, "203.0.113.9"}},
			rules: []rules{{ActionAllow, "true"}}, cardTesting: true, wantOutcome: Block, wantRule: -1,
			wantReason: CardTesting},
	}
	for i, tc := range cases {
		mer := fmt.Sprintf("mer_order%d", i)
		f.merchant(t, mer)
		var ids []string
		for _, r := range tc.rules {
			ids = append(ids, f.rule(t, mer, r.action, r.expr))
		}
		for _, it := range tc.allow {
			f.item(t, mer, ListAllow, it[0], it[1])
		}
		for _, it := range tc.block {
			f.item(t, mer, ListBlock, it[0], it[1])
		}
		if tc.cardTesting {
			for j := range 10 {
				a := shopper(mer)
				a.Fingerprint = fmt.Sprintf("card%d", j%5)
				e.Failed(a)
			}
		}
		a := shopper(mer)
		a.TestScore = tc.testCard
		d, err := e.Screen(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		wantRule := ""
		if tc.wantRule >= 0 {
			wantRule = ids[tc.wantRule]
		}
		if d.Outcome != tc.wantOutcome || d.Rule != wantRule ||
			(tc.wantReason != "" && !slices.Contains(d.Reasons, tc.wantReason)) ||
			(wantRule != "" && !slices.Contains(d.Reasons, wantRule)) {
			t.Errorf("%s: got %s rule %q reasons %v; want %s rule %q reason %q", tc.name, d.Outcome, d.Rule, d.Reasons,
				tc.wantOutcome, wantRule, tc.wantReason)
		}
	}
}

// TestRulesReloadOnEveryReplica: a rule created through one replica's
// database transaction applies on another replica's next payment, whose
// engine had cached the merchant's rules before.
func TestRulesReloadOnEveryReplica(t *testing.T) {
	t.Parallel()
	f := newEngineFixture(t)
	one, two := f.engine(), f.engine()
	ctx := context.Background()
	f.merchant(t, "mer_replicas")
	for _, e := range []*Engine{one, two} {
		if d, err := e.Screen(ctx, shopper("mer_replicas")); err != nil || d.Outcome != Allow {
			t.Fatalf("before the rule: %+v %v", d, err)
		}
	}
	id := f.rule(t, "mer_replicas", ActionBlock, "amount >= 2500")
	if d, err := two.Screen(ctx, shopper("mer_replicas")); err != nil || d.Outcome != Block || d.Rule != id {
		t.Fatalf("the other replica after the rule: %+v %v", d, err)
	}
	f.tx(t, func(tx pgx.Tx) error {
		off := false
		_, err := UpdateRule(ctx, tx, "mer_replicas", id, RuleUpdate{Enabled: &off}, f.now)
		return err
	})
	if d, err := two.Screen(ctx, shopper("mer_replicas")); err != nil || d.Outcome != Allow {
		t.Fatalf("after disabling the rule: %+v %v", d, err)
	}
}

// TestRedisDownDegrades: without Redis, counters are unknown and the
// reason risk_degraded says so; the payment is not blocked for it, the
// block list still applies, and an IP this process saw blocked for card
// testing stays blocked.
func TestRedisDownDegrades(t *testing.T) {
	t.Parallel()
	f := newEngineFixture(t)
	e := f.engine()
	ctx := context.Background()
	f.merchant(t, "mer_down")
	for j := range 10 {
		a := shopper("mer_down")
		a.IP, a.Fingerprint = "198.51.100.66", fmt.Sprintf("card%d", j%5)
		e.Failed(a)
	}
	tester := shopper("mer_down")
	tester.IP = "198.51.100.66"
	if d, _ := e.Screen(ctx, tester); d.Outcome != Block {
		t.Fatalf("card tester with Redis up: %+v", d)
	}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1}) // refused at once
	t.Cleanup(func() { down.Close() })
	e.counters = NewCounters(down, "", DefaultThresholds, discard)
	var logged bytes.Buffer
	e.log = slog.New(slog.NewJSONHandler(&logged, nil))

	d, err := e.Screen(ctx, shopper("mer_down"))
	if err != nil || d.Outcome != Allow || !slices.Contains(d.Reasons, Degraded) {
		t.Fatalf("an ordinary payment with Redis down: %+v %v; want allow with risk_degraded", d, err)
	}
	// Each attempt of an outage is not a log line of its own: the first
	// says so at once, the others wait for logevery.Outage.
	for range 20 {
		if d, _ := e.Screen(ctx, shopper("mer_down")); !slices.Contains(d.Reasons, Degraded) {
			t.Fatalf("payment with Redis down: %+v; want risk_degraded", d)
		}
	}
	if n := strings.Count(logged.String(), "risk signals unavailable"); n < 1 || n > 2 {
		t.Fatalf("21 attempts with Redis down logged %d warnings; want one (two if an interval passed):\n%s", n, logged.String())
	}
	tester = shopper("mer_down")
	tester.IP = "198.51.100.66"
	if d, _ := e.Screen(ctx, tester); d.Outcome != Block || !slices.Contains(d.Reasons, CardTesting) {
		t.Fatalf("the card tester with Redis down: %+v; want still blocked", d)
	}
	f.item(t, "mer_down", ListBlock, TypeEmail, "ada@example.test")
	if d, _ := e.Screen(ctx, shopper("mer_down")); d.Outcome != Block || !slices.Contains(d.Reasons, BlockList) {
		t.Fatalf("a block-listed e-mail with Redis down: %+v", d)
	}
}

// TestCardTestingBlockOutlivesRedisFlush: an IP blocked for card testing
// stays blocked for the hour (API.md Part 3: "nothing overrides it")
// when Redis comes back without its keys, as long as this process saw
// the block, even against an allow rule; another IP is not affected.
func TestCardTestingBlockOutlivesRedisFlush(t *testing.T) {
	t.Parallel()
	f := newEngineFixture(t)
	e := f.engine()
	ctx := context.Background()
	f.merchant(t, "mer_flush")
	for j := range 10 {
		a := shopper("mer_flush")
		a.IP, a.Fingerprint = "198.51.100.77", fmt.Sprintf("card%d", j%5)
		e.Failed(a)
	}
	tester := func() *Attempt { a := shopper("mer_flush"); a.IP = "198.51.100.77"; return a }
	if d, _ := e.Screen(ctx, tester()); d.Outcome != Block {
		t.Fatalf("card tester: %+v; want blocked", d)
	}
	if err := f.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	f.rule(t, "mer_flush", ActionAllow, "true")
	f.now = t0.Add(DefaultThresholds.TestingBlock - time.Second)
	if d, err := e.Screen(ctx, tester()); err != nil || d.Outcome != Block || d.Score != 99 ||
		!slices.Contains(d.Reasons, CardTesting) || d.Rule != "" {
		t.Fatalf("card tester after Redis lost its keys: %+v %v; want still blocked", d, err)
	}
	if d, _ := e.Screen(ctx, shopper("mer_flush")); d.Outcome != Allow {
		t.Fatalf("another IP: %+v; want allowed", d)
	}
	f.now = t0.Add(DefaultThresholds.TestingBlock)
	if d, _ := e.Screen(ctx, tester()); d.Outcome != Allow {
		t.Fatalf("card tester an hour later: %+v; want the block over", d)
	}
}

// TestCompileRefuses: syntax errors, unknown names and non-boolean
// results are refused with the checker's message.
func TestCompileRefuses(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]string{
		"amount >":                   "Syntax error",
		"amout > 5":                  "undeclared reference to 'amout'",
		"amount + 1":                 "not bool",
		"email == 5":                 "no matching overload",
		"":                           "empty",
		"metadata['k'] == 'v'":       "",
		"email_domain.endsWith('x')": "",
	} {
		_, err := Compile(expr)
		switch {
		case want == "" && err != nil:
			t.Errorf("Compile(%q) = %v; want it accepted", expr, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("Compile(%q) = %v; want an error saying %q", expr, err, want)
		}
	}
}

// TestListItems: e-mails and domains match whatever their case, IPs as
// addresses or CIDR ranges (IPv4-mapped IPv6 included); malformed values
// are refused.
func TestListItems(t *testing.T) {
	t.Parallel()
	m := newMatcher()
	for _, it := range [][2]string{{TypeEmail, " Eve@Evil.TEST "}, {TypeEmailDomain, "@Fraud.Example"},
		{TypeIP, "10.0.0.0/8"}, {TypeIP, "2001:db8::1"}} {
		v, err := NormalizeItem(it[0], it[1])
		if err != nil {
			t.Fatalf("NormalizeItem(%q, %q) = %v", it[0], it[1], err)
		}
		m.add(it[0], v)
	}
	for _, tc := range []struct {
		email, ip string
		want      bool
	}{
		{"eve@evil.test", "192.0.2.1", true}, {"EVE@EVIL.TEST", "192.0.2.1", true},
		{"x@FRAUD.example", "192.0.2.1", true}, {"x@sub.fraud.example", "192.0.2.1", false},
		{"ok@shop.test", "10.200.3.4", true}, {"ok@shop.test", "::ffff:10.1.1.1", true},
		{"ok@shop.test", "11.0.0.1", false}, {"ok@shop.test", "2001:db8::1", true}, {"ok@shop.test", "2001:db8::2", false},
	} {
		if got := m.match(&Attempt{Email: tc.email, IP: tc.ip}); got != tc.want {
			t.Errorf("match(%s, %s) = %v, want %v", tc.email, tc.ip, got, tc.want)
		}
	}
	for _, it := range [][2]string{{TypeIP, "10.0.0.300"}, {TypeIP, "10.0.0.0/33"}, {TypeEmail, "no-at"},
		{TypeEmailDomain, "nodot"}, {TypeCardFingerprint, "not base32!"},
		{TypeCardFingerprint, "4242424242424242"}, {TypeCardFingerprint, "fpadafpadafpadafpadafpada"}, {"phone", "1"}} {
		_, err := NormalizeItem(it[0], it[1])
		e, ok := apperr.As(err)
		switch {
		case !ok:
			t.Errorf("NormalizeItem(%q, %q) = %v; want a 400", it[0], it[1], err)
		case it[0] != "phone" && (e.Param != "value" || !strings.Contains(e.Message, "like") && !strings.Contains(e.Message, "26 characters")):
			// The message says what a valid value of the type looks like.
			t.Errorf("NormalizeItem(%q, %q) = %q on %q; want a hint of the type's form", it[0], it[1], e.Message, e.Param)
		}
	}
}
