package refundpages

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/payments"
)

type refundsData struct {
	Refunds []*checkout.Refund
	Payment string
	Errors  map[string]string
	Next    string
}

// refunds lists the merchant's refunds, newest first, as GET /v1/refunds
// does: all of them, or one payment's (?payment=pay_…).
func (s *Pages) refunds(c *gin.Context, v *dashboard.Visit) {
	d := refundsData{Payment: c.Query("payment")}
	payID, err := payments.ParsePaymentFilter(d.Payment)
	if err != nil {
		var status int
		status, d.Errors = s.Failed(c, err)
		s.render(c, status, "refunds", v, "payments", d)
		return
	}
	after := dashboard.StartingAfter(c, "re")
	list, more, err := payments.ListRefunds(c.Request.Context(), s.DB.Pool, v.Merchant.ID, payID, dashboard.PageSize, after)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d.Refunds = list
	if more {
		q := url.Values{"starting_after": {list[len(list)-1].ID}}
		if d.Payment != "" {
			q.Set("payment", d.Payment)
		}
		d.Next = dashboard.WithQuery("/dashboard/refunds", q)
	}
	s.render(c, http.StatusOK, "refunds", v, "payments", d)
}
