// Package contact is what a payment form may collect about who pays
// beyond the e-mail and name: a phone number and a billing address, with
// their validation, their column form and their wire form.
package contact

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/wire"
)

// Errors of shopper fields a payment form collects.
var (
	ErrPhoneInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "phone_invalid", Param: "phone",
		Message: "Enter a phone number: 5 to 15 digits, with + ( ) - and spaces if you like."}
	ErrAddressInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "address_invalid", Param: "billing_address",
		Message: "Enter the billing address: street, city and a two-letter country code."}
)

// Address is a billing address a payment form collected.
type Address struct {
	Line1, Line2, City, PostalCode, State, Country string
}

var (
	phoneChars  = regexp.MustCompile(`^\+?[0-9 ()\-.]+$`)
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
)

// ValidatePhone returns phone trimmed, or ErrPhoneInvalid unless it has 5
// to 15 digits (E.164's maximum) and only an optional leading +, spaces,
// parentheses, dots and hyphens besides.
func ValidatePhone(phone string) (string, error) {
	phone = strings.TrimSpace(phone)
	digits := 0
	for _, c := range phone {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	if len(phone) > 30 || digits < 5 || digits > 15 || !phoneChars.MatchString(phone) {
		return "", ErrPhoneInvalid
	}
	return phone, nil
}

// ValidateAddress returns a trimmed, with the country upper-cased, or
// ErrAddressInvalid naming the field: line1 and city 1 to 200 characters,
// line2 and state at most 200, postal_code at most 20, country an ISO
// 3166-1 alpha-2 code.
func ValidateAddress(a Address) (Address, error) {
	fields := []struct {
		v        *string
		name     string
		min, max int
	}{
		{&a.Line1, "line1", 1, 200}, {&a.Line2, "line2", 0, 200}, {&a.City, "city", 1, 200},
		{&a.PostalCode, "postal_code", 0, 20}, {&a.State, "state", 0, 200}, {&a.Country, "country", 2, 2},
	}
	for _, f := range fields {
		*f.v = strings.TrimSpace(*f.v)
		if n := utf8.RuneCountInString(*f.v); n < f.min || n > f.max || !utf8.ValidString(*f.v) {
			return a, ErrAddressInvalid.WithParam("billing_address." + f.name)
		}
	}
	a.Country = strings.ToUpper(a.Country)
	if !countryCode.MatchString(a.Country) {
		return a, ErrAddressInvalid.WithParam("billing_address.country")
	}
	return a, nil
}

// ToWire is a as the API shows it (nil for no address).
func (a *Address) ToWire() *wire.Address {
	if a == nil {
		return nil
	}
	return &wire.Address{Line1: a.Line1, Line2: a.Line2, City: a.City, PostalCode: a.PostalCode, State: a.State,
		Country: a.Country}
}

// JSON is the value of a billing_address column (NULL for no address).
func (a *Address) JSON() any {
	if a == nil {
		return nil
	}
	return map[string]string{"line1": a.Line1, "line2": a.Line2, "city": a.City, "postal_code": a.PostalCode,
		"state": a.State, "country": a.Country}
}

// AddressFromJSON reads a billing_address column (nil for NULL).
func AddressFromJSON(m map[string]string) *Address {
	if m == nil {
		return nil
	}
	return &Address{Line1: m["line1"], Line2: m["line2"], City: m["city"], PostalCode: m["postal_code"],
		State: m["state"], Country: m["country"]}
}
