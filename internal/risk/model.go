package risk

import (
	"math"
	"slices"
)

// Signal and reason names (API.md Part 3).
const (
	CardTesting       = "card_testing"
	EmailCardVelocity = "email_card_velocity"
	CardVelocity      = "card_velocity"
	IPVelocity        = "ip_velocity"
	AmountAnomaly     = "amount_anomaly"
	NewCustomer       = "new_customer"
	WalletMethod      = "wallet"
	AllowList         = "allow_list"
	BlockList         = "block_list"
	TestCard          = "test_card"
	Degraded          = "risk_degraded"
)

// Model is the logistic score: score = ⌊99·σ(Bias + Σ wᵢxᵢ)⌋ over the
// features of an attempt, each 0 or 1. Every feature whose weight times
// value is at least ReasonAt is named in the decision's reasons, so the
// score explains itself.
type Model struct {
	Version  string
	Bias     float64
	Weights  map[string]float64
	ReasonAt float64
}

// DefaultModel is the model Paylink ships: any one velocity signal scores
// about 40 (normal, named in reasons), two together reach the elevated band,
// and so does an amount anomaly from a new customer (68: the usual shape of
// a stolen card).
var DefaultModel = Model{
	Version: "default-1",
	Bias:    -4.0,
	Weights: map[string]float64{
		EmailCardVelocity: 3.2, CardVelocity: 3.0, IPVelocity: 3.0, AmountAnomaly: 4.2,
		NewCustomer: 0.6, WalletMethod: -0.8,
	},
	ReasonAt: 1.0,
}

// Features are an attempt's model inputs.
type Features map[string]float64

// Score returns the model's score (0..99) of f and the features that
// pushed it up (reasons, in a fixed order).
func (m Model) Score(f Features) (int, []string) {
	z := m.Bias
	var reasons []string
	for name, x := range f {
		w := m.Weights[name]
		z += w * x
		if w*x >= m.ReasonAt {
			reasons = append(reasons, name)
		}
	}
	slices.Sort(reasons)
	s := int(math.Floor(99 * (1 / (1 + math.Exp(-z)))))
	return min(max(s, 0), 99), reasons
}

// Level names a score's band: < 65 normal, 65..74 elevated, ≥ 75 highest.
func Level(score int) string {
	switch {
	case score >= 75:
		return "highest"
	case score >= 65:
		return "elevated"
	}
	return "normal"
}
