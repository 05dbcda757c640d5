// Package riskpages is the Risk section of the merchant dashboard: the
// screening insights with a daily chart of outcomes, the review queue,
// the rules (with a live backtest as the merchant types) and the allow
// and block lists. It acts through package risk, as the merchant API does.
package riskpages

import (
	"embed"
	"html/template"
	"io/fs"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/httpapi/edge"
)

// Pages answers the Risk section's routes, in the dashboard's layout and
// with its sessions.
type Pages struct {
	*dashboard.Server
	pages map[string]*template.Template
}

//go:embed web/templates/*.html web/static/*
var files embed.FS

//go:embed openapi/*.json
var openAPIFiles embed.FS

// OpenAPI is the section's part of the OpenAPI document (see apidoc.Build).
func OpenAPI() fs.FS { return openAPIFiles }

// New parses the section's pages and registers its script.
func New(d *dashboard.Server) (*Pages, error) {
	if err := d.Edge.Assets().Add(files, "web/static"); err != nil {
		return nil, err
	}
	pages, err := d.ParsePages(files, []string{"insights", "reviews", "rules", "lists"})
	if err != nil {
		return nil, err
	}
	return &Pages{Server: d, pages: pages}, nil
}

// Routes are the section's pages, forms and the backtest's JSON.
func (s *Pages) Routes() []edge.Route {
	get, post := dashboard.GetPage, dashboard.PostForm
	return []edge.Route{
		get("/dashboard/risk", "dashboardRiskInsights", s.Authed(s.insights)),
		get("/dashboard/reviews", "dashboardReviews", s.Authed(s.reviews)),
		post("/dashboard/reviews/:id/approve", "dashboardApproveReview", edge.PerIPCheckout, s.Acting(s.approve)),
		get("/dashboard/risk/rules", "dashboardRiskRules", s.Authed(s.rules)),
		post("/dashboard/risk/rules", "dashboardCreateRiskRule", edge.PerIPCheckout, s.Acting(s.createRule)),
		{Method: "GET", Path: "/dashboard/risk/rules/test", Doc: "dashboardTestRiskRule", Limit: edge.PerIPCheckout,
			Page: s.testRule},
		post("/dashboard/risk/rules/:id/enabled", "dashboardSetRiskRuleEnabled", edge.PerIPCheckout, s.Acting(s.setEnabled)),
		post("/dashboard/risk/rules/:id/delete", "dashboardDeleteRiskRule", edge.PerIPCheckout, s.Acting(s.deleteRule)),
		get("/dashboard/risk/lists", "dashboardRiskLists", s.Authed(s.lists)),
		post("/dashboard/risk/lists/:list/items", "dashboardAddRiskListItem", edge.PerIPCheckout, s.Acting(s.addItem)),
		post("/dashboard/risk/lists/:list/items/:id/delete", "dashboardDeleteRiskListItem", edge.PerIPCheckout,
			s.Acting(s.deleteItem)),
	}
}

// render answers the section's page name.
func (s *Pages) render(c *gin.Context, status int, name string, v *dashboard.Visit, data any) {
	s.RenderPage(c, status, s.pages[name], v, "risk", data)
}
