// Package refundpages is the Refunds list of the merchant dashboard
// (/dashboard/refunds): every refund of the merchant, newest first, or
// one payment's, as GET /v1/refunds lists them, each linked to its
// payment. Refunds are made on a payment's page (package dashboard).
package refundpages

import (
	"embed"
	"html/template"
	"io/fs"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/httpapi/edge"
)

// Pages answers the Refunds list's route, in the dashboard's layout and
// with its sessions.
type Pages struct {
	*dashboard.Server
	pages map[string]*template.Template
}

//go:embed web/templates/*.html
var files embed.FS

//go:embed openapi/*.json
var openAPIFiles embed.FS

// OpenAPI is the section's OpenAPI part (see apidoc.Build).
func OpenAPI() fs.FS { return openAPIFiles }

// New parses the section's pages.
func New(d *dashboard.Server) (*Pages, error) {
	pages, err := d.ParsePages(files, []string{"refunds"})
	if err != nil {
		return nil, err
	}
	return &Pages{Server: d, pages: pages}, nil
}

// Routes are the section's pages.
func (s *Pages) Routes() []edge.Route {
	return []edge.Route{
		dashboard.GetPage("/dashboard/refunds", "dashboardRefunds", s.Authed(s.refunds)),
	}
}

// render answers the section's page name.
func (s *Pages) render(c *gin.Context, status int, name string, v *dashboard.Visit, nav string, data any) {
	s.RenderPage(c, status, s.pages[name], v, nav, data)
}
