// Package checkout is paying a payment link, a payment form or a signed
// link: card payments through the card processor, the challenge flow,
// refunds and the merchant's balance.
//
// A payment belongs to at most one of: a payment link (LinkID), a payment
// form (FormID: each submission is a payment of its own) or a stateless
// signed link (Reference, the merchant's reference: one successful payment
// per merchant and reference, claimed in paid_references the way a
// single-use link is completed). All three go through the same machinery
// below.
//
// # States
//
// A payment is created in its outcome state, never "pending": succeeded
// (authorized), failed (declined), or requires_action (the issuer wants a
// challenge). A challenge answer moves requires_action to processing (one
// request wins the row), the processor is asked, and processing becomes
// succeeded, failed, or canceled (approved, but its single-use link was
// paid by someone else meanwhile). A requires_action payment nobody
// finishes is canceled by the settle sweep.
//
// # One transaction per outcome
//
// Everything a payment's outcome changes commits in one transaction with
// the Idempotency-Key record of the request: the payment row, the ledger
// postings {card_in −x, merchant +x}, the single-use link's completion,
// the capture queue row, and the outbox events (payment.succeeded or
// payment.failed, payment_link.completed). A single-use link is completed
// by an UPDATE … WHERE status = 'active' that concurrent payers wait on,
// so exactly one of them succeeds; a partial unique index on payments
// enforces the same in the database.
//
// # The processor is never called inside a transaction
//
// Calls that decide an outcome happen before the transaction; calls that
// follow from a committed outcome happen after it, driven by rows:
//
//   - Authorize (and a challenge's Authenticate) runs first, with a key
//     derived from the attempt: the link, the request's Idempotency-Key and
//     a hash of the request, so a retry of the same request gets the same
//     authorization back and never a second hold.
//   - The transaction then records the outcome. Authorization only places
//     a hold; money moves only when it is captured, and capture is driven by
//     the pending_captures row written in that same transaction. So if the
//     process dies between Authorize and commit, or the transaction fails
//     (say the single-use link was paid meanwhile), there is an
//     authorization without a payment row and without a queue row: it is
//     never captured and lapses at the issuer (and is voided at once when we
//     know it lost). An authorization without a payment row never becomes
//     captured money.
//   - A retry with the same Idempotency-Key after such a crash runs again:
//     Authorize returns the same authorization, and the transaction records
//     it. A retry after the commit replays the stored answer. Two requests
//     with the same key at once: the second gets 409 idempotency_key_in_use.
//     And processor_ref is unique, so one authorization can never be
//     recorded as two payments.
//   - Settle (a periodic worker task) captures what pending_captures holds
//     and deletes those rows, idempotently per payment, in batches; it also
//     sends refunds not yet sent and resumes challenges a crash left in
//     processing. Captures are thus batched out of the shopper's request
//     and cost the payment transaction one small insert.
//   - A refund commits first (amount_refunded, the ledger postings
//     {merchant −x, card_out +x}, payment.refunded) under the payment's row
//     lock, so concurrent refunds can never exceed the payment; the
//     processor's Refund follows after commit with the refund's id as key,
//     and Settle retries it if the process died in between.
package checkout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/webhook"
	"github.com/paylink/paylink/internal/wire"
)

// Status is a payment's state.
type Status string

// Payment states.
const (
	RequiresAction Status = "requires_action"
	Processing     Status = "processing"
	Succeeded      Status = "succeeded"
	Failed         Status = "failed"
	Canceled       Status = "canceled"
)

// Errors returned by this package.
var (
	ErrEmailInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "email_invalid", Param: "email",
		Message: "Enter a valid e-mail address."}
	ErrNameInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "name_invalid", Param: "name",
		Message: "Enter the name on the card (1 to 100 characters)."}
	ErrMethodUnsupported = &apperr.Error{Kind: apperr.Invalid, Code: "payment_method_unsupported", Param: "payment_method.type",
		Message: "payment_method.type must be card."}
	ErrNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "payment_not_found",
		Message: "No such payment."}
	ErrNotRefundable = &apperr.Error{Kind: apperr.Invalid, Code: "payment_not_refundable",
		Message: "Only succeeded payments can be refunded."}
	ErrRefundExceeds = &apperr.Error{Kind: apperr.Invalid, Code: "refund_exceeds_payment", Param: "amount",
		Message: "The refund is more than what is left to refund on this payment."}
	ErrBalanceInsufficient = &apperr.Error{Kind: apperr.Conflict, Code: "balance_insufficient",
		Message: "Your balance is too low to cover this refund."}
	ErrProcessorUnavailable = &apperr.Error{Kind: apperr.Unavailable, Code: "processor_unavailable",
		Message: "The card processor did not answer. Try again; you will not be charged twice."}
	ErrStatusInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "status_invalid", Param: "status",
		Message: "status must be requires_action, processing, succeeded, failed or canceled."}
	ErrLinkFilterInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "payment_link_invalid", Param: "payment_link",
		Message: "payment_link must be a payment link id (plink_…)."}
	ErrOutcomeInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "outcome_invalid", Param: "outcome",
		Message: "outcome must be approve or fail."}
	ErrReasonInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "reason_invalid", Param: "reason",
		Message: "reason must be requested_by_customer, duplicate or fraudulent."}
)

// Reasons are why a merchant may say it refunds.
var Reasons = []string{"requested_by_customer", "duplicate", "fraudulent"}

// CardError is the 402 card_error for a decline or card validation code,
// with the shopper-facing message and the field to fix.
func CardError(code string) *apperr.Error {
	e := &apperr.Error{Kind: apperr.CardDeclined, Code: code, Message: processor.Message(code)}
	switch code {
	case processor.CodeInvalidNumber, processor.CodeCardNotSupported:
		e.Param = "payment_method.card.number"
	case processor.CodeInvalidExpiryMonth:
		e.Param = "payment_method.card.exp_month"
	case processor.CodeInvalidExpiryYear, processor.CodeExpiredCard:
		e.Param = "payment_method.card.exp_year"
	case processor.CodeInvalidCVC, processor.CodeIncorrectCVC:
		e.Param = "payment_method.card.cvc"
	}
	return e
}

// Customer is who pays. Phone and Address are set when a payment form
// collects them.
type Customer struct {
	Email   string
	Name    string
	Phone   string
	Address *Address
}

// Payment is one attempt to pay, with its outcome.
type Payment struct {
	ID               string
	MerchantID       string
	LinkID           string
	FormID           string
	Reference        string // a signed link's merchant reference
	Realm            string // its link's or form's; "" for none
	SingleUse        bool
	Amount           money.Amount
	Status           Status
	AmountRefunded   int64
	FailureCode      string
	Customer         Customer
	Method           string
	Card             processor.Details
	ProcessorRef     string
	ChallengeOutcome string
	Metadata         map[string]string // the link's
	Risk             *risk.Decision    // nil for a payment made before screening
	ReviewID         string            // the review its decision opened, "" for none
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Refund is money returned on a succeeded payment. Reason is one of
// Reasons, or "" when the merchant gave none.
type Refund struct {
	ID         string
	MerchantID string
	PaymentID  string
	Amount     money.Amount
	Status     string
	Reason     string
	CreatedAt  time.Time
}

// Service pays links and refunds payments.
type Service struct {
	proc        processor.Processor
	links       *links.Service
	now         func() time.Time
	risk        *risk.Engine
	fingerprint func(number string) string
}

// NewService returns a Service using proc for cards.
func NewService(proc processor.Processor, linkSvc *links.Service, now func() time.Time) *Service {
	return &Service{proc: proc, links: linkSvc, now: now}
}

// ValidateCustomer returns c normalised (trimmed name, lower-case e-mail)
// or ErrEmailInvalid / ErrNameInvalid.
func ValidateCustomer(c Customer) (Customer, error) {
	email, err := merchant.NormalizeEmail(c.Email)
	if err != nil {
		return c, ErrEmailInvalid
	}
	c.Email = email
	c.Name = strings.TrimSpace(c.Name)
	if n := utf8.RuneCountInString(c.Name); n < 1 || n > 100 {
		return c, ErrNameInvalid
	}
	return c, nil
}

// AttemptKey derives the processor idempotency key of one checkout attempt
// from the link, the request's Idempotency-Key and the request's
// fingerprint: the same request retried gets the same authorization, a
// different request under a reused key gets its own (and is refused by the
// idempotency check anyway).
func AttemptKey(linkID, idempotencyKey string, fingerprint []byte) string {
	h := sha256.New()
	h.Write([]byte(linkID + "\x00" + idempotencyKey + "\x00"))
	h.Write(fingerprint)
	return "pay:" + hex.EncodeToString(h.Sum(nil)[:20])
}

// Authorize asks the processor to authorize l's amount on card, if l's
// merchant accepts it (see AuthorizeAccepted; l.Accepts is as fresh as
// the Lookup that read l).
func (s *Service) Authorize(ctx context.Context, l *links.Link, key string, card processor.Card) (Authorization, error) {
	return s.AuthorizeAccepted(ctx, l.Accepts, l.Amount, key, card)
}

// AuthorizeAmount is AuthorizeAccepted for a merchant that accepts
// everything; a payment it makes is still refused at its insert if the
// merchant does not accept it.
func (s *Service) AuthorizeAmount(ctx context.Context, amount money.Amount, key string, card processor.Card) (Authorization, error) {
	return s.AuthorizeAccepted(ctx, merchant.Acceptance{}, amount, key, card)
}

// AuthorizeAccepted asks the processor to authorize amount on card: a
// link's, a payment form's or a signed link's. What the merchant does not
// accept (acc: the currency, card payments, the card's brand) is refused
// first, before the processor is asked and before anything is recorded,
// with merchant.ErrCurrencyWithdrawn, ErrMethodNotAccepted or
// ErrCardBrandNotAccepted (a card_error); then problems the card itself
// shows (number, expiry, CVC, brand, currency) with a CardError. A
// decline is not an error: it comes back as a Declined authorization, to
// be recorded as a failed payment. It returns ErrProcessorUnavailable when
// the processor cannot be asked.
func (s *Service) AuthorizeAccepted(ctx context.Context, acc merchant.Acceptance, amount money.Amount, key string, card processor.Card) (Authorization, error) {
	_, code, err := s.acceptCard(acc, amount, &card)
	if err != nil {
		return Authorization{}, err
	}
	if code != "" {
		return Authorization{}, CardError(code)
	}
	a, err := s.proc.Authorize(ctx, key, amount, card)
	if err != nil {
		return Authorization{}, unavailable(err)
	}
	return Authorization{Authorization: a}, nil
}

// acceptCard normalizes card's number and refuses what acc does not
// accept (AuthorizeAccepted's errors). It returns the card's brand ("" when
// unknown) and the decline code of the card's own problems, "" for none.
func (s *Service) acceptCard(acc merchant.Acceptance, amount money.Amount, card *processor.Card) (processor.Brand, string, error) {
	card.Number = processor.Normalize(card.Number)
	brand, code := processor.Validate(*card, amount.Currency, s.now())
	if brand == processor.Unknown {
		brand = ""
	}
	if err := acc.CheckPayment(amount.Currency, merchant.MethodCard, brand); err != nil {
		return "", "", err
	}
	return brand, code, nil
}

// Record stores the outcome of an authorization on link l in tx (see the
// package documentation): the payment, and for a success the ledger
// postings, the capture queue row, the completion of a single-use link
// and the events. l may come from links.Service.Lookup's cache: whether
// the link can still be paid is decided by the database, in the payment's
// insert. The events are written through later: tx itself, or a
// postgres.Writes the caller sends into tx before committing (saving a
// round trip on the hot path). For a link that can no longer be paid it
// returns ErrCompleted, ErrDeactivated or ErrExpired from package links,
// and for a payment its merchant no longer accepts (the insert reads the
// merchant's settings as they are now, whatever l.Accepts said)
// merchant.ErrCurrencyWithdrawn, ErrMethodNotAccepted or
// ErrCardBrandNotAccepted; the caller should then Release the
// authorization after rolling back.
func (s *Service) Record(ctx context.Context, tx pgx.Tx, later postgres.Execer, l *links.Link, c Customer, a Authorization) (*Payment, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	if err := l.Payable(now); err != nil {
		return nil, err
	}
	p := s.newPayment(l.MerchantID, l.Amount, c, a, now)
	p.LinkID, p.SingleUse, p.Metadata, p.Realm = l.ID, l.SingleUse, l.Metadata, l.Realm
	held := p.Status == Succeeded && l.SingleUse
	if held {
		if err := links.Complete(ctx, tx, l.MerchantID, l.ID, now); err != nil {
			s.links.Forget(l.ID)
			return nil, err
		}
	}
	if err := insertPaymentRow(ctx, tx, p, held); err != nil {
		if errors.Is(err, errLinkNotPayable) {
			s.links.Forget(l.ID)
			if err := links.CheckPayable(ctx, tx, l.MerchantID, l.ID, now); err != nil {
				return nil, err
			}
			return nil, refusal(ctx, tx, p)
		}
		return nil, err
	}
	if err := saveRisk(ctx, later, p, now); err != nil {
		return nil, err
	}
	return p, s.recordOutcome(ctx, tx, later, p, l, now, true)
}

// errLinkNotPayable means the payment's insert found its link no longer
// payable, or its merchant no longer accepting it; links.CheckPayable or
// refusal says why.
var errLinkNotPayable = errors.New("checkout: link not payable")

// refusal says why p's merchant, as it is now, does not accept p, after
// the database refused p's insert for something other than its link's or
// form's state. It returns an error in any case: one of merchant's
// refusals, or an internal error when the settings accept p after all
// (changed again meanwhile; the shopper may simply retry).
func refusal(ctx context.Context, db postgres.DBTX, p *Payment) error {
	acc, err := merchant.LoadAcceptance(ctx, db, p.MerchantID)
	if err != nil {
		return err
	}
	if err := acc.CheckPayment(p.Amount.Currency, merchant.Method(p.Method), p.Card.Brand); err != nil {
		return err
	}
	return fmt.Errorf("payment %s refused at insert, yet its merchant accepts it now", p.ID)
}

// insertPaymentRow inserts p, with its capture queue row when it
// succeeded, if its link is still payable in the database (held: the
// caller already completed the link in this transaction) and its merchant
// accepts it. It returns errLinkNotPayable otherwise.
func insertPaymentRow(ctx context.Context, tx pgx.Tx, p *Payment, held bool) error {
	query := insertPayment
	if p.Status == Succeeded {
		query = insertCapturedPayment
	}
	tag, err := tx.Exec(ctx, query, p.ID, p.MerchantID, p.LinkID, p.SingleUse, p.Amount.Minor,
		string(p.Amount.Currency), string(p.Status), wire.OrNil(p.FailureCode), p.Customer.Email, p.Customer.Name,
		wire.OrNil(string(p.Card.Brand)), wire.OrNil(p.Card.Last4), wire.OrNil(p.Card.ExpMonth), wire.OrNil(p.Card.ExpYear),
		wire.OrNil(p.Card.Fingerprint), p.ProcessorRef, p.CreatedAt, held)
	switch {
	case postgres.IsUniqueViolation(err, "payments_single_use_once"):
		return links.ErrCompleted
	case err != nil:
		return fmt.Errorf("insert payment: %w", err)
	case tag.RowsAffected() == 0:
		return errLinkNotPayable
	}
	return nil
}

// recordOutcome writes what a final payment status brings with it: for a
// success the ledger postings, the capture queue row (unless queued is
// true: the payment was inserted by this transaction, which queued it) and payment.succeeded (plus
// payment_link.completed for a single-use link l; l is nil for a form's or
// a signed link's payment); for a failure payment.failed. The events go
// through later.
func (s *Service) recordOutcome(ctx context.Context, tx pgx.Tx, later postgres.Execer, p *Payment, l *links.Link, now time.Time, queued bool) error {
	switch p.Status {
	case Succeeded:
		posting := ledger.Transaction{Kind: "payment", Reference: p.ID, Entries: []ledger.Entry{
			{Account: ledger.Account{Kind: ledger.CardIn, Currency: p.Amount.Currency}, Amount: -p.Amount.Minor},
			{Account: ledger.Account{Kind: ledger.Merchant, Owner: p.MerchantID, Currency: p.Amount.Currency}, Amount: p.Amount.Minor},
		}}
		var err error
		if queued {
			// The payment was inserted by this transaction, so its
			// posting is new and its insert can wait for the commit.
			_, err = ledger.PostLater(ctx, tx, later, posting)
		} else {
			_, err = ledger.Post(ctx, tx, posting)
		}
		if err != nil {
			return fmt.Errorf("post payment %s: %w", p.ID, err)
		}
		if !queued {
			if _, err := tx.Exec(ctx, insertPendingCapture, p.ID, p.MerchantID, p.ProcessorRef, p.Amount.Minor,
				string(p.Amount.Currency), now); err != nil {
				return fmt.Errorf("queue capture: %w", err)
			}
		}
		if _, err := webhook.Record(ctx, later, p.MerchantID, webhook.PaymentSucceeded, ToWire(p), now); err != nil {
			return err
		}
		if l != nil && l.SingleUse {
			done := *l
			done.Status, done.CompletedAt = links.Completed, &now
			if _, err := webhook.Record(ctx, later, p.MerchantID, webhook.PaymentLinkCompleted, s.links.ToWire(&done), now); err != nil {
				return err
			}
		}
	case Failed:
		if _, err := webhook.Record(ctx, later, p.MerchantID, webhook.PaymentFailed, ToWire(p), now); err != nil {
			return err
		}
	case RequiresAction:
		if _, err := webhook.Record(ctx, later, p.MerchantID, webhook.PaymentRequiresAction, ToWire(p), now); err != nil {
			return err
		}
	case Canceled:
		if _, err := webhook.Record(ctx, later, p.MerchantID, webhook.PaymentCanceled, ToWire(p), now); err != nil {
			return err
		}
	}
	return nil
}

// Release voids an authorization that will never be recorded (its link
// was paid or closed meanwhile), so the shopper's hold goes away at once
// instead of lapsing. It is best effort: an unreleased hold lapses anyway.
func (s *Service) Release(ctx context.Context, a processor.Authorization) error {
	if a.Status != processor.Authorized {
		return nil
	}
	return s.proc.Void(ctx, "void:"+a.ID, a.ID)
}

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
// everything Record writes for a success), failed, or canceled when
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
	return p, s.recordOutcome(ctx, tx, tx, p, l, now, false)
}

// Get returns merchantID's payment payID. It returns ErrNotFound.
func (s *Service) Get(ctx context.Context, db postgres.DBTX, merchantID, payID string) (*Payment, error) {
	return onePayment(db.QueryRow(ctx, selectPayment, merchantID, payID))
}

// PaymentOfLink returns payment payID made on link l, for the shopper's
// pages. It returns ErrNotFound, also for a payment of another link.
func (s *Service) PaymentOfLink(ctx context.Context, db postgres.DBTX, l *links.Link, payID string) (*Payment, error) {
	return onePayment(db.QueryRow(ctx, selectPaymentForLink, l.MerchantID, l.ID, payID))
}

func onePayment(r pgx.Row) (*Payment, error) {
	p, err := scanPayment(r)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("read payment: %w", err)
	}
	return p, nil
}

// Refund is RefundFor without a reason.
func (s *Service) Refund(ctx context.Context, tx pgx.Tx, merchantID, payID string, amount *int64) (*Refund, *Payment, error) {
	return s.RefundFor(ctx, tx, merchantID, payID, NewRefund{Amount: amount})
}

// NewRefund is what a merchant asks to refund: Amount (the whole rest
// when nil) and an optional Reason, one of Reasons.
type NewRefund struct {
	Amount *int64
	Reason string
}

// CheckRefund says whether in could be refunded on p as p stands: it
// returns ErrReasonInvalid, ErrNotRefundable, money.ErrAmountInvalid or
// ErrRefundExceeds. RefundFor checks it again under the payment's lock;
// a page may call it first to refuse before asking for confirmation.
func CheckRefund(p *Payment, in NewRefund) error {
	if in.Reason != "" && !slices.Contains(Reasons, in.Reason) {
		return ErrReasonInvalid
	}
	if p.Status != Succeeded {
		return ErrNotRefundable
	}
	left := p.Amount.Minor - p.AmountRefunded
	x := left
	if in.Amount != nil {
		x = *in.Amount
	}
	switch {
	case x < 1 && in.Amount != nil:
		return money.ErrAmountInvalid
	case x < 1 || x > left:
		return ErrRefundExceeds
	}
	return nil
}

// RefundFor refunds in.Amount of merchantID's payment payID, in tx, under
// the payment's row lock so that concurrent refunds never add up to more
// than the payment: the refund row, amount_refunded, the ledger postings
// {merchant −x, card_out +x} and payment.refunded. The processor is asked
// after commit (SendRefund). It returns ErrReasonInvalid, ErrNotFound,
// ErrNotRefundable, ErrRefundExceeds, money.ErrAmountInvalid or
// ErrBalanceInsufficient.
func (s *Service) RefundFor(ctx context.Context, tx pgx.Tx, merchantID, payID string, in NewRefund) (*Refund, *Payment, error) {
	p, err := scanPayment(tx.QueryRow(ctx, lockPayment, merchantID, payID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil, ErrNotFound
	case err != nil:
		return nil, nil, fmt.Errorf("lock payment: %w", err)
	}
	if err := CheckRefund(p, in); err != nil {
		return nil, nil, err
	}
	x := p.Amount.Minor - p.AmountRefunded
	if in.Amount != nil {
		x = *in.Amount
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	r := &Refund{ID: id.NewAt("re", now), MerchantID: merchantID, PaymentID: payID,
		Amount: money.Amount{Minor: x, Currency: p.Amount.Currency}, Status: "succeeded", Reason: in.Reason, CreatedAt: now}
	if _, err := tx.Exec(ctx, addRefunded, merchantID, payID, x, now); err != nil {
		if postgres.IsCheckViolation(err, "payments_refund_within_amount") {
			return nil, nil, ErrRefundExceeds
		}
		return nil, nil, fmt.Errorf("add refunded amount: %w", err)
	}
	if _, err := tx.Exec(ctx, insertRefund, r.ID, merchantID, payID, x, string(r.Amount.Currency), now, wire.OrNil(r.Reason)); err != nil {
		return nil, nil, fmt.Errorf("insert refund: %w", err)
	}
	if p.Method == MethodWallet {
		err = refundWallet(ctx, tx, p, r, now)
	} else {
		_, err = ledger.Post(ctx, tx, ledger.Transaction{Kind: "refund", Reference: r.ID, Entries: []ledger.Entry{
			{Account: ledger.Account{Kind: ledger.Merchant, Owner: merchantID, Currency: r.Amount.Currency}, Amount: -x},
			{Account: ledger.Account{Kind: ledger.CardOut, Currency: r.Amount.Currency}, Amount: x},
		}})
	}
	switch {
	case errors.Is(err, ledger.ErrInsufficientFunds):
		return nil, nil, ErrBalanceInsufficient
	case err != nil:
		return nil, nil, fmt.Errorf("post refund %s: %w", r.ID, err)
	}
	p.AmountRefunded += x
	p.UpdatedAt = now
	if p.ReviewID != "" && p.AmountRefunded == p.Amount.Minor {
		if err := risk.CloseRefunded(ctx, tx, merchantID, payID, now); err != nil {
			return nil, nil, err
		}
	}
	if _, err := webhook.Record(ctx, tx, merchantID, webhook.PaymentRefunded, ToWire(p), now); err != nil {
		return nil, nil, err
	}
	if _, err := webhook.Record(ctx, tx, merchantID, webhook.RefundSucceeded, RefundToWire(r), now); err != nil {
		return nil, nil, err
	}
	return r, p, nil
}

// SendRefund asks the processor to return a committed refund to the card,
// capturing the payment first if the capture is still queued, and marks
// the refund sent. Every step is keyed, so running it twice (inline after
// commit and from Settle) asks the processor once.
func (s *Service) SendRefund(ctx context.Context, db *postgres.DB, r *Refund, authRef string) error {
	if authRef == "" {
		return nil // a wallet payment's refund completed in its transaction
	}
	if err := s.captureOne(ctx, db, r.PaymentID); err != nil {
		return err
	}
	ref, err := s.proc.Refund(ctx, "refund:"+r.ID, authRef, r.Amount)
	if err != nil {
		return fmt.Errorf("refund %s at the processor: %w", r.ID, err)
	}
	if _, err := db.Pool.Exec(ctx, markRefundSent, r.ID, ref, s.now().UTC()); err != nil {
		return fmt.Errorf("mark refund %s sent: %w", r.ID, err)
	}
	return nil
}

// captureOne captures payID now if its capture is still queued.
func (s *Service) captureOne(ctx context.Context, db *postgres.DB, payID string) error {
	var (
		ref string
		amt money.Amount
		cur string
	)
	err := db.Pool.QueryRow(ctx, pendingCaptureOf, payID).Scan(&ref, &amt.Minor, &cur)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("read pending capture: %w", err)
	}
	amt.Currency = money.Currency(cur)
	if _, err := s.proc.Capture(ctx, "capture:"+payID, ref, amt); err != nil {
		return fmt.Errorf("capture %s: %w", payID, err)
	}
	if _, err := db.Pool.Exec(ctx, deleteCaptured, []string{payID}); err != nil {
		return fmt.Errorf("dequeue capture: %w", err)
	}
	return nil
}

// Balance returns merchantID's ledger balance per currency: succeeded
// payments minus refunds.
func (s *Service) Balance(ctx context.Context, db postgres.DBTX, merchantID string) (wire.Balance, error) {
	amounts, err := ledger.Balances(ctx, db, ledger.Merchant, merchantID)
	if err != nil {
		return wire.Balance{}, fmt.Errorf("read balance: %w", err)
	}
	out := wire.Balance{Available: make([]wire.Money, 0, len(amounts))}
	for _, a := range amounts {
		out.Available = append(out.Available, wire.Money{Currency: string(a.Currency), Amount: a.Minor})
	}
	return out, nil
}

// ToWire returns p as the API shows it.
func ToWire(p *Payment) wire.Payment {
	w := wire.Payment{
		ID: p.ID, Amount: p.Amount.Minor, Currency: string(p.Amount.Currency), Status: string(p.Status),
		AmountRefunded: p.AmountRefunded, PaymentLink: wire.OrNil(p.LinkID),
		PaymentForm: wire.OrNil(p.FormID), Reference: wire.OrNil(p.Reference), Realm: wire.OrNil(p.Realm),
		PaymentMethod: wire.PaymentMethod{Type: p.Method},
		Customer: wire.Customer{Email: p.Customer.Email, Name: p.Customer.Name, Phone: wire.OrNil(p.Customer.Phone),
			Address: p.Customer.Address.toWire()},
		CreatedAt: wire.Time(p.CreatedAt), Metadata: p.Metadata,
	}
	if w.Metadata == nil {
		w.Metadata = map[string]string{}
	}
	if p.Card.Last4 != "" {
		brand, last4, m, y := string(p.Card.Brand), p.Card.Last4, p.Card.ExpMonth, p.Card.ExpYear
		w.PaymentMethod.Brand, w.PaymentMethod.Last4 = &brand, &last4
		w.PaymentMethod.ExpMonth, w.PaymentMethod.ExpYear = &m, &y
	}
	if p.FailureCode != "" {
		code, msg := p.FailureCode, processor.Message(p.FailureCode)
		w.FailureCode, w.FailureMessage = &code, &msg
	}
	if p.Card.Fingerprint != "" {
		w.PaymentMethod.Fingerprint = wire.Shown(&p.Card.Fingerprint)
	}
	if d := p.Risk; d != nil {
		reasons := d.Reasons
		if reasons == nil {
			reasons = []string{}
		}
		w.Risk = wire.Shown(&wire.Risk{Score: d.Score, Level: d.Level, Outcome: d.Outcome, Reasons: reasons,
			Rule: wire.OrNil(d.Rule)})
	}
	w.Review = wire.Shown(wire.OrNil(p.ReviewID))
	return w
}

// RefundToWire returns r as the API shows it.
func RefundToWire(r *Refund) wire.Refund {
	return wire.Refund{ID: r.ID, Payment: r.PaymentID, Amount: r.Amount.Minor, Currency: string(r.Amount.Currency),
		Status: r.Status, Reason: wire.OrNil(r.Reason), CreatedAt: wire.Time(r.CreatedAt)}
}

// ScanPayment reads a row of PaymentRows, for package payments, which
// finds payments with filters of its own.
func ScanPayment(r pgx.Row) (*Payment, error) { return scanPayment(r) }

func scanPayment(r pgx.Row) (*Payment, error) {
	var (
		p             Payment
		cur, st, brnd string
		addr          map[string]string
		score         *int16
		d             risk.Decision
	)
	err := r.Scan(&p.ID, &p.MerchantID, &p.LinkID, &p.SingleUse, &p.Amount.Minor, &cur, &st, &p.AmountRefunded,
		&p.FailureCode, &p.Customer.Email, &p.Customer.Name, &p.Method, &brnd, &p.Card.Last4, &p.Card.ExpMonth,
		&p.Card.ExpYear, &p.Card.Fingerprint, &p.ProcessorRef, &p.ChallengeOutcome, &p.CreatedAt, &p.UpdatedAt,
		&p.Metadata, &p.FormID, &p.Reference, &p.Customer.Phone, &addr, &p.Realm, &score, &d.Level, &d.Outcome,
		&d.Reasons, &d.Rule, &d.Model, &p.ReviewID)
	if err != nil {
		return nil, err
	}
	if score != nil {
		d.Score = int(*score)
		p.Risk = &d
	}
	p.Customer.Address = addressFromJSON(addr)
	p.Amount.Currency, p.Status, p.Card.Brand = money.Currency(cur), Status(st), processor.Brand(brnd)
	return &p, nil
}
