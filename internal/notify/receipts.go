package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/processor"
)

// Payment is what e-mails say about a payment, read from the payment
// object of a payment event (API.md's fields).
type Payment struct {
	ID            string
	Amount        money.Amount
	PaymentLink   string
	MethodType    string // "card" or "wallet"
	Brand         string
	Last4         string
	CustomerEmail string
	CustomerName  string
	CreatedAt     time.Time
	// Description is what the payment paid for (its link's description),
	// not part of the event: the caller fills it in; "" names nothing.
	Description string
	// ReceiptURL is where the shopper sees the payment's receipt page, not
	// part of the event either: "" links none.
	ReceiptURL string
	// AmountRefunded and FailureMessage are the payment's own fields.
	AmountRefunded int64
	FailureMessage string
	// Risk is the payment's screening; nil for a payment not screened.
	Risk *Risk
}

// Risk is what screening decided about a payment (API.md Part 3's risk
// object): a score from 0 to 99, its level, the reasons that fired and
// the rule that decided, if one did.
type Risk struct {
	Score   int
	Level   string
	Reasons []string
	Rule    string
}

// errNotPayment means event data is not a payment object.
var errNotPayment = errors.New("event data is not a payment")

// ParsePayment reads a payment object as the API answers it. It returns
// an error when the id, amount or currency is missing.
func ParsePayment(data []byte) (Payment, error) {
	var raw struct {
		ID             string          `json:"id"`
		Amount         int64           `json:"amount"`
		AmountRefunded int64           `json:"amount_refunded"`
		FailureMessage *string         `json:"failure_message"`
		Currency       string          `json:"currency"`
		PaymentLink    json.RawMessage `json:"payment_link"`
		CreatedAt      string          `json:"created_at"`
		PaymentMethod  *struct {
			Type  string `json:"type"`
			Brand string `json:"brand"`
			Last4 string `json:"last4"`
		} `json:"payment_method"`
		Customer *struct {
			Email string `json:"email"`
			Name  string `json:"name"`
		} `json:"customer"`
		Risk *struct {
			Score   int      `json:"score"`
			Level   string   `json:"level"`
			Reasons []string `json:"reasons"`
			Rule    *string  `json:"rule"`
		} `json:"risk"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Payment{}, fmt.Errorf("%w: %w", errNotPayment, err)
	}
	if raw.ID == "" || raw.Amount <= 0 || raw.Currency == "" {
		return Payment{}, errNotPayment
	}
	p := Payment{ID: raw.ID, Amount: money.Amount{Minor: raw.Amount, Currency: money.Currency(strings.ToUpper(raw.Currency))},
		AmountRefunded: raw.AmountRefunded}
	if raw.FailureMessage != nil {
		p.FailureMessage = *raw.FailureMessage
	}
	// payment_link is the link's id; accept an expanded object too.
	var link struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw.PaymentLink, &p.PaymentLink) != nil && json.Unmarshal(raw.PaymentLink, &link) == nil {
		p.PaymentLink = link.ID
	}
	if raw.PaymentMethod != nil {
		p.MethodType, p.Brand, p.Last4 = raw.PaymentMethod.Type, raw.PaymentMethod.Brand, raw.PaymentMethod.Last4
	}
	if raw.Customer != nil {
		p.CustomerEmail, p.CustomerName = strings.TrimSpace(raw.Customer.Email), strings.TrimSpace(raw.Customer.Name)
	}
	if t, err := time.Parse(time.RFC3339, raw.CreatedAt); err == nil {
		p.CreatedAt = t
	}
	if r := raw.Risk; r != nil {
		p.Risk = &Risk{Score: r.Score, Level: r.Level, Reasons: r.Reasons}
		if r.Rule != nil {
			p.Risk.Rule = *r.Rule
		}
	}
	return p, nil
}

// method describes how a payment was paid, never with more of a card
// number than its last four digits.
func (p Payment) method() string {
	switch {
	case p.MethodType == "wallet":
		return "Paylink wallet"
	case p.Last4 != "" && len(p.Last4) == 4 && strings.Trim(p.Last4, "0123456789") == "":
		return fmt.Sprintf("%s ending in %s", brandName(p.Brand), p.Last4)
	case p.Brand != "":
		return brandName(p.Brand)
	}
	return "card"
}

// brandName writes a card brand as people know it (processor.Brand.Name),
// "Card" for none, and a brand the processor does not name as it came.
func brandName(b string) string {
	if name := processor.Brand(strings.ToLower(b)).Name(); name != "" {
		return name
	}
	if b == "" {
		return "Card"
	}
	return b
}

// date writes when the payment was made, in UTC.
func (p Payment) date() string {
	if p.CreatedAt.IsZero() {
		return ""
	}
	return p.CreatedAt.UTC().Format("2 January 2006, 15:04 MST")
}

// OnBehalfOf is the line that opens every e-mail Paylink sends a shopper
// for a merchant: "Paylink sent this <what> on behalf of the merchant
// “<name>”." It must come first, before any text a merchant or shopper
// chose, so nothing they write can pass for it.
func OnBehalfOf(what, merchantName string) string {
	return fmt.Sprintf("Paylink sent this %s on behalf of the merchant %s.", what, QuoteName(merchantName))
}

// QuoteName writes a merchant's name for a line Paylink speaks in: inside
// “ and ”, on one line (line breaks, control, invisible and formatting
// characters become spaces), with double quotes made ' so the name cannot
// close the quote, at most 100 characters. Names are checked when they are
// set (merchant.ValidateName); this also covers names stored before.
func QuoteName(name string) string {
	name = strings.Map(func(r rune) rune {
		switch r {
		case '"', '“', '”', '„', '‟', '«', '»':
			return '\''
		}
		return r
	}, oneLine(name))
	if r := []rune(name); len(r) > 100 {
		name = string(r[:100]) + "…"
	}
	return "“" + name + "”"
}

// oneLine flattens free text onto one line: every control, invisible,
// formatting or line-separator character becomes a space, and runs of
// spaces one.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Zl, unicode.Zp) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// MerchantNotice is the e-mail telling merchantName, at to, about payment
// event event (payment.succeeded, payment.failed or payment.refunded) of
// p, p as the event left it. ReviewNotice tells about reviews.
func MerchantNotice(event string, p Payment, merchantName, to string) Email {
	d := mailData{Event: event, Greeting: "Hello " + oneLine(merchantName) + ",", Merchant: QuoteName(merchantName),
		Amount: p.Amount.String(), Method: p.method(), Date: p.date(), PaymentID: p.ID, Link: p.PaymentLink,
		Customer: p.customer(), Reason: p.FailureMessage,
		Refunded: money.Amount{Minor: p.AmountRefunded, Currency: p.Amount.Currency}.String(),
		Left:     money.Amount{Minor: p.Amount.Minor - p.AmountRefunded, Currency: p.Amount.Currency}.String()}
	if d.Reason == "" {
		d.Reason = "the payment was declined."
	}
	return compose("merchant", to, d)
}

// customer names p's customer for its merchant: name and e-mail.
func (p Payment) customer() string {
	if name := oneLine(p.CustomerName); name != "" {
		return strings.TrimSpace(name + " <" + p.CustomerEmail + ">")
	}
	return p.CustomerEmail
}

// digitRun finds runs of 12 to 19 digits, possibly split by spaces or
// dashes, as card numbers are written.
var digitRun = regexp.MustCompile(`\b\d(?:[ -]?\d){11,18}\b`)

// redact masks anything that could be a card number (a Luhn-valid run of
// 12 to 19 digits) that reached an e-mail through free text such as a
// customer name, keeping the last four digits.
func redact(s string) string {
	if !hasDigitRun(s, 12) {
		return s // most e-mails: no regular expression to run
	}
	return digitRun.ReplaceAllStringFunc(s, func(m string) string {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, m)
		if !luhn(digits) {
			return m
		}
		return strings.Repeat("•", 4) + " " + digits[len(digits)-4:]
	})
}

// hasDigitRun reports whether s holds n digits in a row, each pair at
// most one space or dash apart: a cheap test that every match of
// digitRun passes.
func hasDigitRun(s string, n int) bool {
	run, sep := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if run++; run >= n {
				return true
			}
			sep = false
		case (c == ' ' || c == '-') && run > 0 && !sep:
			sep = true
		default:
			run, sep = 0, false
		}
	}
	return false
}

// luhn reports whether digits pass the Luhn check.
func luhn(digits string) bool {
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
