package hostedcheckout

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// returnKeys is GET /.well-known/paylink-keys.json: the public keys that
// verify a signed return (API.md), every key of PAYLINK_RETURN_SIGNING_KEYS
// while one rotates. Merchants' pages fetch it from their own origin, so
// any origin may read it; it is cached for five minutes.
func (s *Server) returnKeys(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Header("Access-Control-Allow-Origin", "*")
	c.PureJSON(http.StatusOK, s.returns.PublicKeys())
}
