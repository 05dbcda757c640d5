package wallet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
)

// ChallengeTimeout is how long a top-up may wait in requires_action for
// its challenge answer before ExpireTopUps cancels it, as long as a
// checkout payment waits.
const ChallengeTimeout = 30 * time.Minute

// ErrNotChallenged is answered for the challenge of a transaction that
// is not one of the user's top-ups.
var ErrNotChallenged = &apperr.Error{Kind: apperr.NotFound, Code: "transaction_not_found",
	Message: "No top-up of yours is waiting for a challenge with this id."}

// TopUpChallenged records, in tx, a top-up of amount whose card
// authorization ref waits for the issuer's challenge: a history entry with
// status requires_action and its notification; no money moves until
// CompleteTopUp approves it.
func (s *Service) TopUpChallenged(ctx context.Context, tx pgx.Tx, u *User, amount money.Amount, card Card, ref string) (*Transaction, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	t := &Transaction{ID: id.NewAt("txn", now), UserID: u.ID, Type: TypeTopUp, Status: StatusRequiresAction, Amount: amount,
		Reference: ref, CardBrand: &card.Brand, CardLast4: &card.Last4, CreatedAt: now, UpdatedAt: now}
	if err := record(ctx, tx, t, u.Email, fmt.Sprintf("Your bank asks you to confirm adding %s with your %s.",
		amount, card.Words())); err != nil {
		return nil, err
	}
	return t, nil
}

// TopUpOf returns userID's top-up txnID (a challenge page shows it). It
// returns ErrNotChallenged for any other transaction.
func (s *Service) TopUpOf(ctx context.Context, userID, txnID string) (*Transaction, error) {
	t, err := s.Transaction(ctx, s.db.Pool, userID, txnID)
	if errors.Is(err, ErrTransactionNotFound) || (err == nil && t.Type != TypeTopUp) {
		return nil, ErrNotChallenged
	}
	return t, err
}

// CompleteTopUp records the challenge's outcome for userID's top-up txnID
// in tx, if it is still waiting: approved credits the wallet (one ledger
// transaction under the authorization's reference, so never twice) and
// queues the capture; refused, it fails with failureCode and moves
// nothing. A top-up no longer waiting is returned as it is, with changed
// false.
func (s *Service) CompleteTopUp(ctx context.Context, tx pgx.Tx, u *User, txnID string, approved bool, failureCode string) (t *Transaction, changed bool, err error) {
	rows, err := tx.Query(ctx, lockTopUp, u.ID, txnID)
	if err != nil {
		return nil, false, fmt.Errorf("lock top-up %s: %w", txnID, err)
	}
	cur, err := pgx.CollectExactlyOneRow(rows, scanTransaction)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, false, ErrNotChallenged
	case err != nil:
		return nil, false, fmt.Errorf("lock top-up %s: %w", txnID, err)
	case cur.Status != StatusRequiresAction:
		return &cur, false, nil
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	status, code := StatusFailed, &failureCode
	message := fmt.Sprintf("Adding %s to your wallet failed: your bank did not confirm it.", cur.Amount)
	if approved {
		status, code = StatusSucceeded, nil
		message = fmt.Sprintf("You added %s to your wallet with your %s.", cur.Amount, Card{deref(cur.CardBrand), deref(cur.CardLast4)}.Words())
		if err := post(ctx, tx, ledger.Transaction{Kind: ledgerTopUp, Reference: cur.Reference, Entries: []ledger.Entry{
			{Account: ledger.Account{Kind: ledger.CardIn, Currency: cur.Amount.Currency}, Amount: -cur.Amount.Minor},
			{Account: walletAccount(u.ID, cur.Amount.Currency), Amount: cur.Amount.Minor},
		}}); err != nil {
			return nil, false, err
		}
		if _, err := tx.Exec(ctx, insertPendingCapture, cur.Reference, cur.ID, cur.Amount.Minor, string(cur.Amount.Currency), now); err != nil {
			return nil, false, fmt.Errorf("queue capture: %w", err)
		}
	}
	rows, err = tx.Query(ctx, setTransactionStatus, txnID, status, code, now)
	if err != nil {
		return nil, false, fmt.Errorf("update top-up %s: %w", txnID, err)
	}
	done, err := pgx.CollectExactlyOneRow(rows, scanTransaction)
	if err != nil {
		return nil, false, fmt.Errorf("update top-up %s: %w", txnID, err)
	}
	return &done, true, notifyStatus(ctx, tx, &done, u.Email, message)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ExpireTopUps cancels up to limit top-ups still waiting for their
// challenge since before cutoff, each notified, and returns their
// authorization references so the caller can release the holds.
func (s *Service) ExpireTopUps(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	var refs []string
	err := s.db.WithTx(ctx, func(tx pgx.Tx) error {
		refs = refs[:0]
		now := s.now().UTC().Truncate(time.Microsecond)
		rows, err := tx.Query(ctx, cancelAbandonedTopUps, cutoff, now, limit)
		if err != nil {
			return fmt.Errorf("cancel abandoned top-ups: %w", err)
		}
		list, err := pgx.CollectRows(rows, scanTransaction)
		if err != nil {
			return fmt.Errorf("cancel abandoned top-ups: %w", err)
		}
		for i := range list {
			t := &list[i]
			u, err := scanUser(tx.QueryRow(ctx, selectUser, t.UserID))
			if err != nil {
				return err
			}
			if err := notifyStatus(ctx, tx, t, u.Email, fmt.Sprintf(
				"Adding %s to your wallet was canceled: the bank's check was not answered in time.", t.Amount)); err != nil {
				return err
			}
			refs = append(refs, t.Reference)
		}
		return nil
	})
	return refs, err
}
