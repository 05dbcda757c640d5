package wire

// PaymentLink is a payment link as the API shows it. URL is signed with the
// server's current link-signing key each time the link is shown.
type PaymentLink struct {
	ID          string            `json:"id"`
	URL         string            `json:"url"`
	Status      string            `json:"status"`
	Amount      int64             `json:"amount"`
	Currency    string            `json:"currency"`
	Description string            `json:"description"`
	SingleUse   bool              `json:"single_use"`
	SuccessURL  *string           `json:"success_url"`
	CancelURL   *string           `json:"cancel_url"`
	Realm       *string           `json:"realm"`
	ExpiresAt   string            `json:"expires_at"`
	CreatedAt   string            `json:"created_at"`
	Metadata    map[string]string `json:"metadata"`
}

// Payment is a payment as the API shows it, and the data of payment.*
// events (customer included: e-mail receipts are derived from it).
type Payment struct {
	ID             string            `json:"id"`
	Amount         int64             `json:"amount"`
	Currency       string            `json:"currency"`
	Status         string            `json:"status"`
	AmountRefunded int64             `json:"amount_refunded"`
	PaymentLink    *string           `json:"payment_link"`
	PaymentForm    *string           `json:"payment_form"`
	Reference      *string           `json:"reference"`
	Realm          *string           `json:"realm"`
	PaymentMethod  PaymentMethod     `json:"payment_method"`
	Customer       Customer          `json:"customer"`
	FailureCode    *string           `json:"failure_code"`
	FailureMessage *string           `json:"failure_message"`
	CreatedAt      string            `json:"created_at"`
	Metadata       map[string]string `json:"metadata"`
	// Risk is screening's decision (null for a payment made before
	// screening); Review the review it opened. Shoppers see neither.
	Risk   Private[*Risk]   `json:"risk,omitzero"`
	Review Private[*string] `json:"review,omitzero"`
}

// ForShopper returns p without what only its merchant sees: its risk,
// its review and the card's fingerprint.
func (p Payment) ForShopper() Payment {
	p.Risk.Omit, p.Review.Omit, p.PaymentMethod.Fingerprint.Omit = true, true, true
	return p
}

// PaymentMethod says how a payment was paid; card fields are null for other
// types.
type PaymentMethod struct {
	Type     string  `json:"type"`
	Brand    *string `json:"brand"`
	Last4    *string `json:"last4"`
	ExpMonth *int    `json:"exp_month"`
	ExpYear  *int    `json:"exp_year"`
	// Fingerprint is stable per card number across merchants and not
	// reversible; null for wallet payments.
	Fingerprint Private[*string] `json:"fingerprint,omitzero"`
}

// Customer is who paid. Phone and Address are what a payment form
// collected, null otherwise.
type Customer struct {
	Email   string   `json:"email"`
	Name    string   `json:"name"`
	Phone   *string  `json:"phone"`
	Address *Address `json:"address"`
}

// Address is a postal (billing) address; Country is an ISO 3166-1 alpha-2
// code.
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	State      string `json:"state"`
	Country    string `json:"country"`
}

// Refund is a refund as the API shows it; Reason is null when the
// merchant gave none.
type Refund struct {
	ID        string  `json:"id"`
	Payment   string  `json:"payment"`
	Amount    int64   `json:"amount"`
	Currency  string  `json:"currency"`
	Status    string  `json:"status"`
	Reason    *string `json:"reason"`
	CreatedAt string  `json:"created_at"`
}

// Balance is a merchant's ledger balance, one amount per currency.
type Balance struct {
	Available []Money `json:"available"`
}

// Money is an amount in a currency's minor unit.
type Money struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

// Risk is what screening decided about a payment (API.md Part 3).
type Risk struct {
	Score   int      `json:"score"`
	Level   string   `json:"level"`
	Outcome string   `json:"outcome"`
	Reasons []string `json:"reasons"`
	Rule    *string  `json:"rule"`
}

// RiskRule is a merchant's screening rule.
type RiskRule struct {
	ID          string `json:"id"`
	Action      string `json:"action"`
	Expression  string `json:"expression"`
	Description string `json:"description"`
	Enabled     bool   `json:"enabled"`
	Matches     int64  `json:"matches"`
	CreatedAt   string `json:"created_at"`
}

// RiskListItem is an entry of an allow or block list.
type RiskListItem struct {
	ID        string `json:"id"`
	List      string `json:"list"`
	Type      string `json:"type"`
	Value     string `json:"value"`
	CreatedAt string `json:"created_at"`
}

// Review is a payment held for the merchant to look at.
type Review struct {
	ID           string  `json:"id"`
	Payment      string  `json:"payment"`
	Status       string  `json:"status"`
	Reason       string  `json:"reason"`
	ClosedReason *string `json:"closed_reason"`
	CreatedAt    string  `json:"created_at"`
	ClosedAt     *string `json:"closed_at"`
}

// RiskBacktest is how many of a merchant's recent payments a rule would
// have matched.
type RiskBacktest struct {
	Matched  int      `json:"matched"`
	Of       int      `json:"of"`
	Payments []string `json:"payments"`
}

// RiskInsights summarises a merchant's screening over some days.
type RiskInsights struct {
	Days              int          `json:"days"`
	Attempts          int64        `json:"attempts"`
	Outcomes          RiskOutcomes `json:"outcomes"`
	BlockedAmount     []Money      `json:"blocked_amount"`
	TopReasons        []RiskReason `json:"top_reasons"`
	OpenReviews       int64        `json:"open_reviews"`
	FraudulentRefunds int64        `json:"fraudulent_refunds"`
}

// RiskOutcomes counts decisions by outcome.
type RiskOutcomes struct {
	Allow     int64 `json:"allow"`
	Review    int64 `json:"review"`
	Challenge int64 `json:"challenge"`
	Block     int64 `json:"block"`
}

// RiskReason is how often a reason was given.
type RiskReason struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}
