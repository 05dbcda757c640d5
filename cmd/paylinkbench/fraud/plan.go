package fraud

import (
	"fmt"
	mrand "math/rand/v2"
	"strconv"
)

// The classes of traffic the benchmark mixes.
const (
	Legit       = "legit"
	CardTesting = "card_testing"
	Stolen      = "stolen_cards"
	Slow        = "slow"
)

// catalog is every merchant's price list as multiples of its median
// price, and how often a legitimate shopper buys each item (per mille):
// most buy around the median, almost nobody the two dearest items.
var catalog = []struct {
	times float64
	legit float64
}{
	{0.04, 2}, {0.3, 30}, {0.5, 80}, {0.7, 120}, {0.85, 150}, {1, 200}, {1.15, 150}, {1.3, 100},
	{1.6, 70}, {2, 50}, {3, 30}, {5, 16}, {12, 1.5}, {20, 0.5},
}

// Catalog items the attacks buy.
const (
	cheapest  = 0  // card testers: the cheapest item
	fiveTimes = 11 // the slow attack's stolen cards: 5 × the median, under amount_anomaly's 10 ×
	dearest   = 12 // stolen cards: the two dearest items, 12 × and 20 × the median
)

// medians are the merchants' median prices (minor units), in turn.
var medians = []int64{1200, 2500, 3900, 6000, 8500}

// price is item i of a merchant whose median price is median.
func price(median int64, i int) int64 { return max(100, int64(float64(median)*catalog[i].times+0.5)) }

// The simulator's declining test cards (API.md "Test cards"); every one
// answers 402.
var declining = []string{"4000000000000002", "4000000000009995", "4000000000000069", "4000000000000127", "4000000000000119"}

// insufficientFunds is the test card a legitimate shopper's ordinary
// decline uses.
const insufficientFunds = "4000000000009995"

// card is a card as the checkout page sends it.
type card struct {
	Number   string `json:"number"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
	CVC      string `json:"cvc"`
}

// attempt is one checkout POST of the plan.
type attempt struct {
	merchant, item int
	email, ip      string
	card           card
	// afterThreshold marks a card tester's attempt sent once the IP had
	// card_testing's failures over its distinct cards (set while running).
	afterThreshold bool
}

// actor is one shopper or attacker: attempts made one after another.
type actor struct {
	class, kind string // kind: a sub-kind of the class, for the report
	attempts    []attempt
	// tester is set for card testers: their attempts are counted
	// against card_testing's threshold as they run.
	tester bool
}

// planner makes the actors of one run.
type planner struct {
	rng       *mrand.Rand
	merchants int
	n         int // addresses and e-mails made so far, for uniqueness
}

// liveCard is a fresh valid card number (Luhn), Visa or Mastercard,
// which the simulator authorizes.
func (p *planner) liveCard() card {
	return card{Number: LiveCardNumber(p.rng), ExpMonth: 1 + p.rng.IntN(12), ExpYear: 2028 + p.rng.IntN(6), CVC: "123"}
}

// LiveCardNumber is a random valid card number (Luhn), Visa two times in
// three, else Mastercard, which the card simulator authorizes.
func LiveCardNumber(rng *mrand.Rand) string {
	prefix := "4539"
	if rng.IntN(3) == 0 {
		prefix = "5412"
	}
	digits := []byte(prefix)
	for len(digits) < 15 {
		digits = append(digits, byte('0'+rng.IntN(10)))
	}
	return string(append(digits, luhnDigit(digits)))
}

// luhnDigit is the check digit that makes digits+it pass the Luhn check.
func luhnDigit(digits []byte) byte {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// ip is a fresh public-looking IPv4 address.
func (p *planner) ip() string {
	p.n++
	return fmt.Sprintf("%d.%d.%d.%d", 11+p.rng.IntN(180), p.n>>16&255, p.n>>8&255, 1+p.n&254)
}

func (p *planner) email(who string) string {
	p.n++
	return who + strconv.Itoa(p.n) + "@" + []string{"mail.test", "inbox.test", "post.test", "web.test"}[p.rng.IntN(4)]
}

// legitItem picks what a legitimate shopper buys.
func (p *planner) legitItem() int {
	x := p.rng.Float64() * 1000
	for i, it := range catalog {
		if x -= it.legit; x < 0 {
			return i
		}
	}
	return len(catalog) / 2
}

// legit is a customer of one merchant who buys once (55%), twice (30%)
// or three times (15%), mostly with one card (10% have a second they
// sometimes use), from their own address (3% from one of a few shared
// carrier addresses). 3% of purchases first fail (half a mistyped number,
// half an insufficient-funds decline) and are retried with a good card.
func (p *planner) legit(nat []string) *actor {
	a := &actor{class: Legit, kind: "customers"}
	m := p.rng.IntN(p.merchants)
	email, ip := p.email("shopper"), p.ip()
	if p.rng.IntN(100) < 3 {
		ip = nat[p.rng.IntN(len(nat))]
	}
	cards := []card{p.liveCard()}
	if p.rng.IntN(10) == 0 {
		cards = append(cards, p.liveCard())
	}
	buys := 1
	if x := p.rng.IntN(100); x >= 85 {
		buys = 3
	} else if x >= 55 {
		buys = 2
	}
	for range buys {
		item, c := p.legitItem(), cards[p.rng.IntN(len(cards))]
		if x := p.rng.IntN(200); x < 3 {
			typo := c
			typo.Number = typo.Number[:15] + string('0'+(typo.Number[15]-'0'+1)%10)
			a.attempts = append(a.attempts, attempt{merchant: m, item: item, email: email, ip: ip, card: typo})
		} else if x < 6 {
			bad := c
			bad.Number = insufficientFunds
			a.attempts = append(a.attempts, attempt{merchant: m, item: item, email: email, ip: ip, card: bad})
		}
		a.attempts = append(a.attempts, attempt{merchant: m, item: item, email: email, ip: ip, card: c})
	}
	return a
}

// cardTester tests n cards at one merchant from one address, buying
// the cheapest item: 85% of them the declining test cards, the rest
// live cards, each with a throwaway e-mail.
func (p *planner) cardTester(n int) *actor {
	a := &actor{class: CardTesting, kind: "one IP, many cards", tester: true}
	m, ip := p.rng.IntN(p.merchants), p.ip()
	for range n {
		c := p.liveCard()
		if p.rng.IntN(100) < 85 {
			c.Number = declining[p.rng.IntN(len(declining))]
		}
		a.attempts = append(a.attempts, attempt{merchant: m, item: cheapest, email: p.email("t"), ip: ip, card: c})
	}
	return a
}

// stolen is a fraudster with n stolen (live) cards buying the dearest
// items at one merchant: byEmail keeps one e-mail and changes address
// every attempt; otherwise one address and a new e-mail per card.
func (p *planner) stolen(n int, byEmail bool) *actor {
	a := &actor{class: Stolen, kind: "one IP, a new e-mail per card"}
	m, email, ip := p.rng.IntN(p.merchants), p.email("buyer"), p.ip()
	if byEmail {
		a.kind = "one e-mail, a new IP per card"
	}
	for range n {
		if byEmail {
			ip = p.ip()
		} else {
			email = p.email("buyer")
		}
		a.attempts = append(a.attempts, attempt{merchant: m, item: dearest + p.rng.IntN(2), email: email, ip: ip, card: p.liveCard()})
	}
	return a
}

// slowTester tests n cards at one merchant from one address, n below
// card_testing's failures and ip_velocity's attempts: 80% dead cards
// (a past expiry), 20% live ones.
func (p *planner) slowTester(n int) *actor {
	a := &actor{class: Slow, kind: "card testing, under the thresholds"}
	m, ip := p.rng.IntN(p.merchants), p.ip()
	for range n {
		c := p.liveCard()
		if p.rng.IntN(100) < 80 {
			c.ExpYear = 2020
		}
		a.attempts = append(a.attempts, attempt{merchant: m, item: cheapest, email: p.email("t"), ip: ip, card: c})
	}
	return a
}

// slowStolen uses two stolen cards per e-mail (under
// email_card_velocity's third), a new address each time, at 5 × the
// merchant's median (under amount_anomaly's 10 ×).
func (p *planner) slowStolen() *actor {
	a := &actor{class: Slow, kind: "stolen cards, under the thresholds"}
	m, email := p.rng.IntN(p.merchants), p.email("buyer")
	for range 2 {
		a.attempts = append(a.attempts, attempt{merchant: m, item: fiveTimes, email: email, ip: p.ip(), card: p.liveCard()})
	}
	return a
}
