// Package processor is the card processor (PSP) boundary: a small interface
// a real acquirer connector could implement, and Simulator, the built-in
// test processor with API.md's test cards.
//
// Every call takes an idempotency key: the same key with the same request
// returns the first result and never moves money twice, so a caller that
// crashed or timed out can simply call again with the same key.
//
// Card numbers and CVCs enter this package in a Card and leave it only as
// Details: brand, last four digits, expiry and a fingerprint (a keyed HMAC
// of the number). Card's String, GoString, LogValue and MarshalJSON
// methods redact, so a Card that reaches a log line by mistake still shows
// no number.
package processor

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/paylink/paylink/internal/money"
)

// Processor authorizes card payments, completes challenges (3-D Secure
// style), captures authorized money, releases holds, refunds, and pays out
// to cards.
// Implementations must be safe for concurrent use and idempotent per key.
type Processor interface {
	// Authorize places a hold of amount on card. A decline is not an error:
	// it is an Authorization with Status Declined and a DeclineCode. An error
	// means the processor could not be asked (retry with the same key).
	Authorize(ctx context.Context, key string, amount money.Amount, card Card) (Authorization, error)
	// Authenticate completes the challenge of an authorization in
	// RequiresAction: approved gives Authorized, otherwise Declined with
	// CodeAuthenticationFailed.
	Authenticate(ctx context.Context, key, authID string, approved bool) (Authorization, error)
	// Capture collects amount of an authorized hold and returns the
	// capture's reference.
	Capture(ctx context.Context, key, authID string, amount money.Amount) (string, error)
	// Void releases an authorized hold that will never be captured.
	Void(ctx context.Context, key, authID string) error
	// Refund returns amount of a captured authorization to the card and
	// returns the refund's reference.
	Refund(ctx context.Context, key, authID string, amount money.Amount) (string, error)
	// Payout sends amount to card (a push to the card, as for a wallet
	// withdrawal). A refusal is not an error: it is a Payout with Status
	// PayoutFailed and a FailureCode. An error means the processor could
	// not be asked or did not answer; nothing is known to have happened,
	// and the same call with the same key may be retried.
	Payout(ctx context.Context, key string, amount money.Amount, card Card) (Payout, error)
}

// PayoutStatus is the outcome of a payout.
type PayoutStatus string

// Payout outcomes.
const (
	PayoutPaid   PayoutStatus = "paid"
	PayoutFailed PayoutStatus = "failed"
)

// Payout is a processor's answer to Payout.
type Payout struct {
	ID          string // the processor's reference
	Status      PayoutStatus
	FailureCode string // set when Status is PayoutFailed
}

// ErrUnavailable means the processor could not be reached or did not
// answer; nothing is known to have happened, and the same call with the same
// key may be retried.
var ErrUnavailable = errors.New("processor: unavailable")

// Status is the state of an authorization.
type Status string

// Authorization states.
const (
	Authorized     Status = "authorized"
	RequiresAction Status = "requires_action"
	Declined       Status = "declined"
)

// Authorization is a processor's answer to Authorize or Authenticate.
type Authorization struct {
	ID          string // the processor's reference, used to capture, void or refund
	Status      Status
	DeclineCode string // set when Status is Declined
	Card        Details
}

// Card is what a shopper types. It must never be stored or logged; keep
// only its Details. Every way of printing or encoding it redacts it.
type Card struct {
	Number   string
	ExpMonth int
	ExpYear  int
	CVC      string
	// Challenge asks the issuer to challenge the shopper (3-D Secure's
	// "challenge requested"), whatever the card: the authorization needs
	// the challenge first, and a test card that declines declines once
	// the challenge is passed, as an issuer answers after 3-D Secure.
	Challenge bool
}

// String redacts the card so that printing it shows no number or CVC.
func (c Card) String() string { return "processor.Card{redacted}" }

// GoString redacts the card for %#v.
func (c Card) GoString() string { return c.String() }

// LogValue redacts the card in slog output.
func (c Card) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON redacts the card, so a struct holding one cannot carry the
// number into a JSON log line or a stored document either.
func (c Card) MarshalJSON() ([]byte, error) { return []byte(`"redacted"`), nil }

// Details is what may be kept about a card.
type Details struct {
	Brand       Brand
	Last4       string
	ExpMonth    int
	ExpYear     int
	Fingerprint string // the same card number always gives the same value; it cannot be reversed
}

// Brand is a card network.
type Brand string

// Card brands.
const (
	Visa       Brand = "visa"
	Mastercard Brand = "mastercard"
	Amex       Brand = "amex"
	Discover   Brand = "discover"
	Unknown    Brand = "unknown"
)

// Name is how people write brand b ("Visa", "American Express"), or ""
// for an unknown brand.
func (b Brand) Name() string {
	switch b {
	case Visa:
		return "Visa"
	case Mastercard:
		return "Mastercard"
	case Amex:
		return "American Express"
	case Discover:
		return "Discover"
	}
	return ""
}

// CardWords is how a message names a card: "Visa card ending in 4242",
// the brand as people write it rather than its code "visa".
func CardWords(b Brand, last4 string) string {
	return strings.TrimSpace(b.Name() + " card ending in " + last4)
}

// Decline and validation codes, as API.md and the checkout page use them.
const (
	CodeCardDeclined         = "card_declined"
	CodeInsufficientFunds    = "insufficient_funds"
	CodeExpiredCard          = "expired_card"
	CodeIncorrectCVC         = "incorrect_cvc"
	CodeProcessingError      = "processing_error"
	CodeInvalidNumber        = "invalid_number"
	CodeInvalidExpiryMonth   = "invalid_expiry_month"
	CodeInvalidExpiryYear    = "invalid_expiry_year"
	CodeInvalidCVC           = "invalid_cvc"
	CodeCardNotSupported     = "card_not_supported"
	CodeCurrencyNotSupported = "currency_not_supported"
	CodeAuthenticationFailed = "authentication_failed"
	// CodePaymentBlocked is a payment screening blocked before the
	// processor was asked; its message does not say why.
	CodePaymentBlocked = "payment_blocked"
)

// messages are shown to shoppers, so they say what to do next.
var messages = map[string]string{
	CodeCardDeclined:         "Your card was declined. Try another card or contact your bank.",
	CodeInsufficientFunds:    "Your card has insufficient funds. Try another card.",
	CodeExpiredCard:          "Your card has expired. Try another card.",
	CodeIncorrectCVC:         "The security code is incorrect. Check the code on the back of your card.",
	CodeProcessingError:      "An error occurred while processing your card. Try again in a moment.",
	CodeInvalidNumber:        "Your card number is invalid. Check it and try again.",
	CodeInvalidExpiryMonth:   "The expiration month is invalid.",
	CodeInvalidExpiryYear:    "The expiration year is invalid.",
	CodeInvalidCVC:           "The security code is invalid. It has 3 digits (4 on American Express cards).",
	CodeCardNotSupported:     "This card brand is not supported. Try a Visa, Mastercard, American Express or Discover card.",
	CodeCurrencyNotSupported: "Your card does not support this currency. Try another card.",
	CodeAuthenticationFailed: "The card issuer could not verify this payment. Try again or use another card.",
	CodePaymentBlocked:       "This payment could not be completed. Try another payment method or contact the merchant.",
}

// Message returns a shopper-facing sentence for a decline or validation
// code.
func Message(code string) string {
	if m, ok := messages[code]; ok {
		return m
	}
	return messages[CodeCardDeclined]
}

// Retryable reports whether a payment that failed with code may succeed if
// the shopper simply tries the same card again.
func Retryable(code string) bool { return code == CodeProcessingError }

// currencies lists what each brand accepts; a nil list accepts every
// currency.
var currencies = map[Brand][]money.Currency{
	Amex:     {money.USD},
	Discover: {money.USD, money.CAD},
}

// Supports reports whether brand b can pay in currency c.
func Supports(b Brand, c money.Currency) bool {
	list, limited := currencies[b]
	if !limited {
		return b != Unknown
	}
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

// Normalize strips the spaces and dashes people type inside card numbers.
func Normalize(number string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, number)
}

// BrandOf returns the network of a card number (digits only) from its
// leading digits, or Unknown.
func BrandOf(number string) Brand {
	n := len(number)
	switch {
	case n == 0:
		return Unknown
	case number[0] == '4' && (n == 13 || n == 16 || n == 19):
		return Visa
	case (hasPrefixIn(number, 51, 55, 2) || hasPrefixIn(number, 2221, 2720, 4)) && n == 16:
		return Mastercard
	case (strings.HasPrefix(number, "34") || strings.HasPrefix(number, "37")) && n == 15:
		return Amex
	case (strings.HasPrefix(number, "6011") || strings.HasPrefix(number, "65") || hasPrefixIn(number, 644, 649, 3)) && n >= 16 && n <= 19:
		return Discover
	}
	return Unknown
}

// hasPrefixIn reports whether the first width digits of s form a number in
// [lo, hi].
func hasPrefixIn(s string, lo, hi, width int) bool {
	if len(s) < width {
		return false
	}
	v := 0
	for i := 0; i < width; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		v = v*10 + int(c-'0')
	}
	return v >= lo && v <= hi
}

// Luhn reports whether number (digits only, 12 to 19 of them) passes the
// Luhn checksum.
func Luhn(number string) bool {
	if len(number) < 12 || len(number) > 19 {
		return false
	}
	sum := 0
	double := false
	for i := len(number) - 1; i >= 0; i-- {
		c := number[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// Validate checks what can be checked without asking the issuer: the
// number's Luhn checksum and brand, the expiry (a card is valid through the
// last day of its expiry month, in UTC), the CVC's length for the brand,
// and that the brand takes currency. It returns the card's brand and "" or
// the code of the first problem. card.Number must be Normalize'd.
func Validate(card Card, currency money.Currency, now time.Time) (Brand, string) {
	if !Luhn(card.Number) {
		return Unknown, CodeInvalidNumber
	}
	brand := BrandOf(card.Number)
	if brand == Unknown {
		return brand, CodeCardNotSupported
	}
	if card.ExpMonth < 1 || card.ExpMonth > 12 {
		return brand, CodeInvalidExpiryMonth
	}
	now = now.UTC()
	if card.ExpYear < 2000 || card.ExpYear > now.Year()+50 {
		return brand, CodeInvalidExpiryYear
	}
	if card.ExpYear < now.Year() || (card.ExpYear == now.Year() && card.ExpMonth < int(now.Month())) {
		return brand, CodeExpiredCard
	}
	wantCVC := 3
	if brand == Amex {
		wantCVC = 4
	}
	if len(card.CVC) != wantCVC || strings.Trim(card.CVC, "0123456789") != "" {
		return brand, CodeInvalidCVC
	}
	if !Supports(brand, currency) {
		return brand, CodeCurrencyNotSupported
	}
	return brand, ""
}

// Last4 returns the last four digits of number.
func Last4(number string) string {
	if len(number) < 4 {
		return number
	}
	return number[len(number)-4:]
}
