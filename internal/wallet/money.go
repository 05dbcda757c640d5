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
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/wire"
)

// Errors about moving money.
var (
	ErrInsufficientFunds = &apperr.Error{Kind: apperr.PaymentRequired, Code: "insufficient_funds",
		Message: "Your wallet balance in this currency is too low for this."}
	ErrReceiverNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "receiver_not_found", Param: "receiver_email",
		Message: "No wallet user has this e-mail address."}
	ErrTransferToSelf = &apperr.Error{Kind: apperr.Invalid, Code: "transfer_to_self", Param: "receiver_email",
		Message: "You cannot send money to yourself."}
	ErrNoteTooLong = &apperr.Error{Kind: apperr.Invalid, Code: "note_too_long", Param: "note",
		Message: "A note is at most 500 characters."}
	ErrTransactionNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "transaction_not_found",
		Message: "No such wallet transaction."}
	ErrNotificationNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "notification_not_found",
		Message: "No such notification."}
)

// Transaction types, as API.md names them.
const (
	TypeTopUp       = "topup"
	TypeTransferIn  = "transfer_in"
	TypeTransferOut = "transfer_out"
	TypePayment     = "payment"
	TypeRefund      = "refund"
	TypeWithdrawal  = "withdrawal"
)

// Transaction statuses. Transfers, payments and refunds complete in one
// transaction (succeeded); a withdrawal is processing until the processor
// has paid the card (succeeded) or refused (failed); a challenged top-up
// is requires_action until its challenge is answered (succeeded, failed)
// or abandoned (canceled).
const (
	StatusSucceeded      = "succeeded"
	StatusProcessing     = "processing"
	StatusRequiresAction = "requires_action"
	StatusFailed         = "failed"
	StatusCanceled       = "canceled"
)

// Ledger transaction kinds the wallet posts.
const (
	ledgerTopUp    = "wallet_topup"
	ledgerTransfer = "wallet_transfer"
	ledgerPayment  = "wallet_payment"
	ledgerRefund   = "wallet_refund"
)

// Transaction is one entry of a user's wallet history. Amount is always
// positive; Type gives the direction.
type Transaction struct {
	ID           string
	UserID       string
	Type         string
	Status       string
	Amount       money.Amount
	Counterparty *string // the other user's e-mail, the merchant's name, or nil
	Note         string
	Reference    string // the ledger reference; both sides of a transfer share it
	PaymentID    *string
	CardBrand    *string
	CardLast4    *string
	FailureCode  *string
	CreatedAt    time.Time
	UpdatedAt    time.Time

	counterpartyUserID, counterpartyMerchantID *string
}

// ToWire returns t as the API shows it.
func (t *Transaction) ToWire() wire.WalletTransaction {
	w := wire.WalletTransaction{ID: t.ID, Object: "wallet_transaction", Type: t.Type, Status: t.Status,
		Amount: t.Amount.Minor, Currency: string(t.Amount.Currency), Counterparty: t.Counterparty, Note: t.Note,
		Payment: t.PaymentID, FailureCode: t.FailureCode, CreatedAt: wire.Time(t.CreatedAt), UpdatedAt: wire.Time(t.UpdatedAt)}
	if t.CardBrand != nil && t.CardLast4 != nil {
		w.Card = &wire.CardDetail{Brand: *t.CardBrand, Last4: *t.CardLast4}
	}
	return w
}

func walletAccount(userID string, c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.Wallet, Owner: userID, Currency: c}
}

// Balances returns userID's wallet balances, one per currency held.
func (s *Service) Balances(ctx context.Context, db postgres.DBTX, userID string) ([]money.Amount, error) {
	return ledger.Balances(ctx, db, ledger.Wallet, userID)
}

// post writes t to the ledger, translating a short balance.
func post(ctx context.Context, tx pgx.Tx, t ledger.Transaction) error {
	_, err := ledger.Post(ctx, tx, t)
	switch {
	case errors.Is(err, ledger.ErrInsufficientFunds):
		return ErrInsufficientFunds
	case err != nil:
		return fmt.Errorf("post %s %s: %w", t.Kind, t.Reference, err)
	}
	return nil
}

// Card is the safe part of the card a top-up was paid with.
type Card struct{ Brand, Last4 string }

// Words is how a message names card: "Visa card ending in 4242".
func (c Card) Words() string { return processor.CardWords(processor.Brand(c.Brand), c.Last4) }

// TopUp credits amount, authorized on a card under the processor
// reference ref, to user's wallet in tx: one ledger transaction (card_in
// to the wallet), a history entry, an in-app notification, an e-mail, and
// a pending capture that CapturePending (after commit) or CaptureDue (the
// sweep) completes. The same ref twice is refused by the ledger
// (ledger.ErrDuplicate), so an authorization is credited once; one whose
// transaction never commits is never captured.
func (s *Service) TopUp(ctx context.Context, tx pgx.Tx, u *User, amount money.Amount, card Card, ref string) (*Transaction, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	t := &Transaction{ID: id.NewAt("txn", now), UserID: u.ID, Type: TypeTopUp, Status: StatusSucceeded, Amount: amount,
		Reference: ref, CardBrand: &card.Brand, CardLast4: &card.Last4, CreatedAt: now, UpdatedAt: now}
	if err := post(ctx, tx, ledger.Transaction{Kind: ledgerTopUp, Reference: ref, Entries: []ledger.Entry{
		{Account: ledger.Account{Kind: ledger.CardIn, Currency: amount.Currency}, Amount: -amount.Minor},
		{Account: walletAccount(u.ID, amount.Currency), Amount: amount.Minor},
	}}); err != nil {
		return nil, err
	}
	if err := record(ctx, tx, t, u.Email, fmt.Sprintf("You added %s to your wallet with your %s.",
		amount, card.Words())); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, insertPendingCapture, ref, t.ID, amount.Minor, string(amount.Currency), now); err != nil {
		return nil, fmt.Errorf("queue capture: %w", err)
	}
	return t, nil
}

// Capturer is the part of the card processor that completes top-ups.
type Capturer interface {
	Capture(ctx context.Context, key, authID string, amount money.Amount) (string, error)
}

// captureKey is the processor idempotency key of a top-up's capture, the
// same for the request and the sweep so a capture happens once.
func captureKey(ref string) string { return "wallet-capture:" + ref }

// CapturePending captures the top-up authorized under ref if its capture
// is still pending, and forgets it once the processor confirmed. Safe to
// call again, and concurrently with CaptureDue: captures are idempotent
// per key.
func (s *Service) CapturePending(ctx context.Context, p Capturer, ref string) error {
	var amount money.Amount
	var currency string
	err := s.db.Pool.QueryRow(ctx, selectPendingCapture, ref).Scan(&amount.Minor, &currency)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("read pending capture: %w", err)
	}
	amount.Currency = money.Currency(currency)
	if _, err := p.Capture(ctx, captureKey(ref), ref, amount); err != nil {
		return fmt.Errorf("capture top-up %s: %w", ref, err)
	}
	if _, err := s.db.Pool.Exec(ctx, deletePendingCapture, ref); err != nil {
		return fmt.Errorf("forget captured top-up %s: %w", ref, err)
	}
	return nil
}

// CaptureDue captures up to limit top-ups still pending since before
// cutoff (the request that made them crashed or the processor was down),
// and returns how many it captured. It stops at the first failure.
func (s *Service) CaptureDue(ctx context.Context, p Capturer, cutoff time.Time, limit int) (int, error) {
	rows, err := s.db.Pool.Query(ctx, selectDueCaptures, cutoff, limit)
	if err != nil {
		return 0, fmt.Errorf("list pending captures: %w", err)
	}
	refs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("list pending captures: %w", err)
	}
	for i, ref := range refs {
		if err := s.CapturePending(ctx, p, ref); err != nil {
			return i, err
		}
	}
	return len(refs), nil
}

// Transfer moves amount from sender to receiver in tx: one ledger
// transaction and a history entry on each side (transfer_out,
// transfer_in), each notified in-app and by e-mail. It returns the
// sender's entry, or ErrTransferToSelf, ErrNoteTooLong or
// ErrInsufficientFunds (the ledger never lets a wallet go below zero,
// however many transfers race).
func (s *Service) Transfer(ctx context.Context, tx pgx.Tx, sender, receiver *User, amount money.Amount, note string) (*Transaction, error) {
	if sender.ID == receiver.ID {
		return nil, ErrTransferToSelf
	}
	if len([]rune(note)) > 500 {
		return nil, ErrNoteTooLong
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	out := &Transaction{ID: id.NewAt("txn", now), UserID: sender.ID, Type: TypeTransferOut, Status: StatusSucceeded,
		Amount: amount, Counterparty: &receiver.Email, Note: note, CreatedAt: now, UpdatedAt: now,
		counterpartyUserID: &receiver.ID}
	out.Reference = out.ID
	in := &Transaction{ID: id.NewAt("txn", now), UserID: receiver.ID, Type: TypeTransferIn, Status: StatusSucceeded,
		Amount: amount, Counterparty: &sender.Email, Note: note, Reference: out.Reference, CreatedAt: now, UpdatedAt: now,
		counterpartyUserID: &sender.ID}
	if err := post(ctx, tx, ledger.Transaction{Kind: ledgerTransfer, Reference: out.Reference, Entries: []ledger.Entry{
		{Account: walletAccount(sender.ID, amount.Currency), Amount: -amount.Minor},
		{Account: walletAccount(receiver.ID, amount.Currency), Amount: amount.Minor},
	}}); err != nil {
		return nil, err
	}
	if err := record(ctx, tx, out, sender.Email, fmt.Sprintf("You sent %s to %s.", amount, receiver.Email)); err != nil {
		return nil, err
	}
	if err := record(ctx, tx, in, receiver.Email, fmt.Sprintf("You received %s from %s.", amount, sender.Email)); err != nil {
		return nil, err
	}
	return out, nil
}

// Merchant is the payee of a wallet payment.
type Merchant struct{ ID, Name string }

// Pay moves amount from userID's wallet to merchant m for the payment
// paymentID, in tx, at now: one ledger transaction (wallet to merchant),
// a payment entry in the user's history, a notification and an e-mail.
// The caller (the hosted checkout) records its payment in the same tx. It
// returns ErrInsufficientFunds or ErrUserNotFound; the same paymentID
// twice is refused by the ledger (ledger.ErrDuplicate).
func Pay(ctx context.Context, tx pgx.Tx, userID string, m Merchant, amount money.Amount, paymentID string, now time.Time) (*Transaction, error) {
	u, err := scanUser(tx.QueryRow(ctx, selectUser, userID))
	if err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Microsecond)
	t := &Transaction{ID: id.NewAt("txn", now), UserID: u.ID, Type: TypePayment, Status: StatusSucceeded, Amount: amount,
		Counterparty: &m.Name, Reference: paymentID, PaymentID: &paymentID, CreatedAt: now, UpdatedAt: now,
		counterpartyMerchantID: &m.ID}
	if err := post(ctx, tx, ledger.Transaction{Kind: ledgerPayment, Reference: paymentID, Entries: []ledger.Entry{
		{Account: walletAccount(u.ID, amount.Currency), Amount: -amount.Minor},
		{Account: ledger.Account{Kind: ledger.Merchant, Owner: m.ID, Currency: amount.Currency}, Amount: amount.Minor},
	}}); err != nil {
		return nil, err
	}
	if err := record(ctx, tx, t, u.Email, fmt.Sprintf("You paid %s to %s.", amount, m.Name)); err != nil {
		return nil, err
	}
	return t, nil
}

// Refund returns amount of the wallet payment paymentID to the wallet
// that paid it, in tx, under the merchant's refund id refundID: one ledger
// transaction (merchant to wallet), a refund entry in the user's history,
// a notification and an e-mail. It finds the user and merchant from the
// payment's own history entry. It returns ErrTransactionNotFound for a
// payment no wallet made, and ErrInsufficientFunds when the merchant's
// balance is short; the same refundID twice is refused by the ledger
// (ledger.ErrDuplicate).
func Refund(ctx context.Context, tx pgx.Tx, paymentID, refundID string, amount money.Amount, now time.Time) (*Transaction, error) {
	rows, err := tx.Query(ctx, selectPaymentEntry, paymentID)
	if err != nil {
		return nil, fmt.Errorf("read wallet payment %s: %w", paymentID, err)
	}
	paid, err := pgx.CollectExactlyOneRow(rows, scanTransaction)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrTransactionNotFound
	case err != nil:
		return nil, fmt.Errorf("read wallet payment %s: %w", paymentID, err)
	}
	u, err := scanUser(tx.QueryRow(ctx, selectUser, paid.UserID))
	if err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Microsecond)
	t := &Transaction{ID: id.NewAt("txn", now), UserID: u.ID, Type: TypeRefund, Status: StatusSucceeded, Amount: amount,
		Counterparty: paid.Counterparty, Reference: refundID, PaymentID: &paymentID, CreatedAt: now, UpdatedAt: now,
		counterpartyMerchantID: paid.counterpartyMerchantID}
	if err := post(ctx, tx, ledger.Transaction{Kind: ledgerRefund, Reference: refundID, Entries: []ledger.Entry{
		{Account: ledger.Account{Kind: ledger.Merchant, Owner: *paid.counterpartyMerchantID, Currency: amount.Currency}, Amount: -amount.Minor},
		{Account: walletAccount(u.ID, amount.Currency), Amount: amount.Minor},
	}}); err != nil {
		return nil, err
	}
	name := ""
	if paid.Counterparty != nil {
		name = *paid.Counterparty
	}
	if err := record(ctx, tx, t, u.Email, fmt.Sprintf("%s refunded %s to your wallet.", name, amount)); err != nil {
		return nil, err
	}
	return t, nil
}

// record stores t with its notification (in-app and e-mail to email), in
// tx. Every status a transaction reaches is notified this way.
func record(ctx context.Context, tx pgx.Tx, t *Transaction, email, message string) error {
	_, err := tx.Exec(ctx, insertTransaction, t.ID, t.UserID, t.Type, t.Status, t.Amount.Minor, string(t.Amount.Currency),
		t.counterpartyUserID, t.counterpartyMerchantID, t.Counterparty, t.Note, t.Reference, t.PaymentID,
		t.CardBrand, t.CardLast4, t.FailureCode, t.CreatedAt, t.UpdatedAt)
	if err != nil {
		return fmt.Errorf("insert wallet transaction: %w", err)
	}
	return notifyStatus(ctx, tx, t, email, message)
}

// notifyStatus tells t's user, in-app and by e-mail to email, that t
// reached its current status, in tx.
func notifyStatus(ctx context.Context, tx pgx.Tx, t *Transaction, email, message string) error {
	if _, err := tx.Exec(ctx, insertNotification, id.NewAt("ntf", t.UpdatedAt), t.UserID, t.Type+"."+t.Status, message,
		t.ID, t.UpdatedAt); err != nil {
		return fmt.Errorf("insert notification: %w", err)
	}
	// One e-mail per transaction and status, whatever retries the caller makes.
	_, err := notify.QueueOnce(ctx, tx, "wallet:"+t.ID+":"+t.Status, notify.WalletEmail(email, message), t.UpdatedAt)
	return err
}

// Filter narrows a history listing; empty fields match everything.
type Filter struct {
	Type, Status string
	Currency     money.Currency
}

// Transactions returns up to limit of userID's history entries older than
// startingAfter (all when empty), newest first, that match f, and whether
// more follow.
func (s *Service) Transactions(ctx context.Context, db postgres.DBTX, userID string, f Filter, limit int, startingAfter string) ([]Transaction, bool, error) {
	q := postgres.NewestOf(selectTransactions, "user_id", userID).Within("status", f.Status).Equal("type", f.Type).
		Equal("currency", string(f.Currency)).Before(startingAfter)
	list, more, err := postgres.PageNewest(ctx, db, limit, scanTransaction, q)
	if err != nil {
		return nil, false, fmt.Errorf("list wallet transactions: %w", err)
	}
	return list, more, nil
}

// Transaction returns userID's history entry txnID. It returns
// ErrTransactionNotFound.
func (s *Service) Transaction(ctx context.Context, db postgres.DBTX, userID, txnID string) (*Transaction, error) {
	rows, err := db.Query(ctx, selectTransaction, userID, txnID)
	if err != nil {
		return nil, fmt.Errorf("read wallet transaction: %w", err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanTransaction)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrTransactionNotFound
	case err != nil:
		return nil, fmt.Errorf("read wallet transaction: %w", err)
	}
	return &t, nil
}

func scanTransaction(r pgx.CollectableRow) (Transaction, error) {
	var (
		t        Transaction
		currency string
	)
	err := r.Scan(&t.ID, &t.UserID, &t.Type, &t.Status, &t.Amount.Minor, &currency, &t.counterpartyUserID,
		&t.counterpartyMerchantID, &t.Counterparty, &t.Note, &t.Reference, &t.PaymentID, &t.CardBrand, &t.CardLast4,
		&t.FailureCode, &t.CreatedAt, &t.UpdatedAt)
	t.Amount.Currency = money.Currency(currency)
	return t, err
}

// Notification is an in-app message about a status change.
type Notification struct {
	ID            string
	Type          string
	Message       string
	TransactionID *string
	CreatedAt     time.Time
	ReadAt        *time.Time
}

// ToWire returns n as the API shows it.
func (n *Notification) ToWire() wire.Notification {
	return wire.Notification{ID: n.ID, Type: n.Type, Message: n.Message, Transaction: n.TransactionID,
		CreatedAt: wire.Time(n.CreatedAt), Read: n.ReadAt != nil}
}

// Notifications returns up to limit of userID's notifications older than
// startingAfter, newest first, only unread ones when unread is set, and
// whether more follow.
func (s *Service) Notifications(ctx context.Context, db postgres.DBTX, userID string, unread bool, limit int, startingAfter string) ([]Notification, bool, error) {
	q := postgres.NewestOf(selectNotifications, "user_id", userID)
	if unread {
		q.Where("read_at IS NULL")
	}
	list, more, err := postgres.PageNewest(ctx, db, limit, scanNotification, q.Before(startingAfter))
	if err != nil {
		return nil, false, fmt.Errorf("list notifications: %w", err)
	}
	return list, more, nil
}

func scanNotification(r pgx.CollectableRow) (Notification, error) {
	var n Notification
	err := r.Scan(&n.ID, &n.Type, &n.Message, &n.TransactionID, &n.CreatedAt, &n.ReadAt)
	return n, err
}

// MarkRead marks userID's notification read (once; a second call keeps
// the first time) and returns it. It returns ErrNotificationNotFound.
func (s *Service) MarkRead(ctx context.Context, tx pgx.Tx, userID, notificationID string) (*Notification, error) {
	var n Notification
	err := tx.QueryRow(ctx, markRead, userID, notificationID, s.now().UTC()).Scan(&n.ID, &n.Type, &n.Message,
		&n.TransactionID, &n.CreatedAt, &n.ReadAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotificationNotFound
	case err != nil:
		return nil, fmt.Errorf("mark notification read: %w", err)
	}
	return &n, nil
}

// MarkAllRead marks every unread notification of userID read and returns
// how many it marked.
func (s *Service) MarkAllRead(ctx context.Context, tx pgx.Tx, userID string) (int64, error) {
	tag, err := tx.Exec(ctx, markAllRead, userID, s.now().UTC())
	if err != nil {
		return 0, fmt.Errorf("mark notifications read: %w", err)
	}
	return tag.RowsAffected(), nil
}
