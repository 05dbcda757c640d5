package money

import "testing"

// Amounts typed in a form are read in the currency's own unit: two
// decimals for USD, none for JPY, three for BHD-like currencies.
func TestParseMajor(t *testing.T) {
	for _, c := range []struct {
		in   string
		cur  Currency
		want int64
		ok   bool
	}{
		{"12.50", "USD", 1250, true},
		{"12.5", "USD", 1250, true},
		{"1,234", "USD", 123400, true},
		{"1,234,567.89", "USD", 123456789, true},
		{"2,500", "JPY", 2500, true},
		{"12,50", "EUR", 0, false}, // a decimal comma, never 1,250.00
		{"1,00", "USD", 0, false},
		{"1,2345", "USD", 0, false},
		{"1234,567", "USD", 0, false},
		{",123", "USD", 0, false},
		{"1,,234", "USD", 0, false},
		{"1,234,", "USD", 0, false},
		{"1.234,50", "EUR", 0, false},
		{" 7 ", "EUR", 700, true},
		{"2500", "JPY", 2500, true},
		{"25.00", "JPY", 0, false}, // JPY has no minor unit
		{"12.505", "USD", 0, false},
		{"-1", "USD", 0, false},
		{"1e3", "USD", 0, false},
		{"", "USD", 0, false},
		{".5", "USD", 0, false},
		{"5.", "USD", 0, false},
		{"9999999999999", "USD", 0, false},
	} {
		got, err := ParseMajor(c.in, c.cur, "amount")
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseMajor(%q, %s) = %d, %v; want %d, ok=%v", c.in, c.cur, got, err, c.want, c.ok)
		}
	}
}
