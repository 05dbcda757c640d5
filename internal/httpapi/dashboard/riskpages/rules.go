package riskpages

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/merchantauth"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/wire"
)

// ruleForm is the new-rule form as typed, with its errors by field and,
// after "Test", the backtest it asked for.
type ruleForm struct {
	Action, Expression, Description string
	Errors                          map[string]string
	Test                            *wire.RiskBacktest
}

type rulesData struct {
	Rules   []*risk.Rule
	Actions []string
	Form    ruleForm
	Created string // the rule just made
}

var actions = []string{risk.ActionBlock, risk.ActionReview, risk.ActionChallenge, risk.ActionAllow}

// rules lists the merchant's rules with the new-rule form. The form's
// "Test" button GETs this page with ?test=1: the page then shows the
// backtest of what was typed, for browsers without the script.
func (s *Pages) rules(c *gin.Context, v *dashboard.Visit) {
	f := ruleForm{Action: c.DefaultQuery("action", risk.ActionBlock), Expression: c.Query("expression"),
		Description: c.Query("description")}
	status := http.StatusOK
	if c.Query("test") == "1" {
		res, err := s.backtest(c, v, f.Action, f.Expression)
		if err != nil {
			status, f.Errors = s.Failed(c, err)
		} else {
			f.Test = &res
		}
	}
	d := rulesData{Form: f}
	if r := c.Query("created"); id.Valid("rr", r) {
		d.Created = r
	}
	s.rulesPage(c, v, status, d)
}

func (s *Pages) rulesPage(c *gin.Context, v *dashboard.Visit, status int, d rulesData) {
	rules, err := risk.ListRules(c.Request.Context(), s.DB.Pool, v.Merchant.ID)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d.Rules, d.Actions = rules, actions
	s.render(c, status, "rules", v, d)
}

// backtest checks a rule as the API's POST /v1/risk/rules/test does and
// runs risk.Backtest over the visit's merchant's payments.
func (s *Pages) backtest(c *gin.Context, v *dashboard.Visit, action, expression string) (wire.RiskBacktest, error) {
	if err := risk.CheckRule(action, expression); err != nil {
		return wire.RiskBacktest{}, err
	}
	return risk.Backtest(c.Request.Context(), s.DB.Pool, v.Merchant.ID, expression, s.Now())
}

// errCrossSite refuses a backtest asked for by another site's page.
var errCrossSite = &apperr.Error{Kind: apperr.Forbidden, Code: "origin_not_allowed",
	Message: "This request came from another site and was refused."}

// testRule is the live backtest the rules page's script asks for as the
// merchant types: JSON, for the session's merchant, only from this site's
// own pages (Sec-Fetch-Site), rate-limited per IP. It answers the API's
// backtest, or the API's error (rule_invalid with the checker's message).
func (s *Pages) testRule(c *gin.Context) {
	if sfs := c.GetHeader("Sec-Fetch-Site"); sfs != "" && sfs != "same-origin" {
		s.Edge.WriteError(c, errCrossSite)
		return
	}
	c.Header("Cache-Control", "no-store")
	v, err := s.CurrentVisit(c)
	if err != nil {
		s.Edge.WriteError(c, merchantauth.ErrLoginRequired)
		return
	}
	res, err := s.backtest(c, v, c.Query("action"), c.Query("expression"))
	if err != nil {
		s.Edge.WriteError(c, err)
		return
	}
	c.PureJSON(http.StatusOK, res)
}

// createRule makes a rule with risk.CreateRule (the API's); a refused
// expression comes back with the checker's message at its field.
func (s *Pages) createRule(c *gin.Context, v *dashboard.Visit, form url.Values) {
	f := ruleForm{Action: form.Get("action"), Expression: strings.TrimSpace(form.Get("expression")),
		Description: form.Get("description")}
	err := risk.CheckRule(f.Action, f.Expression)
	var made *risk.Rule
	if err == nil {
		_, _, err = s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
			r, err := risk.CreateRule(ctx, tx, v.Merchant.ID, f.Action, f.Expression, f.Description, s.Now())
			if err != nil {
				return 0, nil, err
			}
			made = r
			return http.StatusCreated, r.ToWire(), nil
		})
	}
	if err != nil {
		var status int
		status, f.Errors = s.Failed(c, err)
		s.rulesPage(c, v, status, rulesData{Form: f})
		return
	}
	target := "/dashboard/risk/rules"
	if made != nil {
		target += "?created=" + url.QueryEscape(made.ID)
	}
	c.Redirect(http.StatusSeeOther, target)
}

// ruleParam is the rule id of the path, ErrRuleNotFound when malformed.
func ruleParam(c *gin.Context) (string, error) {
	if rid := c.Param("id"); id.Valid("rr", rid) {
		return rid, nil
	}
	return "", risk.ErrRuleNotFound
}

// setEnabled turns a rule on (enabled=1) or off with risk.UpdateRule.
func (s *Pages) setEnabled(c *gin.Context, v *dashboard.Visit, form url.Values) {
	rid, err := ruleParam(c)
	on := form.Get("enabled") == "1"
	if err == nil {
		_, _, err = s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
			r, err := risk.UpdateRule(ctx, tx, v.Merchant.ID, rid, risk.RuleUpdate{Enabled: &on}, s.Now())
			if err != nil {
				return 0, nil, err
			}
			return http.StatusOK, r.ToWire(), nil
		})
	}
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/risk/rules#"+rid)
}

// deleteRule removes a rule with risk.DeleteRule (the page asks first).
func (s *Pages) deleteRule(c *gin.Context, v *dashboard.Visit, _ url.Values) {
	rid, err := ruleParam(c)
	if err == nil {
		_, _, err = s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
			if err := risk.DeleteRule(ctx, tx, v.Merchant.ID, rid); err != nil {
				return 0, nil, err
			}
			return http.StatusOK, wire.Deleted{ID: rid, Deleted: true}, nil
		})
	}
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/risk/rules")
}
