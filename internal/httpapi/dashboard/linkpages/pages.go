// Package linkpages is the Links section of the merchant dashboard:
// the list of a merchant's payment links with filters, the new-link form,
// a link's page with its URL, QR code and payments, sending it by e-mail
// (with reminders), and deactivation. It acts through package links, as
// the merchant API does.
package linkpages

import (
	"embed"
	"html/template"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/httpapi/edge"
)

// Pages answers the Links section's routes, in the dashboard's layout and
// with its sessions.
type Pages struct {
	*dashboard.Server
	pages map[string]*template.Template
}

//go:embed web/templates/*.html
var files embed.FS

// New parses the section's pages.
func New(d *dashboard.Server) (*Pages, error) {
	pages, err := d.ParsePages(files, []string{"links", "link-new", "link"})
	if err != nil {
		return nil, err
	}
	return &Pages{Server: d, pages: pages}, nil
}

// Routes are the section's pages and forms.
func (s *Pages) Routes() []edge.Route {
	get, post := dashboard.GetPage, dashboard.PostForm
	return []edge.Route{
		get("/dashboard/links", "dashboardLinks", s.Authed(s.links)),
		get("/dashboard/links/new", "dashboardNewLink", s.Authed(s.newLink)),
		post("/dashboard/links", "dashboardCreateLink", edge.PerIPCheckout, s.Acting(s.createLink)),
		get("/dashboard/links/:id", "dashboardLink", s.Authed(s.link)),
		get("/dashboard/links/:id/qr", "dashboardLinkQR", s.Authed(s.linkQR)),
		post("/dashboard/links/:id/send", "dashboardSendLink", edge.PerIPCheckout, s.Acting(s.sendLink)),
		post("/dashboard/links/:id/deactivate", "dashboardDeactivateLink", edge.PerIPCheckout, s.Acting(s.deactivateLink)),
	}
}

// render answers the section's page name.
func (s *Pages) render(c *gin.Context, status int, name string, v *dashboard.Visit, nav string, data any) {
	s.RenderPage(c, status, s.pages[name], v, nav, data)
}
