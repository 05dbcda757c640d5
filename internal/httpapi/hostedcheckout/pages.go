package hostedcheckout

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/edge"
)

// The hosted checkout's pages are templates/*.html in the shared layout,
// with a small vanilla script per page under static/ (no inline script:
// see package edge). The embedded payment form uses a frame-friendly
// layout, layout-embed.html, with embed.js (postMessage to the merchant's
// page, resizing, appearance): its pages are the embed-*.html templates,
// plus the pages of embedVariants rendered in that layout as
// "embed/<name>". Their data must have the fields ParentOrigin (the
// merchant page's origin, the only one embed.js talks to) and
// ParentMessage (JSON of a message to post on load, or "").
//
//go:embed templates/*.html static/*
var files embed.FS

// embedVariants are the pages also rendered in the embed layout.
var embedVariants = []string{"challenge", "error", "receipt"}

// parsePages parses every page of templates/ but the layouts and the
// partials (partial-*.html, shared by pages), by its file name without
// .html, and registers static/ with assets.
func parsePages(assets *edge.Assets) (map[string]*template.Template, error) {
	if err := assets.Add(files, "static"); err != nil {
		return nil, err
	}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".html")
		variants := map[string]string{} // Page → its own layout, "" for the shared one
		switch {
		case strings.HasPrefix(base, "layout"), strings.HasPrefix(base, "partial-"):
			continue
		case strings.HasPrefix(base, "embed-"):
			variants[base] = "templates/layout-embed.html"
		default:
			variants[base] = ""
			if slices.Contains(embedVariants, base) {
				variants["embed/"+base] = "templates/layout-embed.html"
			}
		}
		for page, layout := range variants {
			var t *template.Template
			if layout == "" {
				t, err = assets.Page(page, files, "templates/partial-*.html", name)
			} else {
				t, err = assets.PageInLayout(page, files, layout, "templates/partial-*.html", name)
			}
			if err != nil {
				return nil, err
			}
			pages[page] = t
		}
	}
	return pages, nil
}

// Page renders an HTML page with the security headers every page carries
// (strict CSP, frame-ancestors 'none', nosniff, no Referer, no-store).
func (s *Server) Page(c *gin.Context, status int, name string, data any) {
	s.render(c, status, name, "'none'", data)
}

// render renders page name, which frameAncestors may frame.
func (s *Server) render(c *gin.Context, status int, name, frameAncestors string, data any) {
	p, ok := s.pages[name]
	if !ok {
		s.edge.WriteError(c, fmt.Errorf("no page %q", name))
		return
	}
	s.edge.Render(c, status, p, frameAncestors, data)
}

// Notice is the data of the "error" page: a friendly explanation, never a
// stack trace.
type Notice struct {
	Icon, Heading, Message, Hint string
}
