// Package money is Paylink's amount type: an integer count of a currency's
// minor unit plus its ISO 4217 code. There are no floats anywhere near
// money; amounts are parsed from JSON integer literals only.
package money

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/paylink/paylink/internal/apperr"
)

// MaxMinor is the largest amount the API accepts (API.md).
const MaxMinor = 99_999_999

// Errors returned when parsing.
var (
	ErrAmountInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "amount_invalid", Param: "amount",
		Message: "amount must be a whole number of the currency's minor unit from 1 to 99999999 (1999 is 19.99 USD)."}
	ErrCurrencyUnsupported = &apperr.Error{Kind: apperr.Invalid, Code: "currency_unsupported", Param: "currency",
		Message: "This currency is not supported."}
	// ErrCurrencyMismatch means two amounts of different currencies were combined.
	ErrCurrencyMismatch = errors.New("money: currency mismatch")
	// ErrOverflow means a sum left the int64 range.
	ErrOverflow = errors.New("money: overflow")
)

// Currency is an upper-case ISO 4217 code.
type Currency string

// Currencies the platform knows how to format; see also Exponent.
const (
	USD Currency = "USD"
	EUR Currency = "EUR"
	GBP Currency = "GBP"
	JPY Currency = "JPY"
	INR Currency = "INR"
	AUD Currency = "AUD"
	CAD Currency = "CAD"
	BHD Currency = "BHD"
)

// Amount is Minor units of Currency, e.g. {1999, USD} is $19.99.
type Amount struct {
	Minor    int64
	Currency Currency
}

// New returns a valid payment amount: 1 ≤ minor ≤ MaxMinor. It returns
// ErrAmountInvalid.
func New(minor int64, c Currency) (Amount, error) {
	if minor < 1 || minor > MaxMinor {
		return Amount{}, ErrAmountInvalid
	}
	return Amount{Minor: minor, Currency: c}, nil
}

// ParseMinor reads the JSON text of an amount. Only a plain integer
// literal from 1 to MaxMinor is accepted: "2500" yes; "25.00", "2.5e3",
// "\"2500\"", "-1", "0", "null" and anything larger no (ErrAmountInvalid).
func ParseMinor(raw string) (int64, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 8 || raw[0] == '0' {
		return 0, ErrAmountInvalid
	}
	var n int64
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c < '0' || c > '9' {
			return 0, ErrAmountInvalid
		}
		n = n*10 + int64(c-'0')
	}
	if n < 1 || n > MaxMinor {
		return 0, ErrAmountInvalid
	}
	return n, nil
}

// ParseOptionalMinor is ParseMinor for a field that may be left out: ""
// (not given) or "null" is nil. A bad amount is ErrAmountInvalid naming
// param.
func ParseOptionalMinor(raw, param string) (*int64, error) {
	if raw == "" || raw == "null" {
		return nil, nil
	}
	n, err := ParseMinor(raw)
	if err != nil {
		return nil, ErrAmountInvalid.WithParam(param)
	}
	return &n, nil
}

// Add returns a+b. It returns ErrCurrencyMismatch or ErrOverflow.
func (a Amount) Add(b Amount) (Amount, error) {
	if a.Currency != b.Currency {
		return Amount{}, ErrCurrencyMismatch
	}
	if (b.Minor > 0 && a.Minor > math.MaxInt64-b.Minor) || (b.Minor < 0 && a.Minor < math.MinInt64-b.Minor) {
		return Amount{}, ErrOverflow
	}
	return Amount{Minor: a.Minor + b.Minor, Currency: a.Currency}, nil
}

// Sub returns a-b. It returns ErrCurrencyMismatch or ErrOverflow.
func (a Amount) Sub(b Amount) (Amount, error) {
	if b.Minor == math.MinInt64 {
		return Amount{}, ErrOverflow
	}
	return a.Add(Amount{Minor: -b.Minor, Currency: b.Currency})
}

// exponents holds ISO 4217 minor-unit exponents. Codes not listed here are
// unknown to Paylink.
var exponents = map[Currency]int{
	"AED": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2, "CZK": 2,
	"DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "ISK": 0,
	"JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2, "MYR": 2, "NOK": 2, "NZD": 2, "OMR": 3,
	"PHP": 2, "PLN": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2,
	"UGX": 0, "USD": 2, "VND": 0, "XAF": 0, "XOF": 0, "ZAR": 2,
}

// Exponent returns the number of minor-unit digits of c (USD 2, JPY 0,
// BHD 3) and whether c is a known ISO 4217 code.
func Exponent(c Currency) (int, bool) {
	e, ok := exponents[c]
	return e, ok
}

// Set is the set of currencies the platform accepts.
type Set struct {
	m     map[Currency]bool
	first Currency
}

// DefaultAccepted is the accepted set when configuration names none.
const DefaultAccepted = "USD,EUR,GBP,JPY,INR,AUD,CAD"

// ParseSet reads a comma-separated list of ISO 4217 codes, any case. Every
// code must be known to Exponent.
func ParseSet(list string) (Set, error) {
	s := Set{m: map[Currency]bool{}}
	for _, part := range strings.Split(list, ",") {
		code := Currency(strings.ToUpper(strings.TrimSpace(part)))
		if code == "" {
			continue
		}
		if _, ok := exponents[code]; !ok {
			return Set{}, fmt.Errorf("%q is not an ISO 4217 code Paylink knows", part)
		}
		s.m[code] = true
		if s.first == "" {
			s.first = code
		}
	}
	if len(s.m) == 0 {
		return Set{}, errors.New("no currency given")
	}
	return s, nil
}

// First is the first currency the list named: the platform's main
// currency (the seed-compatible wallet routes count in it).
func (s Set) First() Currency { return s.first }

// Parse returns code upper-cased if the set accepts it, else
// ErrCurrencyUnsupported.
func (s Set) Parse(code string) (Currency, error) {
	c := Currency(strings.ToUpper(strings.TrimSpace(code)))
	if !s.m[c] {
		return "", ErrCurrencyUnsupported
	}
	return c, nil
}

// List returns the accepted codes in alphabetical order.
func (s Set) List() []Currency {
	out := make([]Currency, 0, len(s.m))
	for c := range s.m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
