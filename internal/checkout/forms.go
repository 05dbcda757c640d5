package checkout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/wire"
)

// RecordForm stores the outcome of an authorization of amount for a
// submission of form f in tx, exactly as Record does for a link: the
// payment, and for a success the ledger postings, the capture queue row
// and payment.succeeded; for a decline payment.failed. The insert itself
// checks, in the database, that the form is still active, that amount
// is one it accepts and that its merchant accepts the payment as its
// settings are now. It returns forms.ErrInactive, or
// merchant.ErrCurrencyWithdrawn, ErrMethodNotAccepted or
// ErrCardBrandNotAccepted (the caller should then Release the
// authorization after rolling back).
func (s *Service) RecordForm(ctx context.Context, tx pgx.Tx, f *forms.Form, amount money.Amount, c Customer, a Authorization) (*Payment, error) {
	if err := f.Payable(); err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	p := s.newPayment(f.MerchantID, amount, c, a, now)
	p.FormID, p.Metadata, p.Realm = f.ID, f.Metadata, f.Realm
	query := insertFormPayment
	if p.Status == Succeeded {
		query = insertCapturedFormPayment
	}
	inserted, locks, err := insertRow(ctx, tx, p, query, p.ID, p.MerchantID, p.FormID, p.Amount.Minor, string(p.Amount.Currency),
		string(p.Status), wire.OrNil(p.FailureCode), p.Customer.Email, p.Customer.Name, wire.OrNil(p.Customer.Phone),
		p.Customer.Address.JSON(), wire.OrNil(string(p.Card.Brand)), wire.OrNil(p.Card.Last4),
		wire.OrNil(p.Card.ExpMonth), wire.OrNil(p.Card.ExpYear), wire.OrNil(p.Card.Fingerprint), p.ProcessorRef,
		p.CreatedAt)
	switch {
	case err != nil:
		return nil, fmt.Errorf("insert form payment: %w", err)
	case !inserted:
		if err := forms.CheckPayable(ctx, tx, f.MerchantID, f.ID); err != nil {
			return nil, err
		}
		return nil, refusal(ctx, tx, p)
	}
	if err := saveRisk(ctx, tx, p, now); err != nil {
		return nil, err
	}
	return p, s.recordOutcome(ctx, tx, tx, p, nil, now, locks)
}

// SignedOrder is what a stateless signed link asks to pay, once verified
// (links.Signed): the merchant who signed it, the amount, and the
// merchant's reference.
type SignedOrder struct {
	MerchantID string
	Reference  string
	Amount     money.Amount
}

// RecordSigned stores the outcome of an authorization for signed link o in
// tx, as Record does for a link. A success first claims o's reference
// (one successful payment per merchant and reference: concurrent payers
// wait on each other's claim and only the first succeeds). It returns
// links.ErrCompleted when the reference was paid meanwhile, or one of
// merchant's refusals when the merchant no longer accepts the payment;
// the caller should then Release the authorization after rolling back.
func (s *Service) RecordSigned(ctx context.Context, tx pgx.Tx, o SignedOrder, c Customer, a Authorization) (*Payment, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	p := s.newPayment(o.MerchantID, o.Amount, c, a, now)
	p.Reference, p.Metadata = o.Reference, map[string]string{}
	if p.Status == Succeeded {
		if err := claimReference(ctx, tx, p, now); err != nil {
			return nil, err
		}
	}
	query := insertSignedPayment
	if p.Status == Succeeded {
		query = insertCapturedSignedPayment
	}
	inserted, locks, err := insertRow(ctx, tx, p, query, p.ID, p.MerchantID, p.Reference, p.Amount.Minor,
		string(p.Amount.Currency), string(p.Status), wire.OrNil(p.FailureCode), p.Customer.Email, p.Customer.Name,
		wire.OrNil(string(p.Card.Brand)), wire.OrNil(p.Card.Last4), wire.OrNil(p.Card.ExpMonth),
		wire.OrNil(p.Card.ExpYear), wire.OrNil(p.Card.Fingerprint), p.ProcessorRef, p.CreatedAt)
	switch {
	case postgres.IsUniqueViolation(err, "payments_reference_once"):
		return nil, links.ErrCompleted
	case err != nil:
		return nil, fmt.Errorf("insert signed link payment: %w", err)
	case !inserted:
		return nil, refusal(ctx, tx, p)
	}
	if err := saveRisk(ctx, tx, p, now); err != nil {
		return nil, err
	}
	return p, s.recordOutcome(ctx, tx, tx, p, nil, now, locks)
}

// newPayment is the payment an authorization makes, in its outcome state.
func (s *Service) newPayment(merchantID string, amount money.Amount, c Customer, a Authorization, now time.Time) *Payment {
	p := &Payment{
		ID: id.NewAt("pay", now), MerchantID: merchantID, Amount: amount, Customer: c, Method: "card",
		Card: a.Card, ProcessorRef: a.ID, Risk: a.Risk, CreatedAt: now, UpdatedAt: now,
	}
	switch a.Status {
	case processor.Authorized:
		p.Status = Succeeded
	case processor.RequiresAction:
		p.Status = RequiresAction
	default:
		p.Status, p.FailureCode = Failed, a.DeclineCode
	}
	return p
}

// claimReference records that p pays its merchant's reference. The insert
// waits for a concurrent claim of the same reference to commit or roll
// back; it returns links.ErrCompleted if the reference is already paid.
func claimReference(ctx context.Context, tx pgx.Tx, p *Payment, now time.Time) error {
	tag, err := tx.Exec(ctx, insertPaidReference, p.MerchantID, p.Reference, p.ID, now)
	if err != nil {
		return fmt.Errorf("claim reference: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return links.ErrCompleted
	}
	return nil
}

// approveUnlinked decides, in Finish, what an approved challenge of a
// payment without a link becomes: succeeded if its form is still active or
// its reference still unpaid (claiming it), else canceled.
func (s *Service) approveUnlinked(ctx context.Context, tx pgx.Tx, p *Payment, now time.Time) (Status, error) {
	var err error
	switch {
	case p.FormID != "":
		err = forms.CheckPayable(ctx, tx, p.MerchantID, p.FormID)
	case p.Reference != "":
		err = claimReference(ctx, tx, p, now)
	}
	switch {
	case err == nil:
		return Succeeded, nil
	case errors.Is(err, forms.ErrInactive), errors.Is(err, forms.ErrNotFound), errors.Is(err, links.ErrCompleted):
		return Canceled, nil
	}
	return "", err
}

// ReferencePaid reports whether merchantID's signed link reference has a
// successful payment.
func (s *Service) ReferencePaid(ctx context.Context, db postgres.DBTX, merchantID, reference string) (bool, error) {
	var paid bool
	if err := db.QueryRow(ctx, referencePaid, merchantID, reference).Scan(&paid); err != nil {
		return false, fmt.Errorf("read paid reference: %w", err)
	}
	return paid, nil
}

// PaymentOfForm returns payment payID made with form f, for the shopper's
// embed pages. It returns ErrNotFound, also for a payment of another form.
func (s *Service) PaymentOfForm(ctx context.Context, db postgres.DBTX, f *forms.Form, payID string) (*Payment, error) {
	return onePayment(db.QueryRow(ctx, selectPaymentForForm, f.MerchantID, f.ID, payID))
}

// PaymentOfReference returns payment payID made on merchantID's signed
// link reference, for the shopper's pages. It returns ErrNotFound, also
// for a payment of another reference.
func (s *Service) PaymentOfReference(ctx context.Context, db postgres.DBTX, merchantID, reference, payID string) (*Payment, error) {
	return onePayment(db.QueryRow(ctx, selectPaymentForReference, merchantID, reference, payID))
}

// Claim moves payment p, which the caller has matched to the link, form
// or signed link it pays, from requires_action to processing, remembering
// outcome, in its own short transaction; only one concurrent request wins.
// It returns p as it now is: processing (claimed now, or earlier by a
// request that did not finish) means the caller must Authenticate and
// Finish it; any other status is already final.
func (s *Service) Claim(ctx context.Context, db *postgres.DB, p *Payment, outcome string) (*Payment, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	if _, err := db.Pool.Exec(ctx, claimChallenge, p.MerchantID, p.ID, outcome, now); err != nil {
		return nil, fmt.Errorf("claim challenge: %w", err)
	}
	return s.Get(ctx, db.Pool, p.MerchantID, p.ID)
}
