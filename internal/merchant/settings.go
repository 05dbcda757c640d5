package merchant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
)

// Method is a way a shopper pays at checkout.
type Method string

// Payment methods.
const (
	MethodCard   Method = "card"
	MethodWallet Method = "wallet"
)

// Methods and Brands are everything the platform offers, in the order the
// API lists them.
var (
	Methods = []Method{MethodCard, MethodWallet}
	Brands  = []processor.Brand{processor.Visa, processor.Mastercard, processor.Amex, processor.Discover}
)

// NotifyEvents are the event types a merchant may be e-mailed about.
var NotifyEvents = []string{"payment.succeeded", "payment.failed", "payment.refunded", "review.opened", "review.closed"}

// Errors of settings, and of payments and links that settings refuse.
var (
	ErrCurrenciesInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "currencies_invalid", Param: "currencies",
		Message: "currencies must list at least one currency you accept."}
	ErrMethodsInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "payment_methods_invalid", Param: "payment_methods",
		Message: "payment_methods must list at least one of card, wallet."}
	ErrBrandsInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "card_brands_invalid", Param: "card_brands",
		Message: "card_brands must list at least one of visa, mastercard, amex, discover."}
	ErrNotifyOnInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "notify_on_invalid", Param: "notify_on",
		Message: "notify_on lists event types from payment.succeeded, payment.failed, payment.refunded, review.opened, review.closed (or none)."}
	ErrNotificationEmailInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "email_invalid", Param: "notification_email",
		Message: "notification_email must be an e-mail address."}

	// ErrCurrencyNotAccepted refuses a link or form in a currency the
	// merchant does not accept (400).
	ErrCurrencyNotAccepted = &apperr.Error{Kind: apperr.Invalid, Code: "currency_not_accepted", Param: "currency",
		Message: "You do not accept this currency; add it to your merchant's currencies first."}
	// ErrCurrencyWithdrawn is a shopper on a link or form whose currency
	// the merchant no longer accepts (410, like an expired link).
	ErrCurrencyWithdrawn = &apperr.Error{Kind: apperr.Gone, Code: "currency_no_longer_accepted",
		Message: "This merchant no longer takes payments in this currency. Ask them for a new link."}
	// ErrMethodNotAccepted is a payment method the merchant turned off (400).
	ErrMethodNotAccepted = &apperr.Error{Kind: apperr.Invalid, Code: "payment_method_not_accepted", Param: "payment_method.type",
		Message: "This merchant does not accept this payment method."}
	// ErrCardBrandNotAccepted is a card of a brand the merchant turned off:
	// a card_error (402), decided before the card is charged.
	ErrCardBrandNotAccepted = &apperr.Error{Kind: apperr.CardDeclined, Code: "card_brand_not_accepted", Param: "payment_method.card.number",
		Message: "This merchant does not accept this card brand. Try another card."}
)

// Acceptance is what a merchant takes at checkout. A nil list means
// everything the platform offers; links, forms and checkout read it with
// the link, form or key they read anyway.
type Acceptance struct {
	Currencies []money.Currency
	Methods    []Method
	Brands     []processor.Brand
}

// NewAcceptance builds an Acceptance from its database columns (nil for
// NULL), for stores of other domains that read them in their own query.
func NewAcceptance(currencies, methods, brands []string) Acceptance {
	var a Acceptance
	for _, c := range currencies {
		a.Currencies = append(a.Currencies, money.Currency(c))
	}
	for _, m := range methods {
		a.Methods = append(a.Methods, Method(m))
	}
	for _, b := range brands {
		a.Brands = append(a.Brands, processor.Brand(b))
	}
	return a
}

// AcceptsCurrency reports whether c is accepted.
func (a Acceptance) AcceptsCurrency(c money.Currency) bool {
	return a.Currencies == nil || slices.Contains(a.Currencies, c)
}

// AcceptsMethod reports whether m is accepted.
func (a Acceptance) AcceptsMethod(m Method) bool {
	return a.Methods == nil || slices.Contains(a.Methods, m)
}

// AcceptsBrand reports whether cards of brand b are accepted.
func (a Acceptance) AcceptsBrand(b processor.Brand) bool {
	return a.Brands == nil || slices.Contains(a.Brands, b)
}

// CheckCurrency returns nil if c is accepted, else ErrCurrencyWithdrawn:
// what a checkout page of a link or form in c answers (410).
func (a Acceptance) CheckCurrency(c money.Currency) error {
	if !a.AcceptsCurrency(c) {
		return ErrCurrencyWithdrawn
	}
	return nil
}

// CheckPayment returns nil if a payment in currency c by method m (with a
// card of brand b; "" when not known yet or not a card) is accepted, else
// ErrCurrencyWithdrawn, ErrMethodNotAccepted or ErrCardBrandNotAccepted,
// in that order. The database applies the same rule to every payment's
// insert (paylink_merchant_accepts).
func (a Acceptance) CheckPayment(c money.Currency, m Method, b processor.Brand) error {
	if err := a.CheckCurrency(c); err != nil {
		return err
	}
	switch {
	case !a.AcceptsMethod(m):
		return ErrMethodNotAccepted
	case m == MethodCard && b != "" && !a.AcceptsBrand(b):
		return ErrCardBrandNotAccepted
	}
	return nil
}

// CardBrands returns the accepted brands whose cards can pay in c, in
// Brands' order: what a checkout page offers.
func (a Acceptance) CardBrands(c money.Currency) []processor.Brand {
	var out []processor.Brand
	for _, b := range Brands {
		if a.AcceptsBrand(b) && processor.Supports(b, c) {
			out = append(out, b)
		}
	}
	return out
}

// Settings are a merchant's choices: what it accepts, and which events
// it is e-mailed about, where. NotificationEmail "" means the sign-up
// e-mail.
type Settings struct {
	Acceptance
	NotificationEmail string
	NotifyOn          []string
}

// Update is a change of a merchant (PATCH semantics): only the non-nil
// fields change. Lists are given as the client sent them and validated by
// Service.Update.
type Update struct {
	Name              *string
	Currencies        *[]string
	PaymentMethods    *[]string
	CardBrands        *[]string
	NotificationEmail *string
	NotifyOn          *[]string
}

// validated is an Update checked and turned into column values (nil: no
// change).
type validated struct {
	name, email                      *string
	currencies, methods, brands, ons []string
}

// validate checks u against the platform's currencies. Lists are
// de-duplicated and kept in the order given.
func validate(u Update, platform money.Set) (validated, error) {
	var v validated
	if u.Name != nil {
		// Sign-up's rule: shoppers read the name in their e-mails.
		name, err := ValidateName(*u.Name)
		if err != nil {
			return v, err
		}
		v.name = &name
	}
	if u.Currencies != nil {
		if len(*u.Currencies) == 0 {
			return v, ErrCurrenciesInvalid
		}
		for i, s := range *u.Currencies {
			c, err := platform.Parse(s)
			if err != nil {
				return v, money.ErrCurrencyUnsupported.AtIndex("currencies", i)
			}
			v.currencies = appendNew(v.currencies, string(c))
		}
	}
	var err error
	if u.PaymentMethods != nil {
		if v.methods, err = oneOf(*u.PaymentMethods, Methods, ErrMethodsInvalid, false); err != nil {
			return v, err
		}
	}
	if u.CardBrands != nil {
		if v.brands, err = oneOf(*u.CardBrands, Brands, ErrBrandsInvalid, false); err != nil {
			return v, err
		}
	}
	if u.NotifyOn != nil {
		if v.ons, err = oneOf(*u.NotifyOn, NotifyEvents, ErrNotifyOnInvalid, true); err != nil {
			return v, err
		}
	}
	if u.NotificationEmail != nil {
		email, err := NormalizeEmail(*u.NotificationEmail)
		if err != nil {
			return v, ErrNotificationEmailInvalid
		}
		v.email = &email
	}
	return v, nil
}

// oneOf checks that every element of list is one of allowed (any case)
// and returns them lower-cased, without repeats, never nil. An empty list
// is refused unless emptyOK. Errors name the bad element.
func oneOf[T ~string](list []string, allowed []T, bad *apperr.Error, emptyOK bool) ([]string, error) {
	if len(list) == 0 && !emptyOK {
		return nil, bad
	}
	out := []string{}
	for i, s := range list {
		s = strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(allowed, T(s)) {
			return nil, bad.AtIndex(bad.Param, i)
		}
		out = appendNew(out, s)
	}
	return out, nil
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// Update validates u and applies it to merchantID in tx, changing only the
// fields u sets, and returns the merchant as it now is. Every API replica
// sees the change on its next read: settings are never cached beyond one
// request (see links.Service.Lookup for the one bounded exception). A
// name is checked as at sign-up (ValidateName). It returns
// ErrNameInvalid, ErrNameNotAllowed, money.ErrCurrencyUnsupported (param
// currencies, the message naming currencies[i]), ErrCurrenciesInvalid, ErrMethodsInvalid,
// ErrBrandsInvalid, ErrNotifyOnInvalid, ErrNotificationEmailInvalid or
// ErrNotFound.
func (s *Service) Update(ctx context.Context, tx pgx.Tx, merchantID string, u Update) (*Merchant, error) {
	v, err := validate(u, s.currencies)
	if err != nil {
		return nil, err
	}
	m, err := s.scanMerchant(tx.QueryRow(ctx, updateMerchant, merchantID, v.name, v.currencies, v.methods, v.brands,
		v.email, v.ons))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("update merchant: %w", err)
	}
	return m, nil
}

// LoadAcceptance reads what merchantID accepts now. Checkout calls it
// after the database refused a payment's insert, to say why. It returns
// ErrNotFound.
func LoadAcceptance(ctx context.Context, db postgres.DBTX, merchantID string) (Acceptance, error) {
	var cur, methods, brands []string
	err := db.QueryRow(ctx, selectAcceptance, merchantID).Scan(&cur, &methods, &brands)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Acceptance{}, ErrNotFound
	case err != nil:
		return Acceptance{}, fmt.Errorf("read merchant settings: %w", err)
	}
	return NewAcceptance(cur, methods, brands), nil
}

// defaultNotifyOn is what a new merchant is e-mailed about.
var defaultNotifyOn = []string{"payment.succeeded"}

// scanMerchant scans merchantColumns, then extra destinations, and
// resolves the settings as they apply.
func (s *Service) scanMerchant(r pgx.Row, extra ...any) (*Merchant, error) {
	var (
		m                    Merchant
		cur, methods, brands []string
		email                *string
		notifyOn             []string
	)
	dest := append([]any{&m.ID, &m.Name, &m.Email, &m.CreatedAt, &m.PaymentEmails, &cur, &methods, &brands, &email,
		&notifyOn}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	m.Settings = s.resolve(m.Email, email, cur, methods, brands, notifyOn)
	return &m, nil
}

// resolve returns the settings that apply given the stored ones: a list
// never set (nil) is everything the platform offers, a chosen currency the
// platform no longer offers is dropped, and no notification e-mail means
// the sign-up e-mail.
func (s *Service) resolve(signUpEmail string, email *string, cur, methods, brands, notifyOn []string) Settings {
	a := NewAcceptance(cur, methods, brands)
	st := Settings{NotificationEmail: signUpEmail, NotifyOn: append([]string{}, notifyOn...)}
	if email != nil {
		st.NotificationEmail = *email
	}
	st.Currencies = []money.Currency{}
	for _, c := range s.currencies.List() {
		if a.AcceptsCurrency(c) {
			st.Currencies = append(st.Currencies, c)
		}
	}
	st.Methods = filter(Methods, a.AcceptsMethod)
	st.Brands = filter(Brands, a.AcceptsBrand)
	return st
}

func filter[T any](all []T, keep func(T) bool) []T {
	out := []T{}
	for _, x := range all {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}
