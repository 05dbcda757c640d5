package fraud

import (
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/processor"
)

// fixedNow is the time the plan's cards are validated at.
var fixedNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// The plan's cards are what the simulator treats them as: live cards
// pass the Luhn check with a future expiry, a legitimate shopper's typo
// fails it, the slow tester's dead cards are expired; attacks stay where
// the benchmark says (card testers under no other threshold than
// card_testing's, stolen cards above amount_anomaly's 10 × the median,
// the slow attack below it).
func TestPlanCards(t *testing.T) {
	p := &planner{rng: mrand.New(mrand.NewPCG(1, 2)), merchants: 3}
	for range 1000 {
		c := p.liveCard()
		if _, code := processor.Validate(processor.Card{Number: c.Number, ExpMonth: c.ExpMonth, ExpYear: c.ExpYear, CVC: c.CVC}, "USD", fixedNow); code != "" {
			t.Fatalf("live card %+v refused: %s", c, code)
		}
	}
	typos, declines := 0, 0
	for range 2000 {
		a := p.legit([]string{"192.0.2.1"})
		for _, at := range a.attempts {
			_, code := processor.Validate(processor.Card{Number: at.card.Number, ExpMonth: at.card.ExpMonth, ExpYear: at.card.ExpYear, CVC: "123"}, "USD", fixedNow)
			switch {
			case code == processor.CodeInvalidNumber:
				typos++
			case code != "":
				t.Fatalf("legitimate card %+v refused: %s", at.card, code)
			case at.card.Number == insufficientFunds:
				declines++
			}
		}
	}
	if typos == 0 || declines == 0 {
		t.Errorf("legitimate shoppers: %d typos, %d declines; want some of each", typos, declines)
	}
	dead := 0
	for _, at := range p.slowTester(100).attempts {
		if _, code := processor.Validate(processor.Card{Number: at.card.Number, ExpMonth: at.card.ExpMonth, ExpYear: at.card.ExpYear, CVC: "123"}, "USD", fixedNow); code == processor.CodeExpiredCard {
			dead++
		}
	}
	if dead < 60 || dead > 95 {
		t.Errorf("slow tester: %d of 100 cards expired, want about 80", dead)
	}
	for _, median := range medians {
		if s, f := price(median, dearest), price(median, fiveTimes); s <= 10*median || f >= 10*median {
			t.Errorf("median %d: stolen cards buy at %d, the slow attack at %d", median, s, f)
		}
	}
	total := 0.0
	for _, it := range catalog {
		total += it.legit
	}
	if total != 1000 {
		t.Errorf("legitimate weights add up to %v per mille", total)
	}
}
