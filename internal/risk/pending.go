package risk

import (
	"sync"
	"time"
)

// FlushDelay is how long a failed attempt waits in Pending for a
// screening script of its scope to carry it to Redis before it is
// written on its own.
const FlushDelay = 50 * time.Millisecond

// Pending holds what this process still has to write to Redis about
// failed attempts, per scope (one hash tag: a merchant, or the wallet),
// so that the write rides the scope's next screening script instead of
// making a round trip of its own. What no screening takes within its
// delay goes to its flush function, in the background. A process that
// dies loses at most that delay's failures: a lost count only weakens
// card testing. It is safe for concurrent use.
type Pending[T any] struct {
	delay time.Duration
	flush func(scope string, batch []T)
	mu    sync.Mutex
	queue map[string][]T
}

// NewPending returns a Pending that hands a scope's items to flush delay
// after the first of them was added, unless a screening took them first.
func NewPending[T any](delay time.Duration, flush func(scope string, batch []T)) *Pending[T] {
	return &Pending[T]{delay: delay, flush: flush, queue: map[string][]T{}}
}

// Add queues item in scope. The first item of an empty scope arms the
// scope's flush, so a scope that holds items always has one armed.
func (p *Pending[T]) Add(scope string, item T) {
	p.mu.Lock()
	q := p.queue[scope]
	p.queue[scope] = append(q, item)
	p.mu.Unlock()
	if len(q) == 0 {
		time.AfterFunc(p.delay, func() {
			if batch := p.Take(scope); len(batch) > 0 {
				p.flush(scope, batch)
			}
		})
	}
}

// Take removes and returns scope's items, oldest first, for the script
// about to run in scope; a script that fails loses them.
func (p *Pending[T]) Take(scope string) []T {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.queue[scope]
	delete(p.queue, scope)
	return q
}
