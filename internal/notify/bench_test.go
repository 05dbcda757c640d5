package notify

import (
	"testing"
	"time"

	"github.com/paylink/paylink/internal/money"
)

// BenchmarkReceipt renders a receipt, as the worker does for every
// succeeded payment with a customer e-mail.
func BenchmarkReceipt(b *testing.B) {
	p := Payment{ID: "pay_01JEXAMPLE", Amount: money.Amount{Minor: 1250, Currency: money.USD}, MethodType: "card",
		Brand: "visa", Last4: "4242", CustomerEmail: "ada@example.test", CustomerName: "Ada Lovelace",
		CreatedAt: time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)}
	for b.Loop() {
		if _, ok := Receipt(p, "Tea Shop"); !ok {
			b.Fatal("no receipt")
		}
	}
}
