package risk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/wire"
)

// MaxRules is how many rules a merchant may have.
const MaxRules = 100

// Errors of rules.
var (
	ErrRuleNotFound  = &apperr.Error{Kind: apperr.NotFound, Code: "resource_missing", Message: "No such rule."}
	ErrActionInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_invalid", Param: "action",
		Message: "action must be block, review, challenge or allow."}
	ErrTooManyRules = &apperr.Error{Kind: apperr.Invalid, Code: "rules_limit_reached",
		Message: "A merchant may have at most 100 rules."}
	ErrDescriptionInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_invalid", Param: "description",
		Message: "description must be at most 500 characters."}
	ErrItemNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "resource_missing", Message: "No such list item."}
)

// RuleInvalid is the 400 rule_invalid for an expression the checker
// refused, with its message.
func RuleInvalid(err error) *apperr.Error {
	return &apperr.Error{Kind: apperr.Invalid, Code: "rule_invalid", Param: "expression", Message: err.Error()}
}

// Rule is a merchant's rule.
type Rule struct {
	ID, MerchantID, Action, Expression, Description string
	Enabled                                         bool
	Matches                                         int64
	CreatedAt                                       time.Time
}

// ToWire returns r as the API shows it.
func (r *Rule) ToWire() wire.RiskRule {
	return wire.RiskRule{ID: r.ID, Action: r.Action, Expression: r.Expression, Description: r.Description,
		Enabled: r.Enabled, Matches: r.Matches, CreatedAt: wire.Time(r.CreatedAt)}
}

const (
	ruleColumns = `id, merchant_id, action, expression, description, enabled, matches, created_at`
	insertRule  = `
INSERT INTO risk_rules (id, merchant_id, action, expression, description, enabled, created_at, updated_at)
SELECT $1, $2, $3, $4, $5, true, $6, $6
WHERE (SELECT count(*) FROM risk_rules WHERE merchant_id = $2) < $7`
	selectRules = `SELECT ` + ruleColumns + ` FROM risk_rules WHERE merchant_id = $1 ORDER BY position`
	rulesFrom   = `SELECT ` + ruleColumns + ` FROM risk_rules`
	selectRule  = `SELECT ` + ruleColumns + ` FROM risk_rules WHERE merchant_id = $1 AND id = $2`
	lockRule    = selectRule + ` FOR UPDATE`
	updateRule  = `
UPDATE risk_rules SET expression = $3, description = $4, enabled = $5, updated_at = $6
WHERE merchant_id = $1 AND id = $2`
	deleteRule = `DELETE FROM risk_rules WHERE merchant_id = $1 AND id = $2`
	lockRules  = `SELECT pg_advisory_xact_lock(hashtext('risk_rules:' || $1))`
)

func scanRule(r pgx.Row) (*Rule, error) {
	var x Rule
	err := r.Scan(&x.ID, &x.MerchantID, &x.Action, &x.Expression, &x.Description, &x.Enabled, &x.Matches, &x.CreatedAt)
	return &x, err
}

// CheckRule validates a rule's action and expression (compiling it).
func CheckRule(action, expression string) error {
	if !slices.Contains([]string{ActionAllow, ActionBlock, ActionChallenge, ActionReview}, action) {
		return ErrActionInvalid
	}
	if _, err := Compile(expression); err != nil {
		return RuleInvalid(err)
	}
	return nil
}

// CreateRule adds a rule in tx. It returns ErrActionInvalid, a
// rule_invalid error, ErrDescriptionInvalid or ErrTooManyRules.
func CreateRule(ctx context.Context, tx pgx.Tx, merchantID, action, expression, description string, now time.Time) (*Rule, error) {
	if err := CheckRule(action, expression); err != nil {
		return nil, err
	}
	if len([]rune(description)) > 500 {
		return nil, ErrDescriptionInvalid
	}
	if _, err := tx.Exec(ctx, lockRules, merchantID); err != nil {
		return nil, fmt.Errorf("lock rules: %w", err)
	}
	now = now.UTC().Truncate(time.Microsecond)
	r := &Rule{ID: id.NewAt("rr", now), MerchantID: merchantID, Action: action, Expression: expression,
		Description: description, Enabled: true, CreatedAt: now}
	tag, err := tx.Exec(ctx, insertRule, r.ID, merchantID, action, expression, description, now, MaxRules)
	if err != nil {
		return nil, fmt.Errorf("insert rule: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil, ErrTooManyRules
	}
	return r, bump(ctx, tx, merchantID)
}

// ListRules returns merchantID's rules, oldest first.
func ListRules(ctx context.Context, db postgres.DBTX, merchantID string) ([]*Rule, error) {
	rows, err := db.Query(ctx, selectRules, merchantID)
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	defer rows.Close()
	var out []*Rule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, fmt.Errorf("read rule: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PageRules returns up to limit of a merchant's rules, newest first,
// older than startingAfter when set, and whether more follow (the API's
// list; screening reads them all in order with ListRules).
func PageRules(ctx context.Context, db postgres.DBTX, merchantID, startingAfter string, limit int) ([]*Rule, bool, error) {
	q := postgres.NewestOf(rulesFrom, "merchant_id", merchantID).Before(startingAfter)
	out, more, err := postgres.PageNewest(ctx, db, limit, func(r pgx.CollectableRow) (*Rule, error) { return scanRule(r) }, q)
	if err != nil {
		return nil, false, fmt.Errorf("list rules: %w", err)
	}
	return out, more, nil
}

// GetRule returns one rule or ErrRuleNotFound.
func GetRule(ctx context.Context, db postgres.DBTX, merchantID, ruleID string) (*Rule, error) {
	return oneRule(db.QueryRow(ctx, selectRule, merchantID, ruleID))
}

func oneRule(row pgx.Row) (*Rule, error) {
	r, err := scanRule(row)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrRuleNotFound
	case err != nil:
		return nil, fmt.Errorf("read rule: %w", err)
	}
	return r, nil
}

// RuleUpdate is what PATCH changes; nil fields stay.
type RuleUpdate struct {
	Expression, Description *string
	Enabled                 *bool
}

// UpdateRule changes a rule in tx; an edited expression is checked again.
func UpdateRule(ctx context.Context, tx pgx.Tx, merchantID, ruleID string, u RuleUpdate, now time.Time) (*Rule, error) {
	r, err := oneRule(tx.QueryRow(ctx, lockRule, merchantID, ruleID))
	if err != nil {
		return nil, err
	}
	if u.Expression != nil {
		if _, err := Compile(*u.Expression); err != nil {
			return nil, RuleInvalid(err)
		}
		r.Expression = *u.Expression
	}
	if u.Description != nil {
		if len([]rune(*u.Description)) > 500 {
			return nil, ErrDescriptionInvalid
		}
		r.Description = *u.Description
	}
	if u.Enabled != nil {
		r.Enabled = *u.Enabled
	}
	if _, err := tx.Exec(ctx, updateRule, merchantID, ruleID, r.Expression, r.Description, r.Enabled, now); err != nil {
		return nil, fmt.Errorf("update rule: %w", err)
	}
	return r, bump(ctx, tx, merchantID)
}

// DeleteRule removes a rule in tx. It returns ErrRuleNotFound.
func DeleteRule(ctx context.Context, tx pgx.Tx, merchantID, ruleID string) error {
	tag, err := tx.Exec(ctx, deleteRule, merchantID, ruleID)
	if err != nil {
		return fmt.Errorf("delete rule: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrRuleNotFound
	}
	return bump(ctx, tx, merchantID)
}

// Item is an entry of a merchant's allow or block list.
type Item struct {
	ID, MerchantID, List, Type, Value string
	CreatedAt                         time.Time
}

// ToWire returns it as the API shows it.
func (it *Item) ToWire() wire.RiskListItem {
	return wire.RiskListItem{ID: it.ID, List: it.List, Type: it.Type, Value: it.Value, CreatedAt: wire.Time(it.CreatedAt)}
}

const (
	itemColumns = `id, merchant_id, list, type, value, created_at`
	insertItem  = `
INSERT INTO risk_list_items (id, merchant_id, list, type, value, created_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (merchant_id, list, type, value) DO UPDATE SET value = EXCLUDED.value
RETURNING ` + itemColumns
	selectItems = `SELECT ` + itemColumns + ` FROM risk_list_items
WHERE merchant_id = $1 AND ($2 = '' OR list = $2) ORDER BY id DESC`
	itemsFrom  = `SELECT ` + itemColumns + ` FROM risk_list_items`
	deleteItem = `DELETE FROM risk_list_items WHERE merchant_id = $1 AND list = $2 AND id = $3`
)

// CheckList returns ErrListNotFound for a list other than allow or block.
func CheckList(list string) error {
	if list != ListAllow && list != ListBlock {
		return ErrListNotFound
	}
	return nil
}

// AddItem adds value of type typ to list in tx (adding it twice returns
// the first item). It returns ErrListTypeInvalid or ErrListValueInvalid.
func AddItem(ctx context.Context, tx pgx.Tx, merchantID, list, typ, value string, now time.Time) (*Item, error) {
	if err := CheckList(list); err != nil {
		return nil, err
	}
	v, err := NormalizeItem(typ, value)
	if err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Microsecond)
	var it Item
	if err := tx.QueryRow(ctx, insertItem, id.NewAt("rli", now), merchantID, list, typ, v, now).
		Scan(&it.ID, &it.MerchantID, &it.List, &it.Type, &it.Value, &it.CreatedAt); err != nil {
		return nil, fmt.Errorf("insert list item: %w", err)
	}
	return &it, bump(ctx, tx, merchantID)
}

// ListItems returns the items of list ("" for both), newest first.
func ListItems(ctx context.Context, db postgres.DBTX, merchantID, list string) ([]*Item, error) {
	rows, err := db.Query(ctx, selectItems, merchantID, list)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	defer rows.Close()
	var out []*Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("read list item: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

func scanItem(r pgx.Row) (*Item, error) {
	var it Item
	return &it, r.Scan(&it.ID, &it.MerchantID, &it.List, &it.Type, &it.Value, &it.CreatedAt)
}

// PageItems returns up to limit items of a merchant's list, newest
// first, older than startingAfter when set, and whether more follow.
func PageItems(ctx context.Context, db postgres.DBTX, merchantID, list, startingAfter string, limit int) ([]*Item, bool, error) {
	q := postgres.NewestOf(itemsFrom, "merchant_id", merchantID).Within("list", list).Before(startingAfter)
	out, more, err := postgres.PageNewest(ctx, db, limit, func(r pgx.CollectableRow) (*Item, error) { return scanItem(r) }, q)
	if err != nil {
		return nil, false, fmt.Errorf("list items: %w", err)
	}
	return out, more, nil
}

// DeleteItem removes an item in tx. It returns ErrItemNotFound.
func DeleteItem(ctx context.Context, tx pgx.Tx, merchantID, list, itemID string) error {
	tag, err := tx.Exec(ctx, deleteItem, merchantID, list, itemID)
	if err != nil {
		return fmt.Errorf("delete list item: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrItemNotFound
	}
	return bump(ctx, tx, merchantID)
}
