package checkout

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/wire"
)

// insertPaymentRow inserts p, with its capture queue row when it
// succeeded, if its link is still payable in the database (held: the
// caller already completed the link in this transaction) and its merchant
// accepts it. It returns errLinkNotPayable otherwise, and for a success
// the locks of its posting.
func insertPaymentRow(ctx context.Context, tx pgx.Tx, p *Payment, held bool) (*ledger.Locks, error) {
	query := insertPayment
	if p.Status == Succeeded {
		query = insertCapturedPayment
	}
	inserted, locks, err := insertRow(ctx, tx, p, query, p.ID, p.MerchantID, p.LinkID, p.SingleUse, p.Amount.Minor,
		string(p.Amount.Currency), string(p.Status), wire.OrNil(p.FailureCode), p.Customer.Email, p.Customer.Name,
		wire.OrNil(string(p.Card.Brand)), wire.OrNil(p.Card.Last4), wire.OrNil(p.Card.ExpMonth), wire.OrNil(p.Card.ExpYear),
		wire.OrNil(p.Card.Fingerprint), p.ProcessorRef, p.CreatedAt, held)
	switch {
	case postgres.IsUniqueViolation(err, "payments_single_use_once"):
		return nil, links.ErrCompleted
	case err != nil:
		return nil, fmt.Errorf("insert payment: %w", err)
	case !inserted:
		return nil, errLinkNotPayable
	}
	return locks, nil
}

// insertRow runs query, the insert of payment p, with args and, when p
// succeeded, the locks of its ledger posting in the same round trip. It
// reports whether the insert wrote p (its own checks may refuse it) and
// returns the posting's locks when it did and p succeeded. The insert's
// own error comes back unwrapped, for the caller to tell its constraints.
func insertRow(ctx context.Context, tx pgx.Tx, p *Payment, query string, args ...any) (bool, *ledger.Locks, error) {
	b := &pgx.Batch{}
	b.Queue(query, args...)
	var locks *ledger.Locks
	if p.Status == Succeeded {
		var err error
		if locks, err = ledger.QueueLocks(b, paymentPosting(p)); err != nil {
			return false, nil, fmt.Errorf("post payment %s: %w", p.ID, err)
		}
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	tag, err := br.Exec()
	switch {
	case err != nil:
		return false, nil, err
	case tag.RowsAffected() == 0:
		// The locks were taken for nothing; the caller rolls back.
		return false, nil, br.Close()
	case locks != nil:
		if err := locks.Read(br); err != nil {
			return false, nil, fmt.Errorf("post payment %s: %w", p.ID, err)
		}
	}
	return true, locks, br.Close()
}

// paymentPosting moves p's amount from the card processor's account to
// its merchant's.
func paymentPosting(p *Payment) ledger.Transaction {
	return ledger.Transaction{Kind: "payment", Reference: p.ID, Entries: []ledger.Entry{
		{Account: ledger.Account{Kind: ledger.CardIn, Currency: p.Amount.Currency}, Amount: -p.Amount.Minor},
		{Account: ledger.Account{Kind: ledger.Merchant, Owner: p.MerchantID, Currency: p.Amount.Currency}, Amount: p.Amount.Minor},
	}}
}
