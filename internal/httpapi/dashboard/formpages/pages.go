// Package formpages is the Forms section of the merchant dashboard: the
// list of a merchant's embeddable payment forms, the new-form and edit
// pages, and a form's page with the snippet to paste into the merchant's
// site, a preview of the form, the payments made through it, and
// deactivation. It acts through package forms, as the merchant API does.
package formpages

import (
	"embed"
	"html/template"
	"io/fs"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/httpapi/edge"
)

// Pages answers the Forms section's routes, in the dashboard's layout and
// with its sessions.
type Pages struct {
	*dashboard.Server
	forms *forms.Service
	pages map[string]*template.Template
}

//go:embed web/templates/*.html web/static/*
var files embed.FS

//go:embed openapi/*.json
var openAPIFiles embed.FS

// OpenAPI is the section's part of the OpenAPI document (see apidoc.Build).
func OpenAPI() fs.FS { return openAPIFiles }

// New parses the section's pages and registers its script and styles;
// forms is the merchant API's forms service.
func New(d *dashboard.Server, forms *forms.Service) (*Pages, error) {
	if err := d.Edge.Assets().Add(files, "web/static"); err != nil {
		return nil, err
	}
	pages, err := d.ParsePages(files, []string{"forms", "form-edit", "form", "form-deactivate"}, "web/templates/parts.html")
	if err != nil {
		return nil, err
	}
	return &Pages{Server: d, forms: forms, pages: pages}, nil
}

// Routes are the section's pages and forms.
func (s *Pages) Routes() []edge.Route {
	get, post := dashboard.GetPage, dashboard.PostForm
	return []edge.Route{
		get("/dashboard/forms", "dashboardForms", s.Authed(s.list)),
		get("/dashboard/forms/new", "dashboardNewForm", s.Authed(s.newForm)),
		post("/dashboard/forms", "dashboardCreateForm", edge.PerIPCheckout, s.Acting(s.create)),
		get("/dashboard/forms/:id", "dashboardForm", s.Authed(s.form)),
		get("/dashboard/forms/:id/edit", "dashboardEditForm", s.Authed(s.edit)),
		post("/dashboard/forms/:id", "dashboardUpdateForm", edge.PerIPCheckout, s.Acting(s.update)),
		get("/dashboard/forms/:id/deactivate", "dashboardDeactivateFormConfirm", s.Authed(s.deactivateConfirm)),
		post("/dashboard/forms/:id/deactivate", "dashboardDeactivateForm", edge.PerIPCheckout, s.Acting(s.deactivate)),
	}
}

// render answers the section's page name.
func (s *Pages) render(c *gin.Context, status int, name string, v *dashboard.Visit, data any) {
	s.RenderPage(c, status, s.pages[name], v, "forms", data)
}
