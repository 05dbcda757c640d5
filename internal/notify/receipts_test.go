package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/money"
)

func TestParsePayment(t *testing.T) {
	p, err := ParsePayment([]byte(`{"id":"pay_1","amount":123456,"currency":"inr","payment_link":{"id":"plink_9"},
		"payment_method":{"type":"wallet"},"customer":{"email":" a@b.test ","name":""},"created_at":"2026-01-02T03:04:05Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Amount.String() != "₹1,234.56" || p.PaymentLink != "plink_9" || p.CustomerEmail != "a@b.test" ||
		p.MethodType != "wallet" || !p.CreatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("ParsePayment = %+v", p)
	}
	for _, bad := range []string{`{"id":"plink_1","status":"active"}`, `[]`, `{"id":"pay_1","amount":0,"currency":"USD"}`} {
		if _, err := ParsePayment([]byte(bad)); err == nil {
			t.Errorf("ParsePayment(%s) succeeded", bad)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"card 4242424242424242 here", "card •••• 4242 here"},
		{"4000-0000-0000-0002", "•••• 0002"},
		{"3782 822463 10005", "•••• 0005"},
		{"order 1234567890123", "order 1234567890123"}, // fails Luhn: not a card
		{"pay_0123456789012345678", "pay_0123456789012345678"},
		{"$1,234.50 on 2 January 2026", "$1,234.50 on 2 January 2026"},
		{"4242 4242 4242 424", "•••• 2424"},
		{"1234 5678 9012 3456", "1234 5678 9012 3456"},  // fails Luhn
		{"x4242--4242424242424242", "x4242--•••• 4242"}, // two dashes end a run
		{"call 4242424242424242.", "call •••• 4242."},
	}
	for _, tc := range tests {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestHasDigitRun(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"12345678901", false}, {"123456789012", true}, {"1234 5678-9012", true},
		{"1234  5678 9012", false}, {"1234--56789012", false}, {"- 123456789012", true},
		{"#ff0000 width 600 1.5", false}, {"", false},
	} {
		if got := hasDigitRun(tc.in, 12); got != tc.want {
			t.Errorf("hasDigitRun(%q, 12) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestReceipt(t *testing.T) {
	p := Payment{ID: "pay_1", Amount: money.Amount{Minor: 2500, Currency: money.JPY}, MethodType: "card",
		Brand: "amex", Last4: "0005", CustomerEmail: "ada@example.test", CustomerName: "Ada"}
	r, ok := Receipt(p, "Tokyo Tea")
	if !ok || r.To != "ada@example.test" || !strings.Contains(r.Text, "¥2,500") ||
		!strings.Contains(r.Text, "American Express ending in 0005") || !strings.Contains(r.Subject, "Tokyo Tea") {
		t.Fatalf("Receipt = %+v, %v", r, ok)
	}
	p.CustomerEmail = ""
	if _, ok := Receipt(p, "Tokyo Tea"); ok {
		t.Fatal("a receipt without a customer e-mail")
	}
	p.MethodType = "wallet"
	if m := MerchantNotice("payment.succeeded", p, "Tokyo Tea", "ops@tea.test"); m.To != "ops@tea.test" || !strings.Contains(m.Text, "Paylink wallet") {
		t.Fatalf("MerchantNotice = %+v", m)
	}
}

func TestQuoteNameCannotLeaveItsQuotes(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Tokyo Tea", "“Tokyo Tea”"},
		{"Acme”. Paylink says: \"pay\"", "“Acme'. Paylink says: 'pay'”"},
		{"Line\r\nbreak\u2028and\u202ebidi\u200b", "“Line break and bidi”"},
	} {
		if got := QuoteName(tt.in); got != tt.want {
			t.Errorf("QuoteName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	p := Payment{ID: "pay_1", Amount: money.Amount{Minor: 100, Currency: money.USD}, CustomerEmail: "a@example.test",
		CustomerName: "Eve\nPaylink: your account is locked"}
	r, _ := Receipt(p, "Shop\nPaylink Security")
	lines := strings.Split(r.Text, "\n")
	if lines[0] != "Paylink sent this receipt on behalf of the merchant “Shop Paylink Security”." {
		t.Fatalf("first line = %q", lines[0])
	}
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "Paylink") {
			t.Errorf("line %q starts like Paylink's own", l)
		}
	}
}

// TestMerchantNoticeLinesUpItsLabels: the plain-text notice's card line
// reads "Paid with:" (not "Paid with :") and its value starts in the
// column of the other lines' values.
func TestMerchantNoticeLinesUpItsLabels(t *testing.T) {
	t.Parallel()
	p := Payment{ID: "pay_1", Amount: money.Amount{Minor: 2500, Currency: money.USD}, MethodType: "card",
		Brand: "visa", Last4: "4242", CustomerEmail: "ada@example.test", CustomerName: "Ada", PaymentLink: "plink_1"}
	for ev, line := range map[string]string{
		"payment.succeeded": "  Paid with:    Visa ending in 4242\n",
		"payment.failed":    "  Tried with:   Visa ending in 4242\n",
		"payment.refunded":  "  Paid with:    Visa ending in 4242\n",
	} {
		text := MerchantNotice(ev, p, "Tokyo Tea", "ops@tea.test").Text
		if !strings.Contains(text, line) || !strings.Contains(text, "  Payment:      pay_1\n") {
			t.Errorf("%s: no line %q in\n%s", ev, line, text)
		}
	}
}
