// Package ledger is Paylink's double-entry ledger in PostgreSQL. Every
// money movement is one Transaction whose entries sum to zero per
// currency, posted inside the caller's database transaction, so a payment,
// refund or transfer commits together with its own rows or not at all.
//
// # What the database enforces
//
// The tables (migration "ledger") refuse what must never happen, whatever
// the Go code does: a statement inserting postings must leave each of its
// transactions complete and summing to zero per currency; postings,
// transactions and accounts cannot be updated, deleted or truncated; a
// balance row changes only when postings are inserted (a trigger adds them
// up), so every balance is the sum of its postings; and a CHECK keeps every
// balance row of a merchant or wallet account at zero or above. Verify
// rebuilds everything from the postings to prove it.
//
// # Hot accounts
//
// Many shoppers paying one merchant at once is the normal case, and every
// card payment debits the system card_in account. An account's balance is
// therefore split into shard rows (32 for a merchant, 64 for the system
// accounts, 1 for a wallet), each with its own CHECK. A credit, and any
// entry on an account that may go negative, locks one shard: the first one
// no other transaction holds (SELECT … FOR UPDATE SKIP LOCKED), looking
// from a random shard, so concurrent payments to one merchant land on
// different rows and commit in parallel; only when every shard is held
// does it wait for one. A debit of an account that may not go negative
// locks all its shards in shard order, checks their sum and takes the
// amount from the fullest shards. Debits of merchants (refunds, payouts)
// are rare; wallets have one shard, so a wallet debit is one row lock.
//
// # Locking order
//
// Post locks its accounts in one global order (kind, owner, currency), and
// within an account a debit locks shards in shard order while a credit
// holds at most one shard and waits holding none of that account, so two
// Posts cannot deadlock: A→B and B→A at once both finish. Missing accounts
// are created only after the existing ones are locked, in the same order.
// A database transaction that calls Post more than once, or locks ledger
// rows itself, gives up that guarantee; PostgreSQL then breaks a deadlock
// and postgres.WithTx retries, a bounded number of times.
//
// Post is meant for READ COMMITTED transactions (what postgres.WithTx
// opens). Under REPEATABLE READ or SERIALIZABLE it stays correct but a
// concurrently changed shard makes it fail with a serialization error.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
)

// AccountKind says whose money an account holds and whether it may go
// below zero.
type AccountKind string

// The kinds of accounts.
const (
	Merchant AccountKind = "merchant" // Owner = merchant id ("mer_…"); balance may never go below zero
	Wallet   AccountKind = "wallet"   // Owner = wallet user id ("usr_…"); balance may never go below zero
	CardIn   AccountKind = "card_in"  // system (Owner ""): money arriving from card networks; may go negative
	CardOut  AccountKind = "card_out" // system (Owner ""): money leaving to cards (refunds); may go negative
	// PayoutsInFlight (system, Owner "") holds money on its way to a card
	// (a wallet withdrawal) until the processor has paid or refused it; it
	// may never go below zero.
	PayoutsInFlight AccountKind = "payouts_in_flight"
)

// mayGoNegative reports whether accounts of kind k may have a negative
// balance (the system accounts, which mirror money outside Paylink).
func (k AccountKind) mayGoNegative() bool { return k == CardIn || k == CardOut }

// shards is how many balance rows a new account of kind k is split into.
func (k AccountKind) shards() int16 {
	switch k {
	case Merchant:
		return 32
	case CardIn, CardOut:
		return 64
	case PayoutsInFlight:
		return 16
	default:
		return 1
	}
}

// Account identifies one balance: kind, owner and currency. Accounts are
// created on first use.
type Account struct {
	Kind     AccountKind
	Owner    string
	Currency money.Currency
}

// String names the account for logs and reports: "merchant mer_… USD",
// "card_in USD".
func (a Account) String() string {
	if a.Owner == "" {
		return string(a.Kind) + " " + string(a.Currency)
	}
	return string(a.Kind) + " " + a.Owner + " " + string(a.Currency)
}

// less orders accounts globally; Post locks accounts in this order.
func (a Account) less(b Account) bool {
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Owner != b.Owner {
		return a.Owner < b.Owner
	}
	return a.Currency < b.Currency
}

// validate checks the kind, the owner's form and the currency.
func (a Account) validate() error {
	switch a.Kind {
	case Merchant:
		if !id.Valid("mer", a.Owner) {
			return ErrInvalid.Wrap(fmt.Errorf("merchant account owner %q is not a merchant id", a.Owner))
		}
	case Wallet:
		if !id.Valid("usr", a.Owner) {
			return ErrInvalid.Wrap(fmt.Errorf("wallet account owner %q is not a user id", a.Owner))
		}
	case CardIn, CardOut, PayoutsInFlight:
		if a.Owner != "" {
			return ErrInvalid.Wrap(fmt.Errorf("system account %s has owner %q", a.Kind, a.Owner))
		}
	default:
		return ErrInvalid.Wrap(fmt.Errorf("unknown account kind %q", a.Kind))
	}
	if _, ok := money.Exponent(a.Currency); !ok {
		return ErrInvalid.Wrap(fmt.Errorf("unknown currency %q", a.Currency))
	}
	return nil
}

// Entry is one leg: Amount > 0 adds to the account's balance, < 0 takes
// from it (minor units).
type Entry struct {
	Account Account
	Amount  int64
}

// Transaction is one balanced money movement.
type Transaction struct {
	Kind      string  // "payment", "refund", "topup", "transfer", "wallet_payment", …
	Reference string  // id of the business object, e.g. "pay_…"; (Kind, Reference) is unique
	Entries   []Entry // sum to zero per currency; at least two
}

// Errors returned by Post. Match them with errors.Is: the returned values
// carry the details as their cause.
var (
	// ErrInsufficientFunds means a debit would take an account that may not
	// go negative below zero.
	ErrInsufficientFunds = &apperr.Error{Kind: apperr.PaymentRequired, Code: "insufficient_funds",
		Message: "The balance is too low for this amount."}
	// ErrUnbalanced means the entries don't sum to zero per currency, there
	// are fewer than two, an amount is zero, or a sum overflows.
	ErrUnbalanced = &apperr.Error{Kind: apperr.Internal, Code: "ledger_unbalanced",
		Message: "The ledger transaction is not balanced."}
	// ErrDuplicate means a transaction with the same Kind and Reference was
	// already posted.
	ErrDuplicate = &apperr.Error{Kind: apperr.Conflict, Code: "ledger_duplicate",
		Message: "This money movement was already recorded."}
	// ErrInvalid means the transaction is malformed apart from its
	// amounts: an empty or badly formed Kind or Reference, an unknown account
	// kind or currency, an owner that doesn't fit the kind, or one account
	// named twice.
	ErrInvalid = &apperr.Error{Kind: apperr.Internal, Code: "ledger_invalid",
		Message: "The ledger transaction is malformed."}
)

var kindPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// validate checks t and returns its entries in the global account order.
func (t Transaction) validate() ([]Entry, error) {
	if !kindPattern.MatchString(t.Kind) {
		return nil, ErrInvalid.Wrap(fmt.Errorf("transaction kind %q is not 1-40 of [a-z0-9_]", t.Kind))
	}
	if t.Reference == "" || len(t.Reference) > 255 {
		return nil, ErrInvalid.Wrap(fmt.Errorf("transaction reference must be 1-255 bytes, got %d", len(t.Reference)))
	}
	if len(t.Entries) < 2 {
		return nil, ErrUnbalanced.Wrap(fmt.Errorf("%d entries, need at least 2", len(t.Entries)))
	}
	entries := append([]Entry(nil), t.Entries...)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Account.less(entries[j].Account) })
	sums := map[money.Currency]money.Amount{}
	for i, e := range entries {
		if err := e.Account.validate(); err != nil {
			return nil, err
		}
		if i > 0 && entries[i-1].Account == e.Account {
			return nil, ErrInvalid.Wrap(fmt.Errorf("account %s appears twice", e.Account))
		}
		if e.Amount == 0 {
			return nil, ErrUnbalanced.Wrap(fmt.Errorf("zero amount for %s", e.Account))
		}
		if e.Amount == math.MinInt64 {
			return nil, ErrUnbalanced.Wrap(fmt.Errorf("amount for %s overflows", e.Account))
		}
		cur := e.Account.Currency
		prev, ok := sums[cur]
		if !ok {
			prev = money.Amount{Currency: cur}
		}
		sum, err := prev.Add(money.Amount{Minor: e.Amount, Currency: cur})
		if err != nil {
			return nil, ErrUnbalanced.Wrap(fmt.Errorf("%s entries overflow: %w", cur, err))
		}
		sums[cur] = sum
	}
	for c, s := range sums {
		if s.Minor != 0 {
			return nil, ErrUnbalanced.Wrap(fmt.Errorf("%s entries sum to %d", c, s.Minor))
		}
	}
	return entries, nil
}

// Post records t inside the caller's transaction (so payments, refunds and
// transfers post atomically with their own rows) and returns the ledger
// transaction id ("ltx_…"). It returns ErrInsufficientFunds,
// ErrUnbalanced, ErrDuplicate or ErrInvalid having changed nothing, so the
// caller may record the failure and commit; after any other error the
// caller's transaction is aborted. It locks the balance rows it needs
// until the caller's transaction ends (also when it rejects t), in an
// order two Posts cannot deadlock on (see the package comment).
func Post(ctx context.Context, tx pgx.Tx, t Transaction) (string, error) {
	return post(ctx, tx, nil, t)
}

// PostLater is Post for a posting whose reference was created in the same
// transaction, so it cannot be a duplicate, in a transaction that commits
// through later (postgres.WithTxLater). It takes the locks and checks the
// funds at once, like Post, but queues the insert in later, saving a round
// trip. Its refusals are Post's; should the database still refuse the
// insert (a duplicate reference, say), the whole transaction fails at
// commit.
func PostLater(ctx context.Context, tx pgx.Tx, later postgres.Execer, t Transaction) (string, error) {
	return post(ctx, tx, later, t)
}

// Locks are the account locks of a posting queued in a batch the caller
// sends anyway (QueueLocks), so that taking them costs no round trip of
// its own.
type Locks struct {
	t       Transaction
	entries []Entry
	locked  [][]shard
	err     error // errNoAccount: PostLocked creates the account first
}

// QueueLocks checks t as Post does and queues, in b after what the caller
// queued, the locks Post would take for it. Once the batch is sent and
// the caller has read its own answers, Read reads the locks'.
func QueueLocks(b *pgx.Batch, t Transaction) (*Locks, error) {
	entries, err := t.validate()
	if err != nil {
		return nil, err
	}
	queueLocks(b, entries, false)
	return &Locks{t: t, entries: entries}, nil
}

// Read reads the answers to l's locks from br, the batch QueueLocks
// queued them in.
func (l *Locks) Read(br pgx.BatchResults) error {
	l.locked, l.err = readLocks(br, l.entries, false)
	if l.err != nil && !errors.Is(l.err, errNoAccount) {
		return l.err
	}
	return nil
}

// PostLocked is PostLater for the posting whose locks l took and read.
func PostLocked(ctx context.Context, tx pgx.Tx, later postgres.Execer, l *Locks) (string, error) {
	return postLocked(ctx, tx, later, l.t, l.entries, l.locked, l.err)
}

// post is Post, with the insert queued in later when later is not nil
// and no savepoint is open.
func post(ctx context.Context, tx pgx.Tx, later postgres.Execer, t Transaction) (string, error) {
	entries, err := t.validate()
	if err != nil {
		return "", err
	}
	locked, err := lock(ctx, tx, entries, false)
	return postLocked(ctx, tx, later, t, entries, locked, err)
}

// postLocked is post once entries' locks were taken (locked), or found an
// account missing (err is errNoAccount).
func postLocked(ctx context.Context, tx pgx.Tx, later postgres.Execer, t Transaction, entries []Entry, locked [][]shard, err error) (string, error) {
	// Accounts almost always exist: they were locked, and only if one is
	// missing is it created under a savepoint, so that a rejected posting
	// leaves no empty account behind.
	saved := false
	if errors.Is(err, errNoAccount) {
		saved = true
		locked, err = lock(ctx, tx, entries, true)
	}
	var postings []posting
	if err == nil {
		postings, err = allocate(entries, locked)
	}
	if errors.Is(err, ErrInsufficientFunds) {
		// A repeated posting is a duplicate before it is short of money.
		if dup, derr := posted(ctx, tx, t); derr != nil || dup {
			err = errors.Join(derr, duplicateErr(t, dup))
		}
	}
	if err != nil {
		if saved {
			return "", rollback(ctx, tx, err)
		}
		return "", err
	}
	ltxID := id.New("ltx")
	accounts := make([]int64, len(postings))
	shards := make([]int16, len(postings))
	amounts := make([]int64, len(postings))
	for i, p := range postings {
		accounts[i], shards[i], amounts[i] = p.accountID, p.shard, p.amount
	}
	if later != nil && !saved {
		if _, err := later.Exec(ctx, insertNewTransaction, ltxID, t.Kind, t.Reference, accounts, shards, amounts); err != nil {
			return "", err
		}
		return ltxID, nil
	}
	tag, err := tx.Exec(ctx, insertTransaction, ltxID, t.Kind, t.Reference, accounts, shards, amounts)
	switch {
	case err != nil:
		err = translate(err)
	case tag.RowsAffected() == 0:
		// (kind, reference) was posted before, or by a concurrent
		// transaction that committed while this one waited on the index.
		err = duplicateErr(t, true)
	}
	if saved {
		if err != nil {
			return "", rollback(ctx, tx, err)
		}
		if _, err := tx.Exec(ctx, releaseSavepoint); err != nil {
			return "", fmt.Errorf("release ledger savepoint: %w", err)
		}
	}
	if err != nil {
		return "", err
	}
	return ltxID, nil
}

// posted reports whether (t.Kind, t.Reference) was already posted.
func posted(ctx context.Context, tx pgx.Tx, t Transaction) (bool, error) {
	var dup bool
	if err := tx.QueryRow(ctx, selectDuplicate, t.Kind, t.Reference).Scan(&dup); err != nil {
		return false, fmt.Errorf("look for duplicate: %w", err)
	}
	return dup, nil
}

// duplicateErr is ErrDuplicate for t when dup is true, else nil.
func duplicateErr(t Transaction, dup bool) error {
	if !dup {
		return nil
	}
	return ErrDuplicate.Wrap(fmt.Errorf("%s %s was already posted", t.Kind, t.Reference))
}

// rollback undoes everything Post did under its savepoint, releases the
// savepoint and returns err.
func rollback(ctx context.Context, tx pgx.Tx, err error) error {
	if _, rerr := tx.Exec(ctx, rollbackSavepoint); rerr != nil {
		return errors.Join(err, fmt.Errorf("roll back ledger savepoint: %w", rerr))
	}
	return err
}

// translate maps the database's refusals to Post's errors.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case postgres.IsUniqueViolation(err, "ledger_transactions_kind_reference_key"):
		return ErrDuplicate.Wrap(err)
	case postgres.IsCheckViolation(err, "ledger_balances_no_overdraft"):
		return ErrInsufficientFunds.Wrap(err)
	case postgres.IsCheckViolation(err, "ledger_transactions_balanced"):
		return ErrUnbalanced.Wrap(err)
	case postgres.IsRaised(err, "22003"): // numeric_value_out_of_range: a balance would overflow
		return ErrUnbalanced.Wrap(err)
	default:
		return fmt.Errorf("post ledger transaction: %w", err)
	}
}

// Balance returns one account's balance (0 for an account never used). It
// returns ErrInvalid for a malformed account.
func Balance(ctx context.Context, db postgres.DBTX, a Account) (int64, error) {
	if err := a.validate(); err != nil {
		return 0, err
	}
	var bal int64
	if err := db.QueryRow(ctx, selectBalance, a.Kind, a.Owner, a.Currency).Scan(&bal); err != nil {
		return 0, fmt.Errorf("read balance of %s: %w", a, err)
	}
	return bal, nil
}

// Balances returns every currency balance of (kind, owner), sorted by
// currency, zero balances included once used.
func Balances(ctx context.Context, db postgres.DBTX, kind AccountKind, owner string) ([]money.Amount, error) {
	rows, err := db.Query(ctx, selectBalances, kind, owner)
	if err != nil {
		return nil, fmt.Errorf("read balances of %s %s: %w", kind, owner, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (money.Amount, error) {
		var a money.Amount
		err := r.Scan(&a.Currency, &a.Minor)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("read balances of %s %s: %w", kind, owner, err)
	}
	return out, nil
}
