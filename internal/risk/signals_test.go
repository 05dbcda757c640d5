package risk

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/pending"

	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/waitfor"
)

// discard is the tests' logger.
var discard = slog.New(slog.DiscardHandler)

var t0 = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func newCounters(t *testing.T) *Counters {
	t.Helper()
	rdb, _ := redistest.New(t)
	return NewCounters(rdb, "test:", DefaultThresholds, discard)
}

func attempt(n int, ip, fp string) *Attempt {
	return &Attempt{ID: fmt.Sprintf("att_%d", n), MerchantID: "mer_a", IP: ip, Email: "ada@example.test", Fingerprint: fp}
}

// TestCountersExactUnderConcurrency: 50 attempts at once, each a script
// of its own, all count.
func TestCountersExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	c := newCounters(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Count(ctx, attempt(i, "203.0.113.7", "cardA"), t0)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Count(ctx, attempt(50, "203.0.113.7", "cardA"), t0)
	if err != nil {
		t.Fatal(err)
	}
	if got.CardAttempts != 51 || got.IPAttempts != 51 || got.EmailCards != 1 {
		t.Fatalf("after 50 parallel attempts and this one: %+v; want 51 card and IP attempts, 1 card", got)
	}
	// A retried attempt (same id) counts once.
	if again, _ := c.Count(ctx, attempt(50, "203.0.113.7", "cardA"), t0); again.CardAttempts != 51 {
		t.Fatalf("a retried attempt counted again: %+v", again)
	}
}

// TestCardTestingAtItsEdges: 10 failures over 5 cards within 10 minutes
// block the IP; 9 failures, or 4 cards, do not; the window slides with
// the (injected) clock.
func TestCardTestingAtItsEdges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const step = 54 * time.Second // failures at t0, t0+54s, …: the 10th at t0+8m6s
	cases := []struct {
		name            string
		failures, cards int
		at              time.Duration // the next attempt, after t0
		want            bool
	}{
		{"9 failures over 5 cards", 9, 5, 9 * time.Minute, false},
		{"10 failures over 5 cards", 10, 5, 9 * time.Minute, true},
		{"10 failures over 4 cards", 10, 4, 9 * time.Minute, false},
		{"10 failures, the first just inside the window", 10, 5, 10*time.Minute - time.Millisecond, true},
		{"10 failures, the first slid out of the window", 10, 5, 10 * time.Minute, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCounters(t)
			for i := range tc.failures {
				a := &Attempt{ID: fmt.Sprintf("f%d", i), MerchantID: "mer_a", IP: "198.51.100.1",
					Fingerprint: fmt.Sprintf("card%d", i%tc.cards)}
				c.Failed(a, t0.Add(time.Duration(i)*step))
			}
			got, err := c.Count(ctx, attempt(1000, "198.51.100.1", "fresh"), t0.Add(tc.at))
			if err != nil {
				t.Fatal(err)
			}
			if got.CardTesting != tc.want {
				t.Fatalf("card_testing = %v, want %v (%+v)", got.CardTesting, tc.want, got)
			}
		})
	}
}

// TestCardTestingBlocksForAnHour: once tripped, every attempt from the
// IP at the merchant is blocked for an hour, even after the failures
// slid out of their window; other IPs and other merchants are not.
func TestCardTestingBlocksForAnHour(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCounters(t)
	for i := range 10 {
		a := &Attempt{ID: fmt.Sprintf("f%d", i), MerchantID: "mer_a", IP: "198.51.100.1", Fingerprint: fmt.Sprintf("card%d", i%5)}
		c.Failed(a, t0)
	}
	check := func(a *Attempt, at time.Duration, want bool) {
		t.Helper()
		got, err := c.Count(ctx, a, t0.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		if got.CardTesting != want {
			t.Fatalf("%s at t0+%s: card_testing = %v, want %v", a.IP+"@"+a.MerchantID, at, got.CardTesting, want)
		}
	}
	check(attempt(1, "198.51.100.1", "x"), time.Second, true) // trips the block
	check(attempt(2, "198.51.100.2", "x"), time.Second, false)
	other := attempt(3, "198.51.100.1", "x")
	other.MerchantID = "mer_b"
	check(other, time.Second, false)
	check(attempt(4, "198.51.100.1", "y"), 59*time.Minute, true) // failures long gone, block holds
	check(attempt(5, "198.51.100.1", "y"), time.Hour+time.Second, false)
}

// TestVelocityWindows: card_attempts within an hour, distinct cards of an
// e-mail within a day, attempts of an IP within 10 minutes, each sliding.
func TestVelocityWindows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCounters(t)
	var got Counts
	var err error
	for i := range 4 {
		if got, err = c.Count(ctx, attempt(i, "192.0.2.1", fmt.Sprintf("card%d", i%2)), t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if got.CardAttempts != 2 || got.EmailCards != 2 || got.IPAttempts != 4 {
		t.Fatalf("after 4 attempts over 2 cards: %+v", got)
	}
	if got, _ = c.Count(ctx, attempt(10, "192.0.2.1", "card1"), t0.Add(61*time.Minute)); got.CardAttempts != 2 {
		t.Fatalf("card1 an hour later: %d attempts, want 2 (t0+1m slid out, t0+3m and this one stay)", got.CardAttempts)
	}
	if got.IPAttempts != 1 {
		t.Fatalf("IP attempts 61 minutes on = %d, want 1", got.IPAttempts)
	}
	if got, _ = c.Count(ctx, attempt(11, "192.0.2.1", "card2"), t0.Add(2*time.Hour)); got.EmailCards != 3 {
		t.Fatalf("e-mail's distinct cards within a day = %d, want 3", got.EmailCards)
	}
	if got, _ = c.Count(ctx, attempt(12, "192.0.2.1", "card3"), t0.Add(25*time.Hour+30*time.Minute)); got.EmailCards != 2 {
		t.Fatalf("e-mail's distinct cards a day later = %d, want 2 (card2 at +2h and card3)", got.EmailCards)
	}
}

// TestCountersUnreachable: a Redis that cannot be asked is an error the
// engine degrades on, not a hang or a zero count taken as true.
func TestCountersUnreachable(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	c := NewCounters(rdb, "", DefaultThresholds, discard)
	if _, err := c.Count(context.Background(), attempt(1, "192.0.2.1", "x"), t0); err == nil {
		t.Fatal("Count on an unreachable Redis: no error")
	}
}

// TestFailuresRideTheNextScreening: failed attempts make no round trip
// of their own. The merchant's next Count writes them all (50 failing at
// once) in its one script and counts them; another merchant's Count does
// not carry them (its keys may live on another shard).
func TestFailuresRideTheNextScreening(t *testing.T) {
	t.Parallel()
	rdb, _ := redistest.New(t)
	sent := redistest.CountRoundTrips(rdb)
	c := NewCounters(rdb, "test:", DefaultThresholds, discard)
	c.failed = pending.New(time.Hour, c.flush) // no flush within the test: only Count writes
	ctx := context.Background()
	if _, err := c.Count(ctx, attempt(0, "192.0.2.1", "warm"), t0); err != nil { // loads the script
		t.Fatal(err)
	}
	sent.Store(0)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			c.Failed(&Attempt{ID: fmt.Sprintf("f%d", i), MerchantID: "mer_a", IP: "198.51.100.1",
				Fingerprint: fmt.Sprintf("card%d", i%5)}, t0)
		})
	}
	wg.Wait()
	if n := sent.Load(); n != 0 {
		t.Fatalf("50 failures made %d round trips; want none", n)
	}

	other := attempt(1, "198.51.100.1", "card0")
	other.MerchantID = "mer_b"
	if got, err := c.Count(ctx, other, t0.Add(time.Second)); err != nil || got.CardTesting || got.CardFailures != 0 {
		t.Fatalf("another merchant's attempt: %+v, %v; want no failures", got, err)
	}
	if n := rdb.Exists(ctx, c.key("mer_a", "ipf", "198.51.100.1")).Val(); n != 0 {
		t.Fatal("another merchant's script wrote mer_a's failures")
	}

	sent.Store(0)
	got, err := c.Count(ctx, &Attempt{ID: "next", MerchantID: "mer_a", IP: "198.51.100.1", Fingerprint: "card0"},
		t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if n := sent.Load(); n != 1 {
		t.Errorf("the screening that carried 50 failures made %d round trips; want 1", n)
	}
	if !got.CardTesting || got.CardFailures != 10 {
		t.Fatalf("after 50 failures over 5 cards: %+v; want card_testing and card0's 10 failures", got)
	}
}

// TestFailuresNoScreeningTakesAreFlushed: failures that no screening of
// their merchant carries are written on their own after FlushDelay, each
// at its own time, so another process's screening sees them.
func TestFailuresNoScreeningTakesAreFlushed(t *testing.T) {
	t.Parallel()
	rdb, _ := redistest.New(t)
	c := NewCounters(rdb, "test:", DefaultThresholds, discard)
	for i := range 10 {
		c.Failed(&Attempt{ID: fmt.Sprintf("f%d", i), MerchantID: "mer_a", IP: "198.51.100.1",
			Fingerprint: fmt.Sprintf("card%d", i%5)}, t0.Add(time.Duration(i)*time.Second))
	}
	ipf := c.key("mer_a", "ipf", "198.51.100.1")
	waitfor.Until(t, 10*time.Second, "the failures flushed", func(ctx context.Context) error {
		if n := rdb.ZCard(ctx, ipf).Val(); n != 10 {
			return fmt.Errorf("%d failures of the IP in Redis", n)
		}
		return nil
	})
	if first, _ := rdb.ZScore(context.Background(), ipf, "f0").Result(); int64(first) != t0.UnixMilli() {
		t.Errorf("the first failure is at %v ms; want its own time %d", first, t0.UnixMilli())
	}
	another := NewCounters(rdb, "test:", DefaultThresholds, discard)
	got, err := another.Count(context.Background(), attempt(1, "198.51.100.1", "fresh"), t0.Add(time.Minute))
	if err != nil || !got.CardTesting {
		t.Fatalf("another process after the flush: %+v, %v; want card_testing", got, err)
	}
}

// TestFlushWritesWhatWaits: Flush writes every merchant's waiting
// failures at once, as a stopping process does, so another process sees
// them.
func TestFlushWritesWhatWaits(t *testing.T) {
	t.Parallel()
	rdb, _ := redistest.New(t)
	c := NewCounters(rdb, "test:", DefaultThresholds, discard)
	c.failed = pending.New(time.Hour, c.flush) // only Flush writes
	merchants := []string{"mer_a", "mer_b"}
	for _, mer := range merchants {
		for i := range 10 {
			c.Failed(&Attempt{ID: fmt.Sprintf("%s_f%d", mer, i), MerchantID: mer, IP: "198.51.100.1",
				Fingerprint: fmt.Sprintf("card%d", i%5)}, t0)
		}
	}
	c.Flush()
	another := NewCounters(rdb, "test:", DefaultThresholds, discard)
	for _, mer := range merchants {
		a := attempt(1, "198.51.100.1", "fresh")
		a.MerchantID = mer
		if got, err := another.Count(context.Background(), a, t0.Add(time.Second)); err != nil || !got.CardTesting {
			t.Fatalf("%s after the flush: %+v, %v; want card_testing", mer, got, err)
		}
	}
}

// TestFailuresSurviveAFailedScreening: a screening whose script could
// not run (its request was cancelled) puts the failures it carried back
// to wait, so the next screening still counts them, once.
func TestFailuresSurviveAFailedScreening(t *testing.T) {
	t.Parallel()
	rdb, _ := redistest.New(t)
	c := NewCounters(rdb, "test:", DefaultThresholds, discard)
	c.failed = pending.New(time.Hour, c.flush) // only Count writes
	for i := range 10 {
		c.Failed(&Attempt{ID: fmt.Sprintf("f%d", i), MerchantID: "mer_a", IP: "198.51.100.1",
			Fingerprint: fmt.Sprintf("card%d", i%5)}, t0)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Count(cancelled, attempt(1, "198.51.100.1", "card0"), t0.Add(time.Second)); err == nil {
		t.Fatal("Count with a cancelled context: no error")
	}
	got, err := c.Count(context.Background(), attempt(2, "198.51.100.1", "card0"), t0.Add(time.Second))
	if err != nil || !got.CardTesting || got.CardFailures != 2 {
		t.Fatalf("the next screening: %+v, %v; want card_testing and card0's 2 failures", got, err)
	}
}
