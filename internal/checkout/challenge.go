package checkout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/wire"
)

// ParseOutcome reads a challenge answer, "approve" or "fail". It returns
// ErrOutcomeInvalid.
func ParseOutcome(s string) (string, error) {
	if s != "approve" && s != "fail" {
		return "", ErrOutcomeInvalid
	}
	return s, nil
}

// Authenticate sends a claimed (processing) payment's challenge answer to
// the processor, keyed by the payment so a retry asks once. It returns
// ErrProcessorUnavailable.
func (s *Service) Authenticate(ctx context.Context, p *Payment) (processor.Authorization, error) {
	a, err := s.proc.Authenticate(ctx, "authn:"+p.ID, p.ProcessorRef, p.ChallengeOutcome == "approve")
	if err != nil {
		return processor.Authorization{}, unavailable(err)
	}
	return a, nil
}

// unavailable is ErrProcessorUnavailable wrapping err, except for a
// processor key reused with another request: that is a bug of ours in
// naming attempts, not an outage, and stays a 500 that is logged.
func unavailable(err error) error {
	if errors.Is(err, processor.ErrKeyReused) {
		return err
	}
	return ErrProcessorUnavailable.Wrap(err)
}

// Finish records the processor's answer to a processing payment's
// challenge in tx, under the payment's row lock: succeeded (with
// everything Record writes for a success, the review its decision asks
// for included), failed, or canceled when
// approved but what it pays can no longer be paid (a single-use link or a
// signed link's reference paid by someone else, a deactivated or expired
// link, an inactive form); the caller then Releases the authorization. A
// payment no longer processing is returned unchanged, so answering twice
// is harmless.
func (s *Service) Finish(ctx context.Context, tx pgx.Tx, merchantID, payID string, a processor.Authorization) (*Payment, error) {
	p, err := scanPayment(tx.QueryRow(ctx, lockPayment, merchantID, payID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("lock payment: %w", err)
	}
	if p.Status != Processing {
		return p, nil
	}
	var l *links.Link
	if p.LinkID != "" {
		if l, err = s.links.Get(ctx, tx, merchantID, p.LinkID); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	switch {
	case a.Status != processor.Authorized:
		p.Status, p.FailureCode = Failed, a.DeclineCode
	case l == nil:
		if p.Status, err = s.approveUnlinked(ctx, tx, p, now); err != nil {
			return nil, err
		}
	case l.SingleUse:
		switch err := links.Complete(ctx, tx, merchantID, l.ID, now); {
		case err == nil:
			p.Status = Succeeded
		case errors.Is(err, links.ErrCompleted), errors.Is(err, links.ErrDeactivated), errors.Is(err, links.ErrExpired):
			p.Status = Canceled
		default:
			return nil, err
		}
	case l.Payable(now) != nil:
		p.Status = Canceled
	default:
		p.Status = Succeeded
	}
	if _, err := tx.Exec(ctx, finishPayment, merchantID, payID, string(p.Status), wire.OrNil(p.FailureCode), now); err != nil {
		if postgres.IsUniqueViolation(err, "payments_single_use_once") || postgres.IsUniqueViolation(err, "payments_reference_once") {
			return nil, links.ErrCompleted
		}
		return nil, fmt.Errorf("finish payment: %w", err)
	}
	p.UpdatedAt = now
	if p.Status == Succeeded && p.Risk != nil && p.ReviewID == "" {
		if p.ReviewID, err = risk.ReviewChallenged(ctx, tx, merchantID, payID, p.Risk, now); err != nil {
			return nil, err
		}
	}
	return p, s.recordOutcome(ctx, tx, tx, p, l, now, nil)
}
