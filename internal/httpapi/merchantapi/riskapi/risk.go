package riskapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/httpapi/merchantapi"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/riskreview"
	"github.com/paylink/paylink/internal/riskstats"
	"github.com/paylink/paylink/internal/wire"
)

// Routes are API.md Part 3's routes: rules, lists, backtests, insights
// and reviews, with the merchant API's keys, scopes and limits.
func (s *Server) Routes() []edge.Route {
	api := s.api.Route
	return []edge.Route{
		api("POST", "/v1/risk/rules", "risk:write", true, "createRiskRule", s.createRule),
		api("GET", "/v1/risk/rules", "risk:read", false, "listRiskRules", s.listRules),
		api("POST", "/v1/risk/rules/test", "risk:read", true, "testRiskRule", s.testRule),
		api("GET", "/v1/risk/rules/:id", "risk:read", false, "getRiskRule", s.getRule),
		api("PATCH", "/v1/risk/rules/:id", "risk:write", true, "updateRiskRule", s.updateRule),
		api("DELETE", "/v1/risk/rules/:id", "risk:write", false, "deleteRiskRule", s.deleteRule),
		api("POST", "/v1/risk/lists/:list/items", "risk:write", true, "addRiskListItem", s.addItem),
		api("GET", "/v1/risk/lists/:list/items", "risk:read", false, "listRiskListItems", s.listItems),
		api("DELETE", "/v1/risk/lists/:list/items/:id", "risk:write", false, "deleteRiskListItem", s.deleteItem),
		api("GET", "/v1/risk/insights", "risk:read", false, "getRiskInsights", s.insights),
		api("GET", "/v1/reviews", "risk:read", false, "listReviews", s.listReviews),
		api("GET", "/v1/reviews/:id", "risk:read", false, "getReview", s.getReview),
		api("POST", "/v1/reviews/:id/approve", "risk:write", true, "approveReview", s.approveReview),
	}
}

type createRuleRequest struct {
	Action      string `json:"action"`
	Expression  string `json:"expression"`
	Description string `json:"description"`
}

func (s *Server) createRule(c *gin.Context) error {
	var in createRuleRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	if err := risk.CheckRule(in.Action, in.Expression); err != nil {
		return err
	}
	m := merchantapi.CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		r, err := risk.CreateRule(ctx, tx, m.ID, in.Action, in.Expression, in.Description, s.now())
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, r.ToWire(), nil
	})
}

func (s *Server) listRules(c *gin.Context) error {
	p, err := edge.ParseList(c, "rr")
	if err != nil {
		return err
	}
	rules, more, err := risk.PageRules(c.Request.Context(), s.db.Pool, merchantapi.CurrentMerchant(c).ID, p.StartingAfter, p.Limit)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(rules, more, (*risk.Rule).ToWire))
	return nil
}

func ruleID(c *gin.Context) (string, error) {
	v := c.Param("id")
	if !id.Valid("rr", v) {
		return "", risk.ErrRuleNotFound
	}
	return v, nil
}

func (s *Server) getRule(c *gin.Context) error {
	rid, err := ruleID(c)
	if err != nil {
		return err
	}
	r, err := risk.GetRule(c.Request.Context(), s.db.Pool, merchantapi.CurrentMerchant(c).ID, rid)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, r.ToWire())
	return nil
}

type updateRuleRequest struct {
	Expression  *string `json:"expression"`
	Description *string `json:"description"`
	Enabled     *bool   `json:"enabled"`
}

func (s *Server) updateRule(c *gin.Context) error {
	rid, err := ruleID(c)
	if err != nil {
		return err
	}
	var in updateRuleRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	m := merchantapi.CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		r, err := risk.UpdateRule(ctx, tx, m.ID, rid, risk.RuleUpdate{Expression: in.Expression,
			Description: in.Description, Enabled: in.Enabled}, s.now())
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, r.ToWire(), nil
	})
}

func (s *Server) deleteRule(c *gin.Context) error {
	rid, err := ruleID(c)
	if err != nil {
		return err
	}
	m := merchantapi.CurrentMerchant(c)
	if err := s.db.WithTx(c.Request.Context(), func(tx pgx.Tx) error {
		return risk.DeleteRule(c.Request.Context(), tx, m.ID, rid)
	}); err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, wire.Deleted{ID: rid, Deleted: true})
	return nil
}

type testRuleRequest struct {
	Action     string `json:"action"`
	Expression string `json:"expression"`
}

// testRule is POST /v1/risk/rules/test: the backtest of an expression
// over the merchant's payments of the last 30 days. Like every POST it
// takes an Idempotency-Key: a replay answers the first backtest.
func (s *Server) testRule(c *gin.Context) error {
	var in testRuleRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	if err := risk.CheckRule(in.Action, in.Expression); err != nil {
		return err
	}
	m := merchantapi.CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		res, err := risk.Backtest(ctx, tx, m.ID, in.Expression, s.now())
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, res, nil
	})
}

type addItemRequest struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

func (s *Server) addItem(c *gin.Context) error {
	list := c.Param("list")
	if err := risk.CheckList(list); err != nil {
		return err
	}
	var in addItemRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	if _, err := risk.NormalizeItem(in.Type, in.Value); err != nil {
		return err
	}
	m := merchantapi.CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		it, err := risk.AddItem(ctx, tx, m.ID, list, in.Type, in.Value, s.now())
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, it.ToWire(), nil
	})
}

func (s *Server) listItems(c *gin.Context) error {
	list := c.Param("list")
	if err := risk.CheckList(list); err != nil {
		return err
	}
	p, err := edge.ParseList(c, "rli")
	if err != nil {
		return err
	}
	items, more, err := risk.PageItems(c.Request.Context(), s.db.Pool, merchantapi.CurrentMerchant(c).ID, list,
		p.StartingAfter, p.Limit)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(items, more, (*risk.Item).ToWire))
	return nil
}

func (s *Server) deleteItem(c *gin.Context) error {
	list, iid := c.Param("list"), c.Param("id")
	if err := risk.CheckList(list); err != nil {
		return err
	}
	if !id.Valid("rli", iid) {
		return risk.ErrItemNotFound
	}
	m := merchantapi.CurrentMerchant(c)
	if err := s.db.WithTx(c.Request.Context(), func(tx pgx.Tx) error {
		return risk.DeleteItem(c.Request.Context(), tx, m.ID, list, iid)
	}); err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, wire.Deleted{ID: iid, Deleted: true})
	return nil
}

func (s *Server) listReviews(c *gin.Context) error {
	p, err := edge.ParseList(c, "rev", "status")
	if err != nil {
		return err
	}
	rs, more, err := riskreview.List(c.Request.Context(), s.db.Pool, merchantapi.CurrentMerchant(c).ID, c.Query("status"),
		p.StartingAfter, p.Limit)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(rs, more, (*riskreview.Item).ToWire))
	return nil
}

func reviewID(c *gin.Context) (string, error) {
	v := c.Param("id")
	if !id.Valid("rev", v) {
		return "", riskreview.ErrNotFound
	}
	return v, nil
}

func (s *Server) getReview(c *gin.Context) error {
	rid, err := reviewID(c)
	if err != nil {
		return err
	}
	r, err := riskreview.Get(c.Request.Context(), s.db.Pool, merchantapi.CurrentMerchant(c).ID, rid)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, r.ToWire())
	return nil
}

// approveRequest is approve's body: nothing, so a field is refused.
type approveRequest struct{}

func (s *Server) approveReview(c *gin.Context) error {
	rid, err := reviewID(c)
	if err != nil {
		return err
	}
	var in approveRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	m := merchantapi.CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		r, err := riskreview.Approve(ctx, tx, m.ID, rid, s.now().UTC().Truncate(1000))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, r.ToWire(), nil
	})
}

// insights is GET /v1/risk/insights?days=30.
func (s *Server) insights(c *gin.Context) error {
	days, err := riskstats.ParseDays(c.Query("days"))
	if err != nil {
		return err
	}
	out, err := riskstats.Insights(c.Request.Context(), s.db.Pool, merchantapi.CurrentMerchant(c).ID, days, s.now())
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, out)
	return nil
}
