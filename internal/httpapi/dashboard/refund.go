package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/money"
)

// refundInput reads a refund's amount (major units; empty: everything
// left) and reason from form for payment p.
func refundInput(form url.Values, p *checkout.Payment) (checkout.NewRefund, error) {
	nr := checkout.NewRefund{Reason: form.Get("reason")}
	if raw := strings.TrimSpace(form.Get("amount")); raw != "" {
		n, err := money.ParseMajor(raw, p.Amount.Currency, "amount")
		if err != nil {
			return nr, err
		}
		nr.Amount = &n
	}
	return nr, nil
}

// refundAgain renders the payment page with the refund form's error next
// to its field.
func (s *Server) refundAgain(c *gin.Context, v *Visit, d *paymentData, form url.Values, err error) {
	status, errs := s.Failed(c, err)
	d.Errors, d.Amount, d.Reason = errs, form.Get("amount"), form.Get("reason")
	s.render(c, status, "payment", v, "payments", d)
}

type refundConfirmData struct {
	Payment *checkout.Payment
	Amount  int64  // minor units to refund
	Typed   string // the amount as typed, sent on
	Reason  string
}

// refundConfirm is the confirmation step before money moves: the refund
// form GETs here, and only this page's form POSTs the refund. A refund
// that cannot be made (more than is left, say) is refused here already,
// with the API's message, though the POST checks again.
func (s *Server) refundConfirm(c *gin.Context, v *Visit) {
	d, err := s.loadPayment(c, v, c.Param("id"))
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	q := c.Request.URL.Query()
	nr, err := refundInput(q, d.Payment)
	if err == nil {
		err = checkout.CheckRefund(d.Payment, nr)
	}
	if err != nil {
		s.refundAgain(c, v, d, q, err)
		return
	}
	amount := d.Refundable
	if nr.Amount != nil {
		amount = *nr.Amount
	}
	s.render(c, http.StatusOK, "refund-confirm", v, "payments",
		refundConfirmData{Payment: d.Payment, Amount: amount, Typed: q.Get("amount"), Reason: nr.Reason})
}

// refund makes the refund with checkout.RefundFor (the API's refund),
// once per form (its Idempotency-Key), then asks the processor as the
// API does, and shows the payment.
func (s *Server) refund(c *gin.Context, v *Visit, form url.Values) {
	d, err := s.loadPayment(c, v, c.Param("id"))
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	nr, err := refundInput(form, d.Payment)
	if err != nil {
		s.refundAgain(c, v, d, form, err)
		return
	}
	var (
		made *checkout.Refund
		paid *checkout.Payment
	)
	_, body, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		r, p, err := s.Checkout.RefundFor(ctx, tx, v.Merchant.ID, d.Payment.ID, nr)
		if err != nil {
			return 0, nil, err
		}
		made, paid = r, p
		return http.StatusCreated, checkout.RefundToWire(r), nil
	})
	if err != nil {
		s.refundAgain(c, v, d, form, err)
		return
	}
	if made != nil {
		ctx := context.WithoutCancel(c.Request.Context())
		if err := s.Checkout.SendRefund(ctx, s.DB, made, paid.ProcessorRef); err != nil {
			s.Log.WarnContext(ctx, "refund left for the settle sweep", "refund", made.ID, "err", err)
		}
	}
	var r struct{ ID string }
	_ = json.Unmarshal(body, &r)
	c.Redirect(http.StatusSeeOther, "/dashboard/payments/"+d.Payment.ID+"?refunded="+url.QueryEscape(r.ID))
}
