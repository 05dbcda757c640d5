package notify

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"reflect"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/paylink/paylink/internal/money"
)

// The e-mails are templates/<name>.txt (which also defines
// "<name>-subject") and templates/<name>.html in layout.html's frame.
//
//go:embed templates/*
var templateFiles embed.FS

var (
	funcs     = map[string]any{"pair": func(a, b string) [2]string { return [2]string{a, b} }}
	textMails = texttemplate.Must(texttemplate.New("").Funcs(funcs).ParseFS(templateFiles, "templates/*.txt"))
	htmlMails = htmltemplate.Must(htmltemplate.New("").Funcs(funcs).ParseFS(templateFiles, "templates/*.html"))
)

// mailData is what the templates read; every amount is written in its
// currency's format. It is stored as JSON (emails.html_data) until the
// e-mail is sent, so a field keeps its name while e-mails queued under it
// may still be waiting.
type mailData struct {
	// OnBehalf is Paylink's own first line (OnBehalfOf) of an e-mail sent
	// for a merchant; Merchant is the merchant's name in QuoteName's form.
	OnBehalf                  string `json:",omitempty"`
	Title, Greeting, Merchant string `json:",omitempty"`
	Amount, Method, Date      string `json:",omitempty"`
	PaymentID                 string `json:",omitempty"`
	Reason, RetryURL          string `json:",omitempty"` // failed; RetryURL is the link to pay
	Refund, Refunded, Left    string `json:",omitempty"` // refunded
	Credited                  bool   `json:",omitempty"` // refunded: back already (a wallet payment's), not on its way
	Description               string `json:",omitempty"` // link; receipt and failed: what was paid for
	ReceiptURL                string `json:",omitempty"` // receipt: its page on the checkout
	Reminder                  bool   `json:",omitempty"` // link
	// Event is set on the merchant's e-mails only: the notify_on event
	// the e-mail reports.
	Event, Link, Customer string `json:",omitempty"`
	// A review's e-mail: why the payment was held, its risk score and
	// signals, how the review ended (Outcome, for review.closed), and the
	// dashboard's pages.
	ReviewID, Why, Score, Outcome string   `json:",omitempty"`
	Signals                       []string `json:",omitempty"`
	QueueURL, PaymentURL          string   `json:",omitempty"`
	// A disabled webhook endpoint's e-mail: the endpoint's id and URL
	// (Why says why it was disabled).
	Endpoint, EndpointURL string `json:",omitempty"`
}

// htmlPart is what an e-mail's HTML part is rendered from when it is
// sent: its template and data.
type htmlPart struct {
	Template string   `json:"template"`
	Data     mailData `json:"data"`
}

// compose renders template name's subject and plain text for to, and
// keeps its HTML part to be rendered when sent (Email.Rendered); anything
// that looks like a card number is masked in every part.
func compose(name, to string, d mailData) Email {
	d = d.redacted()
	var subject, text bytes.Buffer
	must(textMails.ExecuteTemplate(&subject, name+"-subject", d))
	d.Title = strings.TrimSpace(subject.String())
	if d.OnBehalf != "" {
		text.WriteString(d.OnBehalf + "\n\n")
	}
	must(textMails.ExecuteTemplate(&text, name+".txt", d))
	html, err := json.Marshal(htmlPart{Template: name, Data: d})
	must(err)
	return Email{To: to, Subject: redact(d.Title), Text: redact(text.String()), html: html}
}

// redacted is d with every string redacted, so that no card number typed
// into free text (a name, a description) is stored with the e-mail's
// data. It walks the fields by reflection, so a field added later is
// covered too.
func (d mailData) redacted() mailData {
	v := reflect.ValueOf(&d).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			f.SetString(redact(f.String()))
		case reflect.Slice: // []string
			in := f.Interface().([]string)
			out := make([]string, len(in))
			for j, s := range in {
				out[j] = redact(s)
			}
			f.Set(reflect.ValueOf(out))
		}
	}
	return d
}

// Rendered returns e with its HTML part written out, when e keeps it as
// a template and data. It fails only for data that this version cannot
// render (stored by another version).
func (e Email) Rendered() (Email, error) {
	if e.html == nil {
		return e, nil
	}
	var (
		part htmlPart
		html bytes.Buffer
	)
	if err := json.Unmarshal(e.html, &part); err != nil {
		return e, fmt.Errorf("e-mail's HTML part: %w", err)
	}
	if err := htmlMails.ExecuteTemplate(&html, part.Template+".html", part.Data); err != nil {
		return e, fmt.Errorf("render e-mail %q: %w", part.Template, err)
	}
	e.HTML, e.html = redact(html.String()), nil
	return e, nil
}

// must panics on a template that cannot run, or data that cannot be
// stored: the templates and mailData are fixed at build time and
// TestShopperEmails renders every one.
func must(err error) {
	if err != nil {
		panic(err)
	}
}

// shopperData is the part of mailData every shopper e-mail about p has;
// what names the e-mail in Paylink's first line ("receipt", "notice").
func shopperData(p Payment, merchantName, what string) mailData {
	greeting := "Hello,"
	if name := oneLine(p.CustomerName); name != "" {
		greeting = "Hello " + name + ","
	}
	return mailData{OnBehalf: OnBehalfOf(what, merchantName), Greeting: greeting, Merchant: QuoteName(merchantName),
		Amount: p.Amount.String(), Method: p.method(), Date: p.date(), PaymentID: p.ID,
		Description: oneLine(p.Description)}
}

// Receipt is the e-mail to the shopper for a succeeded payment to
// merchantName; ok is false when the payment has no customer e-mail.
func Receipt(p Payment, merchantName string) (Email, bool) {
	if p.CustomerEmail == "" {
		return Email{}, false
	}
	d := shopperData(p, merchantName, "receipt")
	d.ReceiptURL = p.ReceiptURL
	return compose("receipt", p.CustomerEmail, d), true
}

// Failed is the e-mail to the shopper for a failed payment: why, and
// retryURL to try again when the link is still open ("" when not).
func Failed(p Payment, merchantName, retryURL string) (Email, bool) {
	if p.CustomerEmail == "" {
		return Email{}, false
	}
	d := shopperData(p, merchantName, "notice")
	d.Reason = p.FailureMessage
	if d.Reason == "" {
		d.Reason = "the payment was declined."
	}
	d.RetryURL = retryURL
	return compose("failed", p.CustomerEmail, d), true
}

// Refunded is the e-mail to the shopper for a refund of refund on p, p
// as it is after the refund (its AmountRefunded includes it).
func Refunded(p Payment, refund money.Amount, merchantName string) (Email, bool) {
	if p.CustomerEmail == "" {
		return Email{}, false
	}
	d := shopperData(p, merchantName, "notice")
	d.Refund = refund.String()
	d.Refunded = money.Amount{Minor: p.AmountRefunded, Currency: p.Amount.Currency}.String()
	d.Left = money.Amount{Minor: p.Amount.Minor - p.AmountRefunded, Currency: p.Amount.Currency}.String()
	d.Credited = p.MethodType == "wallet"
	return compose("refunded", p.CustomerEmail, d), true
}

// LinkEmail is the e-mail carrying merchantName's payment link url for
// amount (and description) to to, valid until expires; reminder says it
// is a reminder of an earlier one.
func LinkEmail(to, merchantName string, amount money.Amount, description, url string, expires time.Time, reminder bool) Email {
	return compose("link", to, mailData{OnBehalf: OnBehalfOf("payment link", merchantName), Merchant: QuoteName(merchantName),
		Amount: amount.String(), Description: oneLine(description),
		RetryURL: url, Date: expires.UTC().Format("2 January 2006, 15:04 MST"), Reminder: reminder})
}

// WalletEmail is the e-mail to a wallet user about one status of one of
// their transactions, message saying what happened.
func WalletEmail(to, message string) Email {
	return compose("wallet", to, mailData{Reason: message})
}

// EndpointDisabled is the e-mail telling merchantName, at to, that
// Paylink disabled its webhook endpoint endpointID at endpointURL because
// why (a clause: "it answered 410 Gone, …"), and how to enable it again
// and resend what it missed. It goes whatever the merchant's notify_on.
func EndpointDisabled(to, merchantName, endpointID, endpointURL, why string) Email {
	return compose("endpoint-disabled", to, mailData{Greeting: "Hello " + oneLine(merchantName) + ",",
		Merchant: QuoteName(merchantName), Endpoint: endpointID, EndpointURL: oneLine(endpointURL), Why: why})
}
