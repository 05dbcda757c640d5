package hostedcheckout

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"

	"github.com/gin-gonic/gin"
)

// The hosted checkout gives each browser an anonymous checkout session: a
// random HttpOnly cookie set with the checkout page. A card payment that
// carries it has its Idempotency-Key scoped to that session (and the
// session bound into the request's fingerprint), so a key is the
// shopper's own, as API.md scopes keys to the caller, and never reaches
// another shopper's stored answer. Requests without the cookie (API
// clients, frames whose browser keeps no third-party cookies) keep the
// link's scope, where a replay still needs the identical body, card
// number included. Wallet payments are scoped to the wallet user instead.

// checkoutSessionCookie is the cookie's name: __Host- prefixed behind https.
func (s *Server) checkoutSessionCookie() string {
	if s.baseURL.Scheme == "https" {
		return "__Host-paylink_checkout"
	}
	return "paylink_checkout"
}

// StartCheckoutSession gives the browser a checkout session unless it has
// one.
func (s *Server) StartCheckoutSession(c *gin.Context) {
	if s.checkoutSession(c) != "" {
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	http.SetCookie(c.Writer, &http.Cookie{Name: s.checkoutSessionCookie(), Value: base64.RawURLEncoding.EncodeToString(b),
		Path: "/", HttpOnly: true, Secure: s.baseURL.Scheme == "https", SameSite: http.SameSiteLaxMode})
}

// checkoutSession names the request's checkout session as an idempotency
// payer, "session:" and a digest of the cookie (the cookie itself is never
// stored), or "" without a well-formed one.
func (s *Server) checkoutSession(c *gin.Context) string {
	v, err := c.Cookie(s.checkoutSessionCookie())
	if b, derr := base64.RawURLEncoding.DecodeString(v); err != nil || derr != nil || len(b) != 16 {
		return ""
	}
	sum := sha256.Sum256([]byte("paylink checkout session\x00" + v))
	return "session:" + hex.EncodeToString(sum[:16])
}
