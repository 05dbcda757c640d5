package edge

import (
	"mime"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/apperr"
)

// Browser POSTs (the hosted pages' and the wallet's) are JSON sent by our
// own pages. They are protected against cross-site request forgery without
// a token: a cross-site HTML form cannot send Content-Type:
// application/json, and a cross-site fetch that tries needs a CORS
// preflight we never grant; on top of that a request whose Origin is
// another site, or whose Sec-Fetch-Site says cross-site, is refused.
// (Server-to-server clients send neither header and are let through; they
// could not forge a shopper's session anyway.)
var (
	errNotJSON = &apperr.Error{Kind: apperr.Invalid, Code: "content_type_invalid",
		Message: "Send the request as JSON with Content-Type: application/json."}
	errOriginNotAllowed = &apperr.Error{Kind: apperr.Forbidden, Code: "origin_not_allowed",
		Message: "This request came from another site and was refused."}
	errInsufficientScope = &apperr.Error{Kind: apperr.Forbidden, Code: "insufficient_scope",
		Message: "This API key lacks the scope this route needs."}
)

// SameOrigin refuses a request that is not JSON or comes from another
// site (see above). Routes declare it with Route.SameOrigin; the hosted
// checkout's POSTs call it first thing in their handlers.
func (e *Edge) SameOrigin(c *gin.Context) error {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/json" {
		return errNotJSON
	}
	if o := c.GetHeader("Origin"); o != "" && o != e.origin {
		return errOriginNotAllowed
	}
	if sfs := c.GetHeader("Sec-Fetch-Site"); sfs != "" && sfs != "same-origin" && sfs != "none" {
		return errOriginNotAllowed
	}
	return nil
}
