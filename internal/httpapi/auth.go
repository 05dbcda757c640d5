package httpapi

import (
	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/merchant"
)

const (
	merchantKey   = "paylink.merchant"
	merchantIDKey = "paylink.merchant_id"
	apiKeyIDKey   = "paylink.api_key_id"
)

var errAuthRequired = &apperr.Error{Kind: apperr.Unauthenticated, Code: "api_key_missing",
	Message: "Authenticate with HTTP Basic: your API key id as the username and its secret as the password."}

// authenticate checks HTTP Basic credentials (key id, secret) and puts the
// merchant in the context.
func (s *Server) authenticate(c *gin.Context) {
	keyID, secret, ok := c.Request.BasicAuth()
	if !ok {
		c.Header("WWW-Authenticate", `Basic realm="Paylink"`)
		s.writeError(c, errAuthRequired)
		return
	}
	m, err := s.merchants.Authenticate(c.Request.Context(), s.db.Pool, keyID, secret)
	if err != nil {
		c.Header("WWW-Authenticate", `Basic realm="Paylink"`)
		s.writeError(c, err)
		return
	}
	c.Set(merchantKey, m)
	c.Set(merchantIDKey, m.ID)
	c.Set(apiKeyIDKey, keyID)
	c.Next()
}

// currentMerchant returns the merchant authenticate found.
func currentMerchant(c *gin.Context) *merchant.Merchant {
	return c.MustGet(merchantKey).(*merchant.Merchant)
}
