// Package edge is the request machinery every HTTP route of Paylink shares,
// whoever calls it: request ids, the 64 KiB body limit, strict JSON
// decoding, the one error renderer, Idempotency-Key handling, rate limits,
// authentication and API-key scopes, same-origin (CSRF) checks, session
// cookies, HTML pages with their security headers and shared layout,
// static assets, and the access log and metrics.
//
// A route is declared once, as a Route next to its path: who may call it
// (Auth), the API-key scope it needs, which rate limit counts it, whether
// it takes an Idempotency-Key, and its OpenAPI operation. Mount turns the
// declarations into Gin routes with the right middleware, and package
// apidoc (below this one) builds the published OpenAPI document from the
// same declarations.
//
// The edge knows nothing about links, payments or wallets: the audience
// packages beside it (the merchant API, the hosted checkout, the wallet)
// own their routes and handlers and call the domain packages.
package edge

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/logevery"
	"github.com/paylink/paylink/internal/postgres"
)

// Limits are the configured request rates.
type Limits struct {
	API    limiter.Rate // per API key or wallet user
	Public limiter.Rate // per client IP, sign-up and checkout
	Login  limiter.Rate // log-in attempts per client IP and e-mail
	// AuthFailures is failed API-key authentications per client IP; past
	// it the address gets 429 for any key (zero: no limit).
	AuthFailures limiter.Rate
}

// Config is what the edge needs, given by the server that assembles the
// routes.
type Config struct {
	Log            *slog.Logger
	DB             *postgres.DB
	Redis          *redis.Client
	Idempotency    *idempotency.Store
	Registry       *prometheus.Registry
	Limits         Limits
	BaseURL        *url.URL
	TrustedProxies []string
	// RateLimitPrefix separates the limiters' Redis keys, e.g. per test.
	RateLimitPrefix string
	// RequestTimeout bounds each request of a route not declared Streams:
	// when it passes, the request's context ends, so its PostgreSQL
	// statements and Redis calls stop, its transaction rolls back, and it
	// answers 503 request_timeout. Zero: no bound.
	RequestTimeout time.Duration
	Now            func() time.Time
}

// Edge is the shared machinery, built once per server.
type Edge struct {
	log     *slog.Logger
	db      *postgres.DB
	idem    *idempotency.Store
	metrics *metrics
	now     func() time.Time
	origin  string // scheme://host of the base URL, for same-origin checks
	engine  *gin.Engine
	limits  map[Limit]*limiter.Limiter
	// authFail counts failed credential checks per client IP; nil: not limited.
	authFail *limiter.Limiter
	// limiterDown logs that Redis cannot be asked once per logevery.Outage.
	limiterDown *logevery.Warning
	assets      *Assets
	timeout     time.Duration // Config.RequestTimeout
	// envelopes are the Envelopes of routes by path, for the errors
	// answered before a route is chosen (a body too large, a method the
	// path does not take).
	envelopes map[string]func(status int, body ErrorBody) any
}

// New builds the edge and its Gin engine, with no routes yet (see Mount).
func New(cfg Config) (*Edge, error) {
	gin.SetMode(gin.ReleaseMode)
	e := &Edge{
		log: cfg.Log, db: cfg.DB, idem: cfg.Idempotency, metrics: newMetrics(cfg.Registry), now: cfg.Now,
		origin: cfg.BaseURL.Scheme + "://" + cfg.BaseURL.Host, limits: map[Limit]*limiter.Limiter{},
		timeout: cfg.RequestTimeout, envelopes: map[string]func(int, ErrorBody) any{},
		limiterDown: logevery.New(logevery.Outage),
	}
	var err error
	if e.assets, err = newAssets(); err != nil {
		return nil, err
	}
	prefix := cmp.Or(cfg.RateLimitPrefix, "paylink")
	for _, l := range []struct {
		class Limit
		name  string
		rate  limiter.Rate
	}{
		{PerCaller, "api", cfg.Limits.API},
		{PerIPSignUp, "signup", cfg.Limits.Public},
		{PerIPCheckout, "checkout", cfg.Limits.Public},
		{PerLogIn, "login", cfg.Limits.Login},
	} {
		store, err := redisstore.NewStoreWithOptions(cfg.Redis, limiter.StoreOptions{Prefix: prefix + ":rl:" + l.name})
		if err != nil {
			return nil, fmt.Errorf("rate limit store: %w", err)
		}
		e.limits[l.class] = limiter.New(store, l.rate)
	}
	if cfg.Limits.AuthFailures.Limit > 0 {
		store, err := redisstore.NewStoreWithOptions(cfg.Redis, limiter.StoreOptions{Prefix: prefix + ":rl:authfail"})
		if err != nil {
			return nil, fmt.Errorf("rate limit store: %w", err)
		}
		e.authFail = limiter.New(store, cfg.Limits.AuthFailures)
	}
	g := gin.New()
	// A trailing slash is an unknown route: Gin's redirect would be an HTML 301 without X-Request-Id.
	g.HandleMethodNotAllowed, g.RemoveExtraSlash, g.RedirectTrailingSlash = true, true, false
	if err := g.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	g.Use(withRequestID, e.observe, e.recoverPanics, e.limitBody)
	if cfg.BaseURL.Scheme == "https" {
		g.Use(strictTransportSecurity)
	}
	g.NoRoute(e.h(func(*gin.Context) error { return ErrRouteNotFound }))
	g.NoMethod(e.h(func(*gin.Context) error { return errMethodNotAllowed }))
	e.engine = g
	return e, nil
}

// Assets is the registry of the static files pages link to.
func (e *Edge) Assets() *Assets { return e.assets }

// Engine is the Gin engine the routes are mounted on; it serves HTTP.
func (e *Edge) Engine() *gin.Engine { return e.engine }

// Errors of routing.
var (
	// ErrRouteNotFound is the 404 of a path no route serves.
	ErrRouteNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "route_not_found",
		Message: "No such route; see /v1/openapi.json."}
	errMethodNotAllowed = &apperr.Error{Kind: apperr.MethodNotAllowed, Code: "method_not_allowed",
		Message: "This route does not accept that method; see /v1/openapi.json."}
)
