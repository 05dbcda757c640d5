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
	queue map[string]*waiting[T]
}

// waiting is one scope's items and the timer that flushes them.
type waiting[T any] struct {
	items []T
	timer *time.Timer
}

// NewPending returns a Pending that hands a scope's items to flush delay
// after the first of them was added, unless a screening took them first.
func NewPending[T any](delay time.Duration, flush func(scope string, batch []T)) *Pending[T] {
	return &Pending[T]{delay: delay, flush: flush, queue: map[string]*waiting[T]{}}
}

// Add queues items in scope. The first items of an empty scope arm the
// scope's flush.
func (p *Pending[T]) Add(scope string, items ...T) {
	if len(items) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.queue[scope]
	if w == nil {
		w = &waiting[T]{}
		w.timer = time.AfterFunc(p.delay, func() { p.expire(scope, w) })
		p.queue[scope] = w
	}
	w.items = append(w.items, items...)
}

// Take removes and returns scope's items, oldest first, for the script
// about to run in scope, and disarms their flush. A script that fails
// may Add them back, as long as writing an item twice does no harm.
func (p *Pending[T]) Take(scope string) []T {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.queue[scope]
	if w == nil {
		return nil
	}
	delete(p.queue, scope)
	w.timer.Stop()
	return w.items
}

// expire flushes w, unless a screening took it first.
func (p *Pending[T]) expire(scope string, w *waiting[T]) {
	p.mu.Lock()
	current := p.queue[scope] == w
	if current {
		delete(p.queue, scope)
	}
	p.mu.Unlock()
	if current {
		p.flush(scope, w.items)
	}
}

// Flush hands every scope's items to flush at once and disarms their
// timers: a process calls it (through its counters) after its last
// request, so a graceful stop loses nothing.
func (p *Pending[T]) Flush() {
	p.mu.Lock()
	queue := p.queue
	p.queue = map[string]*waiting[T]{}
	p.mu.Unlock()
	for scope, w := range queue {
		w.timer.Stop()
		p.flush(scope, w.items)
	}
}
