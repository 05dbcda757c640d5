package wire

// PaymentForm is an embeddable payment form as the API shows it. Amount is
// set for a fixed amount; AmountMin and AmountMax when the shopper chooses.
type PaymentForm struct {
	ID             string            `json:"id"`
	URL            string            `json:"url"`
	Status         string            `json:"status"`
	Title          string            `json:"title"`
	Description    string            `json:"description"`
	Currency       string            `json:"currency"`
	Amount         *int64            `json:"amount"`
	AmountMin      *int64            `json:"amount_min"`
	AmountMax      *int64            `json:"amount_max"`
	Collect        []string          `json:"collect"`
	AllowedOrigins []string          `json:"allowed_origins"`
	SuccessURL     *string           `json:"success_url"`
	Realm          *string           `json:"realm"`
	Metadata       map[string]string `json:"metadata"`
	CreatedAt      string            `json:"created_at"`
	DeactivatedAt  *string           `json:"deactivated_at"`
}
