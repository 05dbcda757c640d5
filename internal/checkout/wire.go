package checkout

import (
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/checkout/contact"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/wire"
)

// ToWire returns p as the API shows it.
func ToWire(p *Payment) wire.Payment {
	w := wire.Payment{
		ID: p.ID, Amount: p.Amount.Minor, Currency: string(p.Amount.Currency), Status: string(p.Status),
		AmountRefunded: p.AmountRefunded, PaymentLink: wire.OrNil(p.LinkID),
		PaymentForm: wire.OrNil(p.FormID), Reference: wire.OrNil(p.Reference), Realm: wire.OrNil(p.Realm),
		PaymentMethod: wire.PaymentMethod{Type: p.Method},
		Customer: wire.Customer{Email: p.Customer.Email, Name: p.Customer.Name, Phone: wire.OrNil(p.Customer.Phone),
			Address: p.Customer.Address.ToWire()},
		CreatedAt: wire.Time(p.CreatedAt), Metadata: p.Metadata,
	}
	if w.Metadata == nil {
		w.Metadata = map[string]string{}
	}
	if p.Card.Last4 != "" {
		brand, last4, m, y := string(p.Card.Brand), p.Card.Last4, p.Card.ExpMonth, p.Card.ExpYear
		w.PaymentMethod.Brand, w.PaymentMethod.Last4 = &brand, &last4
		w.PaymentMethod.ExpMonth, w.PaymentMethod.ExpYear = &m, &y
	}
	if p.FailureCode != "" {
		code, msg := p.FailureCode, processor.Message(p.FailureCode)
		w.FailureCode, w.FailureMessage = &code, &msg
	}
	if p.Card.Fingerprint != "" {
		w.PaymentMethod.Fingerprint = wire.Shown(&p.Card.Fingerprint)
	}
	if d := p.Risk; d != nil {
		reasons := d.Reasons
		if reasons == nil {
			reasons = []string{}
		}
		w.Risk = wire.Shown(&wire.Risk{Score: d.Score, Level: d.Level, Outcome: d.Outcome, Reasons: reasons,
			Rule: wire.OrNil(d.Rule)})
	}
	w.Review = wire.Shown(wire.OrNil(p.ReviewID))
	return w
}

// RefundToWire returns r as the API shows it.
func RefundToWire(r *Refund) wire.Refund {
	return wire.Refund{ID: r.ID, Payment: r.PaymentID, Amount: r.Amount.Minor, Currency: string(r.Amount.Currency),
		Status: r.Status, Reason: wire.OrNil(r.Reason), CreatedAt: wire.Time(r.CreatedAt)}
}

// ScanPayment reads a row of PaymentRows, for package payments, which
// finds payments with filters of its own.
func ScanPayment(r pgx.Row) (*Payment, error) { return scanPayment(r) }

func scanPayment(r pgx.Row) (*Payment, error) {
	var (
		p             Payment
		cur, st, brnd string
		addr          map[string]string
		score         *int16
		d             risk.Decision
	)
	err := r.Scan(&p.ID, &p.MerchantID, &p.LinkID, &p.SingleUse, &p.Amount.Minor, &cur, &st, &p.AmountRefunded,
		&p.FailureCode, &p.Customer.Email, &p.Customer.Name, &p.Method, &brnd, &p.Card.Last4, &p.Card.ExpMonth,
		&p.Card.ExpYear, &p.Card.Fingerprint, &p.ProcessorRef, &p.ChallengeOutcome, &p.CreatedAt, &p.UpdatedAt,
		&p.Metadata, &p.FormID, &p.Reference, &p.Customer.Phone, &addr, &p.Realm, &score, &d.Level, &d.Outcome,
		&d.Reasons, &d.Rule, &d.Model, &p.ReviewID)
	if err != nil {
		return nil, err
	}
	if score != nil {
		d.Score = int(*score)
		p.Risk = &d
	}
	p.Customer.Address = contact.AddressFromJSON(addr)
	p.Amount.Currency, p.Status, p.Card.Brand = money.Currency(cur), Status(st), processor.Brand(brnd)
	return &p, nil
}
