package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/processor"
)

// Stateless signed links (/pay/s?…, see links.Signed): the URL carries
// everything, signed with one of the merchant's API key secrets. The
// checkout verifies it before anything else: an unknown or revoked key, a
// bad signature or any edited parameter is the 403 page, a past exp the
// 410 page; then the values must be acceptable (400), and the merchant's
// reference must not be paid yet (410). Paying it is the same machinery as
// paying a link, with the reference claimed in the payment's transaction.

// openSigned verifies the signed link of c and returns it with its
// merchant. The link is returned with links.ErrExpired (its values are
// valid), so receipts can still be shown.
func (s *Server) openSigned(c *gin.Context) (*links.Signed, *merchant.Merchant, error) {
	sl, err := links.ParseSigned(c.Request.URL.RawQuery)
	if err != nil {
		return nil, nil, err
	}
	m, secret, err := s.merchants.SigningSecret(c.Request.Context(), s.db.Pool, sl.KeyID)
	switch {
	case errors.Is(err, merchant.ErrKeyNotFound):
		return nil, nil, links.ErrBadSignature
	case err != nil:
		return nil, nil, err
	}
	if err := sl.Verify(secret); err != nil {
		return nil, nil, err
	}
	return sl, m, sl.Validate(s.currencies, s.now())
}

// signedScope is the idempotency scope (and processor key prefix) of a
// signed link's payments.
func signedScope(m *merchant.Merchant, sl *links.Signed) string {
	return "ref:" + m.ID + ":" + sl.Reference
}

// signedPageError is pageError plus the 400 page for a signed link with
// unacceptable values.
func (s *Server) signedPageError(c *gin.Context, err error) {
	if errors.Is(err, links.ErrSignedInvalid) {
		s.page(c, http.StatusBadRequest, "error", notice{Icon: "!", Heading: "This payment link is not valid",
			Message: "The merchant made this link with values Paylink cannot accept.",
			Hint:    "Ask the merchant for a new link."})
		return
	}
	s.pageError(c, err)
}

// openPayableSigned is openSigned for a link that can be paid now: not
// expired and its reference not paid yet (links.ErrCompleted).
func (s *Server) openPayableSigned(c *gin.Context) (*links.Signed, *merchant.Merchant, error) {
	sl, m, err := s.openSigned(c)
	if err != nil {
		return nil, nil, err
	}
	if err := s.referenceUnpaid(c, m, sl); err != nil {
		return nil, nil, err
	}
	return sl, m, nil
}

func (s *Server) referenceUnpaid(c *gin.Context, m *merchant.Merchant, sl *links.Signed) error {
	paid, err := s.checkout.ReferencePaid(c.Request.Context(), s.db.Pool, m.ID, sl.Reference)
	switch {
	case err != nil:
		return err
	case paid:
		return links.ErrCompleted
	}
	return nil
}

// signedPage is GET /pay/s?…: the checkout page of a signed link.
func (s *Server) signedPage(c *gin.Context) {
	sl, m, err := s.openPayableSigned(c)
	if err != nil {
		s.signedPageError(c, err)
		return
	}
	s.page(c, http.StatusOK, "pay", payPage{
		Merchant: m.Name, Amount: sl.Amount.String(), Description: sl.Description,
		Currency: string(sl.Amount.Currency), Brands: acceptedBrands(sl.Amount.Currency),
		CancelURL: sl.CancelURL, ExpiresAt: sl.ExpiresAt.Format("2 Jan 2006 15:04 MST"),
	})
}

// paySigned is POST /pay/s?…: pay a signed link by card, as POST
// /pay/{id} pays a link.
func (s *Server) paySigned(c *gin.Context) error {
	if err := s.sameOrigin(c); err != nil {
		return err
	}
	sl, m, err := s.openPayableSigned(c)
	if err != nil {
		return err
	}
	var in payRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	cust, err := checkout.ValidateCustomer(checkout.Customer{Email: in.Email, Name: in.Name})
	if err != nil {
		return err
	}
	if in.PaymentMethod.Type != "card" {
		return checkout.ErrMethodUnsupported
	}
	card := in.PaymentMethod.Card
	if card == nil {
		return errCardMissing
	}
	key := c.GetHeader("Idempotency-Key")
	if key != "" && !idempotency.ValidKey(key) {
		return idempotency.ErrKeyInvalid
	}
	attempt := key
	if attempt == "" {
		attempt = id.New("att")
	}
	ctx := c.Request.Context()
	scope := signedScope(m, sl)
	fp := idempotency.Fingerprint(c.Request.Method, c.Request.URL.Path, canonicalBody(c))
	auth, err := s.checkout.AuthorizeAmount(ctx, sl.Amount, checkout.AttemptKey(scope, attempt, fp),
		processor.Card{Number: card.Number, ExpMonth: card.ExpMonth, ExpYear: card.ExpYear, CVC: card.CVC})
	if err != nil {
		return err
	}
	order := checkout.SignedOrder{MerchantID: m.ID, Reference: sl.Reference, Amount: sl.Amount}
	err = s.mutate(c, scope, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		p, err := s.checkout.RecordSigned(ctx, tx, order, cust, auth)
		if err != nil {
			return 0, nil, err
		}
		status, body := s.signedAnswer(c, sl, p)
		return status, body, nil
	})
	if errors.Is(err, links.ErrCompleted) {
		// Another shopper paid this reference while the card was authorized.
		if rerr := s.checkout.Release(context.WithoutCancel(ctx), auth); rerr != nil {
			s.log.WarnContext(ctx, "void authorization", "err", rerr, "request_id", requestID(c))
		}
	}
	return err
}

// signedPath is the path and query of a page of signed link sl.
func signedPath(sl *links.Signed, suffix string) string {
	return "/pay/s" + suffix + "?" + sl.Query()
}

// signedAnswer is the status and JSON answer for a payment of signed link
// sl, as payResult is for a link's.
func (s *Server) signedAnswer(c *gin.Context, sl *links.Signed, p *checkout.Payment) (int, payAnswer) {
	a := s.signedChallengeAnswer(sl, p)
	switch p.Status {
	case checkout.RequiresAction:
		a.NextAction = &nextAction{Type: "challenge", URL: s.baseURL.String() + signedPath(sl, "/payments/"+p.ID+"/challenge")}
	case checkout.Failed:
		_, body := s.errorResponse(c, checkout.CardError(p.FailureCode))
		a.Error = &body.Error
		return http.StatusPaymentRequired, a
	}
	return http.StatusOK, a
}

func (s *Server) signedChallengeAnswer(sl *links.Signed, p *checkout.Payment) payAnswer {
	a := payAnswer{Payment: checkout.ToWire(p), ReceiptURL: s.baseURL.String() + signedPath(sl, "/payments/"+p.ID)}
	if p.Status == checkout.Succeeded && sl.SuccessURL != "" {
		a.RedirectURL = &sl.SuccessURL
	}
	return a
}

// signedReceipt is GET /pay/s/payments/{payment}?…: a payment's outcome.
// Like a link's receipt it stays readable after the link expired.
func (s *Server) signedReceipt(c *gin.Context) {
	sl, m, err := s.openSigned(c)
	if err != nil && !errors.Is(err, links.ErrExpired) {
		s.signedPageError(c, err)
		return
	}
	expired := err != nil
	ctx := c.Request.Context()
	p, err := s.checkout.PaymentOfReference(ctx, s.db.Pool, m.ID, sl.Reference, c.Param("payment"))
	if err != nil {
		s.pageError(c, err)
		return
	}
	data := receiptPage{
		Merchant: m.Name, Amount: p.Amount.String(), Description: sl.Description, Status: string(p.Status),
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
		data.SuccessURL = sl.SuccessURL
	case checkout.Failed, checkout.Canceled:
		data.Failure = processor.Message(p.FailureCode)
		if p.Status == checkout.Canceled {
			data.Failure = "This payment was canceled; you have not been charged."
		}
		if !expired && s.referenceUnpaid(c, m, sl) == nil {
			data.RetryURL = signedPath(sl, "")
		}
	case checkout.RequiresAction:
		data.ChallengeURL = signedPath(sl, "/payments/"+p.ID+"/challenge")
	}
	s.page(c, http.StatusOK, "receipt", data)
}

// signedChallengePage is GET /pay/s/payments/{payment}/challenge?…: the
// simulated issuer's page for a signed link's payment.
func (s *Server) signedChallengePage(c *gin.Context) {
	sl, m, err := s.openSigned(c)
	if err != nil {
		s.signedPageError(c, err)
		return
	}
	p, err := s.checkout.PaymentOfReference(c.Request.Context(), s.db.Pool, m.ID, sl.Reference, c.Param("payment"))
	if err != nil {
		s.pageError(c, err)
		return
	}
	if p.Status != checkout.RequiresAction {
		c.Redirect(http.StatusSeeOther, signedPath(sl, "/payments/"+p.ID))
		return
	}
	s.page(c, http.StatusOK, "challenge", challengePage{Merchant: m.Name, Amount: p.Amount.String(),
		Card: brandName(p.Card.Brand) + " •••• " + p.Card.Last4})
}

// answerSignedChallenge is POST /pay/s/payments/{payment}/challenge?…. An
// approval after another shopper paid the reference cancels the payment.
func (s *Server) answerSignedChallenge(c *gin.Context) error {
	if err := s.sameOrigin(c); err != nil {
		return err
	}
	sl, m, err := s.openSigned(c)
	if err != nil {
		return err
	}
	outcome, err := s.readChallenge(c)
	if err != nil {
		return err
	}
	p, err := s.checkout.PaymentOfReference(c.Request.Context(), s.db.Pool, m.ID, sl.Reference, c.Param("payment"))
	if err != nil {
		return err
	}
	return s.finishChallenge(c, signedScope(m, sl), p, outcome,
		func() error { return s.referenceUnpaid(c, m, sl) },
		func(p *checkout.Payment) payAnswer { return s.signedChallengeAnswer(sl, p) })
}
