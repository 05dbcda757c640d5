package linkpages

import (
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

// qrOptions reads a QR code's format (svg, the default, or png) and size
// (qr.DefaultSize unless given) as the API does: anything else is an
// error, not quietly the default.
func qrOptions(c *gin.Context) (string, int, error) {
	format := c.DefaultQuery("format", "svg")
	if format != "svg" && format != "png" {
		return "", 0, errQRFormat
	}
	size := qr.DefaultSize
	if v, ok := c.GetQuery("size"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < qr.MinSize || n > qr.MaxSize {
			return "", 0, errQRSize
		}
		size = n
	}
	return format, size, nil
}
