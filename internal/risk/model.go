package risk

import (
	"strings"

	"github.com/paylink/paylink/internal/riskmodel"
)

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

// reasonTexts say in plain words what each reason name means, to the
// merchant whose payment it is.
var reasonTexts = map[string]string{
	CardTesting:       "Many failed card attempts came from this IP address: it looks like card testing.",
	EmailCardVelocity: "This e-mail address used several different cards within 24 hours.",
	CardVelocity:      "This card was tried many times within an hour.",
	IPVelocity:        "Many payment attempts came from this IP address within 10 minutes.",
	AmountAnomaly:     "The amount is far above your usual payments in this currency.",
	NewCustomer:       "First payment from this customer.",
	WalletMethod:      "Paid from a Paylink wallet.",
	AllowList:         "On your allow list.",
	BlockList:         "On your block list.",
	TestCard:          "A risk test card.",
	Degraded:          "Screened without the velocity signals (they could not be read at the time).",
}

// ReasonText says what reason name means in a sentence, as the dashboard
// and e-mails show it: a rule's id (rr_…) is "Your rule matched.", and a
// name without a sentence of its own is spelled out.
func ReasonText(name string) string {
	if strings.HasPrefix(name, "rr_") {
		return "Your rule matched."
	}
	if t, ok := reasonTexts[name]; ok {
		return t
	}
	return "Raised the score: " + strings.ReplaceAll(name, "_", " ") + "."
}
