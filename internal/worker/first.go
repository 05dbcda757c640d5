package worker

import (
	"context"
	"sync"
	"time"

	"github.com/paylink/paylink/internal/webhook/delivery"
)

// recordBatch bounds how many first attempts one RecordFirst stores.
const recordBatch = 500

// runFirstAttempts makes the first attempt of every new webhook delivery
// itself, up to Deps.WebhookConcurrency at once, until ctx ends (see
// delivery.ClaimNew): the task queue then only carries retries. New
// deliveries are claimed every poll interval, and again as soon as half
// the slots are free while the last claim found more than it could take.
// Outcomes are stored in batches by a few recorders, so a busy outbox
// costs one claim and one record statement per batch rather than per
// delivery, and a slow commit holds up neither the attempts nor the
// claims. When ctx ends, attempts in flight get up to the shutdown
// timeout to finish, as Asynq's tasks do (a receiver answering meanwhile
// is recorded, not sent the event again after a restart); those still
// unanswered then are released. All are recorded before it returns.
func (w *Worker) runFirstAttempts(ctx context.Context) {
	actx, stop := afterGrace(ctx, w.d.ShutdownTimeout)
	defer stop()
	slots := w.d.WebhookConcurrency
	// Made attempts wait here for a recorder; when all recorders lag this
	// far behind, attempts wait too, and so do new claims.
	made := make(chan *delivery.FirstAttempt, 4*slots)
	var recording sync.WaitGroup
	for range recorders {
		recording.Go(func() { w.recordFirst(ctx, made) })
	}
	var (
		attempts sync.WaitGroup
		mu       sync.Mutex
		busy     int
		freed    = make(chan struct{}, 1) // half the slots are free again
	)
	poll := time.NewTicker(w.d.OutboxPoll)
	defer poll.Stop()
	warned := time.Time{}
	for ctx.Err() == nil {
		mu.Lock()
		free := slots - busy
		mu.Unlock()
		// more: the outbox may hold more than was claimed (or nothing
		// could be claimed, every slot being busy), so claim again as soon
		// as slots free up rather than at the next poll.
		more := free == 0
		if free > 0 {
			claimed, err := w.d.Deliveries.ClaimNew(ctx, free)
			if err != nil && ctx.Err() == nil && time.Since(warned) >= relayWarnEvery {
				warned = time.Now()
				w.d.Log.WarnContext(ctx, "claiming new webhook deliveries failed; retrying every poll interval", "err", err)
			}
			more = len(claimed) == free
			mu.Lock()
			busy += len(claimed)
			mu.Unlock()
			for _, a := range claimed {
				attempts.Go(func() {
					w.d.Deliveries.Make(actx, a)
					mu.Lock()
					busy--
					half := busy <= slots/2
					mu.Unlock()
					if half {
						select {
						case freed <- struct{}{}:
						default:
						}
					}
					made <- a
				})
			}
		}
		if more {
			select {
			case <-ctx.Done():
			case <-freed:
			case <-poll.C:
			}
			continue
		}
		select {
		case <-ctx.Done():
		case <-poll.C:
		}
	}
	attempts.Wait()
	close(made)
	recording.Wait()
}

// recorders is how many batches of outcomes are recorded at once.
const recorders = 4

// recordFirst stores the attempts sent on made, as many at a time as have
// arrived, until made is closed. Recording goes on through shutdown: the
// receivers have answered.
func (w *Worker) recordFirst(ctx context.Context, made <-chan *delivery.FirstAttempt) {
	rctx := context.WithoutCancel(ctx)
	for a := range made {
		batch := []*delivery.FirstAttempt{a}
	more:
		for len(batch) < recordBatch {
			select {
			case b, ok := <-made:
				if !ok {
					break more
				}
				batch = append(batch, b)
			default:
				break more
			}
		}
		tctx, cancel := context.WithTimeout(rctx, 30*time.Second)
		if err := w.d.Deliveries.RecordFirst(tctx, w.queue, batch); err != nil {
			w.d.Log.WarnContext(ctx, "recording webhook attempts failed; they are made again once their leases run out",
				"count", len(batch), "err", err)
		}
		cancel()
	}
}

// afterGrace returns a context that ends grace after ctx ends (or when
// stop is called), for work in flight that a shutdown lets finish.
func afterGrace(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-ctx.Done():
		case <-gctx.Done():
			return
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-gctx.Done():
		}
	}()
	return gctx, cancel
}
