package money

import (
	"strconv"
	"strings"
)

// symbols are the prefixes people expect for common currencies; others
// are written with their code ("CHF 12.50").
var symbols = map[Currency]string{
	"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "AUD": "A$", "CAD": "CA$",
	"CNY": "CN¥", "KRW": "₩", "NZD": "NZ$", "HKD": "HK$", "SGD": "S$", "MXN": "MX$", "BRL": "R$",
}

// String formats a for people: "$25.00", "€1,234.50", "¥2,500",
// "₹1,23,456.00" (Indian grouping), "BHD 1.234", "-$5.00".
func (a Amount) String() string {
	exp, ok := exponents[a.Currency]
	if !ok {
		return strconv.FormatInt(a.Minor, 10) + " " + string(a.Currency)
	}
	neg := a.Minor < 0
	// Work in uint64 so the most negative int64 still formats.
	u := uint64(a.Minor)
	if neg {
		u = -u
	}
	digits := strconv.FormatUint(u, 10)
	if len(digits) <= exp {
		digits = strings.Repeat("0", exp-len(digits)+1) + digits
	}
	whole, frac := digits[:len(digits)-exp], digits[len(digits)-exp:]
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if sym, ok := symbols[a.Currency]; ok {
		b.WriteString(sym)
	} else {
		b.WriteString(string(a.Currency) + " ")
	}
	b.WriteString(group(whole, a.Currency == INR))
	if exp > 0 {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// group inserts thousands separators: 1,234,567, or with Indian grouping
// 12,34,567 (the last three digits, then pairs).
func group(whole string, indian bool) string {
	if len(whole) <= 3 {
		return whole
	}
	head, tail := whole[:len(whole)-3], whole[len(whole)-3:]
	size := 3
	if indian {
		size = 2
	}
	var parts []string
	for len(head) > size {
		parts = append([]string{head[len(head)-size:]}, parts...)
		head = head[:len(head)-size]
	}
	parts = append([]string{head}, parts...)
	return strings.Join(append(parts, tail), ",")
}
