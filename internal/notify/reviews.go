package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/risk"
)

// Review is what e-mails say about a review, read from the review object
// of a review.opened or review.closed event (API.md Part 3).
type Review struct {
	ID           string
	Payment      string
	Reason       string // "rule" or "elevated_risk"
	ClosedReason string // "approved" or "refunded"; "" while open
}

// errNotReview means event data is not a review object.
var errNotReview = errors.New("event data is not a review")

// ParseReview reads a review object as the API answers it. It returns an
// error when the id or the payment is missing.
func ParseReview(data []byte) (Review, error) {
	var raw struct {
		ID           string  `json:"id"`
		Payment      string  `json:"payment"`
		Reason       string  `json:"reason"`
		ClosedReason *string `json:"closed_reason"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Review{}, fmt.Errorf("%w: %w", errNotReview, err)
	}
	if raw.ID == "" || raw.Payment == "" {
		return Review{}, errNotReview
	}
	r := Review{ID: raw.ID, Payment: raw.Payment, Reason: raw.Reason}
	if raw.ClosedReason != nil {
		r.ClosedReason = *raw.ClosedReason
	}
	return r, nil
}

// ReviewLinks are the merchant dashboard's pages a review e-mail points
// to: the queue of open reviews and the payment's page. Empty ones are
// left out (the platform's public URL is not known).
type ReviewLinks struct {
	Queue, Payment string
}

// ReviewNotice is the e-mail telling merchantName, at to, that review r
// of payment p was opened (event review.opened) or closed (review.closed):
// which payment, its amount, why it was held, how the review ended, and
// links to look at it.
func ReviewNotice(event string, r Review, p Payment, merchantName, to string, links ReviewLinks) Email {
	d := mailData{Event: event, Greeting: "Hello " + oneLine(merchantName) + ",", Merchant: QuoteName(merchantName),
		Amount: p.Amount.String(), Method: p.method(), Date: p.date(), PaymentID: p.ID, Customer: p.customer(),
		ReviewID: r.ID, Why: whyReviewed(r, p.Risk), QueueURL: links.Queue, PaymentURL: links.Payment,
		Refunded: money.Amount{Minor: p.AmountRefunded, Currency: p.Amount.Currency}.String()}
	if p.Risk != nil {
		d.Score = fmt.Sprintf("%d of 99 (%s)", p.Risk.Score, p.Risk.Level)
		for _, name := range p.Risk.Reasons {
			if !strings.HasPrefix(name, "rr_") { // a rule is named in Why
				d.Signals = append(d.Signals, risk.ReasonText(name))
			}
		}
	}
	if event == "review.closed" {
		d.Outcome = r.ClosedReason
		if d.Outcome == "" {
			d.Outcome = "closed"
		}
	}
	return compose("review", to, d)
}

// whyReviewed says in plain words why screening held a payment for
// review, from the review's reason and the payment's risk.
func whyReviewed(r Review, rk *Risk) string {
	switch {
	case r.Reason == "rule" && rk != nil && rk.Rule != "":
		return "your risk rule " + rk.Rule + " matched it"
	case r.Reason == "rule":
		return "one of your risk rules matched it"
	case rk != nil && rk.Level != "":
		return fmt.Sprintf("its risk score, %d of 99, is %s", rk.Score, rk.Level)
	}
	return "Paylink's risk screening found it unusual"
}
