package dashboard

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/risk"
)

// Reason is a risk reason (API.md Part 3) for people: its name, a short
// sentence, and for a rule the rule's id (to link to it).
type Reason struct {
	Name, Text, Rule string
}

// reasonTexts say in plain words what each reason name means.
var reasonTexts = map[string]string{
	risk.CardTesting:       "Many failed card attempts came from this IP address: it looks like card testing.",
	risk.EmailCardVelocity: "This e-mail address used several different cards within 24 hours.",
	risk.CardVelocity:      "This card was tried many times within an hour.",
	risk.IPVelocity:        "Many payment attempts came from this IP address within 10 minutes.",
	risk.AmountAnomaly:     "The amount is far above your usual payments in this currency.",
	risk.NewCustomer:       "First payment from this customer.",
	risk.WalletMethod:      "Paid from a Paylink wallet.",
	risk.AllowList:         "On your allow list.",
	risk.BlockList:         "On your block list.",
	risk.TestCard:          "A risk test card.",
	risk.Degraded:          "Screened without the velocity signals (they could not be read at the time).",
}

// ReasonOf turns a reason name into a Reason.
func ReasonOf(name string) Reason {
	if strings.HasPrefix(name, "rr_") {
		return Reason{Name: name, Text: "Your rule matched.", Rule: name}
	}
	if t, ok := reasonTexts[name]; ok {
		return Reason{Name: name, Text: t}
	}
	return Reason{Name: name, Text: "Raised the score: " + strings.ReplaceAll(name, "_", " ") + "."}
}

// CurrentVisit is the logged-in merchant's visit, or an error without a
// live session, for routes that answer without redirecting (JSON).
func (s *Server) CurrentVisit(c *gin.Context) (*Visit, error) { return s.currentVisit(c) }
