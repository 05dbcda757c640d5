// Package links manages payment links: a merchant creates one for a fixed
// amount, shares its signed URL, and shoppers pay it on the hosted checkout.
//
// A link's URL carries exp (unix seconds), kid and sig, an HMAC over
// "v1.<id>.<exp>" (see Signer), so a checkout request whose URL was edited
// is refused before the database is asked. The amount and currency are
// fixed at creation and never read from the URL.
//
// Status is stored as active until the link is completed (a single-use link
// was paid), deactivated by the merchant, or marked expired by the periodic
// ExpireDue task; in between, a link past its expiry already reads as
// expired (StatusAt), so expiry takes effect to the second without waiting
// for the task.
package links

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/webhook"
	"github.com/paylink/paylink/internal/wire"
)

// Status is a link's state.
type Status string

// Link states.
const (
	Active      Status = "active"
	Completed   Status = "completed"
	Expired     Status = "expired"
	Deactivated Status = "deactivated"
)

// Expiry bounds (API.md): from one minute to 90 days; 24 hours by default.
const (
	MinExpiry     = time.Minute
	MaxExpiry     = 90 * 24 * time.Hour
	DefaultExpiry = 24 * time.Hour
)

// Metadata limits (API.md).
const (
	maxMetadataKeys  = 20
	maxMetadataKey   = 40
	maxMetadataValue = 500
	maxDescription   = 500
	maxURL           = 2048
)

// Errors returned by this package.
var (
	ErrNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "payment_link_not_found",
		Message: "No such payment link."}
	ErrExpiryInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "expiry_invalid", Param: "expires_in",
		Message: "Give expires_in (60 seconds to 90 days) or expires_at (RFC 3339, within that range), not both."}
	ErrMetadataInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "metadata_invalid", Param: "metadata",
		Message: "metadata takes at most 20 string keys (1 to 40 characters) with string values of at most 500 characters."}
	ErrDescriptionInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "description_invalid", Param: "description",
		Message: "description must be at most 500 characters."}
	ErrURLInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "url_invalid",
		Message: "URLs must be absolute http or https URLs of at most 2048 characters, without credentials."}
	ErrStatusInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "status_invalid", Param: "status",
		Message: "status must be active, completed, expired or deactivated."}
	ErrRealmInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "realm_invalid", Param: "realm",
		Message: "realm must be 1 to 64 characters of a-z, 0-9, '.', '_' and '-'."}

	// ErrExpired, ErrCompleted and ErrDeactivated are what a shopper gets
	// for a link that can no longer be paid (410).
	ErrExpired   = ErrURLExpired
	ErrCompleted = &apperr.Error{Kind: apperr.Gone, Code: "link_completed",
		Message: "This payment link has already been paid."}
	ErrDeactivated = &apperr.Error{Kind: apperr.Gone, Code: "link_deactivated",
		Message: "This payment link is no longer active."}
)

// Link is a payment link.
type Link struct {
	ID            string
	MerchantID    string
	MerchantName  string // filled by Open, for the checkout page
	Amount        money.Amount
	Description   string
	SingleUse     bool
	Status        Status // as stored; see StatusAt
	SuccessURL    string
	CancelURL     string
	Realm         string // "" for none
	Metadata      map[string]string
	ExpiresAt     time.Time
	CreatedAt     time.Time
	CompletedAt   *time.Time
	DeactivatedAt *time.Time
	// Accepts is what the merchant takes, filled by Open (and Lookup,
	// through its cache).
	Accepts merchant.Acceptance
}

// StatusAt is the link's status at now: a stored active link past its
// expiry is expired.
func (l *Link) StatusAt(now time.Time) Status {
	if l.Status == Active && !now.Before(l.ExpiresAt) {
		return Expired
	}
	return l.Status
}

// Payable returns nil if a shopper may pay l at now, else ErrExpired,
// ErrCompleted or ErrDeactivated.
func (l *Link) Payable(now time.Time) error {
	switch l.StatusAt(now) {
	case Active:
		return nil
	case Completed:
		return ErrCompleted
	case Deactivated:
		return ErrDeactivated
	default:
		return ErrExpired
	}
}

// NewLink is what a merchant asks for. Exactly one of ExpiresIn and
// ExpiresAt may be set; neither means DefaultExpiry.
type NewLink struct {
	Amount      money.Amount
	Description string
	SingleUse   bool
	ExpiresIn   *int64
	ExpiresAt   *string
	SuccessURL  string
	CancelURL   string
	Realm       string
	Metadata    map[string]string
}

// Service manages payment links.
type Service struct {
	signer *Signer
	base   *url.URL
	now    func() time.Time
	// shopperLimits bound the link e-mails (see WithShopperLimits).
	shopperLimits notify.ShopperLimits

	cache     sync.Map // link id → cachedLink, for Lookup
	cacheSize atomic.Int64
}

// cachedLink is a link as Lookup read it.
type cachedLink struct {
	link *Link
	read time.Time
}

// Lookup cache bounds: an entry is used for cacheTTL, and the cache is
// emptied when it holds cacheMax links.
const (
	cacheTTL = time.Minute
	cacheMax = 50_000
)

// NewService returns a Service whose link URLs start with base and are
// signed by signer.
func NewService(signer *Signer, base *url.URL, now func() time.Time) *Service {
	return &Service{signer: signer, base: base, now: now}
}

// Lookup is Open through a small in-process cache, for the checkout's
// hot path: what a link is (merchant, amount, currency, single use,
// expiry, metadata, URLs) never changes, but its Status and what its
// merchant Accepts may be up to a minute (cacheTTL) old, so a caller must
// have the database confirm both in its own transaction (checkout does,
// in the payment's insert) and call Forget when they no longer hold. The
// returned Link is shared: do not modify it.
func (s *Service) Lookup(ctx context.Context, db postgres.DBTX, linkID string) (*Link, error) {
	now := s.now()
	if v, ok := s.cache.Load(linkID); ok {
		if c := v.(cachedLink); now.Sub(c.read) < cacheTTL {
			return c.link, nil
		}
	}
	l, err := s.Open(ctx, db, linkID)
	if err != nil {
		return nil, err
	}
	if s.cacheSize.Add(1) > cacheMax {
		s.cache.Clear()
		s.cacheSize.Store(1)
	}
	s.cache.Store(linkID, cachedLink{link: l, read: now})
	return l, nil
}

// Forget drops linkID from Lookup's cache, once it is known to have
// changed status.
func (s *Service) Forget(linkID string) { s.cache.Delete(linkID) }

// Verify checks a checkout URL's signature (see Signer.Verify) and then its
// expiry, both before any database read. It returns ErrBadSignature or
// ErrExpired.
func (s *Service) Verify(linkID, exp, kid, sig string) error {
	e, err := s.signer.Verify(linkID, exp, kid, sig)
	if err != nil {
		return err
	}
	if !s.now().Before(e) {
		return ErrExpired
	}
	return nil
}

// Path returns the signed checkout path of l with its query, relative to
// the server ("/pay/plink_…?exp=…&kid=…&sig=…"); suffix is appended to the
// path (e.g. "/payments/pay_…/challenge").
func (s *Service) Path(l *Link, suffix string) string {
	return "/pay/" + l.ID + suffix + "?" + s.signer.Query(l.ID, l.ExpiresAt).Encode()
}

// URL returns the absolute signed checkout URL of l.
func (s *Service) URL(l *Link) string { return s.base.String() + s.Path(l, "") }

// Create validates in and stores a new active link for merchantID in tx,
// if the merchant accepts its currency (read by the insert itself, so a
// settings change by any replica applies at once). It returns
// ErrExpiryInvalid, ErrMetadataInvalid, ErrDescriptionInvalid,
// ErrURLInvalid, ErrRealmInvalid or merchant.ErrCurrencyNotAccepted.
func (s *Service) Create(ctx context.Context, tx pgx.Tx, merchantID string, in NewLink) (*Link, error) {
	now := s.now().UTC()
	l, err := validate(in, now)
	if err != nil {
		return nil, err
	}
	l.ID = id.NewAt("plink", now)
	l.MerchantID = merchantID
	l.Status = Active
	l.CreatedAt = now.Truncate(time.Microsecond)
	tag, err := tx.Exec(ctx, insertLink, l.ID, merchantID, l.Amount.Minor, string(l.Amount.Currency), l.Description,
		l.SingleUse, wire.OrNil(l.SuccessURL), wire.OrNil(l.CancelURL), l.Metadata, l.ExpiresAt, l.CreatedAt,
		wire.OrNil(l.Realm))
	switch {
	case err != nil:
		return nil, fmt.Errorf("insert payment link: %w", err)
	case tag.RowsAffected() == 0:
		return nil, merchant.ErrCurrencyNotAccepted
	}
	return l, nil
}

// Get returns merchantID's link id. It returns ErrNotFound.
func (s *Service) Get(ctx context.Context, db postgres.DBTX, merchantID, linkID string) (*Link, error) {
	l, err := scanLink(db.QueryRow(ctx, selectLink, merchantID, linkID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("read payment link: %w", err)
	}
	return l, nil
}

// Open returns the link id with its merchant's name, for the public
// checkout; the caller must have verified the URL's signature. It returns
// ErrNotFound.
func (s *Service) Open(ctx context.Context, db postgres.DBTX, linkID string) (*Link, error) {
	var (
		name                 string
		cur, methods, brands []string
	)
	l, err := scanLink(db.QueryRow(ctx, openLink, linkID), &name, &cur, &methods, &brands)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("open payment link: %w", err)
	}
	l.MerchantName, l.Accepts = name, merchant.NewAcceptance(cur, methods, brands)
	return l, nil
}

// ParseStatus reads a list filter: "" (all) or one of the statuses. It
// returns ErrStatusInvalid.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case "", Active, Completed, Expired, Deactivated:
		return st, nil
	}
	return "", ErrStatusInvalid
}

// Filter narrows a list of links; empty fields match every link.
type Filter struct {
	Status Status
	Realm  string
}

// ParseFilter reads the status and realm filters of a list. It returns
// ErrStatusInvalid or ErrRealmInvalid.
func ParseFilter(status, realm string) (Filter, error) {
	st, err := ParseStatus(status)
	if err != nil {
		return Filter{}, err
	}
	r, err := CheckRealm(realm)
	return Filter{Status: st, Realm: r}, err
}

// Find returns up to limit links of merchantID matching f (the status as
// of now) and older than startingAfter (all when empty), newest first,
// and whether more follow. A realm is one index range
// (payment_links_realm_idx).
func (s *Service) Find(ctx context.Context, db postgres.DBTX, merchantID string, f Filter, limit int, startingAfter string) ([]*Link, bool, error) {
	q := postgres.NewestOf(selectLinks, "merchant_id", merchantID).Within("realm", f.Realm)
	if f.Status != "" {
		// A stored active link past expiry is expired.
		q.Where(q.Arg(string(f.Status)) + " = CASE WHEN status = 'active' AND expires_at <= " + q.Arg(s.now()) +
			" THEN 'expired' ELSE status END")
	}
	out, more, err := postgres.PageNewest(ctx, db, limit, func(r pgx.CollectableRow) (*Link, error) { return scanLink(r) },
		q.Before(startingAfter))
	if err != nil {
		return nil, false, fmt.Errorf("list payment links: %w", err)
	}
	return out, more, nil
}

// Deactivate stops merchantID's link id from taking payments, at once.
// Deactivating a link that is no longer active (already deactivated,
// completed or expired) changes nothing and returns it as it is. It
// returns ErrNotFound.
func (s *Service) Deactivate(ctx context.Context, tx pgx.Tx, merchantID, linkID string) (*Link, error) {
	l, err := scanLink(tx.QueryRow(ctx, deactivateLink, merchantID, linkID, s.now().UTC()))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return s.Get(ctx, tx, merchantID, linkID)
	case err != nil:
		return nil, fmt.Errorf("deactivate payment link: %w", err)
	}
	return l, nil
}

// Complete marks merchantID's single-use link id completed in tx, as part
// of recording its successful payment. The row update is the lock that
// makes concurrent payers of one link wait for each other; only one finds
// the link still active. It returns ErrCompleted, ErrDeactivated,
// ErrExpired or ErrNotFound for a link that can no longer be paid.
func Complete(ctx context.Context, tx pgx.Tx, merchantID, linkID string, now time.Time) error {
	tag, err := tx.Exec(ctx, completeLink, merchantID, linkID, now)
	if err != nil {
		return fmt.Errorf("complete payment link: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	return whyNotPayable(ctx, tx, merchantID, linkID, now)
}

// CheckPayable returns nil if merchantID's link id may still be paid at now
// as seen by db, else ErrCompleted, ErrDeactivated, ErrExpired or
// ErrNotFound.
func CheckPayable(ctx context.Context, db postgres.DBTX, merchantID, linkID string, now time.Time) error {
	return whyNotPayable(ctx, db, merchantID, linkID, now)
}

func whyNotPayable(ctx context.Context, db postgres.DBTX, merchantID, linkID string, now time.Time) error {
	l := Link{}
	err := db.QueryRow(ctx, selectLinkState, merchantID, linkID).Scan(&l.Status, &l.ExpiresAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("read payment link state: %w", err)
	}
	return l.Payable(now)
}

// ExpireDue stores the expired status of up to limit active links past
// their expiry and records payment_link.expired for each, in one
// transaction. Rows another transaction holds are skipped (SKIP LOCKED), so
// several workers never mark a link twice. It returns how many it marked.
func (s *Service) ExpireDue(ctx context.Context, db *postgres.DB, limit int) (int, error) {
	n := 0
	err := db.WithTx(ctx, func(tx pgx.Tx) error {
		now := s.now().UTC()
		rows, err := tx.Query(ctx, expireDue, now, limit)
		if err != nil {
			return fmt.Errorf("expire payment links: %w", err)
		}
		expired, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Link, error) { return scanLink(r) })
		if err != nil {
			return fmt.Errorf("expire payment links: %w", err)
		}
		for _, l := range expired {
			if _, err := webhook.Record(ctx, tx, l.MerchantID, webhook.PaymentLinkExpired, s.ToWire(l), now); err != nil {
				return err
			}
		}
		n = len(expired)
		return nil
	})
	return n, err
}

// ToWire returns l as the API shows it, with a freshly signed URL and its
// status at the current time.
func (s *Service) ToWire(l *Link) wire.PaymentLink {
	return wire.PaymentLink{
		ID: l.ID, URL: s.URL(l), Status: string(l.StatusAt(s.now())), Amount: l.Amount.Minor,
		Currency: string(l.Amount.Currency), Description: l.Description, SingleUse: l.SingleUse,
		SuccessURL: wire.OrNil(l.SuccessURL), CancelURL: wire.OrNil(l.CancelURL), Realm: wire.OrNil(l.Realm),
		ExpiresAt: wire.Time(l.ExpiresAt), CreatedAt: wire.Time(l.CreatedAt), Metadata: l.Metadata,
	}
}

// scanLink reads linkColumns, then extra destinations.
func scanLink(r pgx.Row, extra ...any) (*Link, error) {
	var l Link
	var cur string
	var success, cancel, realm *string
	dest := append([]any{&l.ID, &l.MerchantID, &l.Amount.Minor, &cur, &l.Description, &l.SingleUse, &l.Status,
		&success, &cancel, &l.Metadata, &l.ExpiresAt, &l.CreatedAt, &l.CompletedAt, &l.DeactivatedAt, &realm}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	l.Amount.Currency = money.Currency(cur)
	l.SuccessURL, l.CancelURL, l.Realm = wire.Deref(success), wire.Deref(cancel), wire.Deref(realm)
	return &l, nil
}

// PayableURL returns the signed checkout URL of merchantID's link linkID
// while it takes payments, else "" (also when it cannot be read): where a
// shopper whose payment failed may try again.
func (s *Service) PayableURL(ctx context.Context, db postgres.DBTX, merchantID, linkID string) string {
	l, err := s.Get(ctx, db, merchantID, linkID)
	if err != nil || l.Payable(s.now()) != nil {
		return ""
	}
	return s.URL(l)
}

// ReceiptURL returns the signed URL of the receipt page of payment payID
// on merchantID's link linkID, "" when the link cannot be read. It comes
// through Lookup's cache, as Description does; the page checks that the
// payment is the link's.
func (s *Service) ReceiptURL(ctx context.Context, db postgres.DBTX, merchantID, linkID, payID string) string {
	l := s.merchantLink(ctx, db, merchantID, linkID)
	if l == nil {
		return ""
	}
	return s.base.String() + s.Path(l, "/payments/"+payID)
}

// merchantLink is Lookup's link linkID when it is merchantID's, else
// nil (also when it cannot be read).
func (s *Service) merchantLink(ctx context.Context, db postgres.DBTX, merchantID, linkID string) *Link {
	l, err := s.Lookup(ctx, db, linkID)
	if err != nil || l.MerchantID != merchantID {
		return nil
	}
	return l
}

// Description returns what merchantID's link linkID sells, "" when it
// says nothing (or cannot be read). A description never changes, so it
// comes through Lookup's cache: a receipt costs no read of its own while
// the link is being paid.
func (s *Service) Description(ctx context.Context, db postgres.DBTX, merchantID, linkID string) string {
	if l := s.merchantLink(ctx, db, merchantID, linkID); l != nil {
		return l.Description
	}
	return ""
}
