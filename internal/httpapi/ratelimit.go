package httpapi

import (
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/apperr"
)

var errRateLimited = &apperr.Error{Kind: apperr.RateLimited, Code: "rate_limited",
	Message: "Too many requests; retry after the number of seconds in Retry-After."}

// rateLimit counts requests per key in Redis (shared by every API replica)
// and answers 429 with Retry-After past the limit. Every answer of a
// limited route carries the X-RateLimit-* headers. When Redis cannot be
// reached the request is let through and a warning logged: losing the rate
// limiter must not stop payments.
func (s *Server) rateLimit(l *limiter.Limiter, key func(*gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		lc, err := l.Get(ctx, key(c))
		if err != nil {
			s.log.WarnContext(ctx, "rate limiter unavailable; request allowed", "err", err, "request_id", requestID(c))
			c.Next()
			return
		}
		c.Header("X-RateLimit-Limit", strconv.FormatInt(lc.Limit, 10))
		c.Header("X-RateLimit-Remaining", strconv.FormatInt(lc.Remaining, 10))
		c.Header("X-RateLimit-Reset", strconv.FormatInt(lc.Reset, 10))
		if lc.Reached {
			wait := lc.Reset - s.now().Unix()
			if wait < 1 {
				wait = 1
			}
			c.Header("Retry-After", strconv.FormatInt(wait, 10))
			s.writeError(c, errRateLimited)
			return
		}
		c.Next()
	}
}

// byAPIKey keys the merchant API's limit by the authenticated key.
func byAPIKey(c *gin.Context) string { return "key:" + c.GetString(apiKeyIDKey) }

// byClientIP keys public routes' limits by client address (proxies'
// X-Forwarded-For is believed only from PAYLINK_TRUSTED_PROXIES).
func byClientIP(c *gin.Context) string { return "ip:" + c.ClientIP() }
