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
}

// PaymentMethod says how a payment was paid; card fields are null for other
// types.
type PaymentMethod struct {
	Type     string  `json:"type"`
	Brand    *string `json:"brand"`
	Last4    *string `json:"last4"`
	ExpMonth *int    `json:"exp_month"`
	ExpYear  *int    `json:"exp_year"`
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
