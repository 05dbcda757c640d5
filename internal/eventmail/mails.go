package eventmail

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/webhook"
)

// batch is the e-mails a batch of events brings, queued together once
// all are derived.
type batch []notify.ShopperEmail

// emails adds to b the e-mails event ev of merchant m brings (see
// paymentEmails, refundEmail and reviewEmail); tx is for reading.
func (s *Service) emails(ctx context.Context, tx pgx.Tx, b *batch, ev *webhook.Event, m *merchant.Merchant) error {
	switch ev.Type {
	case webhook.RefundSucceeded:
		return s.refundEmail(ctx, tx, b, ev, m)
	case webhook.ReviewOpened, webhook.ReviewClosed:
		return s.reviewEmail(ctx, tx, b, ev, m)
	}
	s.paymentEmails(ctx, tx, b, ev, m)
	return nil
}

// paymentEmails adds the e-mails a payment event brings, each at most
// once per status change (a dedupe key per payment, or per refund), the
// shopper's within Config.ShopperEmails:
//   - payment.succeeded: a receipt to the shopper;
//   - payment.failed: why, to the shopper, with a link to try again while
//     the link takes payments;
//   - refund.succeeded: the amount and what is left, to the shopper;
//   - and, for an event in the merchant's notify_on, the merchant's
//     e-mail (merchantEmail).
//
// An event whose data is not what its type says gets none: it cannot
// become readable later, and it must not hold back the events behind it.
func (s *Service) paymentEmails(ctx context.Context, tx pgx.Tx, b *batch, ev *webhook.Event, m *merchant.Merchant) {
	p, err := notify.ParsePayment(ev.Data)
	if err != nil {
		return
	}
	var (
		shopper notify.Email
		ok      bool
		key     string
	)
	if (ev.Type == webhook.PaymentFailed || ev.Type == webhook.PaymentSucceeded) && p.CustomerEmail != "" &&
		p.PaymentLink != "" && s.cfg.Describe != nil {
		p.Description = s.cfg.Describe(ctx, tx, m.ID, p.PaymentLink)
	}
	switch ev.Type {
	case webhook.PaymentFailed:
		retry := ""
		if s.cfg.RetryURL != nil && p.PaymentLink != "" {
			retry = s.cfg.RetryURL(ctx, tx, m.ID, p.PaymentLink)
		}
		shopper, ok = notify.Failed(p, m.Name, retry)
		key = "payment_failed:" + p.ID
	case webhook.PaymentSucceeded:
		if p.CustomerEmail != "" && p.PaymentLink != "" && s.cfg.ReceiptURL != nil {
			p.ReceiptURL = s.cfg.ReceiptURL(ctx, tx, m.ID, p.PaymentLink, p.ID)
		}
		shopper, ok = notify.Receipt(p, m.Name)
		key = "receipt:" + p.ID
	}
	if ok {
		*b = append(*b, notify.ShopperEmail{Key: key, MerchantID: m.ID, Email: shopper, Limits: s.cfg.ShopperEmails})
	}
	s.merchantEmail(b, ev, p, m)
}

// merchantEmail adds the merchant's e-mail about payment event ev when
// its type is in the merchant's notify_on, once per status change: the
// key names the event type, the payment and, for a refund, the amount
// refunded so far, which each refund raises.
func (s *Service) merchantEmail(b *batch, ev *webhook.Event, p notify.Payment, m *merchant.Merchant) {
	if !slices.Contains(m.Settings.NotifyOn, ev.Type) {
		return
	}
	key := "notify:" + ev.Type + ":" + p.ID
	if ev.Type == webhook.PaymentRefunded {
		key += ":" + strconv.FormatInt(p.AmountRefunded, 10)
	}
	s.toMerchant(b, m, key, notify.MerchantNotice(ev.Type, p, m.Name, m.Settings.NotificationEmail))
}

// toMerchant adds e, addressed to m's notification e-mail, once under
// key and the address, so a retried batch, a second worker or the same
// change reported twice sends nothing more, while a change of address
// mails the new one. The sign-up e-mail is the merchant's own (no other
// merchant can have it), so e-mails to it are not limited, as before
// notify_on. Any other address is one the merchant typed, unverified,
// like a shopper's: anyone could sign up, point it at a stranger and pay
// their own links, so it is under the per-recipient limit of the shopper
// e-mails (not the per-merchant one, which stays the shoppers').
func (s *Service) toMerchant(b *batch, m *merchant.Merchant, key string, e notify.Email) {
	var lim notify.ShopperLimits
	if !strings.EqualFold(e.To, m.Email) {
		lim.PerRecipient = s.cfg.ShopperEmails.PerRecipient
	}
	*b = append(*b, notify.ShopperEmail{Key: key + ":" + strings.ToLower(e.To), MerchantID: m.ID, Email: e, Limits: lim})
}

// reviewEmail adds the merchant's e-mail about review event ev when its
// type is in the merchant's notify_on, once per review and event type
// (a review opens and closes once), with the reviewed payment as its
// payment event showed it and, when the platform's URL is known, links
// to the dashboard's reviews and the payment. A review whose data or
// payment cannot be read gets none, as a payment event would.
func (s *Service) reviewEmail(ctx context.Context, tx pgx.Tx, b *batch, ev *webhook.Event, m *merchant.Merchant) error {
	if !slices.Contains(m.Settings.NotifyOn, ev.Type) {
		return nil
	}
	r, err := notify.ParseReview(ev.Data)
	if err != nil {
		return nil
	}
	data, err := webhook.ReviewedPayment(ctx, tx, ev, r.Payment)
	if err != nil || data == nil {
		return err
	}
	p, err := notify.ParsePayment(data)
	if err != nil {
		return nil
	}
	var links notify.ReviewLinks
	if s.cfg.BaseURL != nil {
		links.Queue = s.cfg.BaseURL.JoinPath("dashboard", "reviews").String()
		links.Payment = s.cfg.BaseURL.JoinPath("dashboard", "payments", p.ID).String()
	}
	e := notify.ReviewNotice(ev.Type, r, p, m.Name, m.Settings.NotificationEmail, links)
	s.toMerchant(b, m, "notify:"+ev.Type+":"+r.ID, e)
	return nil
}

// refundEmail adds the shopper's e-mail of a refund.succeeded event.
func (s *Service) refundEmail(ctx context.Context, tx pgx.Tx, b *batch, ev *webhook.Event, m *merchant.Merchant) error {
	var r struct {
		ID       string `json:"id"`
		Payment  string `json:"payment"`
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
	}
	if json.Unmarshal(ev.Data, &r) != nil || r.ID == "" || r.Payment == "" {
		return nil
	}
	data, err := webhook.RefundedPayment(ctx, tx, ev, r.Payment)
	if err != nil || data == nil {
		return err
	}
	p, err := notify.ParsePayment(data)
	if err != nil {
		return nil
	}
	e, ok := notify.Refunded(p, money.Amount{Minor: r.Amount, Currency: p.Amount.Currency}, m.Name)
	if !ok {
		return nil
	}
	*b = append(*b, notify.ShopperEmail{Key: "refund:" + r.ID, MerchantID: m.ID, Email: e, Limits: s.cfg.ShopperEmails})
	return nil
}
