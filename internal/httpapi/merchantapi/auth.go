package merchantapi

import (
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/merchant"
)

const (
	merchantKey = "paylink.merchant"
	apiKeyKey   = "paylink.api_key"
)

var errAuthRequired = &apperr.Error{Kind: apperr.Unauthenticated, Code: "api_key_missing",
	Message: "Authenticate with HTTP Basic: your API key id as the username and its secret as the password."}

// apiKey is the merchant API's authentication: an API key pair.
func (s *Server) apiKey() edge.Auth {
	return edge.Auth{Name: "API key", Scheme: "apiKey", Check: s.authenticate}
}

// authenticate checks HTTP Basic credentials (key id, secret), puts the
// merchant and the key in the context, and answers the key's scopes for
// the route's Scope check (edge), the one place scopes are enforced. A
// rolled key past its expires_at is 401 api_key_expired. A client IP whose
// failed authentications reached Limits.AuthFailures gets 429 for any
// key, checked or not, until its window ends; a request without
// credentials is not counted.
func (s *Server) authenticate(c *gin.Context) (edge.Caller, error) {
	keyID, secret, ok := c.Request.BasicAuth()
	if !ok {
		c.Header("WWW-Authenticate", `Basic realm="Paylink"`)
		return edge.Caller{}, errAuthRequired
	}
	if err := s.edge.AuthFailuresReached(c); err != nil {
		return edge.Caller{}, err
	}
	m, k, err := s.merchants.AuthenticateKey(c.Request.Context(), s.db.Pool, keyID, secret)
	if err != nil {
		if e := (*apperr.Error)(nil); errors.As(err, &e) && e.Kind == apperr.Unauthenticated {
			s.edge.CountAuthFailure(c)
		}
		c.Header("WWW-Authenticate", `Basic realm="Paylink"`)
		return edge.Caller{}, err
	}
	c.Set(merchantKey, m)
	c.Set(apiKeyKey, k)
	var scopes []string // nil: full access
	for _, sc := range k.Scopes {
		scopes = append(scopes, string(sc))
	}
	return edge.Caller{RateKey: "key:" + keyID, Scopes: scopes, Merchant: m.ID}, nil
}

// currentKey returns the API key authenticate found.
func currentKey(c *gin.Context) *merchant.APIKey {
	return c.MustGet(apiKeyKey).(*merchant.APIKey)
}

// CurrentMerchant is the merchant whose API key authenticated the request.
func CurrentMerchant(c *gin.Context) *merchant.Merchant {
	return c.MustGet(merchantKey).(*merchant.Merchant)
}
