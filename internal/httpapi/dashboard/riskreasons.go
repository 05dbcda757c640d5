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

// ReasonOf turns a reason name into a Reason.
func ReasonOf(name string) Reason {
	r := Reason{Name: name, Text: risk.ReasonText(name)}
	if strings.HasPrefix(name, "rr_") {
		r.Rule = name
	}
	return r
}

// CurrentVisit is the logged-in merchant's visit, or an error without a
// live session, for routes that answer without redirecting (JSON).
func (s *Server) CurrentVisit(c *gin.Context) (*Visit, error) { return s.currentVisit(c) }
