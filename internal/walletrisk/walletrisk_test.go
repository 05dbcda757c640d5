package walletrisk

import (
	"context"
	"fmt"

	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/waitfor"
	"github.com/paylink/paylink/internal/wallet"
)

var t0 = time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)

// fixture is a Screener on a Redis database and a PostgreSQL database of
// the test's own, with a clock the test moves.
type fixture struct {
	s   *Screener
	db  *postgres.DB
	rdb *redis.Client
	now time.Time
}

// discard is the tests' logger.
var discard = slog.New(slog.DiscardHandler)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rdb, _ := redistest.New(t)
	f := &fixture{db: pgtest.New(t), rdb: rdb, now: t0}
	secret := []byte("walletrisk-test-secret-0123456789abcdef")
	f.s = New(f.db, NewCounters(rdb, "", risk.DefaultThresholds, discard), risk.DefaultThresholds,
		func(n string) string { return processor.Fingerprint(secret, n) },
		discard, func() time.Time { return f.now })
	return f
}

var attempts atomic.Int64

// attempt is a new top-up attempt by user from ip with card number.
func (f *fixture) attempt(kind, user, ip, number string) *Attempt {
	return f.s.Attempt(fmt.Sprintf("att%d", attempts.Add(1)), kind, user, ip, number)
}

// card is the i-th of a set of distinct card numbers.
func card(i int) string { return fmt.Sprintf("400000000000%04d", i) }

// failOnce screens an attempt by user from ip with number, which must not
// be blocked, and fails it, as a declined top-up does.
func (f *fixture) failOnce(t *testing.T, user, ip, number string) {
	t.Helper()
	a := f.attempt(wallet.TypeTopUp, user, ip, number)
	if d := f.s.Screen(context.Background(), a); d.Outcome == risk.Block {
		t.Fatalf("a failure by %s from %s already blocked: %+v", user, ip, d)
	}
	f.s.Failed(a)
}

// screen is the decision about a new attempt of kind by user from ip with
// number.
func (f *fixture) screen(kind, user, ip, number string) Decision {
	return f.s.Screen(context.Background(), f.attempt(kind, user, ip, number))
}

// TestCardTestingEdge: 10 failed card attempts over 5 distinct cards
// within 10 minutes, from one IP (by many users) or by one user (from
// many IPs), block the next card attempt from that IP or by that user;
// 9 failures, or 4 cards, do not.
func TestCardTestingEdge(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name            string
		failures, cards int
		byUser          bool
		wantBlock       bool
	}{
		{"ip 9 failures over 5 cards", 9, 5, false, false},
		{"ip 10 failures over 4 cards", 10, 4, false, false},
		{"ip 10 failures over 5 cards", 10, 5, false, true},
		{"user 9 failures over 5 cards", 9, 5, true, false},
		{"user 10 failures over 4 cards", 10, 4, true, false},
		{"user 10 failures over 5 cards", 10, 5, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			for i := range tc.failures {
				user, ip := fmt.Sprintf("usr_%d", i), "198.51.100.7"
				if tc.byUser {
					user, ip = "usr_tester", fmt.Sprintf("203.0.113.%d", i)
				}
				f.failOnce(t, user, ip, card(i%tc.cards))
				f.now = f.now.Add(30 * time.Second) // all within the 10-minute window
			}
			user, ip := "usr_next", "198.51.100.7"
			if tc.byUser {
				user, ip = "usr_tester", "203.0.113.200"
			}
			d := f.screen(wallet.TypeTopUp, user, ip, processor.CardVisa)
			blocked := d.Outcome == risk.Block && d.Score == 99 && slices.Contains(d.Reasons, risk.CardTesting)
			if blocked != tc.wantBlock {
				t.Fatalf("next attempt by %s from %s = %+v; want blocked for card testing: %v", user, ip, d, tc.wantBlock)
			}
			if !tc.wantBlock && (d.Outcome != risk.Allow || slices.Contains(d.Reasons, risk.CardTesting)) {
				t.Fatalf("next attempt = %+v; want allowed", d)
			}
		})
	}
}

// TestFailuresFlushedForOtherProcesses: the failure that no screening
// of this process carried is written on its own after risk.FlushDelay, so
// another process's next screening counts it.
func TestFailuresFlushedForOtherProcesses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i := range 10 {
		f.failOnce(t, "usr_tester", fmt.Sprintf("203.0.113.%d", i), card(i%5))
	}
	failures := f.s.counters.key("uf", "usr_tester")
	waitfor.Until(t, 10*time.Second, "the last failure flushed", func(ctx context.Context) error {
		if n := f.rdb.ZCard(ctx, failures).Val(); n != 10 {
			return fmt.Errorf("%d failures of the user in Redis", n)
		}
		return nil
	})
	other := New(f.db, NewCounters(f.rdb, "", risk.DefaultThresholds, discard), risk.DefaultThresholds,
		f.s.fingerprint, discard, func() time.Time { return f.now })
	d := other.Screen(context.Background(), f.attempt(wallet.TypeTopUp, "usr_tester", "192.0.2.9", processor.CardVisa))
	if d.Outcome != risk.Block || !slices.Contains(d.Reasons, risk.CardTesting) {
		t.Fatalf("another process after the flush = %+v; want blocked for card testing", d)
	}
}

// TestCardTestingBlockSpreadsAndEnds: a user caught card testing is
// blocked, with the IP they then use, for an hour, for top-ups and
// withdrawals alike; other users and IPs are not affected; after the hour
// they are screened as usual again.
func TestCardTestingBlockSpreadsAndEnds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i := range 10 {
		f.failOnce(t, "usr_tester", fmt.Sprintf("203.0.113.%d", i), card(i%5))
	}
	const ip = "192.0.2.50"
	for _, tc := range []struct {
		kind, user, ip string
		wantBlock      bool
	}{
		{wallet.TypeTopUp, "usr_tester", ip, true}, // the tester, from a new IP: blocked, and the IP with them
		{wallet.TypeTopUp, "usr_other", ip, true},  // someone else from that IP
		{wallet.TypeWithdrawal, "usr_tester", "192.0.2.51", true},
		{wallet.TypeTopUp, "usr_other", "192.0.2.52", false}, // anyone else elsewhere
	} {
		d := f.screen(tc.kind, tc.user, tc.ip, processor.CardVisa)
		if got := d.Outcome == risk.Block && slices.Contains(d.Reasons, risk.CardTesting); got != tc.wantBlock {
			t.Errorf("%s by %s from %s = %+v; want blocked: %v", tc.kind, tc.user, tc.ip, d, tc.wantBlock)
		}
	}
	f.now = f.now.Add(time.Hour + time.Minute)
	for _, who := range [][2]string{{"usr_tester", "192.0.2.53"}, {"usr_other", ip}} {
		if d := f.screen(wallet.TypeTopUp, who[0], who[1], processor.CardVisa); d.Outcome != risk.Allow {
			t.Errorf("%s from %s after the hour = %+v; want allow", who[0], who[1], d)
		}
	}
}

// TestTestCardsAndOutcomes: the highest-risk test card is blocked (99);
// the elevated one (70) challenges a top-up and reviews (holds) a
// withdrawal; an ordinary card is allowed with no reasons.
func TestTestCardsAndOutcomes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tc := range []struct {
		kind, number string
		want         Decision
	}{
		{wallet.TypeTopUp, "4100000000000019", Decision{Score: 99, Level: "highest", Outcome: risk.Block, Reasons: []string{risk.TestCard}}},
		{wallet.TypeWithdrawal, "4100000000000019", Decision{Score: 99, Level: "highest", Outcome: risk.Block, Reasons: []string{risk.TestCard}}},
		{wallet.TypeTopUp, "4000000000009235", Decision{Score: 70, Level: "elevated", Outcome: risk.Challenge, Reasons: []string{risk.TestCard}}},
		{wallet.TypeWithdrawal, "4000000000009235", Decision{Score: 70, Level: "elevated", Outcome: risk.Review, Reasons: []string{risk.TestCard}}},
	} {
		d := f.screen(tc.kind, "usr_"+tc.number+tc.kind, "", tc.number)
		if d.Score != tc.want.Score || d.Level != tc.want.Level || d.Outcome != tc.want.Outcome ||
			!slices.Equal(d.Reasons, tc.want.Reasons) || d.Model == "" {
			t.Errorf("%s with %s = %+v; want %+v", tc.kind, tc.number, d, tc.want)
		}
	}
	if d := f.screen(wallet.TypeTopUp, "usr_plain", "192.0.2.9", processor.CardVisa); d.Outcome != risk.Allow || d.Level != "normal" ||
		len(d.Reasons) != 0 {
		t.Errorf("an ordinary top-up = %+v; want allow, no reasons", d)
	}
}

// TestVelocitySignals: the 5th attempt with one card within the hour
// fires card_velocity, the 3rd distinct card of one user fires
// email_card_velocity (each alone normal); both together are elevated,
// which challenges a top-up.
func TestVelocitySignals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i := range 4 {
		if d := f.screen(wallet.TypeTopUp, fmt.Sprintf("usr_v%d", i), "", card(1)); slices.Contains(d.Reasons, risk.CardVelocity) {
			t.Fatalf("attempt %d with one card = %+v; want no card_velocity yet", i+1, d)
		}
	}
	d := f.screen(wallet.TypeTopUp, "usr_v4", "", card(1))
	if !slices.Contains(d.Reasons, risk.CardVelocity) || d.Outcome != risk.Allow {
		t.Fatalf("5th attempt with one card = %+v; want card_velocity, allowed", d)
	}
	f.screen(wallet.TypeTopUp, "usr_cycler", "", card(2))
	if d := f.screen(wallet.TypeTopUp, "usr_cycler", "", card(3)); slices.Contains(d.Reasons, risk.EmailCardVelocity) {
		t.Fatalf("2nd card of a user = %+v; want no email_card_velocity", d)
	}
	d = f.screen(wallet.TypeTopUp, "usr_cycler", "", card(1))
	if !slices.Contains(d.Reasons, risk.EmailCardVelocity) || !slices.Contains(d.Reasons, risk.CardVelocity) ||
		d.Level != "elevated" || d.Outcome != risk.Challenge {
		t.Fatalf("3rd card of a user, 6th attempt of the card = %+v; want both signals, elevated, challenge", d)
	}
}

// TestConcurrentAttemptsCount: 50 attempts at once from one IP each count:
// their IP counts are 1..50, each once.
func TestConcurrentAttemptsCount(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 50
	got := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := f.s.counters.Count(context.Background(), f.attempt(wallet.TypeTopUp, fmt.Sprintf("usr_%d", i), "192.0.2.77", card(i)), f.now)
			if err != nil {
				t.Error(err)
			}
			got[i] = c.IPAttempts
		}()
	}
	wg.Wait()
	slices.Sort(got)
	for i, v := range got {
		if v != int64(i+1) {
			t.Fatalf("IP counts of %d concurrent attempts = %v; want 1..%d each once", n, got, n)
		}
	}
}

// TestRedisDownDegrades: with Redis unreachable an ordinary attempt is
// allowed with risk_degraded, a test card is still decided by its score,
// and a user and IP this process saw blocked for card testing stay
// blocked.
func TestRedisDownDegrades(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i := range 10 {
		f.failOnce(t, "usr_tester", "198.51.100.66", card(i%5))
	}
	if d := f.screen(wallet.TypeTopUp, "usr_tester", "198.51.100.66", processor.CardVisa); d.Outcome != risk.Block {
		t.Fatalf("card tester with Redis up: %+v", d)
	}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1}) // refused at once
	t.Cleanup(func() { down.Close() })
	f.s.counters = NewCounters(down, "", risk.DefaultThresholds, discard)

	d := f.screen(wallet.TypeTopUp, "usr_plain", "192.0.2.1", processor.CardVisa)
	if d.Outcome != risk.Allow || !slices.Equal(d.Reasons, []string{risk.Degraded}) {
		t.Errorf("an ordinary top-up with Redis down = %+v; want allow with risk_degraded", d)
	}
	if d := f.screen(wallet.TypeTopUp, "usr_plain", "192.0.2.1", "4100000000000019"); d.Outcome != risk.Block {
		t.Errorf("the highest-risk test card with Redis down = %+v; want block", d)
	}
	for _, who := range [][2]string{{"usr_tester", "192.0.2.2"}, {"usr_other", "198.51.100.66"}} {
		d := f.screen(wallet.TypeWithdrawal, who[0], who[1], processor.CardVisa)
		if d.Outcome != risk.Block || !slices.Contains(d.Reasons, risk.CardTesting) || !slices.Contains(d.Reasons, risk.Degraded) {
			t.Errorf("%s from %s with Redis down = %+v; want still blocked for card testing, degraded", who[0], who[1], d)
		}
	}
}
