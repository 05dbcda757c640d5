package delivery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/webhook"
)

// ErrGaveUp wraps the error of a delivery that ended without success
// (schedule exhausted, endpoint gone or disabled): it must not be retried.
var ErrGaveUp = errors.New("webhook delivery given up")

// RetryError asks the task queue to run the delivery again After from now;
// the delivery row already holds the same time in next_attempt_at.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%v; retry in %s", e.Err, e.After.Round(time.Millisecond))
}

// Unwrap returns the attempt's error.
func (e *RetryError) Unwrap() error { return e.Err }

const (
	// leaseMargin is added to the timeout to lease a delivery to the
	// worker attempting it.
	leaseMargin = 10 * time.Second
	// earlyTolerance lets a task that the queue started slightly before
	// next_attempt_at (clock skew between hosts) go ahead.
	earlyTolerance = time.Second
)

// job is a claimed delivery with what an attempt needs.
type job struct {
	attempts        int
	eventID         string
	target          webhook.Target
	endpointStatus  string
	endpointDeleted bool
	eventType       string
	data            []byte
	eventCreated    time.Time
}

// Deliver makes the next attempt of delivery deliveryID of merchantID and
// records it. It returns nil when the delivery succeeded or needs nothing
// more (already done, canceled, endpoint deleted); a *RetryError when it
// must be tried again later; an error wrapping ErrGaveUp when it failed
// for good; any other error when the attempt could not be made or
// recorded (the caller retries). A delivery is leased to one caller at a
// time, so concurrent runs of the same task never both POST.
func (s *Service) Deliver(ctx context.Context, merchantID, deliveryID string) error {
	now := s.cfg.Now()
	j, err := s.claim(ctx, merchantID, deliveryID, now)
	if err != nil || j == nil {
		return err
	}
	if done, err := s.finishUnsendable(ctx, merchantID, deliveryID, j, now); done {
		return err
	}
	// release gives the lease back when no attempt was made, so the
	// task's next run can go at once.
	release := func(err error) error {
		s.release(ctx, merchantID, deliveryID)
		return err
	}
	res, err := s.attempt(ctx, j, now)
	if err != nil {
		return release(err)
	}
	if ctx.Err() != nil {
		// Stopped from our side (shutdown): not the receiver's failure.
		return release(ctx.Err())
	}
	// Record even if shutdown begins now: the receiver has answered.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return s.record(rctx, merchantID, deliveryID, j, res, now)
}

// finishUnsendable ends a claimed delivery whose endpoint can no longer
// receive it: canceled when the endpoint was deleted, failed (an error
// wrapping ErrGaveUp) when it is disabled. It reports false, nil when the
// endpoint is enabled.
func (s *Service) finishUnsendable(ctx context.Context, merchantID, deliveryID string, j *job, now time.Time) (bool, error) {
	switch {
	case j.endpointDeleted:
		_, err := s.db.Pool.Exec(ctx, finishDelivery, merchantID, deliveryID, webhook.DeliveryCanceled, now)
		return true, err
	case j.endpointStatus != webhook.StatusEnabled:
		if _, err := s.db.Pool.Exec(ctx, finishDelivery, merchantID, deliveryID, webhook.DeliveryFailed, now); err != nil {
			return true, err
		}
		return true, fmt.Errorf("endpoint %s is disabled: %w", j.target.EndpointID, ErrGaveUp)
	}
	return false, nil
}

// release gives back the lease of a delivery no attempt was made for.
func (s *Service) release(ctx context.Context, merchantID, deliveryID string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = s.db.Pool.Exec(rctx, releaseDelivery, merchantID, deliveryID)
}

// attempt signs j's event and POSTs it at now. An error means no request
// was made.
func (s *Service) attempt(ctx context.Context, j *job, now time.Time) (webhook.Answer, error) {
	ev := &webhook.Event{ID: j.eventID, Type: j.eventType, Data: j.data, CreatedAt: j.eventCreated}
	return s.cfg.Webhooks.Send(ctx, j.target, ev, now)
}

// claim leases a pending, due delivery. It returns nil, nil when there is
// nothing to do, and a *RetryError when the delivery is leased to another
// worker or not yet due.
func (s *Service) claim(ctx context.Context, merchantID, deliveryID string, now time.Time) (*job, error) {
	var j job
	var deleted *time.Time
	err := s.db.Pool.QueryRow(ctx, claimDelivery, merchantID, deliveryID, now, now.Add(s.cfg.Webhooks.Timeout()+leaseMargin),
		now.Add(earlyTolerance)).Scan(&j.attempts, &j.eventID, &j.target.EndpointID, &j.target.URL, &j.endpointStatus, &deleted,
		&j.target.Secret, &j.target.Previous, &j.target.PreviousExpires, &j.eventType, &j.data, &j.eventCreated)
	if err == nil {
		j.endpointDeleted = deleted != nil
		return &j, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("claim delivery %s: %w", deliveryID, err)
	}
	var (
		status      string
		lockedUntil *time.Time
		next        *time.Time
	)
	err = s.db.Pool.QueryRow(ctx, deliveryState, merchantID, deliveryID).Scan(&status, &lockedUntil, &next)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("delivery %s does not exist: %w", deliveryID, ErrGaveUp)
	case err != nil:
		return nil, fmt.Errorf("read delivery %s: %w", deliveryID, err)
	case status != webhook.DeliveryPending:
		return nil, nil
	case lockedUntil != nil && lockedUntil.After(now):
		return nil, &RetryError{After: lockedUntil.Sub(now), Err: errors.New("delivery is leased to another worker")}
	case next != nil && next.After(now):
		return nil, &RetryError{After: next.Sub(now), Err: errors.New("delivery is not due yet")}
	}
	return nil, fmt.Errorf("delivery %s could not be claimed", deliveryID)
}

// delay returns the wait before the retry following attempt n (1-based),
// with ±20% jitter, and at least the receiver's Retry-After.
func (s *Service) delay(n int, retryAfter time.Duration) time.Duration {
	base := s.cfg.Schedule[n-1]
	d := time.Duration(float64(base) * (0.8 + 0.4*rand.Float64()))
	return max(d, retryAfter)
}

// record stores an attempt and its consequences in one transaction: the
// delivery's new state, the endpoint's failure streak, and when the
// endpoint is disabled, an e-mail to its merchant.
func (s *Service) record(ctx context.Context, merchantID, deliveryID string, j *job, r webhook.Answer, now time.Time) error {
	n := j.attempts + 1
	var outcome error
	err := s.db.WithTx(ctx, func(tx pgx.Tx) error {
		outcome = nil
		var status *int
		if r.Status != 0 {
			status = &r.Status
		}
		if _, err := tx.Exec(ctx, insertAttempt, deliveryID, n, merchantID, now, status,
			r.Latency.Milliseconds(), r.Body, r.Err); err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		attemptErr := errors.New(r.Err)
		switch {
		case r.Err == "":
			if _, err := tx.Exec(ctx, deliverySucceeded, merchantID, deliveryID, n, now); err != nil {
				return fmt.Errorf("mark delivery succeeded: %w", err)
			}
			if _, err := tx.Exec(ctx, endpointHealthy, merchantID, j.target.EndpointID); err != nil {
				return fmt.Errorf("mark endpoint healthy: %w", err)
			}
			return nil
		case r.Status == http.StatusGone:
			if err := s.disable(ctx, tx, merchantID, j, webhook.ReasonGone, now, now); err != nil {
				return err
			}
			outcome = fmt.Errorf("endpoint answered 410 Gone and is disabled: %w", ErrGaveUp)
		default:
			var since time.Time
			if err := tx.QueryRow(ctx, endpointFailing, merchantID, j.target.EndpointID, now).Scan(&since); err != nil {
				return fmt.Errorf("mark endpoint failing: %w", err)
			}
			switch {
			// Disabled after failing for DisableAfter, or at the last retry
			// of an event the endpoint has failed ever since it happened.
			case now.Sub(since) >= s.cfg.DisableAfter, n > len(s.cfg.Schedule) && !since.After(j.eventCreated):
				if err := s.disable(ctx, tx, merchantID, j, webhook.ReasonFailing, now, since); err != nil {
					return err
				}
				outcome = fmt.Errorf("%w: endpoint failing since %s is disabled: %w", attemptErr, since.UTC().Format(time.RFC3339), ErrGaveUp)
			case n > len(s.cfg.Schedule):
				outcome = fmt.Errorf("%w: %d attempts made: %w", attemptErr, n, ErrGaveUp)
			default:
				d := s.delay(n, r.RetryAfter)
				if _, err := tx.Exec(ctx, deliveryRetry, merchantID, deliveryID, n, now.Add(d), now); err != nil {
					return fmt.Errorf("schedule retry: %w", err)
				}
				outcome = &RetryError{After: d, Err: fmt.Errorf("attempt %d: %w", n, attemptErr)}
				return nil
			}
		}
		if _, err := tx.Exec(ctx, deliveryFailed, merchantID, deliveryID, n, now); err != nil {
			return fmt.Errorf("mark delivery failed: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return outcome
}

// disable turns an endpoint off for reason (failing since since) and, if
// this call disabled it, e-mails its merchant's notification e-mail in the
// same transaction (whatever its notify_on: API.md says always).
func (s *Service) disable(ctx context.Context, tx pgx.Tx, merchantID string, j *job, reason string, now, since time.Time) error {
	tag, err := tx.Exec(ctx, disableEndpoint, merchantID, j.target.EndpointID, reason)
	if err != nil {
		return fmt.Errorf("disable endpoint: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil // already disabled by a concurrent attempt, which told the merchant
	}
	m, err := s.cfg.Merchants.Get(ctx, tx, merchantID)
	if err != nil {
		return err
	}
	why := "it answered 410 Gone, which means the receiver no longer exists"
	if reason == webhook.ReasonFailing {
		why = fmt.Sprintf("every delivery to it since %s has failed, retries included",
			since.UTC().Format("2 Jan 2006 15:04 MST"))
	}
	e := notify.EndpointDisabled(m.Settings.NotificationEmail, m.Name, j.target.EndpointID, j.target.URL, why)
	return notify.Queue(ctx, tx, e, now)
}
