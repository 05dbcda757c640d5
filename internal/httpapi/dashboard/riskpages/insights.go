package riskpages

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/riskstats"
	"github.com/paylink/paylink/internal/wire"
)

// segment is one outcome's part of a day's bar, in the SVG's coordinates.
type segment struct {
	X, Y, W, H int
	Fill       string // the outcome's colour
	Label      string // for people: "2026-12-05: 3 allowed"
}

// chart is the outcomes per day of the window, stacked bars drawn by the
// template.
type chart struct {
	Segments    []segment
	Max         int64
	Width, Base int
}

type insightsData struct {
	Insights wire.RiskInsights
	Days     int
	Windows  []int
	Chart    *chart
	Reasons  []dashboard.Reason
}

// Chart geometry, in SVG user units.
const (
	chartWidth  = 630
	chartHeight = 160
)

// insights shows GET /v1/risk/insights's numbers for 7, 30 or 90 days
// and the outcomes per day.
func (s *Pages) insights(c *gin.Context, v *dashboard.Visit) {
	ctx := c.Request.Context()
	days := 30
	switch c.Query("days") {
	case "7":
		days = 7
	case "90":
		days = 90
	}
	now := s.Now().UTC()
	in, err := riskstats.Insights(ctx, s.DB.Pool, v.Merchant.ID, days, now)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	daily, err := riskstats.OutcomesByDay(ctx, s.DB.Pool, v.Merchant.ID, days, now)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d := insightsData{Insights: in, Days: days, Windows: []int{7, 30, 90}, Chart: drawChart(daily)}
	for _, r := range in.TopReasons {
		d.Reasons = append(d.Reasons, dashboard.ReasonOf(r.Reason))
	}
	s.render(c, http.StatusOK, "insights", v, d)
}

// drawChart stacks each day's outcomes (allow at the bottom, block on
// top), one bar per day of daily; nil when nothing was screened.
func drawChart(daily []riskstats.DayOutcomes) *chart {
	ch := &chart{Width: chartWidth, Base: chartHeight}
	for _, d := range daily {
		ch.Max = max(ch.Max, d.Allow+d.Review+d.Challenge+d.Block)
	}
	if ch.Max == 0 {
		return nil
	}
	days := len(daily)
	w := chartWidth / days
	for i, d := range daily {
		day := d.Day.Format("2006-01-02")
		y := chartHeight
		for _, part := range []struct {
			n          int64
			fill, verb string
		}{{d.Allow, "#2e7d32", "allowed"}, {d.Review, "#b7791f", "reviewed"}, {d.Challenge, "#3b4fd8", "challenged"},
			{d.Block, "#c62828", "blocked"}} {
			if part.n == 0 {
				continue
			}
			h := max(int(part.n*(chartHeight-10)/ch.Max), 2)
			y -= h
			ch.Segments = append(ch.Segments, segment{X: i*w + 1, Y: y, W: max(w-2, 1), H: h, Fill: part.fill,
				Label: day + ": " + strconv.FormatInt(part.n, 10) + " " + part.verb})
		}
	}
	return ch
}
