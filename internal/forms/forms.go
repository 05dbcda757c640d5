// Package forms manages embeddable payment forms: a merchant creates one
// (a fixed amount or a range the shopper chooses from, the shopper fields
// to collect, the sites allowed to frame it), mounts it on its own pages
// with the JS SDK, and every submission is a payment of its own, recorded
// by package checkout.
//
// A form's allowed_origins are exact origins (scheme, host, port). The
// embed page names them in its Content-Security-Policy frame-ancestors, so
// the browser refuses to show the form inside any other site, and the page
// only talks (postMessage) to the one of them the SDK says it is in.
package forms

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/wire"
)

// Status is a form's state.
type Status string

// Form states.
const (
	Active   Status = "active"
	Inactive Status = "inactive"
)

// Field is a shopper field a form collects.
type Field string

// Fields a form can collect; e-mail and name always are.
const (
	Email          Field = "email"
	Name           Field = "name"
	Phone          Field = "phone"
	BillingAddress Field = "billing_address"
)

// fieldOrder is every Field, in the order forms show them.
var fieldOrder = []Field{Email, Name, Phone, BillingAddress}

// Limits of a form.
const (
	maxTitle       = 100
	maxDescription = 500
	// maxOrigins is how many sites may frame one form.
	maxOrigins = 10
)

// Errors returned by this package.
var (
	ErrNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "payment_form_not_found",
		Message: "No such payment form."}
	ErrInactive = &apperr.Error{Kind: apperr.Gone, Code: "form_inactive",
		Message: "This payment form is no longer active."}
	ErrTitleInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "title_invalid", Param: "title",
		Message: "title must be 1 to 100 characters."}
	ErrDescriptionInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "description_invalid", Param: "description",
		Message: "description must be at most 500 characters."}
	ErrAmountChoice = &apperr.Error{Kind: apperr.Invalid, Code: "amount_invalid", Param: "amount",
		Message: "Give either amount (a fixed amount) or both amount_min and amount_max (the shopper chooses), in minor units from 1 to 99999999."}
	ErrRangeInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "amount_invalid", Param: "amount_max",
		Message: "amount_max must be at least amount_min."}
	ErrCollectInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "collect_invalid", Param: "collect",
		Message: "collect lists shopper fields, each at most once: email, name, phone, billing_address (email and name are always collected)."}
	ErrOriginsInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "allowed_origins_invalid", Param: "allowed_origins",
		Message: "allowed_origins must list 1 to 10 different origins of your sites, like https://shop.example (https, or http on localhost)."}
	ErrStatusInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "status_invalid", Param: "status",
		Message: "status must be active or inactive."}
	ErrFilterInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "payment_form_invalid", Param: "payment_form",
		Message: "payment_form must be a payment form id (pform_…)."}
	// ErrAmountOutOfRange is the shopper's amount outside the form's range.
	ErrAmountOutOfRange = &apperr.Error{Kind: apperr.Invalid, Code: "amount_invalid", Param: "amount",
		Message: "The amount is outside what this form accepts."}
	// ErrAmountFixed is a shopper's amount different from a fixed form's.
	ErrAmountFixed = &apperr.Error{Kind: apperr.Invalid, Code: "amount_invalid", Param: "amount",
		Message: "This form has a fixed amount; omit amount."}
)

// Form is an embeddable payment form.
type Form struct {
	ID           string
	MerchantID   string
	MerchantName string // filled by Open, for the embed page
	Title        string
	Description  string
	Currency     money.Currency
	// Amount is the fixed amount in minor units, or 0 when the shopper
	// chooses between AmountMin and AmountMax.
	Amount         int64
	AmountMin      int64
	AmountMax      int64
	Collect        []Field
	AllowedOrigins []string
	SuccessURL     string
	Realm          string // "" for none
	Metadata       map[string]string
	Status         Status
	CreatedAt      time.Time
	DeactivatedAt  *time.Time
	// Accepts is what the merchant takes now, filled by Open.
	Accepts merchant.Acceptance
}

// Collects reports whether f asks the shopper for field.
func (f *Form) Collects(field Field) bool { return slices.Contains(f.Collect, field) }

// Payable returns nil if shoppers may pay f, else ErrInactive.
func (f *Form) Payable() error {
	if f.Status != Active {
		return ErrInactive
	}
	return nil
}

// Charge returns the amount a submission pays: the fixed amount (requested
// must then be nil or equal to it) or the shopper's requested amount within
// the form's range. It returns money.ErrAmountInvalid for a missing amount,
// ErrAmountFixed or ErrAmountOutOfRange.
func (f *Form) Charge(requested *int64) (money.Amount, error) {
	if f.Amount > 0 {
		if requested != nil && *requested != f.Amount {
			return money.Amount{}, ErrAmountFixed
		}
		return money.Amount{Minor: f.Amount, Currency: f.Currency}, nil
	}
	if requested == nil {
		return money.Amount{}, money.ErrAmountInvalid
	}
	if *requested < f.AmountMin || *requested > f.AmountMax {
		return money.Amount{}, ErrAmountOutOfRange.WithMessage(fmt.Sprintf("Enter an amount from %s to %s.",
			money.Amount{Minor: f.AmountMin, Currency: f.Currency}, money.Amount{Minor: f.AmountMax, Currency: f.Currency}))
	}
	return money.Amount{Minor: *requested, Currency: f.Currency}, nil
}

// Allows returns origin normalised and true if it is one of f's allowed
// origins.
func (f *Form) Allows(origin string) (string, bool) {
	o, err := NormalizeOrigin(origin)
	if err != nil || !slices.Contains(f.AllowedOrigins, o) {
		return "", false
	}
	return o, true
}

// NewForm is what a merchant asks for; amounts are already parsed minor
// units. Exactly one of Amount and the AmountMin/AmountMax pair is set.
type NewForm struct {
	Title          string
	Description    string
	Currency       money.Currency
	Amount         *int64
	AmountMin      *int64
	AmountMax      *int64
	Collect        []string
	AllowedOrigins []string
	SuccessURL     string
	Realm          string
	Metadata       map[string]string
}

// Service manages payment forms.
type Service struct {
	base *url.URL
	now  func() time.Time
}

// NewService returns a Service whose forms' embed URLs start with base.
func NewService(base *url.URL, now func() time.Time) *Service {
	return &Service{base: base, now: now}
}

// Create validates in and stores a new active form for merchantID in tx,
// if the merchant accepts its currency (read by the insert itself). It
// returns ErrTitleInvalid, ErrDescriptionInvalid, money.ErrAmountInvalid
// (an amount outside 1..money.MaxMinor), ErrAmountChoice, ErrRangeInvalid, ErrCollectInvalid, ErrOriginsInvalid,
// links.ErrURLInvalid / links.ErrMetadataInvalid / links.ErrRealmInvalid,
// or merchant.ErrCurrencyNotAccepted.
func (s *Service) Create(ctx context.Context, tx pgx.Tx, merchantID string, in NewForm) (*Form, error) {
	f, err := validate(in)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	f.ID, f.MerchantID, f.Status, f.CreatedAt = id.NewAt("pform", now), merchantID, Active, now
	tag, err := tx.Exec(ctx, insertForm, f.ID, merchantID, f.Title, f.Description, string(f.Currency),
		wire.OrNil(f.Amount), wire.OrNil(f.AmountMin), wire.OrNil(f.AmountMax), fieldNames(f.Collect),
		f.AllowedOrigins, wire.OrNil(f.SuccessURL), f.Metadata, f.CreatedAt, wire.OrNil(f.Realm))
	switch {
	case err != nil:
		return nil, fmt.Errorf("insert payment form: %w", err)
	case tag.RowsAffected() == 0:
		return nil, merchant.ErrCurrencyNotAccepted
	}
	return f, nil
}

// Get returns merchantID's form formID. It returns ErrNotFound.
func (s *Service) Get(ctx context.Context, db postgres.DBTX, merchantID, formID string) (*Form, error) {
	return oneForm(db.QueryRow(ctx, selectForm, merchantID, formID))
}

// Open returns form formID with its merchant's name, for the public embed
// page and its submissions. It returns ErrNotFound.
func (s *Service) Open(ctx context.Context, db postgres.DBTX, formID string) (*Form, error) {
	if !id.Valid("pform", formID) {
		return nil, ErrNotFound
	}
	var (
		name                 string
		cur, methods, brands []string
	)
	f, err := scanForm(db.QueryRow(ctx, openForm, formID), &name, &cur, &methods, &brands)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("open payment form: %w", err)
	}
	f.MerchantName, f.Accepts = name, merchant.NewAcceptance(cur, methods, brands)
	return f, nil
}

func oneForm(r pgx.Row) (*Form, error) {
	f, err := scanForm(r)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("read payment form: %w", err)
	}
	return f, nil
}

// ParseStatus reads a list filter: "" (all), active or inactive. It
// returns ErrStatusInvalid.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case "", Active, Inactive:
		return st, nil
	}
	return "", ErrStatusInvalid
}

// Filter narrows a list of forms; empty fields match every form.
type Filter struct {
	Status Status
	Realm  string
}

// ParseFilter reads the status and realm filters of a list. It returns
// ErrStatusInvalid or links.ErrRealmInvalid.
func ParseFilter(status, realm string) (Filter, error) {
	st, err := ParseStatus(status)
	if err != nil {
		return Filter{}, err
	}
	r, err := links.CheckRealm(realm)
	return Filter{Status: st, Realm: r}, err
}

// Find returns up to limit forms of merchantID matching f and older than
// startingAfter (all when empty), newest first, and whether more follow.
func (s *Service) Find(ctx context.Context, db postgres.DBTX, merchantID string, f Filter, limit int, startingAfter string) ([]*Form, bool, error) {
	q := postgres.NewestOf(selectForms, "merchant_id", merchantID).Within("realm", f.Realm).Equal("status", string(f.Status)).
		Before(startingAfter)
	out, more, err := postgres.PageNewest(ctx, db, limit, func(r pgx.CollectableRow) (*Form, error) { return scanForm(r) }, q)
	if err != nil {
		return nil, false, fmt.Errorf("list payment forms: %w", err)
	}
	return out, more, nil
}

// Update changes merchantID's active form formID: change gets what the
// form asks for now (as a NewForm) and edits it, and the result is
// validated as Create validates it. The form's row is locked meanwhile,
// so concurrent updates each see the other's change. Payments already
// made keep what they were made with. It returns Create's errors,
// ErrNotFound, or ErrInactive for a deactivated form.
func (s *Service) Update(ctx context.Context, tx pgx.Tx, merchantID, formID string, change func(*NewForm)) (*Form, error) {
	old, err := oneForm(tx.QueryRow(ctx, lockForm, merchantID, formID))
	if err != nil {
		return nil, err
	}
	if err := old.Payable(); err != nil {
		return nil, err
	}
	in := old.asNew()
	change(&in)
	v, err := validate(in)
	if err != nil {
		return nil, err
	}
	f, err := scanForm(tx.QueryRow(ctx, updateForm, merchantID, formID, v.Title, v.Description, string(v.Currency),
		wire.OrNil(v.Amount), wire.OrNil(v.AmountMin), wire.OrNil(v.AmountMax), fieldNames(v.Collect),
		v.AllowedOrigins, wire.OrNil(v.SuccessURL), v.Metadata, wire.OrNil(v.Realm)))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, merchant.ErrCurrencyNotAccepted
	case err != nil:
		return nil, fmt.Errorf("update payment form: %w", err)
	}
	return f, nil
}

// asNew is what f asks for, as Create takes it.
func (f *Form) asNew() NewForm {
	in := NewForm{Title: f.Title, Description: f.Description, Currency: f.Currency,
		AllowedOrigins: slices.Clone(f.AllowedOrigins), SuccessURL: f.SuccessURL, Realm: f.Realm, Metadata: maps.Clone(f.Metadata)}
	if f.Amount > 0 {
		in.Amount = &f.Amount
	} else {
		in.AmountMin, in.AmountMax = &f.AmountMin, &f.AmountMax
	}
	for _, c := range f.Collect {
		if c != Email && c != Name {
			in.Collect = append(in.Collect, string(c))
		}
	}
	return in
}

// Deactivate stops merchantID's form formID from taking payments, at once:
// its embed page answers 410 and submissions in flight are refused by the
// payment's insert. Deactivating an inactive form returns it unchanged. It
// returns ErrNotFound.
func (s *Service) Deactivate(ctx context.Context, tx pgx.Tx, merchantID, formID string) (*Form, error) {
	f, err := scanForm(tx.QueryRow(ctx, deactivateForm, merchantID, formID, s.now().UTC()))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return s.Get(ctx, tx, merchantID, formID)
	case err != nil:
		return nil, fmt.Errorf("deactivate payment form: %w", err)
	}
	return f, nil
}

// CheckPayable returns nil if merchantID's form formID takes payments as
// db sees it, else ErrInactive or ErrNotFound.
func CheckPayable(ctx context.Context, db postgres.DBTX, merchantID, formID string) error {
	var st Status
	err := db.QueryRow(ctx, selectFormStatus, merchantID, formID).Scan(&st)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("read payment form status: %w", err)
	}
	f := Form{Status: st}
	return f.Payable()
}

// URL returns the address of f's embed page (without parent_origin, which
// the SDK adds).
func (s *Service) URL(f *Form) string { return s.base.String() + "/embed/forms/" + f.ID }

// ToWire returns f as the API shows it.
func (s *Service) ToWire(f *Form) wire.PaymentForm {
	w := wire.PaymentForm{
		ID: f.ID, URL: s.URL(f), Status: string(f.Status), Title: f.Title, Description: f.Description,
		Currency: string(f.Currency), Collect: fieldNames(f.Collect), AllowedOrigins: f.AllowedOrigins,
		SuccessURL: wire.OrNil(f.SuccessURL), Realm: wire.OrNil(f.Realm), Metadata: f.Metadata, CreatedAt: wire.Time(f.CreatedAt),
		DeactivatedAt: wire.TimePtr(f.DeactivatedAt),
	}
	if f.Amount > 0 {
		w.Amount = &f.Amount
	} else {
		w.AmountMin, w.AmountMax = &f.AmountMin, &f.AmountMax
	}
	return w
}

func fieldNames(fs []Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

// scanForm reads formColumns, then extra destinations.
func scanForm(r pgx.Row, extra ...any) (*Form, error) {
	var (
		f               Form
		cur, status     string
		amt, amin, amax *int64
		collect         []string
		success, realm  *string
	)
	dest := append([]any{&f.ID, &f.MerchantID, &f.Title, &f.Description, &cur, &amt, &amin, &amax, &collect,
		&f.AllowedOrigins, &success, &f.Metadata, &status, &f.CreatedAt, &f.DeactivatedAt, &realm}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	f.Currency, f.Status = money.Currency(cur), Status(status)
	f.Amount, f.AmountMin, f.AmountMax = wire.Deref(amt), wire.Deref(amin), wire.Deref(amax)
	for _, c := range collect {
		f.Collect = append(f.Collect, Field(c))
	}
	f.SuccessURL, f.Realm = wire.Deref(success), wire.Deref(realm)
	return &f, nil
}
