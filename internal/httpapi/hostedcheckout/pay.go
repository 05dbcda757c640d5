package hostedcheckout

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/qr"
	"github.com/paylink/paylink/internal/returnurl"
	"github.com/paylink/paylink/internal/wire"
)

var errCardMissing = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_missing", Param: "payment_method.card",
	Message: "payment_method.card is required for card payments."}

// verifyLink checks the signed checkout URL of c before anything touches
// the database: ErrBadSignature (403), then ErrExpired (410).
func (s *Server) verifyLink(c *gin.Context) error {
	return s.links.Verify(c.Param("id"), c.Query("exp"), c.Query("kid"), c.Query("sig"))
}

// openPayable verifies the URL and returns its link if it can be paid now.
func (s *Server) openPayable(c *gin.Context) (*links.Link, error) {
	if err := s.verifyLink(c); err != nil {
		return nil, err
	}
	l, err := s.links.Open(c.Request.Context(), s.db.Pool, c.Param("id"))
	if err != nil {
		return nil, err
	}
	return l, l.Payable(s.now())
}

// PayRequest is the JSON body of a card or wallet payment of a link, a
// signed link or (with more fields) a form.
type PayRequest struct {
	Email         string           `json:"email"`
	Name          string           `json:"name"`
	PaymentMethod payMethodRequest `json:"payment_method"`
}

type payMethodRequest struct {
	Type string       `json:"type"`
	Card *cardRequest `json:"card"`
	// PasskeyAssertion confirms a wallet payment (type "wallet") when the
	// logged-in wallet user has a passkey.
	PasskeyAssertion json.RawMessage `json:"passkey_assertion"`
}

type cardRequest struct {
	Number   string `json:"number"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
	CVC      string `json:"cvc"`
}

// payAnswer is the JSON answer of the checkout POSTs. A decline is a 402
// whose body has both the card_error and the failed payment.
type payAnswer struct {
	Error       *edge.ErrorDetail `json:"error,omitempty"`
	Payment     wire.Payment      `json:"payment"`
	RedirectURL *string           `json:"redirect_url"`
	ReceiptURL  string            `json:"receipt_url"`
	NextAction  *nextAction       `json:"next_action,omitempty"`
}

type nextAction struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// pay is POST /pay/{id}: authorize the card, then record the outcome with
// the request's Idempotency-Key in one transaction (see package checkout).
func (s *Server) pay(c *gin.Context) error {
	if err := s.edge.SameOrigin(c); err != nil {
		return err
	}
	if err := s.verifyLink(c); err != nil {
		return err
	}
	var in PayRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	if in.PaymentMethod.Type == checkout.MethodWallet {
		return s.payFromWallet(c, in.PaymentMethod.PasskeyAssertion)
	}
	card, attempt, scope, cardErr := s.CardAttempt(c, in.PaymentMethod, c.Param("id"), "link:"+c.Param("id"))
	ctx := c.Request.Context()
	l, err := s.links.Lookup(ctx, s.db.Pool, c.Param("id")) // 404 and 410 before the fields, as on GET
	if err != nil {
		return err
	}
	if err := l.Payable(s.now()); err != nil {
		if cardErr == nil { // the card's scope is known
			return s.ReplayOr(c, scope, err)
		}
		return err
	}
	cust, err := checkout.ValidateCustomer(checkout.Customer{Email: in.Email, Name: in.Name})
	if err != nil {
		return err
	}
	if cardErr != nil {
		return cardErr
	}
	auth, err := s.checkout.AuthorizeScreened(ctx, l.Accepts, l.Amount, attempt, card, checkout.Screening{
		MerchantID: l.MerchantID, IP: c.ClientIP(), Email: cust.Email, Link: l.ID, Realm: l.Realm, Metadata: l.Metadata})
	if err != nil {
		return err
	}
	err = s.edge.MutateLater(c, scope, func(ctx context.Context, tx pgx.Tx, later *postgres.Writes) (int, any, error) {
		p, err := s.checkout.Record(ctx, tx, later, l, cust, auth)
		if err != nil {
			return 0, nil, err
		}
		status, body := s.RecordedAnswer(c, s.linkTarget(l), p)
		return status, body, nil
	})
	// The link was paid or closed while this card was authorized.
	s.ReleaseOn(c, auth.Authorization, err, links.ErrCompleted, links.ErrDeactivated, links.ErrExpired)
	return err
}

// CardAttempt checks the card part of a card payment request and names
// the attempt for the processor: attemptScope, the request's
// Idempotency-Key (or a fresh id without one: every such request is an
// attempt of its own) and the request's fingerprint, so a retried request
// authorizes once. It also returns the request's Idempotency-Key scope:
// scope (link:…, form:…, ref:…), narrowed to the browser's anonymous
// checkout session when it has one (checkoutSession).
func (s *Server) CardAttempt(c *gin.Context, pm payMethodRequest, attemptScope, scope string) (processor.Card, string, string, error) {
	if pm.Type != "card" {
		return processor.Card{}, "", "", checkout.ErrMethodUnsupported
	}
	card := pm.Card
	if card == nil {
		return processor.Card{}, "", "", errCardMissing
	}
	key := c.GetHeader("Idempotency-Key") // checked by the edge (Route.Idempotent)
	if key == "" {
		key = id.New("att")
	}
	attempt := checkout.AttemptKey(attemptScope, key, edge.Fingerprint(c))
	if payer := s.checkoutSession(c); payer != "" {
		scope = edge.BindPayer(c, scope, payer)
	}
	return processor.Card{Number: card.Number, ExpMonth: card.ExpMonth, ExpYear: card.ExpYear, CVC: card.CVC},
		attempt, scope, nil
}

// ReleaseOn voids the card authorization auth, rather than let the hold
// lapse, when err is one of closed: what the card was to pay became
// unpayable while it was authorized.
func (s *Server) ReleaseOn(c *gin.Context, auth processor.Authorization, err error, closed ...error) {
	for _, target := range append(closed, refusedAtInsert...) {
		if errors.Is(err, target) {
			s.release(c, auth)
			return
		}
	}
}

// refusedAtInsert are the merchant's settings refusing a payment's insert
// after its card was authorized: they changed after the Go check (a
// cached link's, up to links' cacheTTL old) and before the insert, which
// reads them as they are. The hold is released like a closed link's.
var refusedAtInsert = []error{merchant.ErrCardBrandNotAccepted, merchant.ErrMethodNotAccepted, merchant.ErrCurrencyWithdrawn}

// release voids the card authorization auth, logging a failure (the hold
// then lapses by itself).
func (s *Server) release(c *gin.Context, auth processor.Authorization) {
	ctx := c.Request.Context()
	if err := s.checkout.Release(context.WithoutCancel(ctx), auth); err != nil {
		s.log.WarnContext(ctx, "void authorization", "err", err, "request_id", edge.RequestID(c))
	}
}

// PayTarget is what a payment pays (a link, a signed link or a form) as
// its answers and pages need it.
type PayTarget struct {
	path       func(suffix string) string // the path of its page, with suffix appended
	successURL string                     // where a succeeded payment goes on to
	cancelURL  string                     // where a failed challenge goes back to ("" for forms)
	source     string                     // what a signed return names: the link or form id, or "<merchant>:<reference>"
	returns    *returnurl.Signer
}

// Target is what a payment pays as its answers and pages need it: path
// gives the path of its page with a suffix appended, a succeeded payment
// goes on to successURL, a failed challenge back to cancelURL ("" for
// none), and a signed return names source.
func (s *Server) Target(path func(suffix string) string, successURL, cancelURL, source string) PayTarget {
	return PayTarget{path: path, successURL: successURL, cancelURL: cancelURL, source: source, returns: s.returns}
}

func (s *Server) linkTarget(l *links.Link) PayTarget {
	return PayTarget{path: func(suffix string) string { return s.links.Path(l, suffix) },
		successURL: l.SuccessURL, cancelURL: l.CancelURL, source: l.ID, returns: s.returns}
}

// returnURL is where the shopper goes on to after p, signed (API.md,
// "Signed return to the merchant's site"): the success URL of a succeeded
// payment, and after a challenge (afterChallenge) the cancel URL of a
// failed or canceled one; "" for none.
func (t PayTarget) returnURL(p *checkout.Payment, afterChallenge bool) string {
	target := ""
	switch p.Status {
	case checkout.Succeeded:
		target = t.successURL
	case checkout.Failed, checkout.Canceled:
		if afterChallenge {
			target = t.cancelURL
		}
	}
	if target == "" {
		return ""
	}
	u, err := t.returns.URL(target, returnurl.Return{Payment: p.ID, Status: string(p.Status), Source: t.source})
	if err != nil {
		return "" // links.CheckURL stores only absolute http(s) URLs, which always sign
	}
	return u
}

// settledAnswer is the JSON answer for p: the payment, its receipt, and
// where the shopper goes on to (returnURL). It is the whole answer of a
// challenge (afterChallenge).
func (s *Server) settledAnswer(t PayTarget, p *checkout.Payment, afterChallenge bool) payAnswer {
	a := payAnswer{Payment: checkout.ToWire(p).ForShopper(), ReceiptURL: s.baseURL.String() + t.path("/payments/"+p.ID)}
	if u := t.returnURL(p, afterChallenge); u != "" {
		a.RedirectURL = &u
	}
	return a
}

// RecordedAnswer is the status and JSON answer for a recorded payment: 402
// with the card_error for a decline, the challenge page as next_action.
func (s *Server) RecordedAnswer(c *gin.Context, t PayTarget, p *checkout.Payment) (int, payAnswer) {
	a := s.settledAnswer(t, p, false)
	switch p.Status {
	case checkout.RequiresAction:
		a.NextAction = &nextAction{Type: "challenge", URL: s.baseURL.String() + t.path("/payments/"+p.ID+"/challenge")}
	case checkout.Failed:
		_, body := s.edge.ErrorResponse(c, checkout.CardError(p.FailureCode))
		a.Error = &body.Error
		return http.StatusPaymentRequired, a
	}
	return http.StatusOK, a
}

type challengeRequest struct {
	Outcome string `json:"outcome"`
}

// answerChallenge is POST /pay/{id}/payments/{payment}/challenge: claim
// the payment (requires_action → processing) if its link can still be
// paid, ask the processor, then record the final status with the
// Idempotency-Key in one transaction. A payment that is already final is
// answered as it is, so a double click or a second tab is harmless.
func (s *Server) answerChallenge(c *gin.Context) error {
	if err := s.edge.SameOrigin(c); err != nil {
		return err
	}
	if err := s.verifyLink(c); err != nil {
		return err
	}
	outcome, err := s.ReadChallenge(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	l, err := s.links.Open(ctx, s.db.Pool, c.Param("id"))
	if err != nil {
		return err
	}
	p, err := s.checkout.PaymentOfLink(ctx, s.db.Pool, l, c.Param("payment"))
	if err != nil {
		return err
	}
	return s.FinishChallenge(c, "link:"+l.ID, p, outcome, func() error { return l.Payable(s.now()) }, s.linkTarget(l))
}

// payPage is GET /pay/{id}: the checkout page.
func (s *Server) payPage(c *gin.Context) {
	l, err := s.openPayable(c)
	if err == nil {
		err = l.Accepts.CheckCurrency(l.Amount.Currency)
	}
	if err != nil {
		s.PageError(c, err)
		return
	}
	s.StartCheckoutSession(c)
	data := PayPage{
		Merchant: l.MerchantName, Amount: l.Amount.String(), Description: l.Description,
		Currency: string(l.Amount.Currency), CancelURL: l.CancelURL, ExpiresAt: l.ExpiresAt.UTC().Format("2 Jan 2006 15:04 MST"),
		QR: PhoneQR(s.links.URL(l)),
	}
	// The page offers only the methods and brands the merchant takes.
	if l.Accepts.AcceptsMethod(merchant.MethodCard) {
		card := OfferCards(l.Accepts, l.Amount.Currency)
		data.Card = &card
	}
	if l.Accepts.AcceptsMethod(merchant.MethodWallet) {
		data.Wallet = s.walletOffer(c, l)
	}
	s.Page(c, http.StatusOK, "pay", data)
}

// PayPage is the data of the "pay" page: a link's or signed link's checkout.
type PayPage struct {
	Merchant, Amount, Description, Currency, CancelURL, ExpiresAt string
	// Card is the card form's offer; nil when the merchant takes no cards.
	Card   *CardOffer
	Wallet *walletOffer
	// QR is the page's own URL as an inline SVG QR code, shown on wide
	// screens ("pay on your phone"); empty when there is none.
	QR template.HTML
}

// PhoneQR draws url as the page's QR code; a URL too long to encode
// leaves the page without one.
func PhoneQR(url string) template.HTML {
	code, err := qr.New(url)
	if err != nil {
		return ""
	}
	return template.HTML(code.SVG(192)) //nolint:gosec // our own SVG: digits and fixed markup only
}

type receiptPage struct {
	Merchant, Amount, Description, Status, PaymentID, Email, Card, Date string
	Failure, RetryURL, ChallengeURL, SuccessURL, CancelURL              string
	Refunded                                                            string
}

// canceledMessage is what a shopper reads of a canceled payment.
const canceledMessage = "This payment was canceled; you have not been charged."

// ReceiptOf is the receipt page of p, paid to merchant for description
// through t: a succeeded payment goes on to t's success URL, a failed or
// canceled one offers to pay again when canRetry says so (and, after its
// challenge, t's cancel URL), one waiting for its challenge links to it.
func ReceiptOf(merchant, description string, p *checkout.Payment, t PayTarget, canRetry func() bool) receiptPage {
	data := receiptPage{
		Merchant: merchant, Amount: p.Amount.String(), Description: description, Status: string(p.Status),
		PaymentID: p.ID, Email: p.Customer.Email, Date: p.CreatedAt.UTC().Format("2 Jan 2006 15:04 MST"),
	}
	if p.Card.Last4 != "" {
		data.Card = BrandName(p.Card.Brand) + " •••• " + p.Card.Last4
	}
	if p.AmountRefunded > 0 {
		data.Refunded = money.Amount{Minor: p.AmountRefunded, Currency: p.Amount.Currency}.String()
	}
	switch p.Status {
	case checkout.Succeeded:
		data.SuccessURL = t.returnURL(p, false)
	case checkout.Failed, checkout.Canceled:
		data.Failure, data.CancelURL = processor.Message(p.FailureCode), t.returnURL(p, p.ChallengeOutcome != "")
		if p.Status == checkout.Canceled {
			data.Failure = canceledMessage
		}
		if canRetry() {
			data.RetryURL = t.path("")
		}
	case checkout.RequiresAction:
		data.ChallengeURL = t.path("/payments/" + p.ID + "/challenge")
	}
	return data
}

// receiptPageHandler is GET /pay/{id}/payments/{payment}: the payment's
// outcome. It stays readable after the link expired or was completed (a
// receipt is history), but the URL must still be correctly signed.
func (s *Server) receiptPageHandler(c *gin.Context) {
	if err := s.verifyLink(c); err != nil && !errors.Is(err, links.ErrExpired) {
		s.PageError(c, err)
		return
	}
	ctx := c.Request.Context()
	l, err := s.links.Open(ctx, s.db.Pool, c.Param("id"))
	if err != nil {
		s.PageError(c, err)
		return
	}
	p, err := s.checkout.PaymentOfLink(ctx, s.db.Pool, l, c.Param("payment"))
	if err != nil {
		s.PageError(c, err)
		return
	}
	data := ReceiptOf(l.MerchantName, l.Description, p, s.linkTarget(l), func() bool { return l.Payable(s.now()) == nil })
	s.Page(c, http.StatusOK, "receipt", data)
}

// ChallengePage is the data of the "challenge" page, the simulated issuer's.
type ChallengePage struct {
	Merchant, Amount, Card string
}

// challengePageHandler is GET /pay/{id}/payments/{payment}/challenge: the
// simulated issuer's page where the shopper approves or fails. A payment
// no longer waiting for it goes to its receipt.
func (s *Server) challengePageHandler(c *gin.Context) {
	l, err := s.openPayable(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	p, err := s.checkout.PaymentOfLink(c.Request.Context(), s.db.Pool, l, c.Param("payment"))
	if err != nil {
		s.PageError(c, err)
		return
	}
	if p.Status != checkout.RequiresAction {
		c.Redirect(http.StatusSeeOther, s.links.Path(l, "/payments/"+p.ID))
		return
	}
	s.Page(c, http.StatusOK, "challenge", ChallengePage{Merchant: l.MerchantName, Amount: p.Amount.String(),
		Card: BrandName(p.Card.Brand) + " •••• " + p.Card.Last4})
}

// BrandName is how pages name card brand b.
func BrandName(b processor.Brand) string {
	if name := b.Name(); name != "" {
		return name
	}
	return "Card"
}

// PageError renders the friendly page for err: 403 for a bad signature,
// 404, 410 for a link that can no longer be paid, and an opaque 500 for
// anything else (logged once, here).
func (s *Server) PageError(c *gin.Context, err error) {
	status, n := http.StatusInternalServerError, Notice{Icon: "!", Heading: "Something went wrong",
		Message: "We could not load this page. Please try again in a moment.", Hint: "Reference: " + edge.RequestID(c)}
	if st, refusal, ok := refusalNotice(err); ok {
		s.Page(c, st, "error", refusal)
		return
	}
	switch {
	case errors.Is(err, links.ErrBadSignature):
		status, n = http.StatusForbidden, Notice{Icon: "!", Heading: "This payment link is not valid",
			Message: "The address may have been changed or copied incompletely.",
			Hint:    "Open the link exactly as the merchant sent it, or ask them for a new one."}
	case errors.Is(err, links.ErrNotFound), errors.Is(err, checkout.ErrNotFound):
		status, n = http.StatusNotFound, Notice{Icon: "?", Heading: "Payment link not found",
			Message: "This payment link does not exist.", Hint: "Ask the merchant for a new link."}
	case errors.Is(err, links.ErrCompleted):
		status, n = http.StatusGone, Notice{Icon: "✓", Heading: "This link has already been paid",
			Message: "A payment has already been made with this link, so it cannot be used again.",
			Hint:    "If you expected to pay, ask the merchant for a new link."}
	case errors.Is(err, links.ErrDeactivated):
		status, n = http.StatusGone, Notice{Icon: "×", Heading: "This link is no longer active",
			Message: "The merchant has turned this payment link off.", Hint: "Ask the merchant for a new link."}
	case errors.Is(err, links.ErrExpired):
		status, n = http.StatusGone, Notice{Icon: "!", Heading: "This link has expired",
			Message: "Payment links work for a limited time, and this one has run out.",
			Hint:    "Ask the merchant for a new link."}
	case postgres.IsUnavailable(err):
		status = http.StatusServiceUnavailable
		c.Header("Retry-After", edge.RetryAfterUnavailable)
		s.log.WarnContext(c.Request.Context(), "database unavailable", "err", err, "request_id", edge.RequestID(c),
			"route", c.FullPath())
	default:
		s.log.ErrorContext(c.Request.Context(), "page failed", "err", err, "request_id", edge.RequestID(c),
			"route", c.FullPath())
	}
	s.Page(c, status, "error", n)
}
