// Package settle does the card processor work that follows committed
// checkout outcomes (see package checkout: the processor is never called
// inside a transaction): a periodic worker task captures queued
// authorizations, sends refunds a crash left unsent, finishes challenges a
// crash left processing, and cancels challenges nobody answered.
package settle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/webhook"
)

// Settle timing.
const (
	// settleBatch is how many rows one statement of Run takes.
	settleBatch = 500
	// maxBatches bounds one run, so a backlog is worked off over
	// several runs instead of one very long task.
	maxBatches = 20
	// refundGrace leaves a just-committed refund to the request that made
	// it before the sweep sends it too (both would be harmless).
	refundGrace = 30 * time.Second
	// resumeAfter is how long a challenge may stay processing before the
	// sweep assumes its request died and finishes it.
	resumeAfter = time.Minute
)

// ChallengeTimeout is how long a payment may wait in requires_action for
// the shopper's challenge answer before Run cancels it.
const ChallengeTimeout = 30 * time.Minute

// Service settles the checkout's committed outcomes.
type Service struct {
	checkout *checkout.Service
	now      func() time.Time
}

// New returns a Service settling c's payments, with the clock c uses.
func New(c *checkout.Service, now func() time.Time) *Service {
	return &Service{checkout: c, now: now}
}

// Report counts what one Run did.
type Report struct {
	Captured    int
	RefundsSent int
	Resumed     int
	Canceled    int
}

// Run does the processor work that follows committed outcomes: it
// captures queued authorizations, sends refunds a crash left unsent,
// finishes challenges a crash left processing, and cancels challenges
// nobody answered within ChallengeTimeout. Every processor call is keyed by
// the payment or refund, so concurrent or repeated runs are harmless. It
// carries on past individual failures and returns them joined.
func (s *Service) Run(ctx context.Context, db *postgres.DB) (Report, error) {
	var (
		rep  Report
		errs []error
	)
	// Challenges first: a resumed success queues a capture this run takes.
	n, err := s.resumeProcessing(ctx, db)
	rep.Resumed = n
	errs = append(errs, err)
	now := s.now().UTC()
	rep.Canceled, err = cancelAbandonedChallenges(ctx, db, now)
	errs = append(errs, err)
	rep.Captured, err = s.captureQueued(ctx, db)
	errs = append(errs, err)
	rep.RefundsSent, err = s.sendUnsentRefunds(ctx, db)
	errs = append(errs, err)
	return rep, errors.Join(errs...)
}

func (s *Service) captureQueued(ctx context.Context, db *postgres.DB) (int, error) {
	total := 0
	var errs []error
	for range maxBatches {
		rows, err := db.Pool.Query(ctx, pendingCaptures, settleBatch)
		if err != nil {
			return total, fmt.Errorf("read pending captures: %w", err)
		}
		type pending struct {
			id, ref string
			amount  money.Amount
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pending, error) {
			var p pending
			var cur string
			err := r.Scan(&p.id, &p.ref, &p.amount.Minor, &cur)
			p.amount.Currency = money.Currency(cur)
			return p, err
		})
		if err != nil {
			return total, fmt.Errorf("read pending captures: %w", err)
		}
		done := make([]string, 0, len(batch))
		for _, p := range batch {
			if err := s.checkout.Capture(ctx, p.id, p.ref, p.amount); err != nil {
				errs = append(errs, fmt.Errorf("capture %s: %w", p.id, err))
				continue
			}
			done = append(done, p.id)
		}
		if len(done) > 0 {
			if _, err := db.Pool.Exec(ctx, deleteCaptured, done); err != nil {
				return total, fmt.Errorf("dequeue captures: %w", err)
			}
		}
		total += len(done)
		if len(batch) < settleBatch || len(done) == 0 {
			break
		}
	}
	return total, errors.Join(errs...)
}

func (s *Service) sendUnsentRefunds(ctx context.Context, db *postgres.DB) (int, error) {
	rows, err := db.Pool.Query(ctx, unsentRefunds, s.now().UTC().Add(-refundGrace), settleBatch)
	if err != nil {
		return 0, fmt.Errorf("read unsent refunds: %w", err)
	}
	type unsent struct {
		r   checkout.Refund
		ref string
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (unsent, error) {
		var u unsent
		var cur string
		err := row.Scan(&u.r.ID, &u.r.MerchantID, &u.r.PaymentID, &u.r.Amount.Minor, &cur, &u.r.Status, &u.r.CreatedAt, &u.ref)
		u.r.Amount.Currency = money.Currency(cur)
		return u, err
	})
	if err != nil {
		return 0, fmt.Errorf("read unsent refunds: %w", err)
	}
	sent := 0
	var errs []error
	for _, u := range list {
		if err := s.checkout.SendRefund(ctx, db, &u.r, u.ref); err != nil {
			errs = append(errs, err)
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

func (s *Service) resumeProcessing(ctx context.Context, db *postgres.DB) (int, error) {
	rows, err := db.Pool.Query(ctx, staleProcessing, s.now().UTC().Add(-resumeAfter), settleBatch)
	if err != nil {
		return 0, fmt.Errorf("read stale challenges: %w", err)
	}
	type stale struct{ merchantID, id string }
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (stale, error) {
		var st stale
		err := r.Scan(&st.merchantID, &st.id)
		return st, err
	})
	if err != nil {
		return 0, fmt.Errorf("read stale challenges: %w", err)
	}
	done := 0
	var errs []error
	for _, st := range list {
		if err := s.resume(ctx, db, st.merchantID, st.id); err != nil {
			errs = append(errs, err)
			continue
		}
		done++
	}
	return done, errors.Join(errs...)
}

// resume finishes one processing payment whose request died.
func (s *Service) resume(ctx context.Context, db *postgres.DB, merchantID, payID string) error {
	p, err := s.checkout.Get(ctx, db.Pool, merchantID, payID)
	if err != nil {
		return err
	}
	a, err := s.checkout.Authenticate(ctx, p)
	if err != nil {
		return err
	}
	var final *checkout.Payment
	err = db.WithTx(ctx, func(tx pgx.Tx) error {
		final, err = s.checkout.Finish(ctx, tx, merchantID, payID, a)
		return err
	})
	if err != nil {
		return fmt.Errorf("resume challenge %s: %w", payID, err)
	}
	if final.Status == checkout.Canceled {
		return s.checkout.Release(ctx, a)
	}
	return nil
}

// cancelAbandonedChallenges cancels up to a batch of challenges nobody
// answered within ChallengeTimeout, each with its payment.canceled event,
// and returns how many.
func cancelAbandonedChallenges(ctx context.Context, db *postgres.DB, now time.Time) (int, error) {
	now = now.Truncate(time.Microsecond)
	var n int
	err := db.WithTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, cancelAbandoned, now, now.Add(-ChallengeTimeout), settleBatch)
		if err != nil {
			return err
		}
		gone, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*checkout.Payment, error) { return checkout.ScanPayment(r) })
		if err != nil {
			return err
		}
		for _, p := range gone {
			p.Status, p.UpdatedAt = checkout.Canceled, now
			if _, err := webhook.Record(ctx, tx, p.MerchantID, webhook.PaymentCanceled, checkout.ToWire(p), now); err != nil {
				return err
			}
		}
		n = len(gone)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cancel abandoned challenges: %w", err)
	}
	return n, nil
}
