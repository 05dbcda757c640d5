package edge

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/apperr"
)

// ErrRateLimited is the 429 of a request over its limit.
var ErrRateLimited = &apperr.Error{Kind: apperr.RateLimited, Code: "rate_limited",
	Message: "Too many requests; retry after the number of seconds in Retry-After."}

// rateLimit counts requests per key in Redis (shared by every API replica)
// and answers 429 with Retry-After past the limit. Every answer of a
// limited route carries the X-RateLimit-* headers. When Redis cannot be
// reached the request is let through and a warning logged (once per
// logevery.Outage, with the count): losing the rate limiter must not stop
// payments.
func (e *Edge) rateLimit(l *limiter.Limiter, key func(*gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		lc, err := l.Get(ctx, key(c))
		if err != nil {
			e.limiterDown.Warn(ctx, e.log, "rate limiter unavailable; requests allowed", "err", err, "request_id", RequestID(c))
			c.Next()
			return
		}
		c.Header("X-RateLimit-Limit", strconv.FormatInt(lc.Limit, 10))
		c.Header("X-RateLimit-Remaining", strconv.FormatInt(lc.Remaining, 10))
		c.Header("X-RateLimit-Reset", strconv.FormatInt(lc.Reset, 10))
		if lc.Reached {
			wait := lc.Reset - e.now().Unix()
			if wait < 1 {
				wait = 1
			}
			c.Header("Retry-After", strconv.FormatInt(wait, 10))
			e.WriteError(c, ErrRateLimited)
			return
		}
		c.Next()
	}
}

// byClientIP keys public routes' limits by client address (proxies'
// X-Forwarded-For is believed only from PAYLINK_TRUSTED_PROXIES).
func byClientIP(c *gin.Context) string { return "ip:" + c.ClientIP() }

// LimitLogIn counts one log-in attempt for the client IP and e-mail (the
// PerLogIn limit), and one for the IP alone (the sign-up limit), answering
// ErrRateLimited past either. The e-mail is hashed into the key. Like the
// route limits, it lets requests through when Redis is unreachable; a
// lock-out kept in PostgreSQL still applies.
func (e *Edge) LimitLogIn(c *gin.Context, email string) error {
	ctx := c.Request.Context()
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	lc, err := e.limits[PerLogIn].Get(ctx, "login:"+c.ClientIP()+":"+hex.EncodeToString(sum[:16]))
	if err != nil {
		e.limiterDown.Warn(ctx, e.log, "rate limiter unavailable; requests allowed", "err", err, "request_id", RequestID(c))
		return nil
	}
	c.Header("X-RateLimit-Limit", strconv.FormatInt(lc.Limit, 10))
	c.Header("X-RateLimit-Remaining", strconv.FormatInt(lc.Remaining, 10))
	c.Header("X-RateLimit-Reset", strconv.FormatInt(lc.Reset, 10))
	reset := lc.Reset
	reached := lc.Reached
	if ipc, err := e.limits[PerIPSignUp].Get(ctx, "login-ip:"+c.ClientIP()); err == nil && ipc.Reached {
		reached, reset = true, max(reset, ipc.Reset)
	}
	if reached {
		c.Header("Retry-After", strconv.FormatInt(max(1, reset-e.now().Unix()), 10))
		return ErrRateLimited
	}
	return nil
}

// AuthFailuresReached answers ErrRateLimited, with Retry-After, when the
// client IP has used up its failed credential checks (Limits.AuthFailures):
// an Auth calls it before checking credentials, so a guessing address is
// refused for any key, right or wrong, until its window ends.
func (e *Edge) AuthFailuresReached(c *gin.Context) error {
	if e.authFail == nil {
		return nil
	}
	lc, err := e.authFail.Peek(c.Request.Context(), byClientIP(c))
	if err != nil || lc.Remaining > 0 {
		return nil // best effort, like every limiter: Redis down limits nothing
	}
	c.Header("Retry-After", strconv.FormatInt(max(1, lc.Reset-e.now().Unix()), 10))
	return ErrRateLimited
}

// CountAuthFailure counts one failed credential check for the client IP.
func (e *Edge) CountAuthFailure(c *gin.Context) {
	if e.authFail != nil {
		_, _ = e.authFail.Get(c.Request.Context(), byClientIP(c))
	}
}
