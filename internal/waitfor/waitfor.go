// Package waitfor is how tests wait for another process to reach a state
// (a server accepting connections, a failover done): they poll a condition
// until it holds or a deadline passes, never sleep a guessed time.
package waitfor

import (
	"context"
	"testing"
	"time"
)

// Every is how often Until checks its condition.
const Every = 50 * time.Millisecond

// Until calls cond until it returns nil, each call bounded by a context
// of 5 s, and fails the test with cond's last error when within passes
// first. what names the awaited state in that failure.
func Until(t testing.TB, within time.Duration, what string, cond func(context.Context) error) {
	t.Helper()
	deadline := time.After(within)
	tick := time.NewTicker(Every)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := cond(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("%s: not within %s; last: %v", what, within, err)
		case <-tick.C:
		}
	}
}
