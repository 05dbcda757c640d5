package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/wire"
)

// The hosted checkout's POSTs are JSON sent by our own pages. They are
// protected against cross-site request forgery without a token: a
// cross-site HTML form cannot send Content-Type: application/json, and a
// cross-site fetch that tries needs a CORS preflight we never grant; on
// top of that a request whose Origin is another site, or whose
// Sec-Fetch-Site says cross-site, is refused. (Server-to-server clients
// send neither header and are let through; they could not forge a
// shopper's session anyway.) Every checkout URL is also signed, so a
// forged request would have to know the link's signature.
var (
	errNotJSON = &apperr.Error{Kind: apperr.Invalid, Code: "content_type_invalid",
		Message: "Send the request as JSON with Content-Type: application/json."}
	errOriginNotAllowed = &apperr.Error{Kind: apperr.Forbidden, Code: "origin_not_allowed",
		Message: "This request came from another site and was refused."}
	errCardMissing = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_missing", Param: "payment_method.card",
		Message: "payment_method.card is required for card payments."}
)

// sameOrigin refuses POSTs that are not JSON or come from another site.
func (s *Server) sameOrigin(c *gin.Context) error {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/json" {
		return errNotJSON
	}
	if o := c.GetHeader("Origin"); o != "" && o != s.origin {
		return errOriginNotAllowed
	}
	if sfs := c.GetHeader("Sec-Fetch-Site"); sfs != "" && sfs != "same-origin" && sfs != "none" {
		return errOriginNotAllowed
	}
	return nil
}

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

type payRequest struct {
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
	Error       *errorDetail `json:"error,omitempty"`
	Payment     wire.Payment `json:"payment"`
	RedirectURL *string      `json:"redirect_url"`
	ReceiptURL  string       `json:"receipt_url"`
	NextAction  *nextAction  `json:"next_action,omitempty"`
}

type nextAction struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// pay is POST /pay/{id}: authorize the card, then record the outcome with
// the request's Idempotency-Key in one transaction (see package checkout).
func (s *Server) pay(c *gin.Context) error {
	if err := s.sameOrigin(c); err != nil {
		return err
	}
	if err := s.verifyLink(c); err != nil {
		return err
	}
	var in payRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.PaymentMethod.Type == checkout.MethodWallet {
		return s.payFromWallet(c, in.PaymentMethod.PasskeyAssertion)
	}
	cust, err := checkout.ValidateCustomer(checkout.Customer{Email: in.Email, Name: in.Name})
	if err != nil {
		return err
	}
	if in.PaymentMethod.Type != "card" {
		return checkout.ErrMethodUnsupported
	}
	if in.PaymentMethod.Card == nil {
		return errCardMissing
	}
	key := c.GetHeader("Idempotency-Key")
	if key != "" && !idempotency.ValidKey(key) {
		return idempotency.ErrKeyInvalid
	}
	ctx := c.Request.Context()
	l, err := s.links.Lookup(ctx, s.db.Pool, c.Param("id"))
	if err != nil {
		return err
	}
	if err := l.Payable(s.now()); err != nil {
		return err
	}
	attempt := key
	if attempt == "" {
		attempt = id.New("att") // no key: every request is an attempt of its own
	}
	fp := idempotency.Fingerprint(c.Request.Method, c.Request.URL.Path, canonicalBody(c))
	card := in.PaymentMethod.Card
	auth, err := s.checkout.Authorize(ctx, l, checkout.AttemptKey(l.ID, attempt, fp),
		processor.Card{Number: card.Number, ExpMonth: card.ExpMonth, ExpYear: card.ExpYear, CVC: card.CVC})
	if err != nil {
		return err
	}
	err = s.mutateLater(c, "link:"+l.ID, func(ctx context.Context, tx pgx.Tx, later *postgres.Writes) (int, any, error) {
		p, err := s.checkout.Record(ctx, tx, later, l, cust, auth)
		if err != nil {
			return 0, nil, err
		}
		status, body := s.payResult(c, l, p)
		return status, body, nil
	})
	if errors.Is(err, links.ErrCompleted) || errors.Is(err, links.ErrDeactivated) || errors.Is(err, links.ErrExpired) {
		// The link was paid or closed while this card was authorized:
		// release the hold now rather than let it lapse.
		if rerr := s.checkout.Release(context.WithoutCancel(ctx), auth); rerr != nil {
			s.log.WarnContext(ctx, "void authorization", "err", rerr, "request_id", requestID(c))
		}
	}
	return err
}

// payResult is the status and JSON answer for a recorded payment.
func (s *Server) payResult(c *gin.Context, l *links.Link, p *checkout.Payment) (int, payAnswer) {
	a := payAnswer{Payment: checkout.ToWire(p),
		ReceiptURL: s.baseURL.String() + s.links.Path(l, "/payments/"+p.ID)}
	switch p.Status {
	case checkout.Succeeded:
		if l.SuccessURL != "" {
			a.RedirectURL = &l.SuccessURL
		}
	case checkout.RequiresAction:
		a.NextAction = &nextAction{Type: "challenge", URL: s.baseURL.String() + s.links.Path(l, "/payments/"+p.ID+"/challenge")}
	case checkout.Failed:
		_, body := s.errorResponse(c, checkout.CardError(p.FailureCode))
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
	if err := s.sameOrigin(c); err != nil {
		return err
	}
	if err := s.verifyLink(c); err != nil {
		return err
	}
	var in challengeRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	outcome, err := checkout.ParseOutcome(in.Outcome)
	if err != nil {
		return err
	}
	key := c.GetHeader("Idempotency-Key")
	if key != "" && !idempotency.ValidKey(key) {
		return idempotency.ErrKeyInvalid
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
	if p.Status == checkout.RequiresAction {
		// Only a payment still waiting needs its link payable; a final one
		// is answered as it is, whatever became of the link since.
		if err := l.Payable(s.now()); err != nil {
			return err
		}
		if p, err = s.checkout.Claim(ctx, s.db, l, p.ID, outcome); err != nil {
			return err
		}
	}
	if p.Status != checkout.Processing {
		c.PureJSON(http.StatusOK, s.challengeResult(l, p))
		return nil
	}
	auth, err := s.checkout.Authenticate(ctx, p)
	if err != nil {
		return err
	}
	var final *checkout.Payment
	err = s.mutate(c, "link:"+l.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		f, err := s.checkout.Finish(ctx, tx, l.MerchantID, p.ID, auth)
		if err != nil {
			return 0, nil, err
		}
		final = f
		return http.StatusOK, s.challengeResult(l, f), nil
	})
	if err == nil && final != nil && final.Status == checkout.Canceled {
		if rerr := s.checkout.Release(context.WithoutCancel(ctx), auth); rerr != nil {
			s.log.WarnContext(ctx, "void authorization", "err", rerr, "request_id", requestID(c))
		}
	}
	return err
}

func (s *Server) challengeResult(l *links.Link, p *checkout.Payment) payAnswer {
	a := payAnswer{Payment: checkout.ToWire(p), ReceiptURL: s.baseURL.String() + s.links.Path(l, "/payments/"+p.ID)}
	if p.Status == checkout.Succeeded && l.SuccessURL != "" {
		a.RedirectURL = &l.SuccessURL
	}
	return a
}

// payPage is GET /pay/{id}: the checkout page.
func (s *Server) payPage(c *gin.Context) {
	l, err := s.openPayable(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	s.page(c, http.StatusOK, "pay", payPage{
		Merchant: l.MerchantName, Amount: l.Amount.String(), Description: l.Description,
		Currency: string(l.Amount.Currency), Brands: acceptedBrands(l.Amount.Currency),
		CancelURL: l.CancelURL, ExpiresAt: l.ExpiresAt.UTC().Format("2 Jan 2006 15:04 MST"),
		Wallet: s.walletOffer(c, l),
	})
}

type payPage struct {
	Merchant, Amount, Description, Currency, Brands, CancelURL, ExpiresAt string
	Wallet                                                                *walletOffer
}

// acceptedBrands lists the card brands that take currency, for the page's
// inline check.
func acceptedBrands(c money.Currency) string {
	var out []string
	for _, b := range []processor.Brand{processor.Visa, processor.Mastercard, processor.Amex, processor.Discover} {
		if processor.Supports(b, c) {
			out = append(out, string(b))
		}
	}
	return strings.Join(out, " ")
}

type receiptPage struct {
	Merchant, Amount, Description, Status, PaymentID, Email, Card, Date string
	Failure, RetryURL, ChallengeURL, SuccessURL                         string
	Refunded                                                            string
}

// receiptPageHandler is GET /pay/{id}/payments/{payment}: the payment's
// outcome. It stays readable after the link expired or was completed (a
// receipt is history), but the URL must still be correctly signed.
func (s *Server) receiptPageHandler(c *gin.Context) {
	if err := s.verifyLink(c); err != nil && !errors.Is(err, links.ErrExpired) {
		s.pageError(c, err)
		return
	}
	ctx := c.Request.Context()
	l, err := s.links.Open(ctx, s.db.Pool, c.Param("id"))
	if err != nil {
		s.pageError(c, err)
		return
	}
	p, err := s.checkout.PaymentOfLink(ctx, s.db.Pool, l, c.Param("payment"))
	if err != nil {
		s.pageError(c, err)
		return
	}
	data := receiptPage{
		Merchant: l.MerchantName, Amount: p.Amount.String(), Description: l.Description, Status: string(p.Status),
		PaymentID: p.ID, Email: p.Customer.Email, Date: p.CreatedAt.UTC().Format("2 Jan 2006 15:04 MST"),
	}
	if p.Card.Last4 != "" {
		data.Card = brandName(p.Card.Brand) + " •••• " + p.Card.Last4
	}
	if p.AmountRefunded > 0 {
		data.Refunded = money.Amount{Minor: p.AmountRefunded, Currency: p.Amount.Currency}.String()
	}
	switch p.Status {
	case checkout.Succeeded:
		data.SuccessURL = l.SuccessURL
	case checkout.Failed, checkout.Canceled:
		data.Failure = processor.Message(p.FailureCode)
		if p.Status == checkout.Canceled {
			data.Failure = "This payment was canceled; you have not been charged."
		}
		if l.Payable(s.now()) == nil {
			data.RetryURL = s.links.Path(l, "")
		}
	case checkout.RequiresAction:
		data.ChallengeURL = s.links.Path(l, "/payments/"+p.ID+"/challenge")
	}
	s.page(c, http.StatusOK, "receipt", data)
}

type challengePage struct {
	Merchant, Amount, Card string
}

// challengePageHandler is GET /pay/{id}/payments/{payment}/challenge: the
// simulated issuer's page where the shopper approves or fails. A payment
// no longer waiting for it goes to its receipt.
func (s *Server) challengePageHandler(c *gin.Context) {
	l, err := s.openPayable(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	p, err := s.checkout.PaymentOfLink(c.Request.Context(), s.db.Pool, l, c.Param("payment"))
	if err != nil {
		s.pageError(c, err)
		return
	}
	if p.Status != checkout.RequiresAction {
		c.Redirect(http.StatusSeeOther, s.links.Path(l, "/payments/"+p.ID))
		return
	}
	s.page(c, http.StatusOK, "challenge", challengePage{Merchant: l.MerchantName, Amount: p.Amount.String(),
		Card: brandName(p.Card.Brand) + " •••• " + p.Card.Last4})
}

func brandName(b processor.Brand) string {
	switch b {
	case processor.Visa:
		return "Visa"
	case processor.Mastercard:
		return "Mastercard"
	case processor.Amex:
		return "American Express"
	case processor.Discover:
		return "Discover"
	}
	return "Card"
}

// pageError renders the friendly page for err: 403 for a bad signature,
// 404, 410 for a link that can no longer be paid, and an opaque 500 for
// anything else (logged once, here).
func (s *Server) pageError(c *gin.Context, err error) {
	status, n := http.StatusInternalServerError, notice{Icon: "!", Heading: "Something went wrong",
		Message: "We could not load this page. Please try again in a moment.", Hint: "Reference: " + requestID(c)}
	switch {
	case errors.Is(err, links.ErrBadSignature):
		status, n = http.StatusForbidden, notice{Icon: "!", Heading: "This payment link is not valid",
			Message: "The address may have been changed or copied incompletely.",
			Hint:    "Open the link exactly as the merchant sent it, or ask them for a new one."}
	case errors.Is(err, links.ErrNotFound), errors.Is(err, checkout.ErrNotFound):
		status, n = http.StatusNotFound, notice{Icon: "?", Heading: "Payment link not found",
			Message: "This payment link does not exist.", Hint: "Ask the merchant for a new link."}
	case errors.Is(err, links.ErrCompleted):
		status, n = http.StatusGone, notice{Icon: "✓", Heading: "This link has already been paid",
			Message: "A payment has already been made with this link, so it cannot be used again.",
			Hint:    "If you expected to pay, ask the merchant for a new link."}
	case errors.Is(err, links.ErrDeactivated):
		status, n = http.StatusGone, notice{Icon: "×", Heading: "This link is no longer active",
			Message: "The merchant has turned this payment link off.", Hint: "Ask the merchant for a new link."}
	case errors.Is(err, links.ErrExpired):
		status, n = http.StatusGone, notice{Icon: "!", Heading: "This link has expired",
			Message: "Payment links work for a limited time, and this one has run out.",
			Hint:    "Ask the merchant for a new link."}
	default:
		s.log.ErrorContext(c.Request.Context(), "page failed", "err", err, "request_id", requestID(c),
			"route", c.FullPath())
	}
	s.page(c, status, "error", n)
}
