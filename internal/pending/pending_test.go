package pending

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/waitfor"
)

// TestFlushesAFewAtATime: with maxFlushes flushes in flight (a
// slow Redis), another scope's flush waits instead of adding a goroutine
// and a connection; it runs once a slot frees, and every item is flushed
// exactly once.
func TestFlushesAFewAtATime(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan string, 2*maxFlushes)
	var (
		mu           sync.Mutex
		active, most int
		flushed      = map[string][]int{}
	)
	p := New(time.Millisecond, func(_ context.Context, scope string, batch []int) {
		mu.Lock()
		active++
		most = max(most, active)
		mu.Unlock()
		started <- scope
		<-release
		mu.Lock()
		active--
		flushed[scope] = append(flushed[scope], batch...)
		mu.Unlock()
	})
	for i := range maxFlushes {
		p.Add(fmt.Sprint("busy", i), i)
	}
	for range maxFlushes {
		<-started
	}
	p.Add("late", 99)
	waitfor.Until(t, 10*time.Second, "the late scope's flush to wait for a slot", func(context.Context) error {
		if p.deferred.Load() == 0 {
			return errors.New("not deferred yet")
		}
		return nil
	})
	select {
	case s := <-started:
		t.Fatalf("%s flushed while %d flushes were in flight", s, maxFlushes)
	default:
	}
	close(release)
	select {
	case s := <-started:
		if s != "late" {
			t.Fatalf("flushed %s; want late", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the late scope was never flushed")
	}
	waitfor.Until(t, 10*time.Second, "every flush done", func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if len(flushed) != maxFlushes+1 {
			return fmt.Errorf("%d scopes flushed", len(flushed))
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if most != maxFlushes {
		t.Errorf("%d flushes in flight at most; want %d", most, maxFlushes)
	}
	for scope, items := range flushed {
		if len(items) != 1 {
			t.Errorf("%s flushed %v; want its one item once", scope, items)
		}
	}
}

// TestWaitingIsBounded: a scope keeps its newest maxWaiting items, oldest
// first, when nothing takes them for long.
func TestWaitingIsBounded(t *testing.T) {
	t.Parallel()
	p := New(time.Hour, func(context.Context, string, []int) {})
	for i := range maxWaiting + 10 {
		p.Add("scope", i)
	}
	got := p.Take("scope")
	if len(got) != maxWaiting || got[0] != 10 || got[len(got)-1] != maxWaiting+9 {
		t.Fatalf("kept %d items, %d to %d; want the newest %d, 10 to %d", len(got), got[0], got[len(got)-1],
			maxWaiting, maxWaiting+9)
	}
}
