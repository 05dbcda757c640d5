package edge

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/httpapi/edge/jsonbody"
	"github.com/paylink/paylink/internal/idempotency"
)

// maxBody is the largest request body accepted (API.md: 64 KiB).
const maxBody = 64 << 10

var (
	// ErrUnknownParameter is the 400 of a body field or query parameter
	// the route does not take.
	ErrUnknownParameter = jsonbody.ErrUnknownParameter
	errBodyTooLarge     = &apperr.Error{Kind: apperr.TooLarge, Code: "body_too_large",
		Message: "The request body is larger than 64 KiB."}
)

// fingerprintKey is where Decode leaves the request's idempotency
// fingerprint.
const fingerprintKey = "paylink.fingerprint"

// Decode reads the JSON object in the request body into dst (a pointer to
// a struct) with jsonbody.Decode, which rejects malformed JSON, unknown
// fields and wrong types with API.md's codes, and keeps the request's
// idempotency fingerprint. An empty body reads as {}.
func Decode(c *gin.Context, dst any) error {
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errBodyTooLarge
		}
		return jsonbody.ErrInvalidJSON.Wrap(err)
	}
	canonical, err := jsonbody.Decode(raw, dst)
	if err != nil {
		return err
	}
	c.Set(fingerprintKey, idempotency.Fingerprint(c.Request.Method, c.Request.URL.Path, canonical))
	return nil
}

// BindPayer makes payer part of the request's idempotency fingerprint and
// returns base narrowed to payer, the request's Idempotency-Key scope: a
// public checkout's key belongs to the shopper who sent it (a wallet user,
// or a card's holder), never to everyone paying the same link.
func BindPayer(c *gin.Context, base, payer string) string {
	c.Set(fingerprintKey, idempotency.BindFingerprint(Fingerprint(c), payer))
	return base + "/" + payer
}

// Fingerprint is the request's idempotency fingerprint: its method, path
// and the body Decode read, normalised (none when nothing was decoded).
func Fingerprint(c *gin.Context) []byte {
	if v, ok := c.Get(fingerprintKey); ok {
		return v.([]byte)
	}
	return idempotency.Fingerprint(c.Request.Method, c.Request.URL.Path, nil)
}
