package notify

import (
	"testing"
	"time"

	"github.com/paylink/paylink/internal/money"
)

var benchPayment = Payment{ID: "pay_01JEXAMPLE", Amount: money.Amount{Minor: 1250, Currency: money.USD}, MethodType: "card",
	Brand: "visa", Last4: "4242", CustomerEmail: "ada@example.test", CustomerName: "Ada Lovelace",
	CreatedAt: time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)}

// BenchmarkReceipt composes a receipt (its subject and text rendered, its
// HTML part kept as data), as the worker does for every succeeded payment
// with a customer e-mail.
func BenchmarkReceipt(b *testing.B) {
	for b.Loop() {
		if _, ok := Receipt(benchPayment, "Tea Shop"); !ok {
			b.Fatal("no receipt")
		}
	}
}

// BenchmarkReceiptRendered renders a composed receipt's HTML part, as the
// sender does when it sends it.
func BenchmarkReceiptRendered(b *testing.B) {
	e, _ := Receipt(benchPayment, "Tea Shop")
	for b.Loop() {
		if r, err := e.Rendered(); err != nil || r.HTML == "" {
			b.Fatal(err)
		}
	}
}
