package hostedcheckout

import (
	"errors"
	"net/http"
	"strings"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/processor"
)

// CardOffer is what a card form offers: the brands the merchant takes in
// the currency (the page refuses the others before anything is sent) and
// the brands that can pay in the currency at all, so the page can say
// which of the two refused a card. Both are space-separated.
type CardOffer struct {
	Brands, CurrencyBrands string
}

// OfferCards describes the card form of a page in currency c for a
// merchant accepting acc.
func OfferCards(acc merchant.Acceptance, c money.Currency) CardOffer {
	var taken, all []string
	for _, b := range merchant.Brands {
		if processor.Supports(b, c) {
			all = append(all, string(b))
			if acc.AcceptsBrand(b) {
				taken = append(taken, string(b))
			}
		}
	}
	return CardOffer{Brands: strings.Join(taken, " "), CurrencyBrands: strings.Join(all, " ")}
}

// CheckCards returns nil if a page in currency c may offer a card form to
// a merchant accepting acc, else ErrCurrencyWithdrawn or
// ErrMethodNotAccepted (the page then shows why instead of a form).
func CheckCards(acc merchant.Acceptance, c money.Currency) error {
	if err := acc.CheckCurrency(c); err != nil {
		return err
	}
	if !acc.AcceptsMethod(merchant.MethodCard) {
		return merchant.ErrMethodNotAccepted
	}
	return nil
}

// refusalNotice is the page shown instead of a checkout the merchant's
// settings no longer allow; ok is false for any other error.
func refusalNotice(err error) (status int, n Notice, ok bool) {
	switch {
	case errors.Is(err, merchant.ErrCurrencyWithdrawn):
		return http.StatusGone, Notice{Icon: "×", Heading: "This currency is no longer accepted",
			Message: "The merchant no longer takes payments in this currency.", Hint: "Ask the merchant for a new link."}, true
	case errors.Is(err, merchant.ErrMethodNotAccepted):
		return http.StatusGone, Notice{Icon: "×", Heading: "Card payments are not accepted here",
			Message: "The merchant does not take card payments at the moment.", Hint: "No payment can be made here."}, true
	}
	return 0, Notice{}, false
}
