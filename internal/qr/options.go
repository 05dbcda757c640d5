package qr

import (
	"net/url"
	"strconv"

	"github.com/paylink/paylink/internal/apperr"
)

// Errors of ParseOptions.
var (
	errFormat = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_invalid", Param: "format",
		Message: "format must be svg or png."}
	errSize = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_invalid", Param: "size",
		Message: "size must be a whole number of pixels from 128 to 1024."}
)

// Options is how a QR code is served: Format "svg" or "png", Size pixels.
type Options struct {
	Format string
	Size   int
}

// ParseOptions reads format (svg, the default, or png) and size
// (DefaultSize unless given) from query q as API.md's QR route takes them:
// anything else is a 400 naming the parameter, not quietly the default.
func ParseOptions(q url.Values) (Options, error) {
	o := Options{Format: "svg", Size: DefaultSize}
	if q.Has("format") {
		o.Format = q.Get("format")
	}
	if o.Format != "svg" && o.Format != "png" {
		return Options{}, errFormat
	}
	if q.Has("size") {
		n, err := strconv.Atoi(q.Get("size"))
		if err != nil || n < MinSize || n > MaxSize {
			return Options{}, errSize
		}
		o.Size = n
	}
	return o, nil
}

// Image draws c as o asks and returns it with its content type.
func (c *Code) Image(o Options) (body []byte, contentType string, err error) {
	if o.Format == "svg" {
		return []byte(c.SVG(o.Size)), "image/svg+xml", nil
	}
	b, err := c.PNG(o.Size)
	return b, "image/png", err
}
