package merchantapi

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/qr"
)

var (
	errQRFormat = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_invalid", Param: "format",
		Message: "format must be svg or png."}
	errQRSize = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_invalid", Param: "size",
		Message: "size must be a whole number of pixels from 128 to 1024."}
)

// linkQR is GET /v1/payment_links/{id}/qr: the link's signed URL as a QR
// code, SVG (the default) or PNG, size×size pixels.
func (s *Server) linkQR(c *gin.Context) error {
	format := c.DefaultQuery("format", "svg")
	if format != "svg" && format != "png" {
		return errQRFormat
	}
	size := qr.DefaultSize
	if v, ok := c.GetQuery("size"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < qr.MinSize || n > qr.MaxSize {
			return errQRSize
		}
		size = n
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
	if format == "svg" {
		c.Data(http.StatusOK, "image/svg+xml", []byte(code.SVG(size)))
		return nil
	}
	b, err := code.PNG(size)
	if err != nil {
		return err
	}
	c.Data(http.StatusOK, "image/png", b)
	return nil
}
