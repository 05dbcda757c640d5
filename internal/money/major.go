package money

import (
	"strconv"
	"strings"

	"github.com/paylink/paylink/internal/apperr"
)

// FormatMajor writes minor units of currency as a plain decimal in major
// units ("1234.50"), for a form's value.
func FormatMajor(minor int64, currency Currency) string {
	exp, _ := Exponent(currency)
	s := strconv.FormatInt(minor, 10)
	if exp == 0 {
		return s
	}
	for len(s) <= exp {
		s = "0" + s
	}
	return s[:len(s)-exp] + "." + s[len(s)-exp:]
}

// errAmountInput is the error of an amount field that is not a decimal
// number in the currency's units.
func errAmountInput(param string, exp int) *apperr.Error {
	msg := "Enter the amount as a number, like 12.50."
	if exp == 0 {
		msg = "Enter the amount as a whole number; this currency has no minor unit."
	}
	return &apperr.Error{Kind: apperr.Invalid, Code: "amount_invalid", Param: param, Message: msg}
}

// ParseMajor reads an amount typed in major units ("12.5", "1,234.50")
// into minor units of currency, naming param in its error. A comma is
// only a thousands separator: "12,50", a decimal comma, is refused rather
// than read as 1,250.
func ParseMajor(raw string, currency Currency, param string) (int64, error) {
	exp, ok := Exponent(currency)
	if !ok {
		return 0, errAmountInput(param, 2)
	}
	whole, frac, hasFrac := strings.Cut(strings.TrimSpace(raw), ".")
	if groups := strings.Split(whole, ","); len(groups) > 1 {
		if len(groups[0]) < 1 || len(groups[0]) > 3 {
			return 0, errAmountInput(param, exp)
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return 0, errAmountInput(param, exp)
			}
		}
		whole = strings.Join(groups, "")
	}
	if whole == "" || len(frac) > exp || (hasFrac && frac == "") || len(whole) > 12 {
		return 0, errAmountInput(param, exp)
	}
	frac += strings.Repeat("0", exp-len(frac))
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, errAmountInput(param, exp)
		}
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, errAmountInput(param, exp)
	}
	return n, nil
}
