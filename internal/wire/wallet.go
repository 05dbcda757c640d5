package wire

// User is a wallet user as the API shows it.
type User struct {
	ID         string `json:"id"`
	Email      string `json:"email"`
	FirstName  string `json:"first_name"`
	MiddleName string `json:"middle_name"`
	LastName   string `json:"last_name"`
	Phone      string `json:"phone"`
	HasPasskey bool   `json:"has_passkey"`
	CreatedAt  string `json:"created_at"`
}

// WalletTransaction is one entry of a wallet's history. Amount is always
// positive; Type says the direction.
type WalletTransaction struct {
	ID           string      `json:"id"`
	Object       string      `json:"object"`
	Type         string      `json:"type"`
	Status       string      `json:"status"`
	Amount       int64       `json:"amount"`
	Currency     string      `json:"currency"`
	Counterparty *string     `json:"counterparty"`
	Note         string      `json:"note"`
	Payment      *string     `json:"payment"`
	Card         *CardDetail `json:"card"`
	FailureCode  *string     `json:"failure_code"`
	CreatedAt    string      `json:"created_at"`
	UpdatedAt    string      `json:"updated_at"`
}

// CardDetail is the safe part of a card: brand and last four digits.
type CardDetail struct {
	Brand string `json:"brand"`
	Last4 string `json:"last4"`
}

// Notification is an in-app wallet notification.
type Notification struct {
	ID          string  `json:"id"`
	Type        string  `json:"type"`
	Message     string  `json:"message"`
	Transaction *string `json:"transaction"`
	CreatedAt   string  `json:"created_at"`
	Read        bool    `json:"read"`
}

// Passkey is a registered WebAuthn credential as the API shows it (never
// its key material).
type Passkey struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
}
