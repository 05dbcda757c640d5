// Package hostedcheckout is the hosted checkout: what shoppers' browsers
// see and send. A payment link's page (/pay/{id}), its JSON payment and
// the challenge of the simulated issuer; stateless signed links
// (/pay/s?…, in the section signedpages, on this package's exported kit:
// Page, PageError, CardAttempt, RecordedAnswer, Target, FinishChallenge,
// …); the embedded payment form inside a merchant's page
// (/embed/forms/{id}); and paying a link from the shopper's wallet (the
// JS SDK's files, /sdk/…, are the section sdkfiles). It owns those routes, their handlers, request
// and answer types, templates and scripts. Every route is public and
// limited per client IP; what protects it is the link's or form's
// signature or allowed origins, and same-origin JSON POSTs.
package hostedcheckout

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/returnurl"
	"github.com/paylink/paylink/internal/wallet"
)

// Deps is what the hosted checkout needs.
type Deps struct {
	Edge       *edge.Edge
	Log        *slog.Logger
	DB         *postgres.DB
	BaseURL    *url.URL
	Now        func() time.Time
	Merchants  *merchant.Service // the keys that sign stateless links
	Links      *links.Service
	Checkout   *checkout.Service
	Forms      *forms.Service
	Currencies money.Set
	Wallet     *wallet.Service
	Passkeys   *passkey.Service
	// WalletSession returns the live wallet session of the request's
	// cookie, or wallet.ErrLoginRequired: the wallet's own way to read it,
	// for paying a link from the wallet.
	WalletSession func(*gin.Context) (*wallet.Session, error)
	// Returns signs the shopper's return to the merchant's site and
	// publishes its public keys.
	Returns *returnurl.Signer
}

// Server answers the hosted checkout's routes.
type Server struct {
	edge          *edge.Edge
	log           *slog.Logger
	db            *postgres.DB
	baseURL       *url.URL
	now           func() time.Time
	merchants     *merchant.Service
	links         *links.Service
	checkout      *checkout.Service
	forms         *forms.Service
	currencies    money.Set
	wallet        *wallet.Service
	passkeys      *passkey.Service
	walletSession func(*gin.Context) (*wallet.Session, error)
	returns       *returnurl.Signer
	pages         map[string]*template.Template
	deps          Deps
}

// New returns the hosted checkout, its pages parsed and its scripts and
// styles registered with the edge's assets.
func New(d Deps) (*Server, error) {
	s := &Server{edge: d.Edge, log: d.Log, db: d.DB, baseURL: d.BaseURL, now: d.Now, merchants: d.Merchants,
		links: d.Links, checkout: d.Checkout, forms: d.Forms, currencies: d.Currencies, wallet: d.Wallet,
		passkeys: d.Passkeys, walletSession: d.WalletSession, returns: d.Returns, deps: d}
	if s.returns == nil {
		return nil, errors.New("hostedcheckout: no return signer")
	}
	var err error
	if s.pages, err = parsePages(d.Edge.Assets()); err != nil {
		return nil, err
	}
	return s, nil
}

// Deps is what the hosted checkout was built with, for its sections
// (signedpages).
func (s *Server) Deps() Deps { return s.deps }

//go:embed openapi/*.json
var openAPIFiles embed.FS

// OpenAPI is the OpenAPI part of the hosted checkout (see apidoc.Build).
func OpenAPI() fs.FS { return openAPIFiles }

// GetPage is a checkout page's route: public, limited per client IP, and
// answering by itself (its own error pages).
func GetPage(path, doc string, h gin.HandlerFunc) edge.Route {
	return edge.Route{Method: "GET", Path: path, Limit: edge.PerIPCheckout, Doc: doc, Page: h}
}

// PostJSON is a checkout JSON POST's route: public, limited per client IP,
// taking an Idempotency-Key; h checks SameOrigin first thing.
func PostJSON(path, doc string, h func(*gin.Context) error) edge.Route {
	return edge.Route{Method: "POST", Path: path, Limit: edge.PerIPCheckout, Idempotent: true, Doc: doc, Handle: h}
}

// Routes are the hosted checkout's routes. Pages (Page) render their own
// error pages; the JSON POSTs (Handle) check SameOrigin first thing, after
// the per-IP limit has counted them, and take an Idempotency-Key per
// attempt.
func (s *Server) Routes() []edge.Route {
	page, post := GetPage, PostJSON
	return []edge.Route{
		// A payment link.
		page("/pay/:id", "checkoutPage", s.payPage),
		post("/pay/:id", "payLink", s.pay),
		page("/pay/:id/payments/:payment", "receiptPage", s.receiptPageHandler),
		page("/pay/:id/payments/:payment/challenge", "challengePage", s.challengePageHandler),
		post("/pay/:id/payments/:payment/challenge", "answerChallenge", s.answerChallenge),

		// The keys that verify a shopper's signed return to the merchant.
		{Method: "GET", Path: "/.well-known/paylink-keys.json", Doc: "getReturnKeys", Page: s.returnKeys},

		// A payment form, inside the merchant's page.
		page("/embed/forms/:id", "embedFormPage", s.embedPage),
		page("/embed/forms/:id/preview", "embedFormPreview", s.embedPreview),
		post("/embed/forms/:id", "payForm", s.payForm),
		page("/embed/forms/:id/payments/:payment", "embedReceiptPage", s.embedReceipt),
		page("/embed/forms/:id/payments/:payment/challenge", "embedChallengePage", s.embedChallengePage),
		post("/embed/forms/:id/payments/:payment/challenge", "answerFormChallenge", s.answerFormChallenge),
	}
}

// ReplayOr answers a request to pay what can no longer be paid (why):
// the retry of the request that paid it, under its Idempotency-Key in
// scope, replays that request's answer; anything else is why.
func (s *Server) ReplayOr(c *gin.Context, scope string, why error) error {
	if replayed, err := s.edge.PrecheckIdempotency(c, scope); err != nil || replayed {
		return err
	}
	return why
}
