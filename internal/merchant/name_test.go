package merchant

import (
	"errors"
	"testing"
)

func TestValidateName(t *testing.T) {
	for _, tt := range []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{"plain", "  Acme Mugs ", "Acme Mugs", nil},
		{"apostrophe and accent", "Joe's Café", "Joe's Café", nil},
		{"abbreviations", "Dr. Smith & Co.", "Dr. Smith & Co.", nil},
		{"initials", "J.R. Tools", "J.R. Tools", nil},
		{"non-Latin", "東京ティー", "東京ティー", nil},
		{"empty", "   ", "", ErrNameInvalid},
		{"too long", string(make([]rune, 101)), "", ErrNameInvalid},
		{"newline", "Acme\nPay now", "", ErrNameInvalid},
		{"bidi override", "Acme\u202eevil", "", ErrNameInvalid},
		{"zero-width joiner", "Ac\u200dme", "", ErrNameInvalid},
		{"URL", "see https://x.example", "", ErrNameNotAllowed},
		{"domain", "Shop at acme.com", "", ErrNameNotAllowed},
		{"subdomain", "pay.acme.co.uk", "", ErrNameNotAllowed},
		{"www", "www.acme", "", ErrNameNotAllowed},
		{"full-width dot", "acme．com", "", ErrNameNotAllowed},
		{"ideographic dot", "acme。com", "", ErrNameNotAllowed},
		{"IP address", "10.0.0.1 support", "", ErrNameNotAllowed},
		{"e-mail", "write to help@acme", "", ErrNameNotAllowed},
		{"full-width at", "help＠acme", "", ErrNameNotAllowed},
		{"double quote", `Acme "official"`, "", ErrNameNotAllowed},
		{"curly quote", "Acme” via “Paylink", "", ErrNameNotAllowed},
		{"angle bracket", "Acme <ops>", "", ErrNameNotAllowed},
		{"Paylink", "PAYLINK refunds", "", ErrNameNotAllowed},
		{"Paylink spread out", "Pay-Link.Support", "", ErrNameNotAllowed},
		{"Paylink full-width", "Ｐａｙｌｉｎｋ", "", ErrNameNotAllowed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidateName(tt.in)
			if !errors.Is(err, tt.wantErr) || (err == nil && got != tt.want) {
				t.Fatalf("ValidateName(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
