// Package logevery keeps a warning that every request would repeat while
// a dependency is down to one log line per interval, which counts the
// occurrences it stands for.
package logevery

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Outage is the interval of the warnings a request repeats while Redis
// or another dependency is unreachable.
const Outage = 10 * time.Second

// Warning is one repeated warning. Its first occurrence is logged at
// once, then at most one line per interval.
type Warning struct {
	every rate.Sometimes
	count atomic.Int64
}

// New returns a Warning logged at most once per interval.
func New(interval time.Duration) *Warning {
	return &Warning{every: rate.Sometimes{First: 1, Interval: interval}}
}

// Warn logs msg with args at warning level, adding "occurrences": how many
// times it happened since the last line, this one included. Between lines
// it only counts.
func (w *Warning) Warn(ctx context.Context, log *slog.Logger, msg string, args ...any) {
	w.count.Add(1)
	w.every.Do(func() {
		log.WarnContext(ctx, msg, append(args, "occurrences", w.count.Swap(0))...)
	})
}
