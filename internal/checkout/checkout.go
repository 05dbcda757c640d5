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
//   - Package settle's periodic task captures what pending_captures holds
//     and deletes those rows, idempotently per payment, in batches; it also
//     sends refunds not yet sent and resumes challenges a crash left in
//     processing. Captures are thus batched out of the shopper's request
//     and cost the payment transaction one small insert.
//   - A refund commits first (amount_refunded, the ledger postings
//     {merchant −x, card_out +x}, payment.refunded) under the payment's row
//     lock, so concurrent refunds can never exceed the payment; the
//     processor's Refund follows after commit with the refund's id as key,
//     and package settle retries it if the process died in between.
package checkout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/checkout/contact"
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
	Address *contact.Address
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
	locks, err := insertPaymentRow(ctx, tx, p, held)
	if err != nil {
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
	return p, s.recordOutcome(ctx, tx, later, p, l, now, locks)
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

// recordOutcome writes what a final payment status brings with it: for a
// success the ledger postings, the capture queue row and
// payment.succeeded (plus payment_link.completed for a single-use link l;
// l is nil for a form's or a signed link's payment); for a failure
// payment.failed. The events go through later. locks are the posting's,
// taken with the insert of a payment this transaction inserted (which
// also queued its capture); nil for a payment that existed before.
func (s *Service) recordOutcome(ctx context.Context, tx pgx.Tx, later postgres.Execer, p *Payment, l *links.Link, now time.Time, locks *ledger.Locks) error {
	switch p.Status {
	case Succeeded:
		var err error
		if locks != nil {
			// The payment was inserted by this transaction, so its
			// posting is new and its insert can wait for the commit.
			_, err = ledger.PostLocked(ctx, tx, later, locks)
		} else {
			_, err = ledger.Post(ctx, tx, paymentPosting(p))
		}
		if err != nil {
			return fmt.Errorf("post payment %s: %w", p.ID, err)
		}
		if locks == nil {
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
