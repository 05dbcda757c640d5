// Package signedpages is the hosted checkout's stateless signed links
// (/pay/s?…, see links.Signed): the URL carries everything, signed with one
// of the merchant's API key secrets. The checkout verifies it before
// anything else: an unknown or revoked key, a key without
// payment_links:write, a bad signature or any edited parameter is the 403
// page, a past exp the 410 page; then the values must
// be acceptable (400), and the merchant's reference must not be paid yet
// (410). Paying it is the same machinery as paying a link (package
// hostedcheckout's kit), with the reference claimed in the payment's
// transaction.
package signedpages

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/httpapi/hostedcheckout"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
)

// Pages answers the signed links' routes with the hosted checkout's pages
// and payment machinery.
type Pages struct {
	*hostedcheckout.Server
	d hostedcheckout.Deps
}

// New returns the signed links' pages, on the hosted checkout h.
func New(h *hostedcheckout.Server) *Pages { return &Pages{Server: h, d: h.Deps()} }

//go:embed openapi/*.json
var openAPIFiles embed.FS

// OpenAPI is the section's OpenAPI part (see apidoc.Build).
func OpenAPI() fs.FS { return openAPIFiles }

// Routes are the signed links' routes, public and limited per client IP
// like the rest of the hosted checkout; the POSTs take an Idempotency-Key.
func (s *Pages) Routes() []edge.Route {
	page, post := hostedcheckout.GetPage, hostedcheckout.PostJSON
	return []edge.Route{
		page("/pay/s", "signedLinkPage", s.signedPage),
		post("/pay/s", "paySignedLink", s.paySigned),
		page("/pay/s/payments/:payment", "signedReceiptPage", s.signedReceipt),
		page("/pay/s/payments/:payment/challenge", "signedChallengePage", s.signedChallengePage),
		post("/pay/s/payments/:payment/challenge", "answerSignedChallenge", s.answerSignedChallenge),
	}
}

// openSigned verifies the signed link of c and returns it with its
// merchant. The link is returned with links.ErrExpired (its values are
// valid), so receipts can still be shown.
func (s *Pages) openSigned(c *gin.Context) (*links.Signed, *merchant.Merchant, error) {
	sl, err := links.ParseSigned(c.Request.URL.RawQuery)
	if err != nil {
		return nil, nil, err
	}
	m, secret, err := s.d.Merchants.SigningSecret(c.Request.Context(), s.d.DB.Pool, sl.KeyID)
	switch {
	case errors.Is(err, merchant.ErrKeyNotFound):
		return nil, nil, links.ErrBadSignature
	case err != nil:
		return nil, nil, err
	}
	if err := sl.Verify(secret); err != nil {
		return nil, nil, err
	}
	return sl, m, sl.Validate(s.d.Currencies, s.d.Now())
}

// signedScope is the idempotency scope (and processor key prefix) of a
// signed link's payments.
func signedScope(m *merchant.Merchant, sl *links.Signed) string {
	return "ref:" + m.ID + ":" + sl.Reference
}

// signedPageError is pageError plus the 400 page for a signed link with
// unacceptable values.
func (s *Pages) signedPageError(c *gin.Context, err error) {
	if errors.Is(err, links.ErrSignedInvalid) {
		s.Page(c, http.StatusBadRequest, "error", hostedcheckout.Notice{Icon: "!", Heading: "This payment link is not valid",
			Message: "The merchant made this link with values Paylink cannot accept.",
			Hint:    "Ask the merchant for a new link."})
		return
	}
	s.PageError(c, err)
}

// openPayableSigned is openSigned for a link that can be paid now: not
// expired and its reference not paid yet (links.ErrCompleted).
func (s *Pages) openPayableSigned(c *gin.Context) (*links.Signed, *merchant.Merchant, error) {
	sl, m, err := s.openSigned(c)
	if err != nil {
		return nil, nil, err
	}
	if err := s.referenceUnpaid(c, m, sl); err != nil {
		return nil, nil, err
	}
	return sl, m, nil
}

func (s *Pages) referenceUnpaid(c *gin.Context, m *merchant.Merchant, sl *links.Signed) error {
	paid, err := s.d.Checkout.ReferencePaid(c.Request.Context(), s.d.DB.Pool, m.ID, sl.Reference)
	switch {
	case err != nil:
		return err
	case paid:
		return links.ErrCompleted
	}
	return nil
}

// signedPage is GET /pay/s?…: the checkout page of a signed link.
func (s *Pages) signedPage(c *gin.Context) {
	sl, m, err := s.openPayableSigned(c)
	if err == nil {
		err = hostedcheckout.CheckCards(m.Settings.Acceptance, sl.Amount.Currency)
	}
	if err != nil {
		s.signedPageError(c, err)
		return
	}
	s.StartCheckoutSession(c)
	card := hostedcheckout.OfferCards(m.Settings.Acceptance, sl.Amount.Currency)
	s.Page(c, http.StatusOK, "pay", hostedcheckout.PayPage{
		Merchant: m.Name, Amount: sl.Amount.String(), Description: sl.Description,
		Currency: string(sl.Amount.Currency), Card: &card,
		CancelURL: sl.CancelURL, ExpiresAt: sl.ExpiresAt.Format("2 Jan 2006 15:04 MST"),
		// The page's own URL, as the merchant signed it.
		QR: hostedcheckout.PhoneQR(s.d.BaseURL.ResolveReference(&url.URL{Path: c.Request.URL.Path, RawQuery: c.Request.URL.RawQuery}).String()),
	})
}

// paySigned is POST /pay/s?…: pay a signed link by card, as POST
// /pay/{id} pays a link.
func (s *Pages) paySigned(c *gin.Context) error {
	if err := s.d.Edge.SameOrigin(c); err != nil {
		return err
	}
	sl, m, err := s.openSigned(c)
	if err != nil {
		return err
	}
	var in hostedcheckout.PayRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	if err := s.referenceUnpaid(c, m, sl); err != nil {
		if errors.Is(err, links.ErrCompleted) { // paid: perhaps by this request's first try
			return s.ReplayOr(c, signedScope(m, sl), err)
		}
		return err
	}
	cust, err := checkout.ValidateCustomer(checkout.Customer{Email: in.Email, Name: in.Name})
	if err != nil {
		return err
	}
	card, attempt, scope, err := s.CardAttempt(c, in.PaymentMethod, signedScope(m, sl), signedScope(m, sl))
	if err != nil {
		return err
	}
	auth, err := s.d.Checkout.AuthorizeScreened(c.Request.Context(), m.Settings.Acceptance, sl.Amount, attempt, card,
		checkout.Screening{MerchantID: m.ID, IP: c.ClientIP(), Email: cust.Email})
	if err != nil {
		return err
	}
	order := checkout.SignedOrder{MerchantID: m.ID, Reference: sl.Reference, Amount: sl.Amount}
	err = s.d.Edge.Mutate(c, scope, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		p, err := s.d.Checkout.RecordSigned(ctx, tx, order, cust, auth)
		if err != nil {
			return 0, nil, err
		}
		status, body := s.RecordedAnswer(c, s.signedTarget(sl, m), p)
		return status, body, nil
	})
	// Another shopper paid this reference while the card was authorized.
	s.ReleaseOn(c, auth.Authorization, err, links.ErrCompleted)
	return err
}

// signedPath is the path and query of a page of signed link sl.
func signedPath(sl *links.Signed, suffix string) string {
	return "/pay/s" + suffix + "?" + sl.Query()
}

// signedTarget is signed link sl of merchant m as what a payment pays.
func (s *Pages) signedTarget(sl *links.Signed, m *merchant.Merchant) hostedcheckout.PayTarget {
	return s.Target(func(suffix string) string { return signedPath(sl, suffix) }, sl.SuccessURL, sl.CancelURL,
		m.ID+":"+sl.Reference)
}

// signedReceipt is GET /pay/s/payments/{payment}?…: a payment's outcome.
// Like a link's receipt it stays readable after the link expired.
func (s *Pages) signedReceipt(c *gin.Context) {
	sl, m, err := s.openSigned(c)
	if err != nil && !errors.Is(err, links.ErrExpired) {
		s.signedPageError(c, err)
		return
	}
	expired := err != nil
	ctx := c.Request.Context()
	p, err := s.d.Checkout.PaymentOfReference(ctx, s.d.DB.Pool, m.ID, sl.Reference, c.Param("payment"))
	if err != nil {
		s.PageError(c, err)
		return
	}
	data := hostedcheckout.ReceiptOf(m.Name, sl.Description, p, s.signedTarget(sl, m),
		func() bool { return !expired && s.referenceUnpaid(c, m, sl) == nil })
	s.Page(c, http.StatusOK, "receipt", data)
}

// signedChallengePage is GET /pay/s/payments/{payment}/challenge?…: the
// simulated issuer's page for a signed link's payment.
func (s *Pages) signedChallengePage(c *gin.Context) {
	sl, m, err := s.openSigned(c)
	if err != nil {
		s.signedPageError(c, err)
		return
	}
	p, err := s.d.Checkout.PaymentOfReference(c.Request.Context(), s.d.DB.Pool, m.ID, sl.Reference, c.Param("payment"))
	if err != nil {
		s.PageError(c, err)
		return
	}
	if p.Status != checkout.RequiresAction {
		c.Redirect(http.StatusSeeOther, signedPath(sl, "/payments/"+p.ID))
		return
	}
	s.Page(c, http.StatusOK, "challenge", hostedcheckout.ChallengePage{Merchant: m.Name, Amount: p.Amount.String(),
		Card: hostedcheckout.BrandName(p.Card.Brand) + " •••• " + p.Card.Last4})
}

// answerSignedChallenge is POST /pay/s/payments/{payment}/challenge?…. An
// approval after another shopper paid the reference cancels the payment.
func (s *Pages) answerSignedChallenge(c *gin.Context) error {
	if err := s.d.Edge.SameOrigin(c); err != nil {
		return err
	}
	sl, m, err := s.openSigned(c)
	if err != nil {
		return err
	}
	outcome, err := s.ReadChallenge(c)
	if err != nil {
		return err
	}
	p, err := s.d.Checkout.PaymentOfReference(c.Request.Context(), s.d.DB.Pool, m.ID, sl.Reference, c.Param("payment"))
	if err != nil {
		return err
	}
	return s.FinishChallenge(c, signedScope(m, sl), p, outcome,
		func() error { return s.referenceUnpaid(c, m, sl) }, s.signedTarget(sl, m))
}
