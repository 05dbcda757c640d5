package riskpages

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/payments"
	"github.com/paylink/paylink/internal/riskreview"
)

// reviewRow is one review of the queue with its payment.
type reviewRow struct {
	Review  *riskreview.Item
	Payment *checkout.Payment
	Age     string
}

type reviewsData struct {
	Status   string // "open" or "closed"
	Rows     []reviewRow
	Next     string
	Approved string // the review just approved
}

// reviews is the review queue: open reviews (or closed ones with
// ?status=closed), newest first, each with its payment, amount, reason
// and age, and the approve and refund actions.
func (s *Pages) reviews(c *gin.Context, v *dashboard.Visit) {
	ctx := c.Request.Context()
	d := reviewsData{Status: "open"}
	if c.Query("status") == "closed" {
		d.Status = "closed"
	}
	if a := c.Query("approved"); id.Valid("rev", a) {
		d.Approved = a
	}
	after := dashboard.StartingAfter(c, "rev")
	rs, more, err := riskreview.List(ctx, s.DB.Pool, v.Merchant.ID, d.Status, after, dashboard.PageSize)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	if more {
		d.Next = dashboard.WithQuery("/dashboard/reviews", url.Values{"status": {d.Status},
			"starting_after": {rs[len(rs)-1].ID}})
	}
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.PaymentID
	}
	ps, err := payments.GetMany(ctx, s.DB.Pool, v.Merchant.ID, ids)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	now := s.Now()
	for _, r := range rs {
		p := ps[r.PaymentID]
		if p == nil {
			s.ErrorPage(c, fmt.Errorf("review %s: payment %s not found", r.ID, r.PaymentID))
			return
		}
		d.Rows = append(d.Rows, reviewRow{Review: r, Payment: p, Age: age(now.Sub(r.CreatedAt))})
	}
	s.render(c, http.StatusOK, "reviews", v, d)
}

// age is a duration for people: "just now", "5 min", "3 h", "2 days".
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days"
}

// approve closes an open review as approved with riskreview.Approve (the API's).
// Approving moves no money, so it needs no confirmation.
func (s *Pages) approve(c *gin.Context, v *dashboard.Visit, _ url.Values) {
	rid := c.Param("id")
	if !id.Valid("rev", rid) {
		s.ErrorPage(c, riskreview.ErrNotFound)
		return
	}
	_, _, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		r, err := riskreview.Approve(ctx, tx, v.Merchant.ID, rid, s.Now().UTC().Truncate(time.Microsecond))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, r.ToWire(), nil
	})
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/reviews?approved="+url.QueryEscape(rid))
}
