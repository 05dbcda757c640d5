package dashboard

import (
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/paylink/paylink/internal/money"
)

// funcs are the functions the dashboard's templates call.
var funcs = template.FuncMap{
	// money formats minor units of a currency for people: "$25.00".
	"money": func(minor int64, currency any) string {
		return money.Amount{Minor: minor, Currency: money.Currency(fmt.Sprint(currency))}.String()
	},
	// major writes minor units as the decimal a form field takes: "25.00".
	"major": func(minor int64, currency any) string {
		return money.FormatMajor(minor, money.Currency(fmt.Sprint(currency)))
	},
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
