package hostedcheckout

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/checkout/contact"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/processor"
)

// The embed pages are the payment form inside the merchant's page. They
// are framed only by the form's allowed origins (CSP frame-ancestors, set
// by the browser's own check), and parent_origin, which the SDK sets to the
// merchant page's origin, must be one of them: it is the only origin the
// page's script posts messages to and reads messages from. Submissions and
// challenge answers are the same JSON POSTs as the hosted checkout's, with
// the same CSRF rule (edge.SameOrigin): the frame's own scripts run on
// Paylink's origin, so their requests are same-origin.

var errParentOrigin = &apperr.Error{Kind: apperr.Forbidden, Code: "parent_origin_not_allowed", Param: "parent_origin",
	Message: "This payment form may not be shown on this site."}

// frame is what the embed layout reads from every embed page's data.
type frame struct {
	// ParentOrigin is the merchant page's origin, checked against the
	// form's allowed origins; empty when it is not known to be allowed.
	ParentOrigin string
	// ParentMessage is the JSON of a message embed.js posts to the parent
	// on load (a receipt's outcome, a closed form's error), or "".
	ParentMessage string
}

// embedMessage is a message the embed pages post to the SDK.
type embedMessage struct {
	Type        string         `json:"type"`
	Payment     *embedPayment  `json:"payment,omitempty"`
	RedirectURL *string        `json:"redirect_url,omitempty"`
	Error       *embedErrorMsg `json:"error,omitempty"`
}

type embedPayment struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type embedErrorMsg struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (m embedMessage) String() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// embedRender renders an embed page; frame-ancestors names f's allowed
// origins ('none' when there is no form).
func (s *Server) embedRender(c *gin.Context, f *forms.Form, status int, name string, data any) {
	s.render(c, status, name, ancestorsOf(f), data)
}

// ancestorsOf is the frame-ancestors of f's embed pages: its allowed
// origins, or 'none' when there is no form.
func ancestorsOf(f *forms.Form) string {
	if f == nil {
		return "'none'"
	}
	return strings.Join(f.AllowedOrigins, " ")
}

// openEmbed returns the form of an embed page and its checked parent
// origin. With errParentOrigin the form is returned too, so its error page
// still names the form's origins in frame-ancestors.
func (s *Server) openEmbed(c *gin.Context) (*forms.Form, string, error) {
	f, err := s.forms.Open(c.Request.Context(), s.db.Pool, c.Param("id"))
	if err != nil {
		return nil, "", err
	}
	parent, ok := f.Allows(c.Query("parent_origin"))
	if !ok {
		return f, "", errParentOrigin
	}
	return f, parent, nil
}

// embedPath is the path and query of one of f's embed pages.
func embedPath(f *forms.Form, suffix, parent string) string {
	p := "/embed/forms/" + f.ID + suffix
	if parent != "" {
		p += "?parent_origin=" + url.QueryEscape(parent)
	}
	return p
}

// embedError renders the friendly page for err inside the frame: 404 for
// an unknown form or payment, 403 for a parent origin the form does not
// allow, 410 (posted to the SDK as an error too) for an inactive form or
// one in a currency or by a method the merchant no longer takes.
func (s *Server) embedError(c *gin.Context, f *forms.Form, parent string, err error) {
	s.embedNotice(c, ancestorsOf(f), parent, err)
}

// embedNotice renders embedError's page for err with frame-ancestors
// ancestors.
func (s *Server) embedNotice(c *gin.Context, ancestors, parent string, err error) {
	status, n := http.StatusInternalServerError, Notice{Icon: "!", Heading: "Something went wrong",
		Message: "We could not load this payment form. Please try again in a moment.", Hint: "Reference: " + edge.RequestID(c)}
	var msg string
	refusalStatus, refusal, refused := refusalNotice(err)
	switch {
	case refused:
		status, n = refusalStatus, refusal
		e, _ := apperr.As(err)
		msg = embedMessage{Type: "error", Error: &embedErrorMsg{Code: e.Code, Message: e.Message}}.String()
	case errors.Is(err, forms.ErrNotFound):
		status, n = http.StatusNotFound, Notice{Icon: "?", Heading: "Payment form not found",
			Message: "This payment form does not exist.", Hint: "Check the form id given to Paylink.mount."}
	case errors.Is(err, checkout.ErrNotFound):
		status, n = http.StatusNotFound, Notice{Icon: "?", Heading: "Payment not found",
			Message: "This payment does not exist.", Hint: "Start again from the payment form."}
	case errors.Is(err, errParentOrigin):
		status, n = http.StatusForbidden, Notice{Icon: "!", Heading: "This form cannot be shown here",
			Message: "The merchant has not allowed this payment form on this site.",
			Hint:    "Merchants: add this site's origin to the form's allowed_origins."}
	case errors.Is(err, forms.ErrInactive):
		status, n = http.StatusGone, Notice{Icon: "×", Heading: "This form is no longer active",
			Message: "The merchant has turned this payment form off.", Hint: "No payment can be made with it."}
		msg = embedMessage{Type: "error", Error: &embedErrorMsg{Code: forms.ErrInactive.Code, Message: forms.ErrInactive.Message}}.String()
	default:
		s.log.ErrorContext(c.Request.Context(), "page failed", "err", err, "request_id", edge.RequestID(c), "route", c.FullPath())
	}
	s.render(c, status, "embed/error", ancestors, struct {
		Notice
		frame
	}{n, frame{ParentOrigin: parent, ParentMessage: msg}})
}

type formPage struct {
	frame
	CardOffer
	Merchant, Title, Description, Currency string
	// Amount is the fixed amount, formatted; "" when the shopper chooses
	// between Min and Max.
	Amount, Min, Max   string
	MinMinor, MaxMinor int64
	Exponent           int
	Phone, Address     bool
	// Preview is the dashboard's preview: nothing can be paid.
	Preview bool
}

// embedPage is GET /embed/forms/{id}?parent_origin=…: the form.
func (s *Server) embedPage(c *gin.Context) {
	f, parent, err := s.openEmbed(c)
	if err == nil {
		err = f.Payable()
	}
	if err == nil {
		err = CheckCards(f.Accepts, f.Currency)
	}
	if err != nil {
		s.embedError(c, f, parent, err)
		return
	}
	s.embedRender(c, f, http.StatusOK, "embed-form", formPageOf(f, parent))
}

// embedPreview is GET /embed/forms/{id}/preview: the form as shoppers see
// it, for the merchant dashboard (this origin) to frame, and only it
// (frame-ancestors 'self'); it talks to no parent, loads no payment script
// and its pay button is off, so nothing can be paid through it.
func (s *Server) embedPreview(c *gin.Context) {
	const self = "'self'"
	f, err := s.forms.Open(c.Request.Context(), s.db.Pool, c.Param("id"))
	if err == nil {
		err = f.Payable()
	}
	if err == nil {
		err = CheckCards(f.Accepts, f.Currency)
	}
	if err != nil {
		s.embedNotice(c, self, "", err)
		return
	}
	data := formPageOf(f, "")
	data.Preview = true
	s.render(c, http.StatusOK, "embed-form", self, data)
}

// formPageOf is the data of f's form page, framed by parent.
func formPageOf(f *forms.Form, parent string) formPage {
	exp, _ := money.Exponent(f.Currency)
	data := formPage{frame: frame{ParentOrigin: parent}, Merchant: f.MerchantName, Title: f.Title,
		Description: f.Description, Currency: string(f.Currency), CardOffer: OfferCards(f.Accepts, f.Currency),
		MinMinor: f.AmountMin, MaxMinor: f.AmountMax, Exponent: exp,
		Phone: f.Collects(forms.Phone), Address: f.Collects(forms.BillingAddress)}
	if f.Amount > 0 {
		data.Amount = money.Amount{Minor: f.Amount, Currency: f.Currency}.String()
	} else {
		data.Min = money.Amount{Minor: f.AmountMin, Currency: f.Currency}.String()
		data.Max = money.Amount{Minor: f.AmountMax, Currency: f.Currency}.String()
	}
	return data
}

type formPayRequest struct {
	Amount         json.RawMessage  `json:"amount"`
	Email          string           `json:"email"`
	Name           string           `json:"name"`
	Phone          *string          `json:"phone"`
	BillingAddress *addressRequest  `json:"billing_address"`
	PaymentMethod  payMethodRequest `json:"payment_method"`
}

type addressRequest struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	State      string `json:"state"`
	Country    string `json:"country"`
}

// formCustomer validates the shopper fields of a submission of f: e-mail
// and name always, phone and billing address when f collects them (and
// only then).
func formCustomer(f *forms.Form, in formPayRequest) (checkout.Customer, error) {
	cust, err := checkout.ValidateCustomer(checkout.Customer{Email: in.Email, Name: in.Name})
	if err != nil {
		return cust, err
	}
	switch {
	case f.Collects(forms.Phone) && in.Phone == nil:
		return cust, contact.ErrPhoneInvalid
	case f.Collects(forms.Phone):
		if cust.Phone, err = contact.ValidatePhone(*in.Phone); err != nil {
			return cust, err
		}
	case in.Phone != nil:
		return cust, edge.ErrUnknownParameter.WithParam("phone").WithMessage("This form does not collect a phone number.")
	}
	switch a := in.BillingAddress; {
	case f.Collects(forms.BillingAddress) && a == nil:
		return cust, contact.ErrAddressInvalid
	case f.Collects(forms.BillingAddress):
		addr, err := contact.ValidateAddress(contact.Address{Line1: a.Line1, Line2: a.Line2, City: a.City,
			PostalCode: a.PostalCode, State: a.State, Country: a.Country})
		if err != nil {
			return cust, err
		}
		cust.Address = &addr
	case a != nil:
		return cust, edge.ErrUnknownParameter.WithParam("billing_address").WithMessage("This form does not collect a billing address.")
	}
	return cust, nil
}

// payForm is POST /embed/forms/{id}: a submission of the form, a payment
// of its own. As for a link, the card is authorized first, then the
// outcome is recorded with the request's Idempotency-Key in one
// transaction (see package checkout).
func (s *Server) payForm(c *gin.Context) error {
	if err := s.edge.SameOrigin(c); err != nil {
		return err
	}
	ctx := c.Request.Context()
	f, err := s.forms.Open(ctx, s.db.Pool, c.Param("id"))
	if err != nil {
		return err
	}
	var in formPayRequest
	decodeErr := edge.Decode(c, &in)
	if err := f.Payable(); err != nil { // 410 before the fields, as on GET
		// The retry of a request that paid gets its answer again.
		if decodeErr == nil {
			if _, _, scope, cardErr := s.CardAttempt(c, in.PaymentMethod, "form:"+f.ID, "form:"+f.ID); cardErr == nil {
				return s.ReplayOr(c, scope, err)
			}
		}
		return err
	}
	if decodeErr != nil {
		return decodeErr
	}
	requested, err := money.ParseOptionalMinor(string(in.Amount), "amount")
	if err != nil {
		return err
	}
	amount, err := f.Charge(requested)
	if err != nil {
		return err
	}
	cust, err := formCustomer(f, in)
	if err != nil {
		return err
	}
	card, attempt, scope, err := s.CardAttempt(c, in.PaymentMethod, "form:"+f.ID, "form:"+f.ID)
	if err != nil {
		return err
	}
	parent, _ := f.Allows(c.Query("parent_origin"))
	auth, err := s.checkout.AuthorizeScreened(ctx, f.Accepts, amount, attempt, card, checkout.Screening{
		MerchantID: f.MerchantID, IP: c.ClientIP(), Email: cust.Email, Form: f.ID, Realm: f.Realm, Metadata: f.Metadata})
	if err != nil {
		return err
	}
	err = s.edge.Mutate(c, scope, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		p, err := s.checkout.RecordForm(ctx, tx, f, amount, cust, auth)
		if err != nil {
			return 0, nil, err
		}
		status, body := s.RecordedAnswer(c, s.formTarget(f, parent), p)
		return status, body, nil
	})
	// The form was turned off while this card was authorized.
	s.ReleaseOn(c, auth.Authorization, err, forms.ErrInactive)
	return err
}

// formTarget is form f as what a payment pays, inside a frame whose
// parent is parent.
func (s *Server) formTarget(f *forms.Form, parent string) PayTarget {
	return PayTarget{path: func(suffix string) string { return embedPath(f, suffix, parent) },
		successURL: f.SuccessURL, source: f.ID, returns: s.returns}
}

// outcomeMessage is what a receipt posts to the SDK: success, or an error
// for a failed or canceled payment; "" while it is still under way.
func outcomeMessage(p *checkout.Payment, redirect string) string {
	switch p.Status {
	case checkout.Succeeded:
		m := embedMessage{Type: "success", Payment: &embedPayment{ID: p.ID, Status: string(p.Status),
			Amount: p.Amount.Minor, Currency: string(p.Amount.Currency)}}
		if redirect != "" {
			m.RedirectURL = &redirect
		}
		return m.String()
	case checkout.Failed:
		return embedMessage{Type: "error", Error: &embedErrorMsg{Code: p.FailureCode, Message: processor.Message(p.FailureCode)}}.String()
	case checkout.Canceled:
		return embedMessage{Type: "error", Error: &embedErrorMsg{Code: "payment_canceled", Message: canceledMessage}}.String()
	}
	return ""
}

// embedReceipt is GET /embed/forms/{id}/payments/{payment}: where the
// frame lands after a challenge. It posts the outcome to the SDK.
func (s *Server) embedReceipt(c *gin.Context) {
	f, parent, err := s.openEmbed(c)
	if err != nil {
		s.embedError(c, f, parent, err)
		return
	}
	p, err := s.checkout.PaymentOfForm(c.Request.Context(), s.db.Pool, f, c.Param("payment"))
	if err != nil {
		s.embedError(c, f, parent, err)
		return
	}
	// Inside the frame the SDK, told by outcomeMessage, follows the
	// success URL; the page itself must not.
	t := s.formTarget(f, parent)
	redirect := t.returnURL(p, false)
	t.successURL = ""
	data := ReceiptOf(f.MerchantName, f.Title, p, t, func() bool { return f.Payable() == nil })
	s.embedRender(c, f, http.StatusOK, "embed/receipt", struct {
		receiptPage
		frame
	}{data, frame{ParentOrigin: parent, ParentMessage: outcomeMessage(p, redirect)}})
}

// embedChallengePage is GET /embed/forms/{id}/payments/{payment}/challenge:
// the simulated issuer's page, inside the frame.
func (s *Server) embedChallengePage(c *gin.Context) {
	f, parent, err := s.openEmbed(c)
	if err != nil {
		s.embedError(c, f, parent, err)
		return
	}
	p, err := s.checkout.PaymentOfForm(c.Request.Context(), s.db.Pool, f, c.Param("payment"))
	if err != nil {
		s.embedError(c, f, parent, err)
		return
	}
	if p.Status != checkout.RequiresAction {
		c.Redirect(http.StatusSeeOther, embedPath(f, "/payments/"+p.ID, parent))
		return
	}
	if err := f.Payable(); err != nil {
		s.embedError(c, f, parent, err)
		return
	}
	s.embedRender(c, f, http.StatusOK, "embed/challenge", struct {
		ChallengePage
		frame
	}{ChallengePage{Merchant: f.MerchantName, Amount: p.Amount.String(),
		Card: BrandName(p.Card.Brand) + " •••• " + p.Card.Last4}, frame{ParentOrigin: parent}})
}

// answerFormChallenge is POST /embed/forms/{id}/payments/{payment}/challenge.
func (s *Server) answerFormChallenge(c *gin.Context) error {
	if err := s.edge.SameOrigin(c); err != nil {
		return err
	}
	outcome, err := s.ReadChallenge(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	f, err := s.forms.Open(ctx, s.db.Pool, c.Param("id"))
	if err != nil {
		return err
	}
	p, err := s.checkout.PaymentOfForm(ctx, s.db.Pool, f, c.Param("payment"))
	if err != nil {
		return err
	}
	parent, _ := f.Allows(c.Query("parent_origin"))
	return s.FinishChallenge(c, "form:"+f.ID, p, outcome, f.Payable, s.formTarget(f, parent))
}

// ReadChallenge reads a challenge answer's body (the edge checked its
// Idempotency-Key).
func (s *Server) ReadChallenge(c *gin.Context) (string, error) {
	var in challengeRequest
	if err := edge.Decode(c, &in); err != nil {
		return "", err
	}
	outcome, err := checkout.ParseOutcome(in.Outcome)
	if err != nil {
		return "", err
	}
	return outcome, nil
}

// FinishChallenge answers the challenge of payment p, already matched to
// the link, form or signed link t it pays: claim it if it still waits and
// payable() allows, ask the processor, and record the final status with
// the Idempotency-Key in one transaction (scope). A payment already final
// is answered as it is, so a double click or a second tab is harmless.
func (s *Server) FinishChallenge(c *gin.Context, scope string, p *checkout.Payment, outcome string,
	payable func() error, t PayTarget) error {
	ctx := c.Request.Context()
	if p.Status == checkout.RequiresAction {
		if err := payable(); err != nil {
			return err
		}
		var err error
		if p, err = s.checkout.Claim(ctx, s.db, p, outcome); err != nil {
			return err
		}
	}
	if p.Status != checkout.Processing {
		c.PureJSON(http.StatusOK, s.settledAnswer(t, p, true))
		return nil
	}
	auth, err := s.checkout.Authenticate(ctx, p)
	if err != nil {
		return err
	}
	var final *checkout.Payment
	err = s.edge.Mutate(c, scope, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		f, err := s.checkout.Finish(ctx, tx, p.MerchantID, p.ID, auth)
		if err != nil {
			return 0, nil, err
		}
		final = f
		return http.StatusOK, s.settledAnswer(t, f, true), nil
	})
	if err == nil && final != nil && final.Status == checkout.Canceled {
		s.release(c, auth)
	}
	return err
}
