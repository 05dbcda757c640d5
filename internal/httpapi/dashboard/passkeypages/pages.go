// Package passkeypages is the dashboard's Settings → Passkeys section: a
// merchant lists the passkeys it logs in to the dashboard with, adds,
// renames and removes them. Adding or removing one needs a step-up first
// (the password again, or one of its passkeys; a passkey log-in of the
// last few minutes also does), so a stolen session can neither add a
// log-in credential nor take one away. It acts through the dashboard's
// Passkeys, package passkey's merchants' audience, whose tables wallet
// users' passkeys never reach.
package passkeypages

import (
	"embed"
	"html/template"
	"io/fs"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/httpapi/edge"
)

// Pages answers the section's routes, in the dashboard's layout and with
// its sessions.
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
	pages, err := d.ParsePages(files, []string{"passkeys", "passkey-remove"})
	if err != nil {
		return nil, err
	}
	return &Pages{Server: d, pages: pages}, nil
}

// Routes are the section's pages and forms, and the JSON steps of the
// WebAuthn ceremonies the page's script runs (same origin only).
func (s *Pages) Routes() []edge.Route {
	get, post := dashboard.GetPage, dashboard.PostForm
	ceremony := func(path, doc string, h func(*gin.Context) error) edge.Route {
		return edge.Route{Method: "POST", Path: path, Doc: doc, Limit: edge.PerIPCheckout, SameOrigin: true, Handle: h}
	}
	return []edge.Route{
		get("/dashboard/settings/passkeys", "dashboardPasskeys", s.Authed(s.list)),
		ceremony("/dashboard/settings/passkeys/register/begin", "dashboardBeginPasskeyRegistration", s.registerBegin),
		ceremony("/dashboard/settings/passkeys/register/finish", "dashboardFinishPasskeyRegistration", s.registerFinish),
		ceremony("/dashboard/settings/passkeys/stepup/begin", "dashboardBeginPasskeyStepUp", s.stepUpBegin),
		post("/dashboard/settings/passkeys/:id/rename", "dashboardRenamePasskey", edge.PerIPCheckout, s.Acting(s.rename)),
		get("/dashboard/settings/passkeys/:id/remove", "dashboardRemovePasskeyConfirm", s.Authed(s.removeConfirm)),
		post("/dashboard/settings/passkeys/:id/remove", "dashboardRemovePasskey", edge.PerIPCheckout, s.Acting(s.remove)),
	}
}

// render answers the section's page name, under Settings.
func (s *Pages) render(c *gin.Context, status int, name string, v *dashboard.Visit, data any) {
	s.RenderPage(c, status, s.pages[name], v, "settings", data)
}
