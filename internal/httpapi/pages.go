package httpapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/edge"
	web "github.com/paylink/paylink/web/checkout"
)

// page renders an HTML page with the security headers every page carries
// (strict CSP, frame-ancestors 'none', nosniff, no Referer, no-store).
func (s *Server) page(c *gin.Context, status int, name string, data any) {
	web.SetSecurityHeaders(c.Writer.Header(), "'none'")
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	if err := s.pages.Render(c.Writer, name, data); err != nil {
		s.log.ErrorContext(c.Request.Context(), "render page", "page", name, "err", err, "request_id", edge.RequestID(c))
	}
}

// notice is the data of the "error" page: a friendly explanation, never a
// stack trace.
type notice struct {
	Icon, Heading, Message, Hint string
}

// serveAsset serves the embedded stylesheet and scripts. URLs carry a
// content hash (?v=…), so browsers may keep them for a year.
func (s *Server) serveAsset(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	if name == "" || strings.Contains(name, "/") {
		s.edge.WriteError(c, edge.ErrRouteNotFound)
		return
	}
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.FileFromFS(name, http.FS(s.assets))
}
