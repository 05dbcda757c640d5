package risk

import (
	"context"
	"fmt"
	"slices"
)

// merchantConfig is a merchant's enabled rules (compiled) and lists, as
// of a version of risk_versions.
type merchantConfig struct {
	version int64
	rules   map[string][]compiledRule // by action, oldest first
	allow   *matcher
	block   *matcher
}

type compiledRule struct {
	id  string
	prg *Program
}

// noConfig is the rules and lists of every merchant at version 0: one
// that never had a rule or a list item, since each change of them moves
// the version in its transaction (bump).
var noConfig = &merchantConfig{rules: map[string][]compiledRule{}, allow: newMatcher(), block: newMatcher()}

// config returns merchantID's rules and lists at version, from the cache
// or, when the version moved (a rule or list changed on any replica),
// from the database, compiled once. At version 0 there is nothing to
// read, so a merchant's first payment after a start costs no more round
// trips than the next.
func (e *Engine) config(ctx context.Context, merchantID string, version int64) (*merchantConfig, error) {
	if version == 0 {
		return noConfig, nil
	}
	e.mu.Lock()
	cfg := e.cache[merchantID]
	e.mu.Unlock()
	if cfg != nil && cfg.version == version {
		return cfg, nil
	}
	cfg, err := e.loadConfig(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if old := e.cache[merchantID]; old == nil || old.version <= cfg.version {
		e.cache[merchantID] = cfg
	}
	e.mu.Unlock()
	return cfg, nil
}

func (e *Engine) loadConfig(ctx context.Context, merchantID string) (*merchantConfig, error) {
	cfg := &merchantConfig{rules: map[string][]compiledRule{}, allow: newMatcher(), block: newMatcher()}
	if err := e.db.Pool.QueryRow(ctx, selectVersion, merchantID).Scan(&cfg.version); err != nil {
		return nil, fmt.Errorf("read risk version: %w", err)
	}
	rules, err := ListRules(ctx, e.db.Pool, merchantID)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if !r.Enabled {
			continue
		}
		prg, err := Compile(r.Expression)
		if err != nil { // checked when saved; a newer CEL may disagree
			e.log.ErrorContext(ctx, "risk rule no longer compiles", "rule", r.ID, "err", err)
			continue
		}
		cfg.rules[r.Action] = append(cfg.rules[r.Action], compiledRule{id: r.ID, prg: prg})
	}
	items, err := ListItems(ctx, e.db.Pool, merchantID, "")
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.List == ListAllow {
			cfg.allow.add(it.Type, it.Value)
		} else {
			cfg.block.add(it.Type, it.Value)
		}
	}
	return cfg, nil
}

// decide applies API.md Part 3's order to a scored attempt: the
// platform's card_testing block; the allow list and allow rules; the
// block list and block rules; challenge rules; review rules; the default
// by level. The first matching rule of the deciding action is the
// decision's rule.
func (e *Engine) decide(ctx context.Context, a *Attempt, c Counts, h history, cfg *merchantConfig) Decision {
	f, signals := e.features(a, c, h)
	model, err := e.models.Current(ctx)
	if err != nil {
		e.log.WarnContext(ctx, "risk model unavailable, scoring with the last one read", "err", err, "model", model.Version)
	}
	score, reasons := model.Score(f)
	if score > 74 {
		score = 74 // model features alone make a payment at most elevated
	}
	reasons = mergeReasons(signals, reasons)
	if a.TestScore > 0 {
		score = a.TestScore
		reasons = append(reasons, TestCard)
	}
	if c.Degraded {
		reasons = append(reasons, Degraded)
	}
	d := Decision{Score: score, Level: Level(score), Model: model.Version}
	vars := Vars(a, c, score, d.Level, h.customerPayments)
	d.signals = map[string]any{"card_attempts_1h": c.CardAttempts, "card_failures_1h": c.CardFailures,
		"ip_attempts_10m": c.IPAttempts, "email_cards_24h": c.EmailCards, "customer_payments": h.customerPayments,
		"ip": a.IP}
	first := func(action string) string {
		for _, r := range cfg.rules[action] {
			ok, err := r.prg.Match(vars)
			if err != nil {
				e.log.WarnContext(ctx, "risk rule failed", "rule", r.id, "err", err)
				d.ruleErrors = append(d.ruleErrors, r.id)
				continue
			}
			if ok {
				return r.id
			}
		}
		return ""
	}
	decideBy := func(outcome, rule, listReason string) Decision {
		d.Outcome, d.Rule, d.ruleMatched = outcome, rule, rule
		if listReason != "" {
			reasons = append(reasons, listReason)
		}
		if rule != "" {
			reasons = append(reasons, rule)
		}
		d.Reasons = dedupe(reasons)
		return d
	}
	switch {
	case c.CardTesting:
		d.Score, d.Level = 99, Level(99)
		return decideBy(Block, "", CardTesting)
	case cfg.allow.match(a):
		return decideBy(Allow, "", AllowList)
	}
	if r := first(ActionAllow); r != "" {
		return decideBy(Allow, r, "")
	}
	if cfg.block.match(a) {
		return decideBy(Block, "", BlockList)
	}
	if r := first(ActionBlock); r != "" {
		return decideBy(Block, r, "")
	}
	if r := first(ActionChallenge); r != "" {
		return decideBy(Challenge, r, "")
	}
	if r := first(ActionReview); r != "" {
		return decideBy(Review, r, "")
	}
	switch d.Level {
	case "highest":
		return decideBy(Block, "", "")
	case "elevated":
		return decideBy(Review, "", "")
	}
	return decideBy(Allow, "", "")
}

// mergeReasons is the fired signals followed by the model's other
// reasons.
func mergeReasons(signals, model []string) []string {
	out := slices.Clone(signals)
	for _, r := range model {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, r := range in {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
