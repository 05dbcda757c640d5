package merchant

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/paylink/paylink/internal/postgres"
)

// Usage remembers when each API key was last used and writes those times
// in one statement per interval, so authenticating a request costs no
// database write. last_used_at therefore lags by up to the interval.
type Usage struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// NewUsage returns an empty Usage.
func NewUsage() *Usage { return &Usage{seen: map[string]time.Time{}} }

// Touch records that keyID was used at t.
func (u *Usage) Touch(keyID string, t time.Time) {
	u.mu.Lock()
	if t.After(u.seen[keyID]) {
		u.seen[keyID] = t
	}
	u.mu.Unlock()
}

// Flush writes the recorded times and forgets them. On failure the times
// are kept for the next flush.
func (u *Usage) Flush(ctx context.Context, db postgres.DBTX) error {
	u.mu.Lock()
	batch := u.seen
	u.seen = map[string]time.Time{}
	u.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	ids := make([]string, 0, len(batch))
	times := make([]time.Time, 0, len(batch))
	for id, t := range batch {
		ids = append(ids, id)
		times = append(times, t)
	}
	if _, err := db.Exec(ctx, flushUsage, ids, times); err != nil {
		for i, id := range ids {
			u.Touch(id, times[i])
		}
		return fmt.Errorf("flush api key usage: %w", err)
	}
	return nil
}

// Run flushes every interval until ctx ends, then flushes once more with a
// fresh context so a shutdown loses nothing. Errors go to onErr.
func (u *Usage) Run(ctx context.Context, db postgres.DBTX, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := u.Flush(fctx, db); err != nil {
				onErr(err)
			}
			cancel()
			return
		case <-t.C:
			if err := u.Flush(ctx, db); err != nil {
				onErr(err)
			}
		}
	}
}
