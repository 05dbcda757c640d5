package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/webhook"
)

// First attempts, straight from the outbox
//
// Handing every delivery to the task queue costs a queue round trip to
// enqueue it, another to dequeue it and a third to finish it, on top of
// the attempt itself; at thousands of payments a second that is most of
// the worker's time. So a worker may instead make the first attempt of
// new deliveries itself: ClaimNew leases a batch of them (a lease that
// runs out, because the worker died, makes them claimable again), Make
// POSTs each, and RecordFirst stores the outcomes, the successes in a
// single statement. Only deliveries that must be retried go to the task
// queue, which schedules the retries as before. Delivery stays at least
// once: a delivery is pending until its success is recorded.

// FirstAttempt is a new delivery leased by ClaimNew for its first attempt
// and, once made, what it gave.
type FirstAttempt struct {
	MerchantID string
	DeliveryID string
	j          job
	at         time.Time // when the attempt was made
	res        webhook.Answer
	made       bool  // a request was sent and answered or failed
	err        error // why no request was made, when made is false
}

// ClaimNew leases up to limit deliveries that were never attempted nor
// handed to the task queue, oldest first, to the caller for their first
// attempt. Rows are claimed with SKIP LOCKED, so several workers claim
// side by side. The lease lasts the attempt's timeout and a margin.
func (s *Service) ClaimNew(ctx context.Context, limit int) ([]*FirstAttempt, error) {
	now := s.cfg.Now()
	rows, err := s.db.Pool.Query(ctx, claimNew, now, now.Add(s.cfg.Webhooks.Timeout()+leaseMargin), limit, now.Add(earlyTolerance))
	if err != nil {
		return nil, fmt.Errorf("claim new deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*FirstAttempt, error) {
		var (
			a       FirstAttempt
			deleted *time.Time
		)
		err := r.Scan(&a.MerchantID, &a.DeliveryID, &a.j.attempts, &a.j.eventID, &a.j.target.EndpointID, &a.j.target.URL,
			&a.j.endpointStatus, &deleted, &a.j.target.Secret, &a.j.target.Previous, &a.j.target.PreviousExpires, &a.j.eventType,
			&a.j.data, &a.j.eventCreated)
		a.j.endpointDeleted = deleted != nil
		return &a, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim new deliveries: %w", err)
	}
	return out, nil
}

// Make makes a's attempt: it signs and POSTs the event, and touches no
// database, so attempts can be made side by side. An attempt to an
// endpoint deleted or disabled since is not made.
func (s *Service) Make(ctx context.Context, a *FirstAttempt) {
	if a.j.endpointDeleted || a.j.endpointStatus != webhook.StatusEnabled {
		return
	}
	a.at = s.cfg.Now()
	a.res, a.err = s.attempt(ctx, &a.j, a.at)
	switch {
	case a.err == nil && ctx.Err() != nil:
		a.err = ctx.Err() // stopped from our side: not the receiver's failure
	case a.err == nil:
		a.made = true
	}
}

// RecordFirst stores the outcomes of made attempts (ctx should outlive a
// shutdown: the receivers have answered). Successes go in one statement;
// every other outcome is recorded as Deliver records it, and a delivery
// that must be tried again is handed to q at its next attempt. An attempt
// that could not be made is handed to q at once, and one stopped by the
// worker's shutdown is released for the next claim. It returns the first
// error; outcomes it could not store stay leased until their leases run
// out, and are then attempted again.
func (s *Service) RecordFirst(ctx context.Context, q Enqueuer, attempts []*FirstAttempt) error {
	var (
		ok   []*FirstAttempt
		errs []error
	)
	for _, a := range attempts {
		switch {
		case a.made && a.res.Err == "":
			ok = append(ok, a)
		case a.made:
			errs = append(errs, s.recordRetry(ctx, q, a))
		case a.j.endpointDeleted || a.j.endpointStatus != webhook.StatusEnabled:
			_, err := s.finishUnsendable(ctx, a.MerchantID, a.DeliveryID, &a.j, s.cfg.Now())
			if errors.Is(err, ErrGaveUp) {
				err = nil
			}
			errs = append(errs, err)
		case errors.Is(a.err, context.Canceled) || errors.Is(a.err, context.DeadlineExceeded):
			s.release(ctx, a.MerchantID, a.DeliveryID)
		default:
			errs = append(errs, s.handOver(ctx, q, a, s.cfg.Now()))
		}
	}
	if len(ok) > 0 {
		errs = append(errs, s.recordSucceeded(ctx, ok))
	}
	return errors.Join(errs...)
}

// recordSucceeded stores successful first attempts in one statement.
func (s *Service) recordSucceeded(ctx context.Context, ok []*FirstAttempt) error {
	n := len(ok)
	var (
		merchants, deliveries, endpoints, bodies = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		attempt, codes, latencies                = make([]int32, n), make([]int32, n), make([]int32, n)
		at                                       = make([]time.Time, n)
	)
	for i, a := range ok {
		merchants[i], deliveries[i], endpoints[i], bodies[i] = a.MerchantID, a.DeliveryID, a.j.target.EndpointID, a.res.Body
		attempt[i], codes[i], latencies[i] = int32(a.j.attempts+1), int32(a.res.Status), int32(a.res.Latency.Milliseconds())
		at[i] = a.at
	}
	if _, err := s.db.Pool.Exec(ctx, recordSucceeded, merchants, deliveries, endpoints, attempt, at, codes, latencies, bodies); err != nil {
		return fmt.Errorf("record %d delivered webhooks: %w", n, err)
	}
	return nil
}

// recordRetry records a failed first attempt as Deliver would and hands
// the delivery to q for its retry.
func (s *Service) recordRetry(ctx context.Context, q Enqueuer, a *FirstAttempt) error {
	err := s.record(ctx, a.MerchantID, a.DeliveryID, &a.j, a.res, a.at)
	var retry *RetryError
	switch {
	case errors.As(err, &retry):
		_, err = q.EnqueueDelivery(ctx, a.MerchantID, a.DeliveryID, a.at.Add(retry.After))
		return err
	case errors.Is(err, ErrGaveUp):
		return nil
	}
	return err
}

// handOver gives a delivery whose attempt could not be made to q, to be
// tried from the task queue from now on.
func (s *Service) handOver(ctx context.Context, q Enqueuer, a *FirstAttempt, now time.Time) error {
	if _, err := s.db.Pool.Exec(ctx, handOver, a.MerchantID, a.DeliveryID, now); err != nil {
		return fmt.Errorf("hand delivery %s to the task queue: %w (attempt: %w)", a.DeliveryID, err, a.err)
	}
	_, err := q.EnqueueDelivery(ctx, a.MerchantID, a.DeliveryID, now)
	return err
}
