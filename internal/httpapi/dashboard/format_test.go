package dashboard

import "testing"

// Amounts are shown as their currency writes them, and a form's value
// repeats them in major units.
func TestFormats(t *testing.T) {
	format := funcs["money"].(func(int64, any) string)
	major := funcs["major"].(func(int64, any) string)
	for _, c := range []struct {
		minor int64
		cur   string
		want  string
		major string
	}{
		{2500, "USD", "$25.00", "25.00"},
		{2500, "JPY", "¥2,500", "2500"},
		{123456, "INR", "₹1,234.56", "1234.56"},
		{5, "EUR", "€0.05", "0.05"},
	} {
		if got := format(c.minor, c.cur); got != c.want {
			t.Errorf("money(%d, %s) = %q, want %q", c.minor, c.cur, got, c.want)
		}
		if got := major(c.minor, c.cur); got != c.major {
			t.Errorf("major(%d, %s) = %q, want %q", c.minor, c.cur, got, c.major)
		}
	}
}
