// Package wire holds the JSON form of every public object (merchant, API
// key, payment link, payment, …). HTTP answers and webhook event payloads
// use these same types, because API.md promises that an event's data is
// "the object itself, as the API answers it". Domain packages convert their
// own structs into these; wire imports no domain package.
package wire

import (
	"encoding/json"
	"time"
)

// Time formats t as API.md wants: RFC 3339 in UTC, to the second.
func Time(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// TimePtr is Time for an optional time; nil stays nil (JSON null).
func TimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := Time(*t)
	return &s
}

// OrNil is &v, or nil when v is its type's zero value: how an optional
// field goes out as JSON null, or into the database as NULL.
func OrNil[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// Deref is *p, or the zero value when p is nil: OrNil's way back.
func Deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// List is the envelope of every list answer.
type List[T any] struct {
	Data    []T  `json:"data"`
	HasMore bool `json:"has_more"`
}

// Merchant is a merchant as the API shows it, with its settings as they
// apply (lists never empty).
type Merchant struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	Email             string   `json:"email"`
	CreatedAt         string   `json:"created_at"`
	PaymentEmails     bool     `json:"payment_emails"`
	Currencies        []string `json:"currencies"`
	PaymentMethods    []string `json:"payment_methods"`
	CardBrands        []string `json:"card_brands"`
	NotificationEmail string   `json:"notification_email"`
	NotifyOn          []string `json:"notify_on"`
}

// APIKey is an API key as the API shows it; Secret only when created.
// Scopes is null for a key with full access; ExpiresAt is set once the key
// was rolled.
type APIKey struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Scopes     []string `json:"scopes"`
	Secret     string   `json:"secret,omitempty"`
	CreatedAt  string   `json:"created_at"`
	LastUsedAt *string  `json:"last_used_at"`
	RevokedAt  *string  `json:"revoked_at"`
	ExpiresAt  *string  `json:"expires_at"`
}

// ReturnKeys is GET /.well-known/paylink-keys.json: the public keys that
// verify the signed return to a merchant's site.
type ReturnKeys struct {
	Keys []ReturnKey `json:"keys"`
}

// ReturnKey is one Ed25519 public key, base64url without padding.
type ReturnKey struct {
	KID       string `json:"kid"`
	Alg       string `json:"alg"`
	PublicKey string `json:"public_key"`
}

// WithoutSecret is k without its secret, as a late replay answers it.
func (k APIKey) WithoutSecret() any {
	k.Secret = ""
	return k
}

// Private is a field merchants see (V, null when nil) and shoppers do
// not: with Omit set it is left out of the JSON (with the omitzero tag).
type Private[T any] struct {
	V    T
	Omit bool
}

// IsZero reports whether the field is left out.
func (p Private[T]) IsZero() bool { return p.Omit }

// MarshalJSON writes V.
func (p Private[T]) MarshalJSON() ([]byte, error) { return json.Marshal(p.V) }

// UnmarshalJSON reads V.
func (p *Private[T]) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &p.V) }

// Shown is v as a Private field that is shown.
func Shown[T any](v T) Private[T] { return Private[T]{V: v} }
