package merchantapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/payments"
)

type refundRequest struct {
	Amount json.RawMessage `json:"amount"`
	Reason string          `json:"reason"`
}

// createRefund commits the refund, then asks the processor at once; if
// that fails the refund stays committed and the settle sweep sends it.
func (s *Server) createRefund(c *gin.Context) error {
	var in refundRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	nr := checkout.NewRefund{Reason: in.Reason}
	if len(in.Amount) > 0 && string(in.Amount) != "null" {
		n, err := money.ParseMinor(string(in.Amount))
		if err != nil {
			return err
		}
		nr.Amount = &n
	}
	m := CurrentMerchant(c)
	var (
		made *checkout.Refund
		paid *checkout.Payment
	)
	err := s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		r, p, err := s.checkout.RefundFor(ctx, tx, m.ID, c.Param("id"), nr)
		if err != nil {
			return 0, nil, err
		}
		made, paid = r, p
		return http.StatusCreated, checkout.RefundToWire(r), nil
	})
	if err != nil || made == nil {
		return err
	}
	ctx := context.WithoutCancel(c.Request.Context())
	if err := s.checkout.SendRefund(ctx, s.db, made, paid.ProcessorRef); err != nil {
		s.log.WarnContext(ctx, "refund left for the settle sweep", "refund", made.ID, "err", err, "request_id", edge.RequestID(c))
	}
	return nil
}

// listRefunds is GET /v1/refunds: every refund, or one payment's
// (?payment=pay_…), newest first.
func (s *Server) listRefunds(c *gin.Context) error {
	p, err := edge.ParseList(c, "re", "payment")
	if err != nil {
		return err
	}
	payID, err := payments.ParsePaymentFilter(c.Query("payment"))
	if err != nil {
		return err
	}
	list, more, err := payments.ListRefunds(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, payID, p.Limit, p.StartingAfter)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(list, more, checkout.RefundToWire))
	return nil
}

func (s *Server) getRefund(c *gin.Context) error {
	r, err := payments.GetRefund(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, checkout.RefundToWire(r))
	return nil
}

// listPaymentRefunds is GET /v1/payments/{id}/refunds: 404 for a payment
// the merchant does not have, else its refunds, newest first.
func (s *Server) listPaymentRefunds(c *gin.Context) error {
	p, err := edge.ParseList(c, "re")
	if err != nil {
		return err
	}
	list, more, err := payments.PaymentRefunds(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, c.Param("id"), p.Limit, p.StartingAfter)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(list, more, checkout.RefundToWire))
	return nil
}
