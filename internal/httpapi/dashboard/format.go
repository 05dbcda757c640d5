package dashboard

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/money"
)

// funcs are the functions the dashboard's templates call.
var funcs = template.FuncMap{
	// money formats minor units of a currency for people: "$25.00".
	"money": func(minor int64, currency any) string {
		return money.Amount{Minor: minor, Currency: money.Currency(fmt.Sprint(currency))}.String()
	},
	// major writes minor units as the decimal a form field takes: "25.00".
	"major": FormatMajor,
	// when is a time as the <time> element's datetime (the browser's
	// script shows it in the merchant's time zone).
	"when": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	// whenText is the time shown until the script localises it.
	"whenText": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	// idemKey is a fresh Idempotency-Key for the form being rendered.
	"idemKey": newIdempotencyKey,
	// ms is a latency in whole milliseconds.
	"ms": func(d time.Duration) string {
		if d < time.Millisecond {
			return "<1 ms"
		}
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	},
	// reason is a risk reason name in plain words (ReasonOf).
	"reason": ReasonOf,
	"count":  Count,
	"pct": func(n, of int64) string {
		if of == 0 {
			return "—"
		}
		return strconv.FormatFloat(float64(n)*100/float64(of), 'f', 1, 64) + "%"
	},
}

// Count is n and the noun, singular for one: "1 payment", "3 payments".
func Count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// FormatMajor writes minor units of currency as a plain decimal in major
// units ("1234.50"), for a form's value.
func FormatMajor(minor int64, currency any) string {
	exp, _ := money.Exponent(money.Currency(fmt.Sprint(currency)))
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
func ParseMajor(raw string, currency money.Currency, param string) (int64, error) {
	exp, ok := money.Exponent(currency)
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
