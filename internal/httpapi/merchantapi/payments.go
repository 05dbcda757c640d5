package merchantapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/payments"
)

type createLinkRequest struct {
	Amount      json.RawMessage   `json:"amount"`
	Currency    string            `json:"currency"`
	Description string            `json:"description"`
	ExpiresIn   *int64            `json:"expires_in"`
	ExpiresAt   *string           `json:"expires_at"`
	SingleUse   *bool             `json:"single_use"`
	SuccessURL  string            `json:"success_url"`
	CancelURL   string            `json:"cancel_url"`
	Metadata    map[string]string `json:"metadata"`
	Realm       *string           `json:"realm"`
}

func (s *Server) createLink(c *gin.Context) error {
	var in createLinkRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	minor, err := money.ParseMinor(string(in.Amount))
	if err != nil {
		return err
	}
	cur, err := s.currencies.Parse(in.Currency)
	if err != nil {
		return err
	}
	realm, err := links.GivenRealm(in.Realm)
	if err != nil {
		return err
	}
	nl := links.NewLink{Amount: money.Amount{Minor: minor, Currency: cur}, Description: in.Description,
		SingleUse: in.SingleUse == nil || *in.SingleUse, ExpiresIn: in.ExpiresIn, ExpiresAt: in.ExpiresAt,
		SuccessURL: in.SuccessURL, CancelURL: in.CancelURL, Metadata: in.Metadata, Realm: realm}
	m := CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		l, err := s.links.Create(ctx, tx, m.ID, nl)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, s.links.ToWire(l), nil
	})
}

func (s *Server) getLink(c *gin.Context) error {
	l, err := s.links.Get(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, s.links.ToWire(l))
	return nil
}

func (s *Server) listLinks(c *gin.Context) error {
	p, err := edge.ParseList(c, "plink", "status", "realm")
	if err != nil {
		return err
	}
	f, err := links.ParseFilter(c.Query("status"), c.Query("realm"))
	if err != nil {
		return err
	}
	list, more, err := s.links.Find(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, f, p.Limit, p.StartingAfter)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(list, more, s.links.ToWire))
	return nil
}

type deactivateLinkRequest struct{}

func (s *Server) deactivateLink(c *gin.Context) error {
	var in deactivateLinkRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	m := CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		l, err := s.links.Deactivate(ctx, tx, m.ID, c.Param("id"))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.links.ToWire(l), nil
	})
}

func (s *Server) getPayment(c *gin.Context) error {
	p, err := s.checkout.Get(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, checkout.ToWire(p))
	return nil
}

func (s *Server) listPayments(c *gin.Context) error {
	p, err := edge.ParseList(c, "pay", payments.FilterParams...)
	if err != nil {
		return err
	}
	f, err := payments.ParseFilter(c.Request.URL.Query())
	if err != nil {
		return err
	}
	list, more, err := payments.Search(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, f, p.Limit, p.StartingAfter)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(list, more, checkout.ToWire))
	return nil
}

func (s *Server) getBalance(c *gin.Context) error {
	b, err := s.checkout.Balance(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, b)
	return nil
}
