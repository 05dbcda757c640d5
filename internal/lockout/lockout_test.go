package lockout

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/testclock"
)

func TestReserveCountsBeforeTheCheck(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	clk := testclock.New()
	g := New(db, Config{MaxAttempts: 3, Lockout: 10 * time.Minute}, clk.Now)

	// Three attempts may run; the fourth locks, and the lock holds for a
	// success too.
	var atts []Attempt
	for i := range 3 {
		a, err := g.Reserve(ctx, "wallet:a@example.test")
		if err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		atts = append(atts, a)
	}
	// The first attempt succeeding after the others were reserved must not
	// give them back.
	if err := atts[0].Succeeded(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := g.Reserve(ctx, "wallet:a@example.test")
	var locked *LockedError
	if !errors.As(err, &locked) || !errors.Is(err, ErrLocked) || locked.RetryAfter(clk.Now()) != 10*time.Minute {
		t.Fatalf("fourth attempt = %v; want locked for 10 minutes", err)
	}
	clk.Advance(5 * time.Minute)
	if _, err := g.Reserve(ctx, "wallet:a@example.test"); !errors.As(err, &locked) || locked.RetryAfter(clk.Now()) != 5*time.Minute {
		t.Fatalf("attempt in the lock = %v; want the same lock, 5 minutes left", err)
	}
	// Other subjects are not affected.
	if _, err := g.Reserve(ctx, "merchant:a@example.test"); err != nil {
		t.Fatalf("another subject: %v", err)
	}

	// After the lock a new window starts; the last attempt's success clears
	// the count, so three more may run.
	clk.Advance(5*time.Minute + time.Second)
	a, err := g.Reserve(ctx, "wallet:a@example.test")
	if err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	if err := a.Succeeded(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := g.Reserve(ctx, "wallet:a@example.test"); err != nil {
			t.Fatalf("after a success, attempt %d: %v", i+1, err)
		}
	}
	// An abandoned attempt (nothing checked) is given back.
	clk.Advance(10 * time.Minute) // a new window
	for i := range 3 {
		a, err := g.Reserve(ctx, "wallet:b@example.test")
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if err := a.Abandon(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := g.Reserve(ctx, "wallet:b@example.test"); err != nil {
		t.Fatalf("after an abandoned attempt: %v; want a third place", err)
	}

	// Clean-up keeps live windows and locks.
	if _, err := g.Reserve(ctx, "wallet:b@example.test"); err == nil {
		t.Fatal("fourth attempt of b was not locked")
	}
	clk.Advance(time.Hour)
	if _, err := g.Reserve(ctx, "wallet:c@example.test"); err != nil {
		t.Fatal(err)
	}
	n, err := DeleteStale(ctx, db.Pool, clk.Now(), clk.Now().Add(-30*time.Minute))
	if err != nil || n != 3 {
		t.Fatalf("DeleteStale = %d, %v; want the 3 spent subjects, not c's live window", n, err)
	}
	if _, err := g.Reserve(ctx, "wallet:c@example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Reserve(ctx, "wallet:c@example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Reserve(ctx, "wallet:c@example.test"); !errors.Is(err, ErrLocked) {
		t.Fatalf("c's fourth attempt = %v; the clean-up lost its count", err)
	}
}

func TestReserveUnderConcurrency(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	g := New(db, Config{MaxAttempts: 5, Lockout: time.Minute}, time.Now)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := g.Reserve(context.Background(), "wallet:race@example.test")
			if err == nil {
				mu.Lock()
				allowed++
				mu.Unlock()
			} else if !errors.Is(err, ErrLocked) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if allowed != 5 {
		t.Fatalf("%d of 40 concurrent attempts allowed; want exactly 5", allowed)
	}
}
