// Package riskmodel is the risk engine's logistic model (API.md Part 3):
// its features, the score, the versions refitted from the platform's own
// fraud labels (paylink risk train) and the one version that is active.
package riskmodel

import (
	"math"
	"slices"
)

// Feature names; the first four are also signals (API.md Part 3).
const (
	EmailCardVelocity = "email_card_velocity"
	CardVelocity      = "card_velocity"
	IPVelocity        = "ip_velocity"
	AmountAnomaly     = "amount_anomaly"
	NewCustomer       = "new_customer"
	WalletMethod      = "wallet"
)

// Names are every feature, in the order training fits them.
var Names = []string{EmailCardVelocity, CardVelocity, IPVelocity, AmountAnomaly, NewCustomer, WalletMethod}

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

// DefaultModel is the model Paylink ships, used while no trained version
// is active: any one velocity signal scores about 40 (normal, named in
// reasons), two together reach the elevated band, and so does an amount
// anomaly from a new customer (68: the usual shape of a stolen card).
var DefaultModel = Model{
	Version: "default-2",
	Bias:    -4.0,
	Weights: map[string]float64{
		EmailCardVelocity: 3.2, CardVelocity: 3.0, IPVelocity: 3.0, AmountAnomaly: 4.2,
		NewCustomer: 0.6, WalletMethod: -0.8,
	},
	ReasonAt: 1.0,
}

// Features are an attempt's model inputs.
type Features map[string]float64

// FeaturesOf are the features of an attempt whose fired signals are
// signals (other names are ignored), with customerPayments earlier
// succeeded payments of its customer, paid by method ("card", "wallet").
// Screening and training both call it, so they cannot disagree.
func FeaturesOf(signals []string, customerPayments int64, method string) Features {
	f := Features{}
	for _, s := range signals {
		switch s {
		case EmailCardVelocity, CardVelocity, IPVelocity, AmountAnomaly:
			f[s] = 1
		}
	}
	if customerPayments == 0 {
		f[NewCustomer] = 1
	}
	if method == "wallet" {
		f[WalletMethod] = 1
	}
	return f
}

// Score returns the model's score (0..99) of f and the features that
// pushed it up (reasons, in a fixed order).
func (m Model) Score(f Features) (int, []string) {
	var reasons []string
	for name, x := range f {
		if m.Weights[name]*x >= m.ReasonAt {
			reasons = append(reasons, name)
		}
	}
	slices.Sort(reasons)
	s := int(math.Floor(99 * m.prob(f)))
	return min(max(s, 0), 99), reasons
}

// prob is σ(Bias + Σ wᵢxᵢ).
func (m Model) prob(f Features) float64 {
	z := m.Bias
	for name, x := range f {
		z += m.Weights[name] * x
	}
	return 1 / (1 + math.Exp(-z))
}

// The risk test cards (API.md Part 3): both Visa, otherwise succeeding.
const (
	CardHighestRisk  = "4100000000000019"
	CardElevatedRisk = "4000000000009235"
)

// TestCardScore is the fixed score of a risk test card number (digits
// only), 0 for any other.
func TestCardScore(number string) int {
	switch number {
	case CardHighestRisk:
		return 99
	case CardElevatedRisk:
		return 70
	}
	return 0
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
