// Package httpapi is Paylink's HTTP edge: the Gin router, the request
// machinery every endpoint shares (request ids, body limits, strict JSON,
// errors, idempotency, rate limits, metrics, access logs), the merchant API
// handlers and their wire DTOs.
package httpapi

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/forms"
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
type Limits struct {
	API    limiter.Rate // per API key
	Public limiter.Rate // per client IP, sign-up and checkout
	Login  limiter.Rate // wallet log-in attempts per client IP and e-mail
}

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
	log       *slog.Logger
	db        *postgres.DB
	redis     *redis.Client
	merchants *merchant.Service
	idem      *idempotency.Store
	registry  *prometheus.Registry
	metrics   *metrics
	baseURL   *url.URL
	now       func() time.Time
	engine    *gin.Engine
	// openAPIDoc is the merged OpenAPI document served at /v1/openapi.json.
	openAPIDoc []byte
	pages      *web.Pages
	assets     fs.FS
	links      *links.Service
	checkout   *checkout.Service
	currencies money.Set
	origin     string // scheme://host of baseURL, for same-origin checks

	checkoutLimit *limiter.Limiter

	apiLimit, signupLimit *limiter.Limiter

	webhooks   *webhook.Service
	wallet     *wallet.Service
	passkeys   *passkey.Service
	processor  processor.Processor
	loginLimit *limiter.Limiter

	forms *forms.Service
	sdk   sdkFiles
}

// New builds the router with every route registered.
func New(d Deps) (*Server, error) {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		log: d.Log, db: d.DB, redis: d.Redis, merchants: d.Merchants, idem: d.Idempotency,
		registry: d.Registry, metrics: newMetrics(d.Registry), baseURL: d.BaseURL, now: d.Now,
		webhooks: d.Webhooks,
		wallet:   d.Wallet, passkeys: d.Passkeys, processor: d.Processor,
	}
	doc, err := buildOpenAPI()
	if err != nil {
		return nil, err
	}
	s.openAPIDoc = doc
	if s.pages, err = web.Parse(); err != nil {
		return nil, err
	}
	s.assets = web.Static()
	s.links, s.checkout, s.currencies = d.Links, d.Checkout, d.Currencies
	s.forms = d.Forms
	if s.sdk, err = loadSDK(); err != nil {
		return nil, err
	}
	s.origin = d.BaseURL.Scheme + "://" + d.BaseURL.Host
	prefix := d.RateLimitPrefix
	if prefix == "" {
		prefix = "paylink"
	}
	if s.apiLimit, err = s.limiter(prefix+":rl:api", d.Limits.API); err != nil {
		return nil, err
	}
	if s.signupLimit, err = s.limiter(prefix+":rl:signup", d.Limits.Public); err != nil {
		return nil, err
	}
	if s.loginLimit, err = s.limiter(prefix+":rl:login", d.Limits.Login); err != nil {
		return nil, err
	}
	if s.checkoutLimit, err = s.limiter(prefix+":rl:checkout", d.Limits.Public); err != nil {
		return nil, err
	}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RemoveExtraSlash = true
	if err := e.SetTrustedProxies(d.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	e.Use(withRequestID, s.observe, s.recoverPanics, s.limitBody)
	e.NoRoute(s.h(func(*gin.Context) error { return errRouteNotFound }))
	e.NoMethod(s.h(func(*gin.Context) error { return errMethodNotAllowed }))
	s.engine = e
	s.routes()
	return s, nil
}

func (s *Server) limiter(prefix string, rate limiter.Rate) (*limiter.Limiter, error) {
	store, err := redisstore.NewStoreWithOptions(s.redis, limiter.StoreOptions{Prefix: prefix})
	if err != nil {
		return nil, fmt.Errorf("rate limit store: %w", err)
	}
	return limiter.New(store, rate), nil
}

var (
	errRouteNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "route_not_found",
		Message: "No such route; see /v1/openapi.json."}
	errMethodNotAllowed = &apperr.Error{Kind: apperr.MethodNotAllowed, Code: "method_not_allowed",
		Message: "This route does not accept that method; see /v1/openapi.json."}
)

// routes registers every route. The OpenAPI document must list exactly
// these; a test checks it.
func (s *Server) routes() {
	e := s.engine
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler())
	e.GET("/v1/openapi.json", s.openAPI)

	e.POST("/v1/merchants", s.rateLimit(s.signupLimit, byClientIP), s.h(s.signUp))

	api := e.Group("/v1", s.authenticate, s.rateLimit(s.apiLimit, byAPIKey))
	api.GET("/merchant", s.h(s.getMerchant))
	api.POST("/api_keys", s.h(s.createKey))
	api.GET("/api_keys", s.h(s.listKeys))
	api.DELETE("/api_keys/:id", s.h(s.revokeKey))

	api.POST("/merchant", s.h(s.updateMerchant))
	api.POST("/webhook_endpoints", s.h(s.createEndpoint))
	api.GET("/webhook_endpoints", s.h(s.listEndpoints))
	api.GET("/webhook_endpoints/:id", s.h(s.getEndpoint))
	api.POST("/webhook_endpoints/:id", s.h(s.updateEndpoint))
	api.DELETE("/webhook_endpoints/:id", s.h(s.deleteEndpoint))
	api.POST("/webhook_endpoints/:id/rotate_secret", s.h(s.rotateSecret))
	api.GET("/webhook_endpoints/:id/deliveries", s.h(s.listEndpointDeliveries))
	api.GET("/events", s.h(s.listEvents))
	api.GET("/events/:id", s.h(s.getEvent))
	api.POST("/events/:id/redeliver", s.h(s.redeliver))
	api.GET("/events/:id/deliveries", s.h(s.listEventDeliveries))
	e.GET("/assets/*file", s.serveAsset)

	s.walletRoutes()
	api.POST("/payment_links", s.h(s.createLink))
	api.GET("/payment_links", s.h(s.listLinks))
	api.GET("/payment_links/:id", s.h(s.getLink))
	api.POST("/payment_links/:id/deactivate", s.h(s.deactivateLink))
	api.GET("/payments", s.h(s.listPayments))
	api.GET("/payments/:id", s.h(s.getPayment))
	api.POST("/payments/:id/refunds", s.h(s.createRefund))
	api.GET("/balance", s.h(s.getBalance))

	pay := e.Group("/pay", s.rateLimit(s.checkoutLimit, byClientIP))
	pay.GET("/:id", s.payPage)
	pay.POST("/:id", s.h(s.pay))
	pay.GET("/:id/payments/:payment", s.receiptPageHandler)
	pay.GET("/:id/payments/:payment/challenge", s.challengePageHandler)
	pay.POST("/:id/payments/:payment/challenge", s.h(s.answerChallenge))

	s.formRoutes(api)
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Routes returns "METHOD /path/{param}" for every registered route.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Method+" "+openAPIPath(r.Path))
	}
	return out
}
