// Package merchantapi is the merchant API: the /v1 routes merchants'
// backends call with an API key pair (HTTP Basic) to sign up, manage API
// keys and settings, create payment links and forms, read payments,
// refund them, read their balance, and manage webhook endpoints and
// events. It owns those routes, their handlers and request types; the
// answers are the wire types of package wire, shared with webhook events.
package merchantapi

import (
	"embed"
	"io/fs"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/password"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/webhook"
)

// Deps is what the merchant API needs.
type Deps struct {
	Edge       *edge.Edge
	Log        *slog.Logger
	DB         *postgres.DB
	Merchants  *merchant.Service
	Webhooks   *webhook.Service
	Links      *links.Service
	Checkout   *checkout.Service
	Forms      *forms.Service
	Currencies money.Set
	Passwords  *password.Hasher // sign-up passwords
	Now        func() time.Time
	// ExportTimeout is how long one CSV export may run (0:
	// DefaultExportTimeout).
	ExportTimeout time.Duration
}

// Server answers the merchant API's routes.
type Server struct {
	edge       *edge.Edge
	log        *slog.Logger
	db         *postgres.DB
	merchants  *merchant.Service
	webhooks   *webhook.Service
	links      *links.Service
	checkout   *checkout.Service
	forms      *forms.Service
	currencies money.Set
	passwords  *password.Hasher
	now        func() time.Time

	exportTimeout time.Duration
}

// New returns the merchant API.
func New(d Deps) *Server {
	s := &Server{edge: d.Edge, log: d.Log, db: d.DB, merchants: d.Merchants, webhooks: d.Webhooks,
		links: d.Links, checkout: d.Checkout, forms: d.Forms, currencies: d.Currencies, now: d.Now,
		exportTimeout: d.ExportTimeout, passwords: d.Passwords}
	if s.now == nil {
		s.now = time.Now
	}
	if s.exportTimeout <= 0 {
		s.exportTimeout = DefaultExportTimeout
	}
	return s
}

//go:embed openapi/*.json
var openAPIFiles embed.FS

// OpenAPI is the OpenAPI part of the merchant API (see apidoc.Build).
func OpenAPI() fs.FS { return openAPIFiles }

// Route declares a route of the merchant API (or of a section of it,
// like riskapi): authenticated with an API key holding scope, counted per
// key, idempotent when asked, documented by the operation doc.
func (s *Server) Route(method, path, scope string, idempotent bool, doc string, h func(*gin.Context) error) edge.Route {
	return edge.Route{Method: method, Path: path, Auth: s.apiKey(), Scope: scope, Limit: edge.PerCaller,
		Idempotent: idempotent, Doc: doc, Handle: h}
}

// Routes are the merchant API's routes. Every one but sign-up needs an
// API key, declares the scope a key must hold (API.md's names), and is
// counted per key.
func (s *Server) Routes() []edge.Route {
	api := s.Route
	const (
		idempotent = true
		plain      = false
	)
	return []edge.Route{
		{Method: "POST", Path: "/v1/merchants", Limit: edge.PerIPSignUp, Idempotent: true, Doc: "signUpMerchant", Handle: s.signUp},
		api("GET", "/v1/merchant", "merchant:read", plain, "getMerchant", s.getMerchant),
		api("POST", "/v1/merchant", "merchant:write", idempotent, "updateMerchant", s.updateMerchant),
		api("PATCH", "/v1/merchant", "merchant:write", idempotent, "patchMerchant", s.patchMerchant),
		api("POST", "/v1/api_keys", "api_keys:write", idempotent, "createAPIKey", s.createKey),
		api("GET", "/v1/api_keys", "api_keys:read", plain, "listAPIKeys", s.listKeys),
		api("DELETE", "/v1/api_keys/:id", "api_keys:write", plain, "revokeAPIKey", s.revokeKey),
		api("POST", "/v1/api_keys/:id/roll", "api_keys:write", idempotent, "rollAPIKey", s.rollKey),

		api("POST", "/v1/payment_links", "payment_links:write", idempotent, "createPaymentLink", s.createLink),
		api("GET", "/v1/payment_links", "payment_links:read", plain, "listPaymentLinks", s.listLinks),
		api("GET", "/v1/payment_links/:id", "payment_links:read", plain, "getPaymentLink", s.getLink),
		api("POST", "/v1/payment_links/:id/deactivate", "payment_links:write", idempotent, "deactivatePaymentLink", s.deactivateLink),
		api("GET", "/v1/payment_links/:id/qr", "payment_links:read", plain, "getPaymentLinkQR", s.linkQR),
		api("POST", "/v1/payment_links/:id/send", "payment_links:write", idempotent, "sendPaymentLink", s.sendLink),
		api("POST", "/v1/payment_forms", "payment_forms:write", idempotent, "createPaymentForm", s.createForm),
		api("GET", "/v1/payment_forms", "payment_forms:read", plain, "listPaymentForms", s.listForms),
		api("GET", "/v1/payment_forms/:id", "payment_forms:read", plain, "getPaymentForm", s.getForm),
		api("PATCH", "/v1/payment_forms/:id", "payment_forms:write", idempotent, "updatePaymentForm", s.updateForm),
		api("POST", "/v1/payment_forms/:id/deactivate", "payment_forms:write", idempotent, "deactivatePaymentForm", s.deactivateForm),

		api("GET", "/v1/payments", "payments:read", plain, "listPayments", s.listPayments),
		api("GET", "/v1/payments/:id", "payments:read", plain, "getPayment", s.getPayment),
		api("POST", "/v1/payments/:id/refunds", "refunds:write", idempotent, "createRefund", s.createRefund),
		api("GET", "/v1/payments/:id/refunds", "payments:read", plain, "listPaymentRefunds", s.listPaymentRefunds),
		api("GET", "/v1/refunds", "payments:read", plain, "listRefunds", s.listRefunds),
		api("GET", "/v1/refunds/:id", "payments:read", plain, "getRefund", s.getRefund),
		edge.Streaming(api("GET", "/v1/reports/payments.csv", "payments:read", plain, "exportPayments", s.exportPayments)),
		api("GET", "/v1/balance", "balance:read", plain, "getBalance", s.getBalance),

		api("POST", "/v1/webhook_endpoints", "webhooks:write", idempotent, "createWebhookEndpoint", s.createEndpoint),
		api("GET", "/v1/webhook_endpoints", "webhooks:read", plain, "listWebhookEndpoints", s.listEndpoints),
		api("GET", "/v1/webhook_endpoints/:id", "webhooks:read", plain, "getWebhookEndpoint", s.getEndpoint),
		api("POST", "/v1/webhook_endpoints/:id", "webhooks:write", idempotent, "updateWebhookEndpoint", s.updateEndpoint),
		api("DELETE", "/v1/webhook_endpoints/:id", "webhooks:write", plain, "deleteWebhookEndpoint", s.deleteEndpoint),
		api("POST", "/v1/webhook_endpoints/:id/rotate_secret", "webhooks:write", idempotent, "rotateWebhookEndpointSecret", s.rotateSecret),
		api("POST", "/v1/webhook_endpoints/:id/test", "webhooks:write", plain, "testWebhookEndpoint", s.testEndpoint),
		api("GET", "/v1/webhook_endpoints/:id/deliveries", "webhooks:read", plain, "listWebhookEndpointDeliveries", s.listEndpointDeliveries),
		api("GET", "/v1/events", "webhooks:read", plain, "listEvents", s.listEvents),
		api("GET", "/v1/events/:id", "webhooks:read", plain, "getEvent", s.getEvent),
		api("POST", "/v1/events/:id/redeliver", "webhooks:write", idempotent, "redeliverEvent", s.redeliver),
		api("GET", "/v1/events/:id/deliveries", "webhooks:read", plain, "listEventDeliveries", s.listEventDeliveries),
	}
}
