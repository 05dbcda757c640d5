package risk

import (
	"fmt"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
)

// Rule actions.
const (
	ActionAllow     = "allow"
	ActionBlock     = "block"
	ActionChallenge = "challenge"
	ActionReview    = "review"
)

// celEnv declares the names a rule may use (API.md Part 3, "Rules").
var celEnv = func() *cel.Env {
	opts := []cel.EnvOption{cel.Variable("metadata", cel.MapType(cel.StringType, cel.StringType))}
	for _, n := range intVars {
		opts = append(opts, cel.Variable(n, cel.IntType))
	}
	for _, n := range stringVars {
		opts = append(opts, cel.Variable(n, cel.StringType))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		panic(err)
	}
	return env
}()

var (
	intVars = []string{"amount", "score", "card_attempts_1h", "card_failures_1h", "ip_attempts_10m",
		"email_cards_24h", "customer_payments"}
	stringVars = []string{"currency", "level", "method", "card_brand", "card_fingerprint", "email",
		"email_domain", "ip", "link", "form", "realm"}
)

// Program is a rule's expression, type-checked and compiled once.
type Program struct{ prg cel.Program }

// Compile type-checks expression: it must be CEL over the declared names
// and give a bool. The error (for a 400 rule_invalid) is the checker's
// message.
func Compile(expression string) (*Program, error) {
	if strings.TrimSpace(expression) == "" {
		return nil, fmt.Errorf("expression is empty")
	}
	if len(expression) > 2000 {
		return nil, fmt.Errorf("expression is longer than 2000 characters")
	}
	ast, iss := celEnv.Compile(expression)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if !ast.OutputType().IsExactType(types.BoolType) {
		return nil, fmt.Errorf("expression gives %s, not bool", ast.OutputType())
	}
	prg, err := celEnv.Program(ast, cel.CostLimit(10000), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, err
	}
	return &Program{prg: prg}, nil
}

// Match evaluates p over vars; an error is a run-time failure (a missing
// metadata key, a division by zero), for which the rule is skipped.
func (p *Program) Match(vars map[string]any) (bool, error) {
	out, _, err := p.prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("rule gave %v, not a bool", out.Value())
	}
	return b, nil
}

// Vars are the names a rule sees for attempt a with counts c, its score
// and level, and the customer's earlier succeeded payments.
func Vars(a *Attempt, c Counts, score int, level string, customerPayments int64) map[string]any {
	md := a.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return map[string]any{
		"amount": a.Amount, "score": int64(score), "card_attempts_1h": c.CardAttempts,
		"card_failures_1h": c.CardFailures, "ip_attempts_10m": c.IPAttempts, "email_cards_24h": c.EmailCards,
		"customer_payments": customerPayments, "currency": a.Currency, "level": level, "method": a.Method,
		"card_brand": a.Brand, "card_fingerprint": a.Fingerprint, "email": lower(a.Email),
		"email_domain": domainOf(a.Email), "ip": a.IP, "link": a.Link, "form": a.Form, "realm": a.Realm,
		"metadata": md,
	}
}

func domainOf(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return lower(email[i+1:])
	}
	return ""
}
