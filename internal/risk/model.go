package risk

import "github.com/paylink/paylink/internal/riskmodel"

// Signal and reason names (API.md Part 3).
const (
	CardTesting       = "card_testing"
	EmailCardVelocity = riskmodel.EmailCardVelocity
	CardVelocity      = riskmodel.CardVelocity
	IPVelocity        = riskmodel.IPVelocity
	AmountAnomaly     = riskmodel.AmountAnomaly
	NewCustomer       = riskmodel.NewCustomer
	WalletMethod      = riskmodel.WalletMethod
	AllowList         = "allow_list"
	BlockList         = "block_list"
	TestCard          = "test_card"
	Degraded          = "risk_degraded"
)

// Level names a score's band (riskmodel.Level).
func Level(score int) string { return riskmodel.Level(score) }
