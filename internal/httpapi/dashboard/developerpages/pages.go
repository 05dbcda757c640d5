// Package developerpages is the Developers section of the merchant
// dashboard: API keys (create with scopes, the secret shown once, roll,
// revoke) and webhook endpoints (add, test event, delivery log, secret
// rotation, re-enable, delete) and events (list by type, each event's
// body and deliveries, redeliver). It acts through packages merchant and
// webhook, as the merchant API does.
package developerpages

import (
	"embed"
	"html/template"
	"io/fs"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/httpapi/edge"
)

// Pages answers the Developers section's routes, in the dashboard's
// layout and with its sessions.
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
	pages, err := d.ParsePages(files, []string{"developers", "secret", "endpoint", "events", "event"})
	if err != nil {
		return nil, err
	}
	return &Pages{Server: d, pages: pages}, nil
}

// Routes are the section's pages and forms.
func (s *Pages) Routes() []edge.Route {
	get, post := dashboard.GetPage, dashboard.PostForm
	return []edge.Route{
		get("/dashboard/developers", "dashboardDevelopers", s.Authed(s.developers)),
		post("/dashboard/developers/keys", "dashboardCreateKey", edge.PerIPCheckout, s.Acting(s.createKey)),
		post("/dashboard/developers/keys/:id/roll", "dashboardRollKey", edge.PerIPCheckout, s.Acting(s.rollKey)),
		post("/dashboard/developers/keys/:id/revoke", "dashboardRevokeKey", edge.PerIPCheckout, s.Acting(s.revokeKey)),
		post("/dashboard/developers/webhooks", "dashboardCreateEndpoint", edge.PerIPCheckout, s.Acting(s.createEndpoint)),
		get("/dashboard/developers/webhooks/:id", "dashboardEndpoint", s.Authed(s.endpoint)),
		post("/dashboard/developers/webhooks/:id/test", "dashboardTestEndpoint", edge.PerIPCheckout, s.Acting(s.testEndpoint)),
		post("/dashboard/developers/webhooks/:id/rotate", "dashboardRotateEndpointSecret", edge.PerIPCheckout, s.Acting(s.rotateEndpointSecret)),
		post("/dashboard/developers/webhooks/:id/enable", "dashboardEnableEndpoint", edge.PerIPCheckout, s.Acting(s.enableEndpoint)),
		post("/dashboard/developers/webhooks/:id/delete", "dashboardDeleteEndpoint", edge.PerIPCheckout, s.Acting(s.deleteEndpoint)),
		get("/dashboard/developers/events", "dashboardEvents", s.Authed(s.events)),
		get("/dashboard/developers/events/:id", "dashboardEvent", s.Authed(s.event)),
		post("/dashboard/developers/events/:id/redeliver", "dashboardRedeliverEvent", edge.PerIPCheckout, s.Acting(s.redeliverEvent)),
	}
}

// render answers the section's page name.
func (s *Pages) render(c *gin.Context, status int, name string, v *dashboard.Visit, nav string, data any) {
	s.RenderPage(c, status, s.pages[name], v, nav, data)
}
