package merchantapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/qr"
)

// linkQR is GET /v1/payment_links/{id}/qr: the link's signed URL as a QR
// code, SVG (the default) or PNG, size×size pixels.
func (s *Server) linkQR(c *gin.Context) error {
	opts, err := qr.ParseOptions(c.Request.URL.Query())
	if err != nil {
		return err
	}
	l, err := s.links.Get(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	code, err := qr.New(s.links.URL(l))
	if err != nil {
		return err
	}
	// The URL is re-signed with the current key: keep copies short-lived.
	c.Header("Cache-Control", "private, max-age=300")
	b, contentType, err := code.Image(opts)
	if err != nil {
		return err
	}
	c.Data(http.StatusOK, contentType, b)
	return nil
}
