package dashboard

import (
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/payments"
	"github.com/paylink/paylink/internal/paymentstats"
	"github.com/paylink/paylink/internal/webhook"
	"github.com/paylink/paylink/internal/wire"
)

// totals are the payments of a period in one currency.
type totals struct {
	Currency                 money.Currency
	Count, Succeeded, Volume int64
}

// bar is one day of the chart, in the SVG's coordinates.
type bar struct {
	X, Y, W, H int
	Label      string // for people: "2026-12-05: $25.00 in 1 payment"
}

// chart is the daily volume of the last 30 days in one currency, drawn
// as an SVG by the template.
type chart struct {
	Currency    money.Currency
	Bars        []bar
	Max         int64
	Width, Base int
}

type homeData struct {
	Balance     []wire.Money
	Today       []totals
	Month       []totals
	Chart       *chart
	Latest      []*checkout.Payment
	Challenges  []*checkout.Payment
	Failing     []*webhook.Endpoint
	HasPayments bool
}

// home is the dashboard's first page: balance per currency, today's and
// the last 30 days' payments, the daily chart, the latest payments and
// what needs the merchant's attention.
func (s *Server) home(c *gin.Context, v *Visit) {
	ctx := c.Request.Context()
	mid := v.Merchant.ID
	var d homeData
	bal, err := s.Checkout.Balance(ctx, s.DB.Pool, mid)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d.Balance = bal.Available
	now := s.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	since := today.AddDate(0, 0, -29)
	days, err := paymentstats.Days(ctx, s.DB.Pool, mid, since)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d.Today, d.Month = sum(days, today), sum(days, since)
	d.Chart = drawChart(days, since)
	if d.Latest, _, err = payments.Search(ctx, s.DB.Pool, mid, payments.Filter{}, 5, ""); err != nil {
		s.ErrorPage(c, err)
		return
	}
	d.HasPayments = len(d.Latest) > 0
	if d.Challenges, _, err = payments.Search(ctx, s.DB.Pool, mid, payments.Filter{Status: checkout.RequiresAction}, 5, ""); err != nil {
		s.ErrorPage(c, err)
		return
	}
	endpoints, _, err := s.Webhooks.ListEndpoints(ctx, s.DB.Pool, mid, 100, "")
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	for _, e := range endpoints {
		if e.Status == webhook.StatusDisabled && e.DisabledReason != "merchant" {
			d.Failing = append(d.Failing, e)
		}
	}
	s.render(c, http.StatusOK, "home", v, "home", d)
}

// sum adds up the days from from on, per currency, biggest volume first.
func sum(days []paymentstats.Day, from time.Time) []totals {
	by := map[money.Currency]*totals{}
	var out []totals
	for _, d := range days {
		if d.Date.Before(from) {
			continue
		}
		t := by[d.Currency]
		if t == nil {
			t = &totals{Currency: d.Currency}
			by[d.Currency] = t
		}
		t.Count += d.Count
		t.Succeeded += d.Succeeded
		t.Volume += d.Volume
	}
	for _, t := range by {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Volume != out[j].Volume {
			return out[i].Volume > out[j].Volume
		}
		return out[i].Currency < out[j].Currency
	})
	return out
}

// Chart geometry, in SVG user units.
const (
	chartDays   = 30
	chartWidth  = 600
	chartHeight = 160
	chartBar    = chartWidth / chartDays
)

// drawChart lays out the daily volume since since in the currency with the
// most volume; nil when nothing succeeded.
func drawChart(days []paymentstats.Day, since time.Time) *chart {
	month := sum(days, since)
	if len(month) == 0 || month[0].Volume == 0 {
		return nil
	}
	ch := &chart{Currency: month[0].Currency, Width: chartWidth, Base: chartHeight}
	vol := make([]int64, chartDays)
	for _, d := range days {
		i := int(d.Date.Sub(since) / (24 * time.Hour))
		if d.Currency == ch.Currency && i >= 0 && i < chartDays {
			vol[i] += d.Volume
			ch.Max = max(ch.Max, vol[i])
		}
	}
	for i, n := range vol {
		h := int(n * (chartHeight - 10) / ch.Max)
		if n > 0 && h < 2 {
			h = 2
		}
		day := since.AddDate(0, 0, i).Format("2006-01-02")
		ch.Bars = append(ch.Bars, bar{X: i*chartBar + 2, Y: chartHeight - h, W: chartBar - 4, H: h,
			Label: day + ": " + money.Amount{Minor: n, Currency: ch.Currency}.String()})
	}
	return ch
}
