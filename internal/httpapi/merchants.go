package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/merchant"
)

type signUpRequest struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type merchantResponse struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	CreatedAt string `json:"created_at"`
}

type apiKeyResponse struct {
	ID         string  `json:"id"`
	Secret     string  `json:"secret,omitempty"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
	RevokedAt  *string `json:"revoked_at"`
}

type signUpResponse struct {
	Merchant merchantResponse `json:"merchant"`
	APIKey   apiKeyResponse   `json:"api_key"`
}

func toMerchant(m *merchant.Merchant) merchantResponse {
	return merchantResponse{ID: m.ID, Name: m.Name, Email: m.Email, CreatedAt: ts(m.CreatedAt)}
}

func toAPIKey(k *merchant.APIKey) apiKeyResponse {
	return apiKeyResponse{ID: k.ID, Secret: k.Secret, CreatedAt: ts(k.CreatedAt),
		LastUsedAt: tsPtr(k.LastUsedAt), RevokedAt: tsPtr(k.RevokedAt)}
}

// ts formats a time as API.md wants: RFC 3339 in UTC.
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func tsPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := ts(*t)
	return &s
}

// signUp creates a merchant and its first key pair. Its Idempotency-Key
// scope is shared by all anonymous callers; a replay needs the identical
// body, password included, so it never shows a secret to someone else.
func (s *Server) signUp(c *gin.Context) error {
	var in signUpRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	su, err := merchant.ValidateSignUp(merchant.SignUp{Name: in.Name, Email: in.Email, Password: in.Password})
	if err != nil {
		return err
	}
	hash := merchant.HashPassword(su.Password)
	return s.mutate(c, "signup", func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		m, k, err := s.merchants.SignUp(ctx, tx, su, hash)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, signUpResponse{Merchant: toMerchant(m), APIKey: toAPIKey(k)}, nil
	})
}

func (s *Server) getMerchant(c *gin.Context) error {
	c.JSON(http.StatusOK, toMerchant(currentMerchant(c)))
	return nil
}

type createKeyRequest struct{}

func (s *Server) createKey(c *gin.Context) error {
	var in createKeyRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	m := currentMerchant(c)
	return s.mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		k, err := s.merchants.CreateKey(ctx, tx, m.ID)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, toAPIKey(k), nil
	})
}

func (s *Server) listKeys(c *gin.Context) error {
	p, err := parseList(c, "key")
	if err != nil {
		return err
	}
	keys, more, err := s.merchants.ListKeys(c.Request.Context(), s.db.Pool, currentMerchant(c).ID, p.Limit, p.StartingAfter)
	if err != nil {
		return err
	}
	out := listBody[apiKeyResponse]{Data: make([]apiKeyResponse, len(keys)), HasMore: more}
	for i := range keys {
		out.Data[i] = toAPIKey(&keys[i])
	}
	c.JSON(http.StatusOK, out)
	return nil
}

func (s *Server) revokeKey(c *gin.Context) error {
	m := currentMerchant(c)
	var k *merchant.APIKey
	err := s.db.WithTx(c.Request.Context(), func(tx pgx.Tx) error {
		var err error
		k, err = s.merchants.RevokeKey(c.Request.Context(), tx, m.ID, c.Param("id"))
		return err
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toAPIKey(k))
	return nil
}
