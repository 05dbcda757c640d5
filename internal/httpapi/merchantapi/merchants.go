package merchantapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/wire"
)

type signUpRequest struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type signUpResponse struct {
	Merchant wire.Merchant `json:"merchant"`
	APIKey   wire.APIKey   `json:"api_key"`
}

// WithoutSecret is r as a late replay answers it, without the key's secret.
func (r signUpResponse) WithoutSecret() any {
	r.APIKey.Secret = ""
	return r
}

// signUp creates a merchant and its first key pair. Its Idempotency-Key
// scope is shared by all anonymous callers; a replay needs the identical
// body, password included, so it never shows a secret to someone else.
func (s *Server) signUp(c *gin.Context) error {
	var in signUpRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	su, err := merchant.ValidateSignUp(merchant.SignUp{Name: in.Name, Email: in.Email, Password: in.Password})
	if err != nil {
		return err
	}
	hash, err := s.passwords.Hash(c.Request.Context(), su.Password)
	if err != nil {
		return err
	}
	return s.edge.Mutate(c, "signup", func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		m, k, err := s.merchants.SignUp(ctx, tx, su, hash)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, signUpResponse{Merchant: merchant.ToWire(m), APIKey: k.ToWire()}, nil
	})
}

func (s *Server) getMerchant(c *gin.Context) error {
	c.PureJSON(http.StatusOK, merchant.ToWire(CurrentMerchant(c)))
	return nil
}

type createKeyRequest struct {
	Name   string    `json:"name"`
	Scopes *[]string `json:"scopes"`
}

// createKey makes a key pair, named and scoped as asked (no scopes: full
// access). No key can make a key with a scope it lacks itself.
func (s *Server) createKey(c *gin.Context) error {
	var in createKeyRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	nk := merchant.NewKey{Name: in.Name}
	if in.Scopes != nil {
		nk.Scopes = *in.Scopes // [] is refused (scope_invalid), never full access
	}
	m, caller := CurrentMerchant(c), currentKey(c)
	return s.edge.Mutate(c, keyScope(c, m.ID, caller), func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		k, err := s.merchants.CreateKeyWith(ctx, tx, caller, nk)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, k.ToWire(), nil
	})
}

func (s *Server) listKeys(c *gin.Context) error {
	p, err := edge.ParseList(c, "key")
	if err != nil {
		return err
	}
	keys, more, err := s.merchants.ListKeys(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, p.Limit, p.StartingAfter)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(keys, more, func(k merchant.APIKey) wire.APIKey { return k.ToWire() }))
	return nil
}

type rollKeyRequest struct {
	ExpiresIn *int64 `json:"expires_in"`
}

// rollKey replaces a key by a new pair with the same name and scopes; the
// old key works until expires_in seconds from now (default 24 h), then
// answers 401 api_key_expired.
func (s *Server) rollKey(c *gin.Context) error {
	var in rollKeyRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	grace, err := merchant.RollGrace(in.ExpiresIn)
	if err != nil {
		return err
	}
	m, caller := CurrentMerchant(c), currentKey(c)
	return s.edge.Mutate(c, keyScope(c, m.ID, caller), func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		made, _, err := s.merchants.RollKey(ctx, tx, caller, c.Param("id"), grace)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, made.ToWire(), nil
	})
}

// keyScope is the Idempotency-Key scope of a key creation or roll: the
// merchant and the caller's authority (edge.BindPayer). Whether they may
// be made depends on the caller's scopes, so only a key with the same
// scopes gets such an answer, and its new secret, replayed; a weaker key
// sending the same Idempotency-Key and body makes its own request, and is
// refused as ever.
func keyScope(c *gin.Context, merchantID string, caller *merchant.APIKey) string {
	return edge.BindPayer(c, merchantID, caller.Authority())
}

// revokeKey revokes a key at once; no key can revoke a key with a scope
// it lacks (the merchant's full-access key, say).
func (s *Server) revokeKey(c *gin.Context) error {
	caller := currentKey(c)
	var k *merchant.APIKey
	err := s.db.WithTx(c.Request.Context(), func(tx pgx.Tx) error {
		var err error
		k, err = s.merchants.RevokeKey(c.Request.Context(), tx, caller, c.Param("id"))
		return err
	})
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, k.ToWire())
	return nil
}

type updateMerchantRequest struct {
	PaymentEmails *bool `json:"payment_emails"`
}

// updateMerchant changes the merchant's settings: payment_emails turns the
// e-mail about each succeeded payment on or off.
func (s *Server) updateMerchant(c *gin.Context) error {
	var in updateMerchantRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	m := CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		if in.PaymentEmails == nil {
			return http.StatusOK, merchant.ToWire(m), nil
		}
		updated, err := s.merchants.SetPaymentEmails(ctx, tx, m.ID, *in.PaymentEmails)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, merchant.ToWire(updated), nil
	})
}

// patchMerchantRequest is PATCH /v1/merchant: a field left out (or null)
// stays as it is.
type patchMerchantRequest struct {
	Name              *string   `json:"name"`
	Currencies        *[]string `json:"currencies"`
	PaymentMethods    *[]string `json:"payment_methods"`
	CardBrands        *[]string `json:"card_brands"`
	NotificationEmail *string   `json:"notification_email"`
	NotifyOn          *[]string `json:"notify_on"`
}

// patchMerchant changes the merchant's name and settings (what it accepts,
// where and about what it is e-mailed). A refused field changes nothing;
// the change applies to every replica's next checkout (merchant.Update).
func (s *Server) patchMerchant(c *gin.Context) error {
	var in patchMerchantRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	m := CurrentMerchant(c)
	u := merchant.Update{Name: in.Name, Currencies: in.Currencies, PaymentMethods: in.PaymentMethods,
		CardBrands: in.CardBrands, NotificationEmail: in.NotificationEmail, NotifyOn: in.NotifyOn}
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		updated, err := s.merchants.Update(ctx, tx, m.ID, u)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, merchant.ToWire(updated), nil
	})
}
