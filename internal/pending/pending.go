// Package pending holds writes to Redis that may wait a moment, per scope
// (one hash tag), so that they ride the scope's next script instead of
// making a round trip of their own; risk screening keeps failed attempts
// in it.
package pending

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// FlushDelay is how long a failed attempt waits in a Queue for a
// screening script of its scope to carry it to Redis before it is
// written on its own.
const FlushDelay = 50 * time.Millisecond

// maxFlushes bounds the flushes of one Queue in flight at once, so that
// a slow or unreachable Redis holds at most this many goroutines and
// connections of the pool screening needs: a scope whose time comes while
// they are all busy waits another delay, still taken first by a
// screening.
const maxFlushes = 4

// flushTimeout bounds one flush's round trip.
const flushTimeout = 5 * time.Second

// maxWaiting bounds a scope's waiting items: past it, the oldest go. It
// matters only while Redis cannot be written for long (every flush and
// screening failing), when screening already says it is degraded.
const maxWaiting = 100_000

// Queue holds what this process still has to write to Redis about
// failed attempts, per scope (one hash tag: a merchant, or the wallet),
// so that the write rides the scope's next screening script instead of
// making a round trip of its own. What no screening takes within its
// delay goes to its flush function, in the background. A process that
// dies loses at most that delay's failures: a lost count only weakens
// card testing. It is safe for concurrent use.
type Queue[T any] struct {
	delay   time.Duration
	flush   func(ctx context.Context, scope string, batch []T)
	flights chan struct{} // a slot per flush in flight (maxFlushes)
	// deferred counts the times a scope's flush waited for a slot.
	deferred atomic.Int64
	mu       sync.Mutex
	queue    map[string]*waiting[T]
}

// waiting is one scope's items and the timer that flushes them.
type waiting[T any] struct {
	items []T
	timer *time.Timer
}

// New returns a Queue that hands a scope's items to flush delay
// after the first of them was added, unless a screening took them first;
// flush's ctx ends after flushTimeout.
func New[T any](delay time.Duration, flush func(ctx context.Context, scope string, batch []T)) *Queue[T] {
	return &Queue[T]{delay: delay, flush: flush, flights: make(chan struct{}, maxFlushes), queue: map[string]*waiting[T]{}}
}

// Add queues items in scope, keeping its newest maxWaiting. The first
// items of an empty scope arm the scope's flush.
func (p *Queue[T]) Add(scope string, items ...T) {
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
	if over := len(w.items) - maxWaiting; over > 0 {
		w.items = w.items[over:] // append copies the live part when it grows
	}
}

// Take removes and returns scope's items, oldest first, for the script
// about to run in scope, and disarms their flush. A script that fails
// may Add them back, as long as writing an item twice does no harm.
func (p *Queue[T]) Take(scope string) []T {
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

// expire flushes w, unless a screening took it first, or waits another
// delay when maxFlushes are in flight.
func (p *Queue[T]) expire(scope string, w *waiting[T]) {
	p.mu.Lock()
	if p.queue[scope] != w {
		p.mu.Unlock()
		return
	}
	select {
	case p.flights <- struct{}{}:
		delete(p.queue, scope)
		p.mu.Unlock()
	default:
		p.deferred.Add(1)
		w.timer.Reset(p.delay)
		p.mu.Unlock()
		return
	}
	defer func() { <-p.flights }()
	p.flushBounded(scope, w.items)
}

// flushBounded is flush within flushTimeout.
func (p *Queue[T]) flushBounded(scope string, batch []T) {
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	p.flush(ctx, scope, batch)
}

// Flush hands every scope's items to flush at once and disarms their
// timers: a process calls it (through its counters) after its last
// request, so a graceful stop loses nothing.
func (p *Queue[T]) Flush() {
	p.mu.Lock()
	queue := p.queue
	p.queue = map[string]*waiting[T]{}
	p.mu.Unlock()
	for scope, w := range queue {
		w.timer.Stop()
		p.flushBounded(scope, w.items)
	}
}
