// Package httpapi is Paylink's HTTP server: it assembles every route on the
// shared machinery of package edge.
package httpapi

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/webhook"
	web "github.com/paylink/paylink/web/checkout"
)

// Limits are the configured request rates.
type Limits = edge.Limits

// Deps is everything the HTTP server needs, built by run.
type Deps struct {
	Log            *slog.Logger
	DB             *postgres.DB
	Redis          *redis.Client
	Merchants      *merchant.Service
	Idempotency    *idempotency.Store
	Registry       *prometheus.Registry
	Limits         Limits
	BaseURL        *url.URL
	TrustedProxies []string
	// RateLimitPrefix separates the limiters' Redis keys, e.g. per test.
	RateLimitPrefix string
	Now             func() time.Time
	Webhooks        *webhook.Service
	Wallet          *wallet.Service
	Passkeys        *passkey.Service
	Processor       processor.Processor

	Links      *links.Service
	Checkout   *checkout.Service
	Currencies money.Set

	Forms *forms.Service
}

// Server answers Paylink's HTTP API.
type Server struct {
	edge      *edge.Edge
	log       *slog.Logger
	db        *postgres.DB
	redis     *redis.Client
	merchants *merchant.Service
	registry  *prometheus.Registry
	baseURL   *url.URL
	now       func() time.Time
	// openAPIDoc is the OpenAPI document served at /v1/openapi.json,
	// built from the routes' declarations.
	openAPIDoc []byte
	pages      *web.Pages
	assets     fs.FS
	links      *links.Service
	checkout   *checkout.Service
	currencies money.Set

	webhooks  *webhook.Service
	wallet    *wallet.Service
	passkeys  *passkey.Service
	processor processor.Processor

	forms *forms.Service
	sdk   sdkFiles
}

// openAPIParts are the routes' OpenAPI operations and the components they
// use, one file per area (see edge.OpenAPI).
//
//go:embed openapi/*.json
var openAPIParts embed.FS

// New builds the router with every route registered.
func New(d Deps) (*Server, error) {
	e, err := edge.New(edge.Config{Log: d.Log, DB: d.DB, Redis: d.Redis, Idempotency: d.Idempotency,
		Registry: d.Registry, Limits: d.Limits, BaseURL: d.BaseURL, TrustedProxies: d.TrustedProxies,
		RateLimitPrefix: d.RateLimitPrefix, Now: d.Now})
	if err != nil {
		return nil, err
	}
	s := &Server{
		edge: e, log: d.Log, db: d.DB, redis: d.Redis, merchants: d.Merchants,
		registry: d.Registry, baseURL: d.BaseURL, now: d.Now,
		webhooks: d.Webhooks,
		wallet:   d.Wallet, passkeys: d.Passkeys, processor: d.Processor,
	}
	if s.pages, err = web.Parse(); err != nil {
		return nil, err
	}
	s.assets = web.Static()
	s.links, s.checkout, s.currencies = d.Links, d.Checkout, d.Currencies
	s.forms = d.Forms
	if s.sdk, err = loadSDK(); err != nil {
		return nil, err
	}
	routes := s.routes()
	parts, _ := fs.Sub(openAPIParts, "openapi")
	if s.openAPIDoc, err = edge.OpenAPI(routes, parts); err != nil {
		return nil, err
	}
	if err := e.Mount(routes...); err != nil {
		return nil, err
	}
	return s, nil
}

// routes is every route Paylink serves. The OpenAPI document is built
// from exactly these; a test checks it against what is mounted.
func (s *Server) routes() []edge.Route {
	apiKey, session := s.apiKey(), s.walletSession()
	api := func(r edge.Route) edge.Route {
		r.Auth, r.Limit = apiKey, edge.PerCaller
		return r
	}
	routes := s.opsRoutes()
	routes = append(routes,
		edge.Route{Method: "GET", Path: "/assets/*file", Doc: "getAsset", Page: s.serveAsset},

		edge.Route{Method: "POST", Path: "/v1/merchants", Limit: edge.PerIPSignUp, Idempotent: true, Doc: "signUpMerchant", Handle: s.signUp},
		api(edge.Route{Method: "GET", Path: "/v1/merchant", Scope: "merchant:read", Doc: "getMerchant", Handle: s.getMerchant}),
		api(edge.Route{Method: "POST", Path: "/v1/merchant", Scope: "merchant:write", Idempotent: true, Doc: "updateMerchant", Handle: s.updateMerchant}),
		api(edge.Route{Method: "POST", Path: "/v1/api_keys", Scope: "api_keys:write", Idempotent: true, Doc: "createAPIKey", Handle: s.createKey}),
		api(edge.Route{Method: "GET", Path: "/v1/api_keys", Scope: "api_keys:read", Doc: "listAPIKeys", Handle: s.listKeys}),
		api(edge.Route{Method: "DELETE", Path: "/v1/api_keys/:id", Scope: "api_keys:write", Doc: "revokeAPIKey", Handle: s.revokeKey}),

		api(edge.Route{Method: "POST", Path: "/v1/webhook_endpoints", Scope: "webhooks:write", Idempotent: true, Doc: "createWebhookEndpoint", Handle: s.createEndpoint}),
		api(edge.Route{Method: "GET", Path: "/v1/webhook_endpoints", Scope: "webhooks:read", Doc: "listWebhookEndpoints", Handle: s.listEndpoints}),
		api(edge.Route{Method: "GET", Path: "/v1/webhook_endpoints/:id", Scope: "webhooks:read", Doc: "getWebhookEndpoint", Handle: s.getEndpoint}),
		api(edge.Route{Method: "POST", Path: "/v1/webhook_endpoints/:id", Scope: "webhooks:write", Idempotent: true, Doc: "updateWebhookEndpoint", Handle: s.updateEndpoint}),
		api(edge.Route{Method: "DELETE", Path: "/v1/webhook_endpoints/:id", Scope: "webhooks:write", Doc: "deleteWebhookEndpoint", Handle: s.deleteEndpoint}),
		api(edge.Route{Method: "POST", Path: "/v1/webhook_endpoints/:id/rotate_secret", Scope: "webhooks:write", Idempotent: true, Doc: "rotateWebhookEndpointSecret", Handle: s.rotateSecret}),
		api(edge.Route{Method: "GET", Path: "/v1/webhook_endpoints/:id/deliveries", Scope: "webhooks:read", Doc: "listWebhookEndpointDeliveries", Handle: s.listEndpointDeliveries}),
		api(edge.Route{Method: "GET", Path: "/v1/events", Scope: "webhooks:read", Doc: "listEvents", Handle: s.listEvents}),
		api(edge.Route{Method: "GET", Path: "/v1/events/:id", Scope: "webhooks:read", Doc: "getEvent", Handle: s.getEvent}),
		api(edge.Route{Method: "POST", Path: "/v1/events/:id/redeliver", Scope: "webhooks:write", Idempotent: true, Doc: "redeliverEvent", Handle: s.redeliver}),
		api(edge.Route{Method: "GET", Path: "/v1/events/:id/deliveries", Scope: "webhooks:read", Doc: "listEventDeliveries", Handle: s.listEventDeliveries}),

		api(edge.Route{Method: "POST", Path: "/v1/payment_links", Scope: "payment_links:write", Idempotent: true, Doc: "createPaymentLink", Handle: s.createLink}),
		api(edge.Route{Method: "GET", Path: "/v1/payment_links", Scope: "payment_links:read", Doc: "listPaymentLinks", Handle: s.listLinks}),
		api(edge.Route{Method: "GET", Path: "/v1/payment_links/:id", Scope: "payment_links:read", Doc: "getPaymentLink", Handle: s.getLink}),
		api(edge.Route{Method: "POST", Path: "/v1/payment_links/:id/deactivate", Scope: "payment_links:write", Idempotent: true, Doc: "deactivatePaymentLink", Handle: s.deactivateLink}),
		api(edge.Route{Method: "GET", Path: "/v1/payments", Scope: "payments:read", Doc: "listPayments", Handle: s.listPayments}),
		api(edge.Route{Method: "GET", Path: "/v1/payments/:id", Scope: "payments:read", Doc: "getPayment", Handle: s.getPayment}),
		api(edge.Route{Method: "POST", Path: "/v1/payments/:id/refunds", Scope: "refunds:write", Idempotent: true, Doc: "createRefund", Handle: s.createRefund}),
		api(edge.Route{Method: "GET", Path: "/v1/balance", Scope: "balance:read", Doc: "getBalance", Handle: s.getBalance}),
		api(edge.Route{Method: "POST", Path: "/v1/payment_forms", Scope: "payment_forms:write", Idempotent: true, Doc: "createPaymentForm", Handle: s.createForm}),
		api(edge.Route{Method: "GET", Path: "/v1/payment_forms", Scope: "payment_forms:read", Doc: "listPaymentForms", Handle: s.listForms}),
		api(edge.Route{Method: "GET", Path: "/v1/payment_forms/:id", Scope: "payment_forms:read", Doc: "getPaymentForm", Handle: s.getForm}),
		api(edge.Route{Method: "POST", Path: "/v1/payment_forms/:id/deactivate", Scope: "payment_forms:write", Idempotent: true, Doc: "deactivatePaymentForm", Handle: s.deactivateForm}),

		edge.Route{Method: "GET", Path: "/pay/:id", Limit: edge.PerIPCheckout, Doc: "checkoutPage", Page: s.payPage},
		edge.Route{Method: "POST", Path: "/pay/:id", Limit: edge.PerIPCheckout, Idempotent: true, Doc: "payLink", Handle: s.pay},
		edge.Route{Method: "GET", Path: "/pay/:id/payments/:payment", Limit: edge.PerIPCheckout, Doc: "receiptPage", Page: s.receiptPageHandler},
		edge.Route{Method: "GET", Path: "/pay/:id/payments/:payment/challenge", Limit: edge.PerIPCheckout, Doc: "challengePage", Page: s.challengePageHandler},
		edge.Route{Method: "POST", Path: "/pay/:id/payments/:payment/challenge", Limit: edge.PerIPCheckout, Idempotent: true, Doc: "answerChallenge", Handle: s.answerChallenge},
		edge.Route{Method: "GET", Path: "/embed/forms/:id", Limit: edge.PerIPCheckout, Doc: "embedFormPage", Page: s.embedPage},
		edge.Route{Method: "POST", Path: "/embed/forms/:id", Limit: edge.PerIPCheckout, Idempotent: true, Doc: "payForm", Handle: s.payForm},
		edge.Route{Method: "GET", Path: "/embed/forms/:id/payments/:payment", Limit: edge.PerIPCheckout, Doc: "embedReceiptPage", Page: s.embedReceipt},
		edge.Route{Method: "GET", Path: "/embed/forms/:id/payments/:payment/challenge", Limit: edge.PerIPCheckout, Doc: "embedChallengePage", Page: s.embedChallengePage},
		edge.Route{Method: "POST", Path: "/embed/forms/:id/payments/:payment/challenge", Limit: edge.PerIPCheckout, Idempotent: true, Doc: "answerFormChallenge", Handle: s.answerFormChallenge},
		edge.Route{Method: "GET", Path: "/pay/s", Limit: edge.PerIPCheckout, Doc: "signedLinkPage", Page: s.signedPage},
		edge.Route{Method: "POST", Path: "/pay/s", Limit: edge.PerIPCheckout, Idempotent: true, Doc: "paySignedLink", Handle: s.paySigned},
		edge.Route{Method: "GET", Path: "/pay/s/payments/:payment", Limit: edge.PerIPCheckout, Doc: "signedReceiptPage", Page: s.signedReceipt},
		edge.Route{Method: "GET", Path: "/pay/s/payments/:payment/challenge", Limit: edge.PerIPCheckout, Doc: "signedChallengePage", Page: s.signedChallengePage},
		edge.Route{Method: "POST", Path: "/pay/s/payments/:payment/challenge", Limit: edge.PerIPCheckout, Idempotent: true, Doc: "answerSignedChallenge", Handle: s.answerSignedChallenge},
		edge.Route{Method: "GET", Path: "/sdk/paylink.js", Doc: "getSDKScript", Page: s.serveSDK},
		edge.Route{Method: "HEAD", Path: "/sdk/paylink.js", Doc: "headSDKScript", Page: s.serveSDK}, // link checkers and CDNs ask HEAD
		edge.Route{Method: "GET", Path: "/sdk/paylink.mjs", Doc: "getSDKModule", Page: s.serveSDK},
		edge.Route{Method: "HEAD", Path: "/sdk/paylink.mjs", Doc: "headSDKModule", Page: s.serveSDK},
		edge.Route{Method: "GET", Path: "/sdk/:version/paylink.js", Doc: "getVersionedSDKScript", Page: s.serveSDK},
		edge.Route{Method: "HEAD", Path: "/sdk/:version/paylink.js", Doc: "headVersionedSDKScript", Page: s.serveSDK},
		edge.Route{Method: "GET", Path: "/sdk/:version/paylink.mjs", Doc: "getVersionedSDKModule", Page: s.serveSDK},
		edge.Route{Method: "HEAD", Path: "/sdk/:version/paylink.mjs", Doc: "headVersionedSDKModule", Page: s.serveSDK},

		edge.Route{Method: "POST", Path: "/v1/wallet/signup", SameOrigin: true, Limit: edge.PerIPSignUp, Idempotent: true, Doc: "walletSignUp", Handle: s.walletSignUp},
		edge.Route{Method: "POST", Path: "/v1/wallet/login", SameOrigin: true, Limit: edge.PerLogIn, Doc: "walletLogIn", Handle: s.walletLogin},
		edge.Route{Method: "POST", Path: "/v1/wallet/logout", SameOrigin: true, Doc: "walletLogOut", Handle: s.walletLogout},
		edge.Route{Method: "POST", Path: "/v1/wallet/passkeys/login/begin", SameOrigin: true, Limit: edge.PerIPSignUp, Doc: "beginPasskeyLogIn", Handle: s.passkeyLoginBegin},
		edge.Route{Method: "POST", Path: "/v1/wallet/passkeys/login/finish", SameOrigin: true, Limit: edge.PerIPSignUp, Doc: "finishPasskeyLogIn", Handle: s.passkeyLoginFinish},
		edge.Route{Method: "GET", Path: "/v1/wallet/passkeys", Auth: session, Limit: edge.PerCaller, Doc: "listPasskeys", Handle: s.listPasskeys},
		edge.Route{Method: "POST", Path: "/v1/wallet/passkeys/register/begin", SameOrigin: true, Auth: session, Limit: edge.PerCaller, Idempotent: true, Doc: "beginPasskeyRegistration", Handle: s.passkeyRegisterBegin},
		edge.Route{Method: "POST", Path: "/v1/wallet/passkeys/register/finish", SameOrigin: true, Auth: session, Limit: edge.PerCaller, Idempotent: true, Doc: "finishPasskeyRegistration", Handle: s.passkeyRegisterFinish},
		edge.Route{Method: "GET", Path: "/v1/wallet/account", Auth: session, Limit: edge.PerCaller, Doc: "getWalletAccount", Handle: s.walletAccount},
		edge.Route{Method: "POST", Path: "/v1/wallet/topup", SameOrigin: true, Auth: session, Limit: edge.PerCaller, Idempotent: true, Doc: "walletTopUp", Handle: s.walletTopUp},
		edge.Route{Method: "POST", Path: "/v1/wallet/transfers", SameOrigin: true, Auth: session, Limit: edge.PerCaller, Idempotent: true, Doc: "walletTransfer", Handle: s.walletTransfer},
		edge.Route{Method: "GET", Path: "/v1/wallet/transactions", Auth: session, Limit: edge.PerCaller, Doc: "listWalletTransactions", Handle: s.listWalletTransactions},
		edge.Route{Method: "GET", Path: "/v1/wallet/transactions/:id", Auth: session, Limit: edge.PerCaller, Doc: "getWalletTransaction", Handle: s.getWalletTransaction},
		edge.Route{Method: "GET", Path: "/v1/wallet/notifications", Auth: session, Limit: edge.PerCaller, Doc: "listWalletNotifications", Handle: s.listNotifications},
		edge.Route{Method: "POST", Path: "/v1/wallet/notifications/:id/read", SameOrigin: true, Auth: session, Limit: edge.PerCaller, Idempotent: true, Doc: "readWalletNotification", Handle: s.readNotification},
		edge.Route{Method: "POST", Path: "/v1/wallet/notifications/read_all", SameOrigin: true, Auth: session, Limit: edge.PerCaller, Idempotent: true, Doc: "readAllWalletNotifications", Handle: s.readAllNotifications},
		edge.Route{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin", SameOrigin: true, Auth: session, Limit: edge.PerCaller, Idempotent: true, Doc: "beginPasskeyConfirmation", Handle: s.passkeyConfirmBegin},
		edge.Route{Method: "GET", Path: "/wallet", Doc: "walletPage", Page: s.walletPage},
		edge.Route{Method: "GET", Path: "/wallet/login", Doc: "walletLogInPage", Page: s.walletLoginPage},
		edge.Route{Method: "GET", Path: "/wallet/signup", Doc: "walletSignUpPage", Page: s.walletSignUpPage},
	)
	return routes
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.edge.Engine().ServeHTTP(w, r) }

// Routes returns "METHOD /path/{param}" for every registered route.
func (s *Server) Routes() []string { return s.edge.Routes() }
